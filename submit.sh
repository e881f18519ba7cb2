#!/usr/bin/env bash
# l1ra-spark launcher.
#
#   ./submit.sh --local conf/quickstart.yaml            prep -> train -> eval -> export, in-process Spark
#   ./submit.sh --local prep --input ... --out DIR       data preparation only (see README)
#   ./submit.sh --local train conf/X.yaml [--set k=v]    training only (resumes the latest checkpoint)
#   ./submit.sh --local eval --model DIR --data PATH [--adapter DIR]
#   ./submit.sh [--dry-run] conf/X.yaml                  build and run the spark-submit command for a cluster
#
# --local needs no Spark installation: Spark comes from the project's own jars. The project is built
# first when its jars are missing. JVM options can be added with L1RA_JAVA_OPTS (e.g. -Xmx16g).
set -euo pipefail
cd "$(dirname "$0")"

local_mode=0
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --local) local_mode=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { sed -n '2,12p' "$0"; exit 2; }

export OPT_OUT_TRACKING=true   # DJL: no telemetry
export MKL_DYNAMIC=FALSE       # bitwise-reproducible CPU BLAS (see EngineInfo)
# the --add-opens Spark's launcher passes on Java 17 (Spark 3.5 needs them; Spark 4 for its
# serialization debugger, which names the culprit when a task cannot be serialized)
OPENS=()
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
         java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  OPENS+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
JVM_OPTS=("${OPENS[@]}" -Dai.djl.offline=true -XX:+UseParallelGC -Xmx${L1RA_HEAP:-6g}
          -Dlog4j2.configurationFile=conf/log4j2.properties ${L1RA_JAVA_OPTS:-})

job_jar() { ls job/target/l1ra-job-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1; }

build_local() {
  if [[ -z "$(job_jar)" || ! -f job/target/classpath.txt ]]; then
    echo "building the project (first run; later runs reuse job/target) ..." >&2
    mvn -B -q -DskipTests install >&2
  fi
}

if [[ $local_mode -eq 1 ]]; then
  build_local
  exec java "${JVM_OPTS[@]}" -cp "$(job_jar):$(cat job/target/classpath.txt)" dev.l1ra.job.Main "$@"
fi

# Cluster: the submit command is built from the config's spark section by the job itself.
build_local
cluster_jar=job/target/l1ra-spark-job.jar
if [[ ! -f $cluster_jar ]]; then
  echo "building the cluster jar (mvn -Pcluster package) ..." >&2
  mvn -B -q -DskipTests -Pcluster package -pl job -am >&2
fi
cmd=$(java -cp "$(job_jar):$(cat job/target/classpath.txt)" dev.l1ra.job.SubmitCommand "$cluster_jar" "$@")
if [[ $dry_run -eq 1 ]]; then
  echo "$cmd"
  exit 0
fi
eval "$cmd"
