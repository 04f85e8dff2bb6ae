#!/usr/bin/env bash
# Benchmark (not a test): login latency at the configured argon2 cost, and
# GET /api/v1/auth/me throughput over HTTPS keep-alive with a valid token.
# Uses a release build: cargo build --release -p fin-daemon -p finctl
# Needs curl, wrk and python3. Usage: tests/bench/auth.sh [logins] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FIN_BIN_DIR:-target/release}
logins=${1:-100}
seconds=${2:-10}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

# Limits raised so the benchmark measures the work, not the limiter.
FIN_LIMITS__LOGIN_BURST=1000000 FIN_LIMITS__LOGIN_PER_MINUTE=1000000 \
FIN_LIMITS__API_BURST=1000000 FIN_LIMITS__API_PER_SECOND=1000000 \
FIN_SERVER__HTTPS_LISTEN=127.0.0.1:0 FIN_SERVER__HTTP_LISTEN= FIN_METRICS__LISTEN= \
  "$bin/fin" --dev "$dir" >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -f "$dir/listeners.json" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"].rsplit(":",1)[1])' "$dir/listeners.json")
url="https://localhost:$port"
password="bench mark passphrase $(date +%s)"
echo "$password" | FIN_ADMIN_SOCKET="$dir/admin.sock" "$bin/finctl" user add bench --password-stdin >/dev/null
body=$(python3 -c 'import json,sys; print(json.dumps({"username":"bench","password":sys.argv[1]}))' "$password")

for _ in $(seq "$logins"); do
  curl -sk -o /dev/null -w '%{time_total}\n' -H 'content-type: application/json' -d "$body" "$url/api/v1/auth/login"
done | sort -n >"$dir/times"
python3 - "$dir/times" <<'PY'
import sys
t = [float(x) * 1000 for x in open(sys.argv[1])]
pick = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"login ({len(t)} requests, new TLS connection each): p50 {pick(0.50):.1f} ms, p95 {pick(0.95):.1f} ms")
PY

token=$(curl -sk -H 'content-type: application/json' -d "$body" "$url/api/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
echo "GET /api/v1/auth/me with a valid token, wrk -t2 -c32 -d${seconds}s:"
wrk -t2 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" "$url/api/v1/auth/me" | grep -E 'Requests/sec|Latency|requests in'
echo "RSS after the run: $(ps -o rss= -p "$pid") KiB"
