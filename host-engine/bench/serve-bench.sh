#!/usr/bin/env bash
# Throughput of `host.jar serve` under concurrent streaming clients: continuous batching (--max-batch 32) against
# one request at a time (--max-batch 1, what serve did before issue 15), each with and without the agent recording
# all layers. Every round starts each of the four servers in turn (alternating, so drift of a shared machine hits
# all alike) and drives it with 1, 8 and 32 concurrent clients (bench/load.mjs, Node 20+); prints the median and
# min-max over rounds of requests/s and completion tokens/s.
# Usage: host-engine/bench/serve-bench.sh [ROUNDS (3)] [MAX_TOKENS (32)]
# Env: JAVA (default java), MOE_CACHE_DIR (synthetic checkpoint cache), MODEL (default synthetic:tiny).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
host="$root/host-engine/target/host.jar"
agent="$root/agent/target/moe-agent.jar"
java="${JAVA:-java}"
rounds="${1:-3}"
max_tokens="${2:-32}"
model="${MODEL:-synthetic:tiny}"
for f in "$agent" "$host"; do
  [[ -f "$f" ]] || { echo "serve-bench.sh: $f is missing; build it first (mvn -B -DskipTests package)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "serve-bench.sh: node (20+) is needed for the load client" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/moe-serve-bench.XXXXXX")"
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# private copies: a rebuild of the tree during the benchmark must not change what is measured
mkdir -p "$work/host"
cp -r "$host" "$(dirname "$host")/lib" "$work/host/"
cp "$agent" "$work/moe-agent.jar"
export DJL_OFFLINE=true OMP_WAIT_POLICY=PASSIVE
unset MOE_ROUTE_LOG

start() { # batch recording
  local args=(-jar "$work/host/host.jar" serve --port 0 --model "$model" --max-batch "$1" --max-batch-tokens 256)
  rm -rf "$work/q" "$work/out"
  if [[ "$2" == yes ]]; then
    MOE_ROUTE_LOG="$work/q" "$java" -javaagent:"$work/moe-agent.jar" "${args[@]}" >"$work/out" 2>"$work/err" &
  else
    "$java" "${args[@]}" >"$work/out" 2>"$work/err" &
  fi
  server_pid=$!
  for _ in $(seq 600); do
    port="$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/out" 2>/dev/null)"
    [[ -n "$port" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.2
  done
  echo "serve-bench.sh: the server did not start" >&2; exit 1
}

stop() { kill "$server_pid"; wait "$server_pid" || true; server_pid=""; }

configs=("1 no" "1 yes" "32 no" "32 yes")
for ((r = 1; r <= rounds; r++)); do
  for config in "${configs[@]}"; do
    read -r batch recording <<<"$config"
    start "$batch" "$recording"
    node "$here/load.mjs" "http://127.0.0.1:$port" 2 4 "$max_tokens" >/dev/null # warm-up, not measured
    for c in 1 8 32; do
      n=$((c < 8 ? 16 : 2 * c))
      line="$(node "$here/load.mjs" "http://127.0.0.1:$port" "$c" "$n" "$max_tokens")"
      echo "batch=$batch recording=$recording c=$c $line" >>"$work/results"
      echo "round $r/$rounds batch=$batch recording=$recording c=$c: $line" >&2
    done
    stop
  done
done

field() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.2f %.2f %.2f\n", m, v[1], v[NR]}'; }
echo
echo "model $model, max_tokens $max_tokens, $rounds rounds; median (min-max) over rounds"
printf "%-28s %-3s %24s %26s\n" server clients "requests/s" "completion tokens/s"
for config in "${configs[@]}"; do
  read -r batch recording <<<"$config"
  for c in 1 8 32; do
    sel="$(grep "^batch=$batch recording=$recording c=$c " "$work/results")"
    read -r rm rmin rmax < <(field requests_per_s <<<"$sel" | stats)
    read -r tm tmin tmax < <(field tokens_per_s <<<"$sel" | stats)
    label="--max-batch $batch$([[ $recording == yes ]] && echo ', recording' || echo '')"
    printf "%-28s %3d %8.2f (%6.2f-%6.2f) %9.1f (%7.1f-%7.1f)\n" "$label" "$c" "$rm" "$rmin" "$rmax" "$tm" "$tmin" "$tmax"
  done
done
