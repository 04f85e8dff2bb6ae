#!/usr/bin/env bash
# Stops the Pebble and pebble-challtestsrv that start.sh started in DIR (by pid).
set -u
dir=${1:?usage: stop.sh DIR}
for name in pebble challtestsrv; do
    if [ -f "$dir/$name.pid" ]; then
        kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
        rm -f "$dir/$name.pid"
    fi
done
