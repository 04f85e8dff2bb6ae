#!/usr/bin/env bash
# A tls.acme.dns_hook for tests: sets or clears the dns-01 TXT record in
# pebble-challtestsrv (whose management URL is in FIN_PEBBLE_CHALLTESTSRV).
#   dns-hook.sh set   _acme-challenge.NAME VALUE
#   dns-hook.sh clear _acme-challenge.NAME VALUE
# A real hook does the same against the operator's DNS provider and returns
# only once the record is visible.
set -euo pipefail
action=$1 name=$2 value=$3
case "$action" in
    set) path=set-txt ;;
    clear) path=clear-txt ;;
    *) echo "dns-hook.sh: unknown action $action" >&2; exit 2 ;;
esac
curl -fsS -X POST -d "{\"host\":\"$name.\",\"value\":\"$value\"}" \
    "${FIN_PEBBLE_CHALLTESTSRV:?FIN_PEBBLE_CHALLTESTSRV is not set}/$path"
