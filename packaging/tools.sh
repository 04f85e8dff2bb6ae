#!/usr/bin/env bash
# Installs what building the packages needs, when missing: cargo-deb and
# cargo-generate-rpm (pinned versions, from crates.io, into target/tools),
# and from Debian's packages dpkg-dev (dpkg-shlibdeps, for the .deb's
# library dependencies) and binutils (objcopy).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/tools
need=()
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
command -v objcopy >/dev/null || need+=(binutils)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
install_tool() { # crate version binary
  if ! "$tools/bin/$3" --version 2>/dev/null | grep -qF "$2"; then
    echo "packaging/tools.sh: installing $1 $2 into $tools"
    cargo install --locked --quiet --root "$tools" "$1" --version "$2"
  fi
}
install_tool cargo-deb 3.8.0 cargo-deb
install_tool cargo-generate-rpm 0.21.1 cargo-generate-rpm
