#!/usr/bin/env bash
# Starts a throw-away Pebble (Let's Encrypt's test ACME server) and its DNS,
# pebble-challtestsrv, for the ACME tests. Everything lives in the folder given
# as $1 (made if missing): the test CA, Pebble's config, logs, pids, and `env`,
# a file of `export NAME=value` lines that the tests need.
#
#   tests/pebble/start.sh DIR     start; then `. DIR/env`
#   tests/pebble/stop.sh DIR      stop what start.sh started
#   tests/pebble/run.sh CMD...    start, run CMD with the env, stop
#
# Ports are picked free on 127.0.0.1 so parallel runs never collide.
set -euo pipefail

dir=${1:?usage: start.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

for tool in pebble pebble-challtestsrv openssl curl python3; do
    command -v "$tool" >/dev/null || { echo "start.sh: $tool is not installed (apt-get install -y pebble openssl curl python3)" >&2; exit 2; }
done

# One free TCP port per argument name; the kernel picks them, we only read them.
free_ports() {
    python3 - "$@" <<'PY'
import socket, sys
socks = []
for _ in sys.argv[1:]:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
# Started again in the same folder (a test that takes the CA down and back
# up), Pebble keeps its ports and certificates, so clients still find it.
if [ -f "$dir/ports" ]; then
    read -r acme_port mgmt_port http_port tls_port dns_port chall_mgmt_port < "$dir/ports"
else
    read -r acme_port mgmt_port http_port tls_port dns_port chall_mgmt_port \
        < <(free_ports a b c d e f)
    echo "$acme_port $mgmt_port $http_port $tls_port $dns_port $chall_mgmt_port" > "$dir/ports"
fi

# A CA of our own and a certificate for localhost/127.0.0.1 signed by it:
# Pebble ships none, and the client must be able to trust Pebble's HTTPS.
if [ ! -f "$dir/localhost.pem" ]; then
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=fin test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout "$dir/localhost.key" -out "$dir/localhost.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$dir/localhost.ext"
openssl x509 -req -in "$dir/localhost.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/localhost.ext" -out "$dir/localhost.pem" 2>/dev/null
fi

# httpPort is where Pebble's validator connects for http-01: the test's own
# challenge server listens there (FIN_PEBBLE_HTTP_PORT).
cat > "$dir/pebble.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$acme_port",
    "managementListenAddress": "127.0.0.1:$mgmt_port",
    "certificate": "$dir/localhost.pem",
    "privateKey": "$dir/localhost.key",
    "httpPort": $http_port,
    "tlsPort": $tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON

# The DNS answers every name with 127.0.0.1 and no AAAA (our challenge server
# listens on IPv4 only); its own challenge servers are off so they never take
# the http-01 port.
pebble-challtestsrv -http01 "" -https01 "" -tlsalpn01 "" \
    -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
    -dns01 "127.0.0.1:$dns_port" -management "127.0.0.1:$chall_mgmt_port" \
    >"$dir/challtestsrv.log" 2>&1 &
echo $! > "$dir/challtestsrv.pid"

# NOSLEEP: validate at once; NONCEREJECT=0: no deliberate bad-nonce errors.
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config "$dir/pebble.json" -dnsserver "127.0.0.1:$dns_port" \
    >"$dir/pebble.log" 2>&1 &
echo $! > "$dir/pebble.pid"

# Wait (at most 20 s) until both answer.
for _ in $(seq 1 100); do
    # Any HTTP answer from challtestsrv will do: it only has to be listening.
    if curl -fsS --cacert "$dir/ca.pem" "https://127.0.0.1:$acme_port/dir" >/dev/null 2>&1 &&
       curl -sS -o /dev/null "http://127.0.0.1:$chall_mgmt_port/" 2>/dev/null; then
        ready=1; break
    fi
    sleep 0.2
done
if [ -z "${ready:-}" ]; then
    echo "start.sh: Pebble did not come up; see $dir/pebble.log and $dir/challtestsrv.log" >&2
    "$(dirname "$0")/stop.sh" "$dir" || true
    exit 1
fi

cat > "$dir/env" <<ENV
export FIN_PEBBLE_DIRECTORY=https://127.0.0.1:$acme_port/dir
export FIN_PEBBLE_MANAGEMENT=https://127.0.0.1:$mgmt_port
export FIN_PEBBLE_HTTP_PORT=$http_port
export FIN_PEBBLE_CHALLTESTSRV=http://127.0.0.1:$chall_mgmt_port
export FIN_PEBBLE_CA=$dir/ca.pem
export SSL_CERT_FILE=$dir/ca.pem
ENV
cat "$dir/env"
