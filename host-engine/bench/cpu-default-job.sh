#!/usr/bin/env bash
# Runs the host's default job (synthetic:tiny, 25 built-in prompts x 64 new tokens, one batch, greedy, CPU)
# several times and prints the median generation wall time, median new tokens/s and median process time.
#
#   host-engine/bench/cpu-default-job.sh [RUNS (5)] [extra host options...]
#
# Run from the repository root after `mvn -pl host-engine package`. libgomp's default spin-waiting stalls on small
# machines, so the job runs with OMP_WAIT_POLICY=PASSIVE unless you set it.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=host-engine/target/host.jar
[[ -f "$JAR" ]] || { echo "error: $JAR not found; build it first: mvn -pl host-engine package -DskipTests" >&2; exit 1; }
RUNS=${1:-5}
shift || true
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
JAVA=${JAVA:-java}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

field() { grep -o "\"$1\" : [0-9.]*" "$2" | head -1 | awk '{print $3}'; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# the first start extracts the native libraries and writes the synthetic checkpoint: keep it out of the timings
"$JAVA" -jar "$JAR" --quiet --limit 1 --max-new-tokens 1 "$@" >/dev/null

for i in $(seq 1 "$RUNS"); do
  start=$(date +%s%N)
  "$JAVA" -jar "$JAR" --quiet --report "$OUT/run-$i.json" "$@"
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 )) >> "$OUT/process_ms"
  field wall_ms "$OUT/run-$i.json" >> "$OUT/wall_ms"
  field new_tokens_per_s "$OUT/run-$i.json" >> "$OUT/tps"
  field prefill_ms "$OUT/run-$i.json" >> "$OUT/prefill_ms"
  field decode_ms "$OUT/run-$i.json" >> "$OUT/decode_ms"
  printf 'run %d: generation %s ms, %s new tokens/s, process %s ms\n' "$i" "$(tail -1 "$OUT/wall_ms")" \
      "$(tail -1 "$OUT/tps")" "$(tail -1 "$OUT/process_ms")"
done
digests=$(grep -ho '"outputs_digest" : "[0-9a-f]*"' "$OUT"/run-*.json | sort -u | wc -l)
echo "---"
echo "runs: $RUNS, cpus: $(nproc), OMP_WAIT_POLICY=$OMP_WAIT_POLICY, java: $("$JAVA" -version 2>&1 | head -1)"
echo "median generation wall: $(median < "$OUT/wall_ms") ms (prefill $(median < "$OUT/prefill_ms") ms, decode $(median < "$OUT/decode_ms") ms)"
echo "median new tokens/s:    $(median < "$OUT/tps")"
echo "median process time:    $(median < "$OUT/process_ms") ms (JVM start, model load, generation)"
echo "distinct outputs:       $digests (1 = deterministic)"
