#!/usr/bin/env bash
# Builds fin's .deb (cargo-deb) and .rpm (cargo-generate-rpm) into
# target/packages/. Usage:
#   packaging/build.sh [--profile dist|release|dev] [--version V] [--no-build]
# dist (the default) is the release build of the packages one ships; dev
# packages the debug binaries a test run has built already (--no-build).
# --version replaces the workspace version (the upgrade test builds a
# "newer" package so). Installs cargo-deb and cargo-generate-rpm (pinned,
# from crates.io, into target/tools) and dpkg-dev when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=dist
version=""
build=1
while (($#)); do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "packaging/build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$profile" in
  dev) bin_dir=target/debug ;;
  release|dist) bin_dir=target/$profile ;;
  *) echo "packaging/build.sh: --profile is dist, release or dev" >&2; exit 2 ;;
esac
[ -n "$version" ] || version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

packaging/tools.sh
export PATH="$PWD/target/tools/bin:$PATH"

if ((build)); then
  cargo build --locked --profile "$profile" -p fin-daemon -p finctl
fi
for bin in fin finctl; do
  [ -x "$bin_dir/$bin" ] || { echo "packaging/build.sh: $bin_dir/$bin is missing (build it, or drop --no-build)" >&2; exit 1; }
done

# What the packages carry besides the binaries, generated or gathered
# here: man pages and completions from the binaries' own command lines,
# the docs, the licences, the rpm scriptlets.
out=target/packages
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"/{man,completions,doc,licenses,rpm,bin}
for bin in fin finctl; do
  "$bin_dir/$bin" __generate-docs "$stage/gen-$bin"
  for page in "$stage/gen-$bin"/*.1; do
    gzip -9n <"$page" >"$stage/man/$(basename "$page").gz"
  done
  cp "$stage/gen-$bin/completions/"* "$stage/completions/"
  # The rpm payload gets stripped copies (cargo-deb strips its own).
  objcopy --strip-debug --strip-unneeded "$bin_dir/$bin" "$stage/bin/$bin"
done
cp README.md docs/*.md "$stage/doc/"
gzip -9n <CHANGELOG.md >"$stage/doc/changelog.gz"
# The Debian changelog of the package itself (cargo-deb compresses it).
cat >"$stage/changelog.Debian" <<DEBCHANGES
fin ($version-1) unstable; urgency=medium

  * fin $version; what changed is in /usr/share/doc/fin/changelog.gz.

 -- fin developers <fin@example.invalid>  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
DEBCHANGES
# The licences: fin's own, and the OCR models' (it comes with the crate
# that carries the models); the Debian copyright file holds both texts.
models_crate=$(cargo metadata --format-version 1 --locked 2>/dev/null \
  | python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ikvmt-ocr-detection"))')
cp LICENSE "$stage/licenses/LICENSE"
cp "$(dirname "$models_crate")/LICENSE-CC-BY-SA-4.0.txt" "$stage/licenses/"
python3 - "$stage/licenses" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
def paragraph(text):  # DEP-5: each line indented, blank lines as " ."
    return "\n".join(" " + line if line.strip() else " ." for line in text.strip().splitlines())
copyright = pathlib.Path("packaging/copyright.in").read_text()
copyright = copyright.replace("@AGPL-3.0-or-later@", paragraph((out / "LICENSE").read_text()))
copyright = copyright.replace("@CC-BY-SA-4.0@", paragraph((out / "LICENSE-CC-BY-SA-4.0.txt").read_text()))
(out / "copyright").write_text(copyright)
PY
python3 - "$stage/rpm" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
users = "\n".join(l for l in pathlib.Path("systemd/fin.sysusers").read_text().splitlines() if l and not l.startswith("#"))
for script in pathlib.Path("packaging/rpm").glob("*.sh"):
    (out / script.name).write_text(script.read_text().replace("@SYSUSERS@", users))
PY

rpm_version=${version//-/\~}
cargo deb -p fin-daemon --no-build --profile "$profile" --strip \
  --deb-version "$version-1" --output "$out/fin_${version}-1_amd64.deb"
# zstd at its packaging level takes minutes over an unoptimised binary: dev
# packages (the tests') go uncompressed.
compress=zstd
[ "$profile" = dev ] && compress=none
cargo generate-rpm -p daemon --profile "$profile" --payload-compress "$compress" \
  -s "version = \"$rpm_version\"" -s 'release = "1"' \
  --output "$out/fin-${rpm_version}-1.x86_64.rpm"
ls -l "$out"/*.deb "$out"/*.rpm
