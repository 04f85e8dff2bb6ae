//! Keeps the binaries startable on glibc 2.34 (RHEL 9): see
//! build/glibc_compat.c.

fn main() {
    println!("cargo:rerun-if-changed=build/glibc_compat.c");
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    if target("CARGO_CFG_TARGET_OS") == "linux"
        && target("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && target("CARGO_CFG_TARGET_ENV") == "gnu"
    {
        cc::Build::new()
            .file("build/glibc_compat.c")
            .compile("fin_glibc_compat");
        println!("cargo:rustc-link-arg=-Wl,--wrap=hypot,--wrap=hypotf");
    }
}
