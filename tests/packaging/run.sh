#!/usr/bin/env bash
# The packages, tested as an admin meets them (as root, on this machine):
# packaging/build.sh makes the .deb and the .rpm from the binaries a test
# run built (--profile dev --no-build); then the .deb is installed, set up,
# started as user fin the way the unit would (there is no systemd here),
# used over HTTPS, backed up, upgraded to a newer build, removed and
# purged, each step checked; the .rpm is inspected and laid out in a
# scratch root. Static checks: lintian, rpmlint, systemd-analyze verify and
# security, the highest GLIBC symbol the binaries need, promtool on the
# alerting rules and on the metrics the daemon serves.
# Usage: tests/packaging/run.sh [--profile dev|release|dist]
# Skips (exit 0, saying why) when not root or not on a dpkg system.
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir=$PWD
profile=dev
[ "${1:-}" = "--profile" ] && profile=$2

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
  echo "tests/packaging: SKIPPED: needs root on a Debian system (it installs the package)"
  exit 0
fi
# The test installs and purges fin on this machine: it never runs where an
# admin's fin could be (a package, its data or configuration, its user),
# nor where systemd runs (the package would start the unit beside the
# test's daemon).
for left in /var/lib/fin /etc/fin /var/log/fin; do
  if [ -e "$left" ] || dpkg -s fin >/dev/null 2>&1; then
    echo "tests/packaging: SKIPPED: fin is installed here, or left $left; the test would replace it"
    exit 0
  fi
done
if [ -d /run/systemd/system ]; then
  echo "tests/packaging: SKIPPED: systemd runs here; run it in a container or a throw-away machine"
  exit 0
fi
user_existed=0
getent passwd fin >/dev/null && user_existed=1

step() { echo "== packaging: $*"; }
fail() { echo "tests/packaging: FAILED: $*" >&2; exit 1; }
expect() { # description, command...
  local what=$1; shift
  "$@" || fail "$what"
}

need=()
command -v lintian >/dev/null || need+=(lintian)
command -v rpm >/dev/null || need+=(rpm)
command -v rpmlint >/dev/null || need+=(rpmlint)
command -v curl >/dev/null || need+=(curl)
command -v objdump >/dev/null || need+=(binutils)
command -v debconf-set-selections >/dev/null || need+=(debconf)
if ((${#need[@]})); then
  step "installing ${need[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
tools=$root_dir/target/tools
# promtool: taken out of Debian's prometheus package, not installed (its
# scripts would start a Prometheus server).
if [ ! -x "$tools/bin/promtool" ]; then
  step "fetching promtool from Debian's prometheus package"
  mkdir -p "$tools/bin" "$tools/prometheus"
  (cd "$tools/prometheus" && apt-get download -qq prometheus 2>/dev/null || { apt-get update -qq && apt-get download -qq prometheus; })
  dpkg-deb -x "$tools"/prometheus/prometheus_*.deb "$tools/prometheus/root"
  cp "$tools/prometheus/root/usr/bin/promtool" "$tools/bin/promtool"
fi
promtool=$tools/bin/promtool

work=$(mktemp -d)
daemon_pid=""
installed=0
cleanup() {
  set +e
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; fi
  # Only what the test made goes: it started on a machine without fin.
  if ((installed)); then
    dpkg -P fin >/dev/null 2>&1
    rm -rf /var/lib/fin /var/log/fin /run/fin /etc/fin
    ((user_existed)) || { userdel fin 2>/dev/null; groupdel fin 2>/dev/null; }
  fi
  # The answer preseeded for the test must not purge a later real install.
  echo "fin fin/purge-data boolean false" | debconf-set-selections 2>/dev/null
  ((finadmin_made)) && userdel finadmin 2>/dev/null
  rm -rf "$work"
}
finadmin_made=0
trap cleanup EXIT

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
newer="$version+upgradetest"
step "building the packages ($profile binaries)"
build_flags=(--profile "$profile")
[ "$profile" = dev ] && build_flags+=(--no-build)
packaging/build.sh "${build_flags[@]}" --version "$version" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "packaging/build.sh"; }
deb=target/packages/fin_${version}-1_amd64.deb
rpm_file=target/packages/fin-${version}-1.x86_64.rpm
cp "$deb" "$work/old.deb"
expect "the .rpm is built" test -f "$rpm_file"

step "the .deb's contents"
dpkg-deb -c "$deb" >"$work/contents"
for path in ./usr/bin/fin ./usr/bin/finctl ./etc/fin/fin.toml ./usr/lib/systemd/system/fin.service \
  ./usr/lib/sysusers.d/fin.conf ./usr/lib/tmpfiles.d/fin.conf ./usr/share/man/man1/fin.1.gz \
  ./usr/share/man/man1/finctl.1.gz ./usr/share/bash-completion/completions/finctl \
  ./usr/share/zsh/vendor-completions/_finctl ./usr/share/fish/vendor_completions.d/finctl.fish \
  ./usr/share/doc/fin/copyright ./usr/share/doc/fin/install.md \
  ./usr/share/fin/monitoring/fin-alerts.yml ./usr/share/fin/monitoring/grafana-dashboard.json; do
  grep -q " $path\$" "$work/contents" || fail "the .deb lacks $path"
done
dpkg-deb -x "$deb" "$work/deb"
grep -q "^License: CC-BY-SA-4.0" "$work/deb/usr/share/doc/fin/copyright" \
  || fail "the copyright file names the OCR models' licence"
dpkg-deb -e "$deb" "$work/control"
expect "etc/fin/fin.toml is a conffile" grep -qx "/etc/fin/fin.toml" "$work/control/conffiles"
grep -q "^Depends:.*libssl3" "$work/control/control" || fail "Depends names libssl3 (\$auto): $(grep ^Depends "$work/control/control")"

step "lintian"
# The package's overrides, each with its reason: packaging/lintian-overrides.
lintian --fail-on error,warning "$deb" || fail "lintian"

step "GLIBC symbol versions (RHEL 9 / Rocky 9 have glibc 2.34)"
for bin in fin finctl; do
  highest=$(objdump -T "$work/deb/usr/bin/$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  echo "   $bin needs $highest"
  [ "$(printf '%s\nGLIBC_2.34\n' "$highest" | sort -V | tail -1)" = "GLIBC_2.34" ] \
    || fail "$bin needs $highest, newer than RHEL 9's glibc 2.34"
done

step "systemd-analyze security (exposure at most 2.0)"
systemd-analyze security --offline=true --threshold=20 systemd/fin.service >"$work/security" \
  || { cat "$work/security"; fail "systemd-analyze security"; }
tail -1 "$work/security"

step "the .rpm"
rpm -qpi "$rpm_file" >/dev/null
rpm -qpl "$rpm_file" >"$work/rpm-files"
for path in /usr/bin/fin /usr/bin/finctl /etc/fin/fin.toml /usr/lib/systemd/system/fin.service \
  /usr/lib/sysusers.d/fin.conf /usr/lib/tmpfiles.d/fin.conf /usr/share/licenses/fin/LICENSE-CC-BY-SA-4.0.txt; do
  grep -qx "$path" "$work/rpm-files" || fail "the .rpm lacks $path"
done
rpm -qp --scripts "$rpm_file" >"$work/rpm-scripts"
grep -q "upgrade prepare" "$work/rpm-scripts" || fail "the .rpm's %pre takes the pre-upgrade backup"
grep -q '^u fin ' "$work/rpm-scripts" || fail "the .rpm's %pre creates the fin user"
rpm -qp --configfiles "$rpm_file" | grep -qx /etc/fin/fin.toml || fail "fin.toml is %config in the .rpm"
rpm -qp --requires "$rpm_file" | grep -q "libssl.so.3" || fail "the .rpm requires libssl.so.3"
rpm -K --nosignature "$rpm_file" | grep -q "digests OK" || fail "rpm -K"
scratch=$work/rpmroot
mkdir -p "$scratch"
rpm --root "$scratch" --initdb
rpm --root "$scratch" -i --nodeps --noscripts --nosignature "$rpm_file" 2>"$work/rpm-install" \
  || { cat "$work/rpm-install"; fail "rpm --root install"; }
for path in usr/bin/fin usr/bin/finctl etc/fin/fin.toml usr/lib/systemd/system/fin.service; do
  [ -e "$scratch/$path" ] || fail "rpm --root did not lay out $path"
done
[ "$(stat -c %a "$scratch/etc/fin/fin.toml")" = 640 ] || fail "fin.toml is 0640 in the .rpm"
rpmlint -r packaging/rpmlintrc "$rpm_file" >"$work/rpmlint" 2>&1 || { cat "$work/rpmlint"; fail "rpmlint"; }
tail -1 "$work/rpmlint"

step "promtool check rules"
"$promtool" check rules packaging/monitoring/fin-alerts.yml >/dev/null || fail "promtool check rules"

step "the maintainer scripts parse"
for script in preinst postinst postrm config; do
  sh -n "$work/control/$script" || fail "the .deb's $script does not parse"
done
rpm -qp --scripts "$rpm_file" | python3 -c '
import re, subprocess, sys
parts = re.split(r"^(\w+) scriptlet \(using /bin/sh\):$", sys.stdin.read(), flags=re.M)
for name, body in zip(parts[1::2], parts[2::2]):
    if subprocess.run(["sh", "-n"], input=body.encode()).returncode:
        sys.exit(f"the .rpm %{name} scriptlet does not parse")
    print(f"   %{name} parses")
' || fail "rpm scriptlets"

step "dpkg -i"
installed=1
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$work/install" 2>&1 || { cat "$work/install"; fail "dpkg -i"; }
grep -q "sudo finctl setup" "$work/install" || fail "the install says to run finctl setup"
getent passwd fin | grep -q ":/var/lib/fin:/usr/sbin/nologin$" || fail "user fin: $(getent passwd fin)"
mode_owner() { stat -c '%a %U:%G' "$1"; }
[ "$(mode_owner /etc/fin/fin.toml)" = "640 root:fin" ] || fail "/etc/fin/fin.toml is $(mode_owner /etc/fin/fin.toml)"
[ "$(mode_owner /etc/fin)" = "750 root:fin" ] || fail "/etc/fin is $(mode_owner /etc/fin)"
[ "$(mode_owner /var/lib/fin)" = "750 fin:fin" ] || fail "/var/lib/fin is $(mode_owner /var/lib/fin)"
[ "$(mode_owner /var/log/fin)" = "750 fin:fin" ] || fail "/var/log/fin is $(mode_owner /var/log/fin)"
[ "$(mode_owner /usr/bin/fin)" = "755 root:root" ] || fail "/usr/bin/fin is $(mode_owner /usr/bin/fin)"
expect "man finctl" sh -c 'zcat /usr/share/man/man1/finctl.1.gz | grep -q "finctl"'

step "systemd-analyze verify"
# Offline, against this machine's systemd units and the installed files.
systemd-analyze verify /usr/lib/systemd/system/fin.service >"$work/verify" 2>&1 \
  || { cat "$work/verify"; fail "systemd-analyze verify"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
https_port=$(free_port); metrics_port=$(free_port)
step "finctl setup (non-interactive)"
finctl setup --non-interactive --force --hostname localhost --tls-mode self-signed \
  --https-listen "127.0.0.1:$https_port" --http-listen "" --metrics-listen "127.0.0.1:$metrics_port" \
  >"$work/setup" 2>&1 || { cat "$work/setup"; fail "finctl setup"; }
[ "$(mode_owner /etc/fin/fin.toml)" = "640 root:fin" ] || fail "setup left /etc/fin/fin.toml $(mode_owner /etc/fin/fin.toml)"

start_daemon() { # as the unit does: RuntimeDirectory, User=fin, UMask=0077, check-config first
  install -d -o fin -g fin -m 0750 /run/fin
  runuser -u fin -- /usr/bin/fin check-config --config /etc/fin/fin.toml >/dev/null || fail "fin check-config"
  (umask 0077; exec runuser -u fin -- /usr/bin/fin --config /etc/fin/fin.toml) >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 600); do
    finctl status >/dev/null 2>&1 && return 0
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log"; fail "the daemon exited"; }
    sleep 0.1
  done
  cat "$work/daemon.log"; fail "the daemon did not answer on its admin socket"
}
stop_daemon() {
  kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""
}
step "starting fin as user fin"
start_daemon
getent passwd finadmin >/dev/null && fail "a user finadmin exists on this machine already"
useradd --no-create-home --groups fin finadmin
finadmin_made=1
expect "a member of group fin runs finctl status without sudo" runuser -u finadmin -- finctl status >/dev/null

step "a user, a login over HTTPS, a receipt"
password="package test passphrase $RANDOM$RANDOM"
echo "$password" | finctl user add alice --password-stdin >/dev/null || fail "finctl user add"
api=https://localhost:$https_port/api/v1
token=$(curl -sSf --cacert /var/lib/fin/tls/self-signed.crt "$api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"alice\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') \
  || fail "login over HTTPS"
python3 - "$work/receipt.png" <<'PY'
import struct, sys, zlib
w, h = 320, 200
rows = b"".join(b"\0" + bytes(20 if (y // 20) % 2 and 40 < x < 280 else 245 for x in range(w)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
receipt=$(curl -sSf --cacert /var/lib/fin/tls/self-signed.crt "$api/receipts" -H "authorization: Bearer $token" \
  -H 'content-type: image/png' --data-binary @"$work/receipt.png" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') \
  || fail "upload a receipt"
step "promtool check metrics"
curl -sSf "http://127.0.0.1:$metrics_port/metrics" >"$work/metrics" || fail "the metrics"
"$promtool" check metrics <"$work/metrics" || fail "promtool check metrics"
for metric in $(grep -o 'fin_[a-z_]*' packaging/monitoring/fin-alerts.yml packaging/monitoring/grafana-dashboard.json | cut -d: -f2 | sed 's/_bucket$//' | sort -u); do
  grep -Eq "^$metric(\{| )" "$work/metrics" || grep -q "^# TYPE $metric " "$work/metrics" \
    || fail "the monitoring files use $metric, which fin does not serve"
done

step "finctl backup"
finctl backup >/dev/null || fail "finctl backup"
ls /var/lib/fin/backups/*-manual.finbak >/dev/null || fail "no backup in /var/lib/fin/backups"

step "an upgrade to a newer build, the config edited"
echo "# edited by the admin" >>/etc/fin/fin.toml
edited=$(sha256sum /etc/fin/fin.toml)
packaging/build.sh "${build_flags[@]}" --no-build --version "$newer" >"$work/build2.log" 2>&1 || { cat "$work/build2.log"; fail "the newer build"; }
DEBIAN_FRONTEND=noninteractive dpkg -i "target/packages/fin_${newer}-1_amd64.deb" >"$work/upgrade" 2>&1 \
  || { cat "$work/upgrade"; fail "dpkg -i (upgrade)"; }
ls /var/lib/fin/backups/*-pre-upgrade.finbak >/dev/null 2>&1 || { cat "$work/upgrade"; fail "no pre-upgrade backup"; }
[ "$(sha256sum /etc/fin/fin.toml)" = "$edited" ] || fail "the upgrade changed the edited config"
[ "$(dpkg-query -W -f='${Version}' fin)" = "${newer}-1" ] || fail "the newer version is installed"
stop_daemon; start_daemon
token=$(curl -sSf --cacert /var/lib/fin/tls/self-signed.crt "$api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"alice\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])') \
  || fail "login after the upgrade"
curl -sSf --cacert /var/lib/fin/tls/self-signed.crt "$api/receipts/$receipt" -H "authorization: Bearer $token" >/dev/null \
  || fail "the receipt after the upgrade"
stop_daemon

step "dpkg -r, then dpkg -P"
dpkg -r fin >"$work/remove" 2>&1 || { cat "$work/remove"; fail "dpkg -r"; }
[ ! -e /usr/bin/fin ] && [ ! -e /usr/bin/finctl ] || fail "dpkg -r left the binaries"
[ -f /etc/fin/fin.toml ] || fail "dpkg -r keeps the configuration"
ls /var/lib/fin/backups/*.finbak >/dev/null 2>&1 || fail "dpkg -r keeps the data"
DEBIAN_FRONTEND=noninteractive dpkg -P fin >"$work/purge" 2>&1 || { cat "$work/purge"; fail "dpkg -P"; }
[ ! -e /etc/fin ] || fail "dpkg -P left /etc/fin: $(ls -A /etc/fin)"
[ ! -e /var/log/fin ] || fail "dpkg -P left /var/log/fin"
ls /var/lib/fin/backups/*.finbak >/dev/null 2>&1 || fail "dpkg -P deleted the data without being asked to"
[ "$(debconf-show fin 2>/dev/null | grep -c purge-data)" = 0 ] || fail "dpkg -P leaves fin's debconf answers behind"
grep -q "kept /var/lib/fin" "$work/purge" || fail "dpkg -P says where the data is"

step "purge with the data, when the admin says so"
DEBIAN_FRONTEND=noninteractive dpkg -i "$work/old.deb" >/dev/null 2>&1 || fail "reinstall"
echo "fin fin/purge-data boolean true" | debconf-set-selections
DEBIAN_FRONTEND=noninteractive dpkg -P fin >"$work/purge2" 2>&1 || { cat "$work/purge2"; fail "dpkg -P (data)"; }
[ ! -e /var/lib/fin ] || fail "the data stayed although the admin said to purge it"
echo "tests/packaging: all passed"
