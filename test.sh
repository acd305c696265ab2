#!/usr/bin/env bash
# The whole job end to end: generate with and without the agent, export, validate, analyse, plot, compare.
#
# Settings (environment variables):
#   MODEL            gsm8k-tiny (default) | synthetic:tiny | synthetic:qwen1.5-moe-a2.7b | path to a Hugging Face checkpoint dir
#   PROMPTS          a GSM8K-style JSONL file or one prompt per line (default: the host's 25 built-in problems)
#   LIMIT            prompts to run, first N in file order (25)
#   MAX_NEW_TOKENS   new tokens per prompt (64)
#   RUNS             runs per group: without the agent, with it, attached with MOE_ROUTE_LOG unset (5)
#   DEVICE           auto | cpu | gpu (auto)
#   SEED             1234
#   OUT              output folder (out)
#   JAVA             java executable (java on PATH)
#   SPIN_NANOS       test only: adds a group 'agent-spin' whose agent busy-waits this many ns in every selection
#                    call (agent option test.spin-nanos), a known cost the comparison with 'agent' must find;
#                    unset = off
set -euo pipefail
cd "$(dirname "$0")"

MODEL="${MODEL:-gsm8k-tiny}"
LIMIT="${LIMIT:-25}"
MAX_NEW_TOKENS="${MAX_NEW_TOKENS:-64}"
RUNS="${RUNS:-5}"
DEVICE="${DEVICE:-auto}"
SEED="${SEED:-1234}"
OUT="${OUT:-out}"
JAVA="${JAVA:-java}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

HOST_JAR=host-engine/target/host.jar
AGENT_JAR=agent/target/moe-agent.jar
ANALYZER_JAR=analyzer/target/analyzer.jar

fail() { echo "test.sh: $*" >&2; exit 1; }
bad_input() { echo "test.sh: $*" >&2; exit 2; }
step() { printf '\n== %s\n' "$*" >&2; }

# test.sh deletes only a folder it created itself, which it marks with this file; any other existing OUT is kept.
OUT_MARK=.created-by-moe-agent-test.sh
if [[ -e $OUT || -L $OUT ]]; then
  if [[ -L $OUT || ! -d $OUT ]]; then
    bad_input "OUT=$OUT exists and is not a folder test.sh created; choose another OUT (nothing was deleted)"
  elif [[ -f $OUT/$OUT_MARK ]]; then
    rm -rf -- "$OUT"
  elif [[ -n $(ls -A -- "$OUT") ]]; then
    bad_input "OUT=$OUT is a folder test.sh did not create (no $OUT_MARK in it) and is not empty; choose another"\
" OUT, or empty or remove it yourself (nothing was deleted)"
  fi
fi
mkdir -p "$OUT"
: >"$OUT/$OUT_MARK"

# Build what is out of date: any jar missing, or a source or pom newer than the oldest jar.
needs_build() {
  local jar
  for jar in "$HOST_JAR" "$AGENT_JAR" "$ANALYZER_JAR"; do [[ -f $jar ]] || return 0; done
  local oldest
  oldest=$(ls -tr "$HOST_JAR" "$AGENT_JAR" "$ANALYZER_JAR" | head -1)
  [[ -n $(find pom.xml */pom.xml */src/main -newer "$oldest" -type f -print -quit) ]]
}
if needs_build; then
  step "building (mvn package, tests skipped)"
  mvn -q -B -ntp -DskipTests package >&2 || fail "the build failed; run 'mvn -B package' to see why"
fi
[[ -z ${PROMPTS:-} || -f $PROMPTS ]] || fail "PROMPTS=$PROMPTS is not a file"

mkdir -p "$OUT/runs" "$OUT/logs"
# One queue per recorded run (its stats records give the agent's direct cost per run); the last one is analysed.
QUEUE="$OUT/queues/agent-$RUNS"

host_args=(--model "$MODEL" --device "$DEVICE" --limit "$LIMIT" --max-new-tokens "$MAX_NEW_TOKENS" --seed "$SEED")
[[ -n ${PROMPTS:-} ]] && host_args+=(--prompts "$PROMPTS")

# One host run. $1 = group label, $2 = run number; the group decides agent and env var.
run_host() {
  local label=$1 n=$2 report="$OUT/runs/$1-$2.json" log="$OUT/logs/$1-$2.log"
  local -a jvm=() env=(env -u MOE_ROUTE_LOG)
  case $label in
    no-agent) ;;
    agent)
      jvm=("-javaagent:$AGENT_JAR=queue=$OUT/queues/agent-$n")
      env=(env MOE_ROUTE_LOG=1) ;;
    agent-spin)
      jvm=("-javaagent:$AGENT_JAR=queue=$OUT/queues/agent-spin-$n,test.spin-nanos=$SPIN_NANOS")
      env=(env MOE_ROUTE_LOG=1) ;;
    agent-env-unset) jvm=("-javaagent:$AGENT_JAR=queue=$OUT/queue-unset") ;;
  esac
  "${env[@]}" "$JAVA" "${jvm[@]}" -jar "$HOST_JAR" run "${host_args[@]}" --quiet \
      --label "$label" --report "$report" >"$OUT/logs/$1-$2.out" 2>"$log" \
    || { cat "$log" >&2; fail "host run $label #$n failed (log: $log)"; }
  printf '   %-16s #%d  %8.1f new tok/s\n' "$label" "$n" \
    "$(grep -o '"new_tokens_per_s" *: *[0-9.eE+-]*' "$report" | head -1 | sed 's/.*: *//')" >&2
}

step "generating: $MODEL, $LIMIT prompts, $MAX_NEW_TOKENS new tokens, seed $SEED, $RUNS runs per group (alternating)"
for ((i = 1; i <= RUNS; i++)); do
  # Rotate the order each round so no group always runs first on a warm (or cold) machine.
  case $(( (i - 1) % 3 )) in
    0) order=(no-agent agent agent-env-unset) ;;
    1) order=(agent agent-env-unset no-agent) ;;
    2) order=(agent-env-unset no-agent agent) ;;
  esac
  [[ -z ${SPIN_NANOS:-} ]] || order+=(agent-spin)
  for label in "${order[@]}"; do run_host "$label" "$i"; done
done
[[ ! -e $OUT/queue-unset ]] || fail "the agent wrote $OUT/queue-unset although MOE_ROUTE_LOG was unset"
LAST_AGENT_RUN="$OUT/runs/agent-$RUNS.json"

analyzer() { "$JAVA" -jar "$ANALYZER_JAR" "$@"; }

step "exporting the last recorded run to $OUT/routes.jsonl"
analyzer export --queue "$QUEUE" --out "$OUT/routes.jsonl" >&2 || fail "export failed"
step "validating against that run's report"
analyzer validate "$OUT/routes.jsonl" --run "$LAST_AGENT_RUN" >&2 || fail "validation failed"
step "statistics"
analyzer stats --queue "$QUEUE" --host-report "$LAST_AGENT_RUN" --json "$OUT/stats.json" >"$OUT/stats.txt.tmp" \
  || fail "stats failed"
mv -f "$OUT/stats.txt.tmp" "$OUT/stats.txt"
step "plots"
analyzer plot "$OUT/routes.jsonl" --layer 0 --out "$OUT/hist-layer0.png" >&2 || fail "plot (layer 0) failed"
analyzer plot "$OUT/routes.jsonl" --out "$OUT/hist.png" --heatmap "$OUT/heatmap.png" >&2 || fail "plot failed"
analyzer plot "$OUT/routes.jsonl" --coactivation "$OUT/coactivation.png" --locality "$OUT/locality.png" \
  --ep-load "$OUT/ep-load.png" >&2 || fail "plot (routing analyses) failed"
step "comparing runs"
set +e
compare_args=()
for ((i = 1; i <= RUNS; i++)); do compare_args+=(--agent-queue "$OUT/queues/agent-$i"); done
[[ -z ${SPIN_NANOS:-} ]] || compare_args+=(--injected-nanos "$SPIN_NANOS")
analyzer compare "$OUT"/runs/*.json "${compare_args[@]}" --json "$OUT/compare.json" >"$OUT/compare.txt.tmp"
compare_rc=$?
set -e
mv -f "$OUT/compare.txt.tmp" "$OUT/compare.txt"
cat "$OUT/compare.txt" >&2
# compare: 0 identical outputs, 1 outputs differ, 2 (or anything else) it could not read the run reports
(( compare_rc <= 1 )) || fail "compare could not read the run reports (exit $compare_rc: bad input, see above);"\
" this says nothing about whether outputs differ"

records=$(( $(wc -l <"$OUT/routes.jsonl") - 1 ))
# From the 'all phases' table of stats.txt: per-layer normalised entropy (mean, min, max) and the pooled figure.
entropy=$(awk '/^== all phases/ {on = 1; next} /^==/ {on = 0}
  on && $1 ~ /^[0-9]+$/ {n++; s += $4; if (min == "" || $4 < min) min = $4; if ($4 > max) max = $4}
  on && $1 == "all" {pooled = $4}
  END {if (n) printf "H/log2(E) per layer: mean %.3f (%.3f-%.3f); all layers pooled %.3f", s / n, min, max, pooled}' \
  "$OUT/stats.txt")
identical=yes; [[ $compare_rc -eq 0 ]] || identical=no
{
  echo
  echo "== summary"
  echo "model:              $MODEL ($LIMIT prompts, $MAX_NEW_TOKENS new tokens, seed $SEED, $RUNS runs per group)"
  grep -E '^(label|no-agent|agent|agent-env-unset|agent-spin) ' "$OUT/compare.txt" || true
  grep -E '^(direct cost|  of which|  warm-up:|overhead|injected) ' "$OUT/compare.txt" || true
  echo "verdict:            agent $(sed -n 's/^overhead agent ([^)]*): //p' "$OUT/compare.txt")"
  echo "identical outputs:  $identical"
  echo "route lines:        $records in $OUT/routes.jsonl"
  echo "routing entropy:    ${entropy:-?}"
  echo "locality:           $(sed -n 's/^locality: //p' "$OUT/stats.txt")"
  echo "layer paths:        $(sed -n 's/^paths: //p' "$OUT/stats.txt")"
  echo "expert parallel:    $(sed -n 's/^expert parallel: //p' "$OUT/stats.txt")"
  echo "vocabulary:         $(sed -n 's/^vocabulary: //p' "$OUT/stats.txt")"
  echo "artifacts:          $OUT/routes.jsonl $OUT/stats.json $OUT/hist-layer0.png $OUT/hist.png $OUT/heatmap.png" \
    "$OUT/coactivation.png $OUT/locality.png $OUT/ep-load.png $OUT/compare.json"
} | tee "$OUT/summary.txt"
[[ $identical == yes ]] || fail "outputs differ between runs with and without the agent"
