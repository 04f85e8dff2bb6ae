#!/usr/bin/env bash
# Benchmark (not a test): idle memory, GET /healthz over HTTPS keep-alive,
# and a page of a book's transactions (1,000 in the book) with a valid token.
# Uses a release build: cargo build --release -p fin-daemon -p finctl
# Needs wrk and python3. Usage: tests/bench/http.sh [seconds]
# FIN_BIN_DIR picks the binaries (to compare two builds in alternating runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FIN_BIN_DIR:-target/release}
seconds=${1:-10}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

FIN_LIMITS__LOGIN_BURST=1000000 FIN_LIMITS__LOGIN_PER_MINUTE=1000000 \
FIN_LIMITS__API_BURST=1000000 FIN_LIMITS__API_PER_SECOND=1000000 \
FIN_SERVER__HTTPS_LISTEN=127.0.0.1:0 FIN_SERVER__HTTP_LISTEN= FIN_METRICS__LISTEN= \
  "$bin/fin" --dev "$dir" >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -f "$dir/listeners.json" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"].rsplit(":",1)[1])' "$dir/listeners.json")
url="https://localhost:$port"
sleep 3
echo "idle RSS: $(ps -o rss= -p "$pid" | tr -d ' ') KiB"
echo "GET /healthz, wrk -t2 -c32 -d${seconds}s:"
wrk -t2 -c32 -d"${seconds}s" "$url/healthz" | grep -E 'Requests/sec|Latency'

password="bench mark passphrase $(date +%s)"
echo "$password" | FIN_ADMIN_SOCKET="$dir/admin.sock" "$bin/finctl" user add bench --password-stdin >/dev/null
# A book with one account and 1,000 transactions, over one keep-alive connection.
read -r token book < <(python3 - "$port" "$password" <<'PY'
import http.client, json, ssl, sys
port, password = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPSConnection("localhost", port, context=ssl._create_unverified_context())
def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    assert r.status < 300, (r.status, data)
    return json.loads(data)
token = call("POST", "/api/v1/auth/login", {"username": "bench", "password": password})["access_token"]
book = call("POST", "/api/v1/books", {"name": "Bench", "currency": "EUR"}, token)["id"]
account = call("POST", f"/api/v1/books/{book}/accounts", {"name": "Giro", "kind": "checking"}, token)["id"]
for i in range(1000):
    call("POST", f"/api/v1/books/{book}/transactions",
         {"account_id": account, "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", "amount": -(i + 1), "payee": f"Shop {i % 37}"}, token)
print(token, book)
PY
)
echo "GET a page of 50 of 1,000 transactions with a valid token, wrk -t2 -c32 -d${seconds}s:"
wrk -t2 -c32 -d"${seconds}s" -H "Authorization: Bearer $token" "$url/api/v1/books/$book/transactions?limit=50" | grep -E 'Requests/sec|Latency'
echo "RSS after: $(ps -o rss= -p "$pid" | tr -d ' ') KiB"
