#!/usr/bin/env bash
# Runs a command (e.g. `cargo test -p fin-daemon tls::acme`) against a fresh
# Pebble: starts it in a temporary folder, exports what the ACME tests read
# (FIN_PEBBLE_*, and SSL_CERT_FILE so the ACME client trusts Pebble's test CA),
# runs the command, and always stops Pebble and removes the folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap '"$here/stop.sh" "$work"; rm -rf "$work"' EXIT
"$here/start.sh" "$work" >/dev/null
# shellcheck disable=SC1091
. "$work/env"
"$@"
