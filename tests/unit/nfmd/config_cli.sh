#!/usr/bin/env bash
# nfmd's configuration without a guest: --config errors name the file and line and exit 2; a
# non-loopback address without authentication is refused unless --insecure-listen (then served,
# with a warning), a token without TLS is served with a warning; TLS and basic auth from a
# configuration file serve HTTPS (no VM is watched: --vm matches none).
# usage: config_cli.sh NFMD
set -uo pipefail
nfmd=$1
d=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {	# expect STATUS TEXT ARGS...: nfmd exits STATUS saying TEXT
	local want=$1 text=$2 out rc
	shift 2
	out=$(timeout 10 "$nfmd" --vm 'no-such-vm-*' "$@" 2>&1)
	rc=$?
	[ $rc = "$want" ] || fail "nfmd $*: exit $rc, wanted $want: $out"
	grep -qF -- "$text" <<<"$out" || fail "nfmd $*: wanted '$text' in: $out"
}

printf 'listen = 127.0.0.1:0\nbogus = 1\n' >"$d/bad.conf"
expect 2 "bad.conf:2: unknown setting 'bogus'" --config "$d/bad.conf"
printf 'interval = soon\n' >"$d/bad2.conf"
expect 2 "--interval soon" --config "$d/bad2.conf"
printf 'no equals sign\n' >"$d/bad3.conf"
expect 2 "bad3.conf:1: expected key = value" --config "$d/bad3.conf"
printf 'insecure-listen = maybe\n' >"$d/bad4.conf"
expect 2 "insecure-listen: expected yes or no" --config "$d/bad4.conf"
expect 2 "--config $d/none.conf" --config "$d/none.conf"
expect 2 "tls-cert and tls-key go together" --tls-cert "$d/x"
expect 2 "basic-auth-user and basic-auth-password-file go together" --basic-auth-user u
expect 1 "refusing to serve 0.0.0.0:0 without authentication" --listen 0.0.0.0:0

command -v curl >/dev/null || { echo "no curl: serving not tried"; exit 0; }
# serve PORT LOG ARGS...: nfmd started with ARGS answers plain HTTP on 127.0.0.1:PORT
serve() {
	local port=$1 log=$2
	shift 2
	"$nfmd" --vm 'no-such-vm-*' "$@" 2>"$log" &
	pids+=($!)
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/metrics" && return 0
		sleep 0.1
	done
	fail "nfmd $* did not answer: $(cat "$log")"
}
# Every address with --insecure-listen: served, with the warning in the log.
port=$((20000 + RANDOM % 20000))
serve $port "$d/insecure.log" --listen 0.0.0.0:$port --insecure-listen
grep -q "serving 0.0.0.0:$port without authentication (--insecure-listen)" "$d/insecure.log" ||
	fail "no --insecure-listen warning: $(cat "$d/insecure.log")"
# A token without TLS on every address: served, with the clear-text warning; no token, no data.
echo tok >"$d/tok"
chmod 600 "$d/tok"
port=$((20000 + RANDOM % 20000))
serve $port "$d/notls.log" --listen 0.0.0.0:$port --token-file "$d/tok"
grep -q "serving 0.0.0.0:$port without TLS" "$d/notls.log" || fail "no TLS warning: $(cat "$d/notls.log")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 401 ] ||
	fail "no token was let in"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok' \
	"http://127.0.0.1:$port/metrics")" = 200 ] || fail "the token was refused"

command -v openssl >/dev/null || { echo "no openssl: TLS not tried"; exit 0; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null ||
	fail "openssl req"
chmod 600 "$d/key.pem"
echo secret >"$d/pw"
chmod 600 "$d/pw"
port=$((20000 + RANDOM % 20000))
cat >"$d/tls.conf" <<CONF
# HTTPS, basic auth
listen = 127.0.0.1:$port
tls-cert = $d/cert.pem
tls-key = $d/key.pem
basic-auth-user = prom
basic-auth-password-file = $d/pw
CONF
"$nfmd" --config "$d/tls.conf" --vm 'no-such-vm-*' 2>"$d/log" &
pids+=($!)
for _ in $(seq 50); do
	curl -s -o /dev/null --cacert "$d/cert.pem" "https://127.0.0.1:$port/" && break
	sleep 0.1
done
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$d/cert.pem" "$@"; }
[ "$(code -u prom:secret "https://127.0.0.1:$port/metrics")" = 200 ] || fail "HTTPS with the password: $(cat "$d/log")"
[ "$(code -u prom:wrong "https://127.0.0.1:$port/metrics")" = 401 ] || fail "a wrong password was let in"
[ "$(code "https://127.0.0.1:$port/metrics")" = 401 ] || fail "no credentials were let in"
curl -s -m 3 "http://127.0.0.1:$port/metrics" >/dev/null && fail "plain HTTP was answered"
grep -q "serving https://127.0.0.1:$port" "$d/log" || fail "log: $(cat "$d/log")"
echo "nfmd --config: errors, the non-loopback refusal, --insecure-listen, a token without TLS, HTTPS with basic auth: ok"
