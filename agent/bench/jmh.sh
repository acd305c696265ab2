#!/usr/bin/env bash
# JMH: cost of the advice + one route record per expert-selection call (25 tokens x top-4).
# Usage: agent/bench/jmh.sh [JMH options, e.g. -p tokens=25,100]   (run from anywhere; needs network once for JMH)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -Pbench test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
exec java -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" org.openjdk.jmh.Main \
  'io.moeagent.agent.core.RecordBench' -rf text -rff target/jmh-result.txt "$@"
