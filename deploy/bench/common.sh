# Sourced by run.sh and trace.sh: moves to the repository's root, sets JAR to the benchmark's jar, building it (tests
# skipped) when any source, pom or schema is newer than the jar, so a measurement never runs stale code, and defines
# model_given, which says whether the script's arguments name a model (--model DIR) or leave it to its default.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

JAR=$(ls deploy/bench/target/bench-*.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ] || [ -n "$(find . \( -path ./.local -o -path '*/target' \) -prune -o \
    \( -path '*/src/*' -o -name pom.xml -o -name '*.avsc' \) -newer "$JAR" -print -quit)" ]; then
  echo "building (mvn package, tests skipped)..."
  mvn -q -DskipTests package -pl deploy/bench -am
  JAR=$(ls deploy/bench/target/bench-*.jar | head -1)
fi

# DJL, the tokenizer library, looks for nothing online: nothing downloads at run time.
export DJL_OFFLINE=true

model_given() {
  local arg
  for arg in "$@"; do
    [ "$arg" = "--model" ] && return 0
  done
  return 1
}
