#!/usr/bin/env bash
# nfmd's topology without a guest (issue 18): with no VM watched, GET /api/topology is a valid
# empty `topo` document (scripts/validate-json), / lists it, and /metrics has the topology
# families (no connection series, nfm_topology_complete 1).
# usage: topology.sh NFMD VALIDATE_JSON
set -uo pipefail
nfmd=$1 validate=$2
fail() { echo "FAIL: $*"; exit 1; }
command -v curl >/dev/null || { echo "no curl: not tried"; exit 77; }
d=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$d"' EXIT
port=$((20000 + RANDOM % 20000))
"$nfmd" --vm 'no-such-vm-*' --listen "127.0.0.1:$port" 2>"$d/log" &
pid=$!
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$port/api/topology" >"$d/topo.json" || fail "GET /api/topology: $(cat "$d/log")"
"$validate" topo "$d/topo.json" || fail "not a valid topo document: $(cat "$d/topo.json")"
python3 - "$d/topo.json" <<'PY' || fail "not an empty topology: $(cat "$d/topo.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "topo" and d["by"] == "vm", d
assert d["nodes"] == [] and d["edges"] == [] and d["vms"] == [] and d["nr_connections"] == 0, d
PY
curl -sf "http://127.0.0.1:$port/" | grep -qF '"/api/topology"' || fail "/ does not list /api/topology"
curl -sf "http://127.0.0.1:$port/metrics" >"$d/metrics" || fail "GET /metrics"
grep -q '^# TYPE nfm_topology_connections gauge$' "$d/metrics" || fail "no nfm_topology_connections family"
grep -q '^nfm_topology_connections{' "$d/metrics" && fail "connection series with no VM"
grep -q '^nfm_topology_complete 1$' "$d/metrics" || fail "nfm_topology_complete is not 1"
echo "ok: /api/topology empty and valid, /metrics has the topology families"
