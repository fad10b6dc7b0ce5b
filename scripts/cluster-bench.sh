#!/bin/bash
# Ingest through hydrant in one run, three ways, on this machine:
#   local  one node, the local segment log (the default)
#   r1     one node on JetStream R1 (--cluster-listen, no peers)
#   r3     three nodes on loopback, JetStream R3, the load sent to the first
#   r3all  the same three nodes, three loads at once, one to each node's own
#          endpoint (streams bench1..3), N/3 records each at CONC requests in
#          flight each; records/s is their total over the longest of the three
# and prints records/s and ack-to-visible p99 for each, with ratios to local.
#
#   scripts/cluster-bench.sh                 # builds ./cmd/hydrant
#   HYDRANT=/path/to/hydrant N=2000000 CONC=32 scripts/cluster-bench.sh
#
# Ports 14660-14673 on 127.0.0.1 must be free.
set -euo pipefail
N=${N:-1000000}
CONC=${CONC:-32}
work=$(mktemp -d /tmp/hydrant-cluster-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
bin=${HYDRANT:-}
if [ -z "$bin" ]; then
  bin=$work/hydrant
  go build -o "$bin" ./cmd/hydrant
fi

healthy() {
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$1/_hydrant/health" >/dev/null && return 0
    sleep 0.2
  done
  echo "node on port $1 not healthy" >&2
  return 1
}

"$bin" bench --serve --records "$N" --json > "$work/local.json"

"$bin" serve --listen 127.0.0.1:14660 --data-dir "$work/r1" --node-name r1 \
  --cluster-listen 127.0.0.1:14670 --log-level warn 2> "$work/r1.log" &
r1=$!
healthy 14660
"$bin" bench --endpoint-url http://127.0.0.1:14660 --records "$N" --json > "$work/r1.json"
kill $r1; wait $r1 || true

peers=127.0.0.1:14671,127.0.0.1:14672,127.0.0.1:14673
for i in 1 2 3; do
  "$bin" serve --listen 127.0.0.1:1466$i --data-dir "$work/n$i" --node-name n$i \
    --cluster-listen 127.0.0.1:1467$i --cluster-peers $peers --log-level warn 2> "$work/n$i.log" &
done
for i in 1 2 3; do healthy 1466$i; done
"$bin" bench --endpoint-url http://127.0.0.1:14661 --records "$N" --json > "$work/r3.json"
for i in 1 2 3; do
  "$bin" bench --endpoint-url http://127.0.0.1:1466$i --stream bench$i --records $((N / 3)) \
    --concurrency "$CONC" --json > "$work/r3all$i.json" &
done
wait $(jobs -p | tail -3)

python3 - "$work" <<'EOF'
import json, sys
w = sys.argv[1]
runs = {k: json.load(open(f"{w}/{k}.json"))["hydrant"] for k in ("local", "r1", "r3")}
parts = [json.load(open(f"{w}/r3all{i}.json"))["hydrant"] for i in (1, 2, 3)]
secs = max(p["seconds"] for p in parts)
runs["r3all"] = {
    "records_per_sec": sum(p["records"] for p in parts) / secs,
    "failed_records": sum(p["failed_records"] for p in parts),
    **{k: max(p[k] for p in parts) for k in ("latency_p50_ms", "latency_p99_ms", "visible_p50_ms", "visible_p99_ms")},
}
base = runs["local"]["records_per_sec"]
print(f"{'run':6} {'records/s':>10} {'ratio':>6} {'req p50/p99 ms':>16} {'visible p50/p99 ms':>20} failed")
for k, d in runs.items():
    print(f"{k:6} {d['records_per_sec']:>10.0f} {d['records_per_sec']/base:>6.2f} "
          f"{d['latency_p50_ms']:>7.1f}/{d['latency_p99_ms']:<8.1f} {d['visible_p50_ms']:>9.1f}/{d['visible_p99_ms']:<10.1f} {d['failed_records']}")
EOF
