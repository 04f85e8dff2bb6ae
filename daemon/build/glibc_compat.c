/*
 * glibc 2.35 gave hypot and hypotf new symbol versions on x86_64; a binary
 * linked against them does not start on glibc 2.34 (RHEL 9, Rocky 9). The
 * link wraps every call (-Wl,--wrap=hypot) and sends it here, to the
 * versions glibc has had since 2.2.5, which 2.35 and later still carry.
 * build.rs adds this only for x86_64 Linux with glibc; the packaging test
 * checks the binaries need no symbol newer than GLIBC_2.34.
 */
double fin_hypot_2_2_5(double x, double y);
float fin_hypotf_2_2_5(float x, float y);
__asm__(".symver fin_hypot_2_2_5,hypot@GLIBC_2.2.5");
__asm__(".symver fin_hypotf_2_2_5,hypotf@GLIBC_2.2.5");

double __wrap_hypot(double x, double y) { return fin_hypot_2_2_5(x, y); }
float __wrap_hypotf(float x, float y) { return fin_hypotf_2_2_5(x, y); }
