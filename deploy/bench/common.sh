# Sourced by run.sh and trace.sh: sets JAR to the benchmark's jar, building it (tests skipped) when any source,
# pom or schema is newer than the jar, so a measurement never runs stale code. Runs from the repository's root.
JAR=$(ls deploy/bench/target/bench-*.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ] || [ -n "$(find . \( -path ./.local -o -path '*/target' \) -prune -o \
    \( -path '*/src/*' -o -name pom.xml -o -name '*.avsc' \) -newer "$JAR" -print -quit)" ]; then
  echo "building (mvn package, tests skipped)..."
  mvn -q -DskipTests package -pl deploy/bench -am
  JAR=$(ls deploy/bench/target/bench-*.jar | head -1)
fi
