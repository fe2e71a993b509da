#!/usr/bin/env bash
# Where the latency of one request goes outside generation, hop by hop: a real broker and the four services as
# separate processes, sequential requests, taps on every topic (see LatencyTrace).
#
#   deploy/bench/trace.sh [--model DIR] [--requests 60] [--tokens 16]
#
# Default model: models/tiny-llama, where generation costs almost nothing and the pipeline's own time shows. Prints
# the median and 90th percentile of each hop and writes target/bench/trace.json. Takes about a minute.
set -euo pipefail
source "$(dirname "$0")/common.sh"

model_given "$@" || set -- --model models/tiny-llama "$@"
exec java -Xmx512m -cp "$JAR:deploy/bench/target/lib/*" io.aigc.bench.LatencyTrace "$@"
