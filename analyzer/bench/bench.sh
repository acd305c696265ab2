#!/usr/bin/env bash
# Throughput of analyzer export and stats on a Qwen1.5-MoE-shaped queue (see AnalyzerBench).
# Usage: analyzer/bench/bench.sh [WORK_DIR] [DECODE_STEPS (4000)] [REPS (5)] [all|fleet]
# Builds the analyzer and what it depends on in the reactor (no install needed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
work="${1:-${TMPDIR:-/tmp}/analyzer-bench}"
cd "$root"
mvn -q -o -pl analyzer -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test >/dev/null
# the same JVM flags the tests get (root pom's chronicle.jvm.flags)
flags="$(sed -n 's:.*<chronicle.jvm.flags>\(.*\)</chronicle.jvm.flags>.*:\1:p' pom.xml)"
mkdir -p "$work"
echo "analyzer bench on $(nproc) cores, $(java -version 2>&1 | head -1)"
# shellcheck disable=SC2086
exec java $flags -Xmx2g -Djava.awt.headless=true \
  -cp "analyzer/target/classes:analyzer/target/test-classes:$(cat analyzer/target/bench.classpath)" \
  io.moeagent.analyzer.bench.AnalyzerBench "$work" "${2:-4000}" "${3:-5}" "${4:-all}"
