#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs a local 3-node
# dns-raft cluster on 127.0.0.1 (raft 8300-8302, ctl 8500-8502, dns 8600-8602).
#   supervisor/local-cluster.sh [start]   build and start (resumes old data)
#   supervisor/local-cluster.sh stop      stop the three nodes
#   supervisor/local-cluster.sh clean     stop and delete ./data
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bin=$top/build/bin
data=$top/data

# Only this script's nodes: supervisors whose data directory is under $data.
ours() {
	pgrep -f "^$bin/dns-raft .*-data.dir $data/" -d ' ' 2>/dev/null || true
}

stop() {
	local pids
	pids=$(ours)
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 100); do
		[ -n "$(ours)" ] || return 0
		sleep 0.1
	done
	echo "nodes did not stop in 10 s" >&2
	return 1
}

# Polls a node's control port until it answers, or gives up after $2 s.
wait_ctl() {
	local port=$1 secs=$2 out
	for _ in $(seq $((secs * 10))); do
		out=$(echo "cluster status" | nc -w 2 127.0.0.1 "$port" 2>/dev/null || true)
		if grep -q '^leader ' <<<"$out" && ! grep -q '^leader none' <<<"$out"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

case "${1:-start}" in
stop) stop; exit ;;
clean) stop; rm -rf "$data"; exit ;;
start) ;;
*) echo "usage: $0 [start|stop|clean]" >&2; exit 2 ;;
esac

bash .ci/deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
stop
mkdir -p "$data"

start_node() {
	local n=$1
	shift
	setsid "$bin/dns-raft" -id "id$n" -raft.addr ":830$n" -dns.addr ":860$n" \
		-data.dir "$data/id$n" "$@" >>"$data/id$n.log" 2>&1 </dev/null &
}

start_node 0 -zone.file "$top/zones/zone.txt"
wait_ctl 8500 20 || { echo "node id0 did not come up; see $data/id0.log" >&2; exit 1; }
start_node 1 -raft.join :8500
start_node 2 -raft.join :8500
for p in 8501 8502; do
	wait_ctl $p 30 || { echo "node on ctl port $p did not join; see $data/*.log" >&2; exit 1; }
done

# The zone is in once every node's DNS server answers its SOA.
for p in 8600 8601 8602; do
	for _ in $(seq 300); do
		dig +short +time=1 +tries=1 @127.0.0.1 -p $p example.com SOA 2>/dev/null | grep -q . && break
		sleep 0.1
	done
done

cat <<MSG
dns-raft: 3-node cluster running (logs and state in $data/).
  dig @127.0.0.1 -p 8600 www.example.com
  echo "rr add example.com db 60 A 1.2.3.8" | nc 127.0.0.1 8501
  echo "database 60 A 1.2.3.7" >> zones/zone.txt; pkill -SIGHUP dns-raft
  echo "kv set toto hello world" | nc 127.0.0.1 8501
  echo "kv get toto" | nc 127.0.0.1 8502
  echo "cluster status" | nc 127.0.0.1 8500
  sqlite3 -readonly $data/id0/state.db 'select * from kv'
Stop it with: supervisor/local-cluster.sh stop
MSG
