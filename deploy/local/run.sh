#!/usr/bin/env bash
# The embedded default: a real single-node Apache Kafka broker (KRaft, from Maven Central's kafka_2.13) and the
# four services, on this machine, with no Docker.
#
#   deploy/local/run.sh [--model-dir DIR]... [--processes]
#
#   --model-dir DIR   a model folder in the Hugging Face Optimum decoder layout (default: models/tiny-llama,
#                     or $AIGC_MODEL_DIR, comma-separated); the served model's name is the folder's name.
#                     Repeat it to serve several models, each with an inference worker of its own; the
#                     first is the default for requests that name no model
#   --processes       each service in its own JVM, logs in .local/logs/, PIDs in .local/pids/<service>.pid;
#                     a process that dies is restarted (default: the four services share one JVM)
#
# Environment: AIGC_HTTP_PORT (8080), AIGC_KAFKA_PORT (9092; the controller takes the next port),
# AIGC_LOCAL_DIR (.local: broker data, Streams state, logs, PIDs), and any service variable from the README.
# Ctrl-C stops the services, then the broker.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

# Build what is missing or older than its sources.
JAR=$(ls "$ROOT"/deploy/local/target/local-launcher-*.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ] || [ -n "$(find "$ROOT" \( -path "$ROOT/.local" -o -path '*/target' \) -prune -o \
    \( -path '*/src/*' -o -name pom.xml -o -name '*.avsc' \) -newer "$JAR" -print -quit)" ]; then
  echo "building (mvn package, tests skipped)..."
  (cd "$ROOT" && mvn -q -DskipTests package -pl deploy/local -am)
  JAR=$(ls "$ROOT"/deploy/local/target/local-launcher-*.jar | head -1)
fi

# Defaults relative to the repository, whatever the working directory; --model-dir resolves against the latter.
export AIGC_MODEL_DIR="${AIGC_MODEL_DIR:-$ROOT/models/tiny-llama}" AIGC_LOCAL_DIR="${AIGC_LOCAL_DIR:-$ROOT/.local}"
exec java -Xmx128m -cp "$JAR:$ROOT/deploy/local/target/lib/*" io.aigc.local.LocalProcesses "$@"
