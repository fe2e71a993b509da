#!/usr/bin/env bash
# The benchmark: the model's own limit, the worker alone and the whole pipeline (a real broker and the four
# services as separate processes), side by side on the same models, in one run.
#
#   deploy/bench/run.sh [--seconds 20] [--tokens 64] [--levels 1,4,16,64] [--soak-seconds 600]
#                       [--overload-seconds 300] [--workers 1,2,3 | none] [--scale-out-only] [--model DIR ...]
#
# Default models: models/tiny-llama and target/models/bench-llama (77M parameters, random weights), which this
# script builds on first use with Debian's Python (apt-get install python3-torch python3-onnx). Prints tables and
# writes target/bench/summary.json. Takes about 10 minutes; --soak-seconds 600 adds a 10-minute run on the larger
# model that watches the worker's memory, and --overload-seconds 300 a 5-minute open-loop run on it at twice the
# best rate it sustained, which must refuse (429) rather than grow, and lose nothing it accepted. --workers gives
# the scale-out rows: the first model's worker pool at 1, 2, 3 worker processes under the same load, with the
# partitions and the share of the work each held (--scale-out-only: those rows alone). Run it on an otherwise idle
# machine: every figure shares its CPUs.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! model_given "$@"; then
  if [ ! -f target/models/bench-llama/model.onnx ]; then
    if ! /usr/bin/python3 -c "import torch, onnx" 2>/dev/null; then
      echo "run.sh: building the benchmark model needs Debian's python3-torch and python3-onnx:" >&2
      echo "  apt-get install -y python3-torch python3-onnx" >&2
      exit 2
    fi
    echo "building target/models/bench-llama (random weights, about a minute)..."
    mkdir -p target
    /usr/bin/python3 models/build_models.py --preset bench-llama --out target/models > target/models-build.log 2>&1
  fi
  set -- --model models/tiny-llama --model target/models/bench-llama "$@"
fi

exec java -Xmx2g -XX:MaxDirectMemorySize=6g -cp "$JAR:deploy/bench/target/lib/*" io.aigc.bench.Benchmark "$@"
