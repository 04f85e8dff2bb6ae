#!/usr/bin/env bash
# Benchmark (not a test): a 100,000-row CSV statement from upload to
# committed, and the monthly spending-by-category report over the 100,000
# transactions that leaves (p50/p95 of 200 requests on one keep-alive
# connection), plus the same report over twelve months, and pages of the
# transaction list (the newest, one account's, forty in a row by cursor).
# Uses a release build: cargo build --release -p fin-daemon -p finctl
# Needs python3. Usage: tests/bench/ledger.sh [rows]
# FIN_BIN_DIR picks the binaries (to compare two builds in alternating runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${FIN_BIN_DIR:-target/release}
rows=${1:-100000}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

FIN_LIMITS__LOGIN_BURST=1000000 FIN_LIMITS__LOGIN_PER_MINUTE=1000000 \
FIN_LIMITS__API_BURST=1000000 FIN_LIMITS__API_PER_SECOND=1000000 \
FIN_LIMITS__UPLOAD_BURST=1000000 FIN_LIMITS__UPLOAD_PER_SECOND=1000000 \
FIN_SERVER__HTTPS_LISTEN=127.0.0.1:0 FIN_SERVER__HTTP_LISTEN= FIN_METRICS__LISTEN= \
  "$bin/fin" --dev "$dir" >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -f "$dir/listeners.json" ] && break; sleep 0.05; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"].rsplit(":",1)[1])' "$dir/listeners.json")
password="bench mark passphrase $(date +%s)"
echo "$password" | FIN_ADMIN_SOCKET="$dir/admin.sock" "$bin/finctl" user add bench --password-stdin >/dev/null

python3 - "$port" "$password" "$rows" "$pid" <<'PY'
import http.client, json, ssl, sys, time, random
port, password, rows, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def rss():
    return next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
c = http.client.HTTPSConnection("localhost", port, context=ssl._create_unverified_context(), timeout=600)
def call(method, path, body=None, token=None, raw=None):
    headers = {"content-type": "application/octet-stream" if raw is not None else "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    c.request(method, path, raw if raw is not None else (json.dumps(body) if body is not None else None), headers)
    r = c.getresponse()
    data = r.read()
    assert r.status < 300, (r.status, data[:500])
    return json.loads(data)
token = call("POST", "/api/v1/auth/login", {"username": "bench", "password": password})["access_token"]
book = call("POST", "/api/v1/books", {"name": "Bench", "currency": "EUR"}, token)["id"]
account = call("POST", f"/api/v1/books/{book}/accounts", {"name": "Giro", "kind": "checking"}, token)["id"]
cats = [call("POST", f"/api/v1/books/{book}/categories", {"name": f"Category {i}"}, token)["id"] for i in range(12)]
for i, cat in enumerate(cats[:6]):
    call("POST", f"/api/v1/books/{book}/rules", {"name": f"rule {i}",
         "conditions": {"payee": {"match": "contains", "value": f"shop {i}"}}, "actions": {"category_id": cat}}, token)
random.seed(7)
lines = ["date,amount,payee,description"]
for i in range(rows):
    month, day = 1 + i % 12, 1 + (i // 12) % 28
    lines.append(f"2025-{month:02d}-{day:02d},-{random.randint(1, 99999) / 100:.2f},Shop {i % 97} Berlin,card {i}")
csv = ("\n".join(lines) + "\n").encode()
print(f"CSV: {rows} rows, {len(csv) / 1e6:.1f} MB")
# The token lives 15 minutes: enough for the whole run.
start = time.perf_counter()
preview = call("POST", f"/api/v1/books/{book}/imports?account={account}&format=csv&filename=bench.csv", token=token, raw=csv)
uploaded = time.perf_counter()
assert preview["rows_total"] == rows and not preview["problems"], preview["problems"][:3]
done = call("POST", f"/api/v1/books/{book}/imports/{preview['import']['id']}/commit", {}, token)
committed = time.perf_counter()
assert done["committed_rows"] == rows, done
print(f"import: upload+preview {uploaded - start:.2f} s, commit {committed - uploaded:.2f} s, "
      f"upload to committed {committed - start:.2f} s")
print(f"RSS after the commit: {rss()} KiB")

def latencies(path, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        call("GET", path, token=token)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.95) - 1]
month = f"/api/v1/books/{book}/reports/spending-by-category?from=2025-06&to=2025-06"
year = f"/api/v1/books/{book}/reports/spending-by-category?from=2025-01&to=2025-12"
report = call("GET", month, token=token)
assert sum(i["count"] for i in report["items"]) == rows // 12 + (1 if rows % 12 >= 6 else 0), len(report["items"])
p50, p95 = latencies(month, 200)
print(f"monthly spending-by-category over {rows} transactions: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
p50, p95 = latencies(year, 20)
print(f"twelve months of spending-by-category: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
page = f"/api/v1/books/{book}/transactions?limit=50"
for label, path in (("the book's", page), ("one account's", f"{page}&account={account}"),
                    ("the first three days' (to=2025-01-03) of the", f"{page}&to=2025-01-03")):
    p50, p95 = latencies(path, 200)
    print(f"a page of 50 of {label} {rows} transactions: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
# Deeper pages: forty in a row by cursor, from the newest.
path, t = page, time.perf_counter()
for _ in range(40):
    path = f"{page}&cursor={call('GET', path, token=token)['next_cursor']}"
print(f"forty pages in a row by cursor: {(time.perf_counter() - t) * 1000 / 40:.1f} ms a page")
PY
echo "RSS after: $(ps -o rss= -p "$pid" | tr -d ' ') KiB"
