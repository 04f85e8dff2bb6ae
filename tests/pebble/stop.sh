#!/usr/bin/env bash
# Stops the Pebble and pebble-challtestsrv that start.sh started in DIR (by
# pid) and waits until they are gone, so their ports are free again.
set -u
dir=${1:?usage: stop.sh DIR}
for name in pebble challtestsrv; do
    if [ -f "$dir/$name.pid" ]; then
        pid=$(cat "$dir/$name.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rm -f "$dir/$name.pid"
    fi
done
