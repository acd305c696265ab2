#!/usr/bin/env bash
# End-to-end overhead of the agent on the real host: runs the host ROUNDS times in each of three groups,
# alternating (none, recording, attached-idle) so that drift of the machine hits every group alike:
#   none       java -jar host.jar run ...
#   recording  MOE_ROUTE_LOG=<tmp queue> java -javaagent:moe-agent.jar -jar host.jar run ...   (all layers)
#   idle       java -javaagent:moe-agent.jar -jar host.jar run ...  with MOE_ROUTE_LOG unset
# and prints median and min-max of new_tokens_per_s (from the host's --report) and the overhead in % of medians.
# Usage: agent/bench/overhead.sh [ROUNDS (5)] [extra host args, e.g. --max-new-tokens 32]
# Env: JAVA (default java), MOE_CACHE_DIR (synthetic checkpoint cache; default the host's).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
agent="$root/agent/target/moe-agent.jar"
host="$root/host-engine/target/host.jar"
java="${JAVA:-java}"
rounds="${1:-5}"
shift || true
for f in "$agent" "$host"; do
  [[ -f "$f" ]] || { echo "overhead.sh: $f is missing; build it first (mvn -B -DskipTests package)" >&2; exit 2; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/moe-overhead.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# private copies: a rebuild of the tree during the benchmark must not change what is measured
mkdir -p "$work/host"
cp -r "$host" "$(dirname "$host")/lib" "$work/host/"
cp "$agent" "$work/moe-agent.jar"
host="$work/host/host.jar"
agent="$work/moe-agent.jar"
export DJL_OFFLINE=true OMP_WAIT_POLICY=PASSIVE
unset MOE_ROUTE_LOG

run() { # group round
  local group="$1" round="$2" report="$work/$1-$2.json"
  case "$group" in
    none)      "$java" -jar "$host" run --quiet --report "$report" "${@:3}" ;;
    recording) rm -rf "$work/q"; MOE_ROUTE_LOG="$work/q" "$java" -javaagent:"$agent" -jar "$host" run --quiet --report "$report" "${@:3}" ;;
    idle)      "$java" -javaagent:"$agent" -jar "$host" run --quiet --report "$report" "${@:3}" ;;
  esac >/dev/null
  sed -n 's/.*"new_tokens_per_s" *: *\([0-9.eE+-]*\).*/\1/p' "$report" | head -1 >> "$work/$group.tps"
  sed -n 's/.*"outputs_digest" *: *"\([0-9a-f]*\)".*/\1/p' "$report" | head -1 >> "$work/digests"
}

# one untimed warm-up run (writes the synthetic checkpoint, warms the page cache)
"$java" -jar "$host" run --quiet "$@" >/dev/null
for ((r = 1; r <= rounds; r++)); do
  for g in none recording idle; do
    run "$g" "$r" "$@"
  done
  echo "round $r/$rounds: none $(tail -1 "$work/none.tps") recording $(tail -1 "$work/recording.tps") idle $(tail -1 "$work/idle.tps") tok/s" >&2
done

stats() { sort -g "$work/$1.tps" | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR]}'; }
read -r none_med none_min none_max < <(stats none)
printf "%-10s %10s %20s %10s\n" group median_tok/s "min-max" overhead
for g in none recording idle; do
  read -r med min max < <(stats "$g")
  printf "%-10s %10.3f %9.3f-%-10.3f %9.2f%%\n" "$g" "$med" "$min" "$max" \
    "$(awk -v a="$none_med" -v b="$med" 'BEGIN {print (a - b) / a * 100}')"
done
echo "runs per group: $rounds; distinct outputs_digest values: $(sort -u "$work/digests" | wc -l) (1 = identical tokens)"
