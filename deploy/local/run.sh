#!/usr/bin/env bash
# The embedded default: a real single-node Apache Kafka broker (KRaft, from Maven Central's kafka_2.13) and the
# four services, on this machine, with no Docker.
#
#   deploy/local/run.sh [--model-dir DIR]
#
#   --model-dir DIR   a model folder in the Hugging Face Optimum decoder layout (default: models/tiny-llama,
#                     or $AIGC_MODEL_DIR); the served model's name is the folder's name
#
# Environment: AIGC_HTTP_PORT (8080), AIGC_KAFKA_PORT (9092), AIGC_KAFKA_CONTROLLER_PORT (9093),
# AIGC_LOCAL_DIR (.local: broker data, Streams state, logs), and any service variable from the README.
# Ctrl-C stops the services, then the broker.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL_DIR=${AIGC_MODEL_DIR:-$ROOT/models/tiny-llama}
KAFKA_PORT=${AIGC_KAFKA_PORT:-9092}
CONTROLLER_PORT=${AIGC_KAFKA_CONTROLLER_PORT:-9093}
HTTP_PORT=${AIGC_HTTP_PORT:-8080}
LOCAL=${AIGC_LOCAL_DIR:-$ROOT/.local}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --model-dir) MODEL_DIR=${2:?--model-dir needs a folder}; shift 2 ;;
    --model-dir=*) MODEL_DIR=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

MODEL_DIR=$(cd "$MODEL_DIR" 2>/dev/null && pwd) || { echo "run.sh: model folder not found" >&2; exit 2; }
for f in model.onnx config.json tokenizer.json; do
  [ -f "$MODEL_DIR/$f" ] || { echo "run.sh: $MODEL_DIR has no $f (expected the Optimum decoder layout)" >&2; exit 2; }
done
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$KAFKA_PORT" "$CONTROLLER_PORT" "$HTTP_PORT"; do
  if port_busy "$p"; then echo "run.sh: port $p is already in use (is another pipeline running?)" >&2; exit 2; fi
done

# Build what is missing or older than its sources.
JAR=$(ls "$ROOT"/deploy/local/target/local-launcher-*.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ] || [ -n "$(find "$ROOT" -path "$ROOT/.local" -prune -o \( -path '*/src/*' -o -name pom.xml -o -name '*.avsc' \) -newer "$JAR" -print -quit)" ]; then
  echo "building (mvn package, tests skipped)..."
  (cd "$ROOT" && mvn -q -DskipTests package -pl deploy/local -am)
  JAR=$(ls "$ROOT"/deploy/local/target/local-launcher-*.jar | head -1)
fi
CLASSPATH="$JAR:$ROOT/deploy/local/target/lib/*"

mkdir -p "$LOCAL/kafka" "$LOCAL/logs" "$LOCAL/streams"
sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$LOCAL/kafka|g" \
  "$ROOT/deploy/local/broker.properties" > "$LOCAL/broker.properties"
BROKER_JAVA=(java -Xmx512m -cp "$ROOT/deploy/local/target/lib/*"
  "-Dlog4j2.configurationFile=$ROOT/deploy/local/broker-log4j2.xml" "-Daigc.broker.log=$LOCAL/logs/broker.log")
if [ ! -f "$LOCAL/kafka/meta.properties" ]; then
  cluster_id=$("${BROKER_JAVA[@]}" kafka.tools.StorageTool random-uuid)
  "${BROKER_JAVA[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$LOCAL/broker.properties" >/dev/null
fi

BROKER_PID=""
SERVICES_PID=""
# If whatever reads our output goes away (a pipe to tee, a closed terminal), an echo must not kill the script
# before it has stopped what it started.
trap '' PIPE
stop() {
  trap - INT TERM EXIT
  set +e
  if [ -n "$SERVICES_PID" ] && kill -0 "$SERVICES_PID" 2>/dev/null; then
    echo "stopping the services..." 2>/dev/null
    kill -TERM "$SERVICES_PID" 2>/dev/null || true
    wait "$SERVICES_PID" 2>/dev/null || true
  fi
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    echo "stopping the broker..." 2>/dev/null
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT

# setsid: Ctrl-C reaches this script only, which stops the services before the broker they need to shut down.
echo "starting Kafka on 127.0.0.1:$KAFKA_PORT (data in $LOCAL/kafka, log in $LOCAL/logs/broker.log)..."
setsid "${BROKER_JAVA[@]}" kafka.Kafka "$LOCAL/broker.properties" > "$LOCAL/logs/broker.out" 2>&1 &
BROKER_PID=$!
until port_busy "$KAFKA_PORT"; do
  kill -0 "$BROKER_PID" 2>/dev/null || { echo "run.sh: the broker exited; see $LOCAL/logs/" >&2; tail -20 "$LOCAL/logs/broker.out" >&2; exit 1; }
  sleep 0.2
done

echo "starting the services with model $(basename "$MODEL_DIR")..."
export AIGC_MODEL_DIR="$MODEL_DIR" KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" AIGC_HTTP_PORT="$HTTP_PORT"
export AIGC_STATE_DIR="${AIGC_STATE_DIR:-$LOCAL/streams}" DJL_OFFLINE=true
setsid java -Xmx1g -XX:MaxDirectMemorySize=4g -cp "$CLASSPATH" io.aigc.local.LocalPipeline &
SERVICES_PID=$!
set +e
wait "$SERVICES_PID"
status=$?
SERVICES_PID=""
stop
exit $status
