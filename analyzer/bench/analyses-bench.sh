#!/usr/bin/env bash
# Single-threaded throughput of the full routing analysis (see AnalysesBench), alternated with a counts-only pass.
# Usage: analyzer/bench/analyses-bench.sh [WORK_DIR] [DECODE_STEPS (2000)] [REPS (7)]
# Builds what it needs offline (mvn -o -pl analyzer -am test-compile); run it under nice on a shared machine.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
work="${1:-${TMPDIR:-/tmp}/analyses-bench}"
cd "$root"
mvn -q -o -pl analyzer -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test >/dev/null
flags="$(sed -n 's:.*<chronicle.jvm.flags>\(.*\)</chronicle.jvm.flags>.*:\1:p' pom.xml)"
mkdir -p "$work"
echo "analyses bench on $(nproc) cores, $(java -version 2>&1 | head -1)"
# shellcheck disable=SC2086
exec java $flags -Xmx2g -XX:+UseSerialGC -XX:ActiveProcessorCount=1 -Djava.awt.headless=true \
  -cp "analyzer/target/classes:analyzer/target/test-classes:$(cat analyzer/target/bench.classpath)" \
  io.moeagent.analyzer.bench.AnalysesBench "$work" "${2:-2000}" "${3:-7}"
