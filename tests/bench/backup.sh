#!/usr/bin/env bash
# Benchmark (not a test): backup and restore of a box holding N
# transactions (a CSV import) and M receipt images (random bytes of
# 150-250 KB, written into the blob folder as uploads leave them): the
# time of `finctl backup --output` and of `finctl restore` onto a fresh
# box, the daemons' peak RSS during each (sampled every 20 ms), and the
# archive's size. The RSS before each step is printed too: the growth
# during it is what the step costs (the source box holds what its import
# left). Uses a release build: cargo build --release -p fin-daemon -p finctl
# Needs python3. Usage: tests/bench/backup.sh [transactions] [images]
# FIN_BIN_DIR picks the binaries (to compare two builds in alternating runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${FIN_BIN_DIR:-target/release}")
rows=${1:-100000}
images=${2:-1000}
work=$(mktemp -d)
pids=()
# FIN_BENCH_KEEP=1 keeps the boxes and their logs (the path is printed).
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; if [ -n "${FIN_BENCH_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi' EXIT

start_box() { # dir -> prints pid
  FIN_LIMITS__LOGIN_BURST=1000000 FIN_LIMITS__LOGIN_PER_MINUTE=1000000 \
  FIN_LIMITS__API_BURST=1000000 FIN_LIMITS__API_PER_SECOND=1000000 \
  FIN_LIMITS__UPLOAD_BURST=1000000 FIN_LIMITS__UPLOAD_PER_SECOND=1000000 \
  FIN_SERVER__HTTPS_LISTEN=127.0.0.1:0 FIN_SERVER__HTTP_LISTEN= FIN_METRICS__LISTEN= \
  FIN_BACKUP__SCHEDULE= \
    "$bin/fin" --dev "$1" >"$1.out" 2>&1 &
  echo $!
}
wait_ready() { for _ in $(seq 400); do [ -f "$1/listeners.json" ] && return; sleep 0.05; done; echo "no start" >&2; exit 1; }
# Runs a command while sampling a pid's RSS: prints seconds and peak KiB.
timed() { # pid cmd...
  local pid=$1; shift
  python3 - "$pid" "$@" <<'PY'
import subprocess, sys, time, threading
pid, cmd = sys.argv[1], sys.argv[2:]
peak, done = 0, False
def rss():
    try:
        return int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")))
    except Exception:
        return 0
before = rss()
def sample():
    global peak
    while not done:
        peak = max(peak, rss())
        time.sleep(0.02)
t = threading.Thread(target=sample); t.start()
start = time.perf_counter()
out = subprocess.run(cmd, capture_output=True, text=True)
took = time.perf_counter() - start
done = True; t.join()
if out.returncode != 0:
    sys.exit(f"failed: {out.stdout} {out.stderr}")
print(f"{took:.2f} s, daemon RSS {before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB")
PY
}

src="$work/source"
pid=$(start_box "$src"); pids+=("$pid"); wait_ready "$src"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"].rsplit(":",1)[1])' "$src/listeners.json")
password="bench mark passphrase $(date +%s)"
echo "$password" | FIN_ADMIN_SOCKET="$src/admin.sock" "$bin/finctl" user add bench --password-stdin >/dev/null
python3 - "$port" "$password" "$rows" "$images" "$src" <<'PY'
import http.client, json, ssl, sys, os, hashlib, random
port, password, rows, images, state = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
c = http.client.HTTPSConnection("localhost", port, context=ssl._create_unverified_context(), timeout=900)
def call(method, path, body=None, token=None, raw=None):
    headers = {"content-type": "application/octet-stream" if raw is not None else "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    c.request(method, path, raw if raw is not None else (json.dumps(body) if body is not None else None), headers)
    r = c.getresponse(); data = r.read()
    assert r.status < 300, (r.status, data[:500])
    return json.loads(data)
token = call("POST", "/api/v1/auth/login", {"username": "bench", "password": password})["access_token"]
book = call("POST", "/api/v1/books", {"name": "Bench", "currency": "EUR"}, token)["id"]
account = call("POST", f"/api/v1/books/{book}/accounts", {"name": "Giro", "kind": "checking"}, token)["id"]
random.seed(7)
lines = ["date,amount,payee,description"]
for i in range(rows):
    lines.append(f"2025-{1 + i % 12:02d}-{1 + (i // 12) % 28:02d},-{random.randint(1, 99999) / 100:.2f},Shop {i % 97} Berlin,card {i}")
preview = call("POST", f"/api/v1/books/{book}/imports?account={account}&format=csv&filename=bench.csv", token=token, raw=("\n".join(lines) + "\n").encode())
call("POST", f"/api/v1/books/{book}/imports/{preview['import']['id']}/commit", {}, token)
total = 0
for i in range(images):
    data = os.urandom(random.randint(150_000, 250_000)); total += len(data)
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{state}/blobs/{h[:2]}", exist_ok=True)
    open(f"{state}/blobs/{h[:2]}/{h}", "wb").write(data)
print(f"box: {rows} transactions, {images} images ({total / 2**20:.0f} MiB)")
PY
archive="$work/box.finbak"
echo "backup:  $(timed "$pid" "$bin/finctl" --socket "$src/admin.sock" backup --output "$archive")"
echo "archive: $(du -m "$archive" | cut -f1) MiB"
echo "verify:  $(timed "$pid" "$bin/finctl" --socket "$src/admin.sock" backup verify "$archive")"
kill "$pid"; wait "$pid" 2>/dev/null || true

dst="$work/target"
pid2=$(start_box "$dst"); pids+=("$pid2"); wait_ready "$dst"
echo "restore: $(timed "$pid2" "$bin/finctl" --socket "$dst/admin.sock" restore "$archive" --yes)"
