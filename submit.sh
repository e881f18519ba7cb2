#!/usr/bin/env bash
# l1ra-spark launcher.
#
#   ./submit.sh --local conf/quickstart.yaml              prep -> train -> eval -> export, in-process Spark
#   ./submit.sh --local COMMAND [options]                 one command, in-process Spark:
#       run CONFIG       prep (if configured) -> train -> eval -> export (the default command)
#       train CONFIG     training only (resumes the latest checkpoint)
#       prep             data preparation
#       eval             score a model folder (and adapter) on tokenized data
#       compress         PARA compression of a trained adapter
#       bench            time training steps of a model shape
#       bench-dp         time data-parallel communication per step (synthetic worker; any master)
#       memory CONFIG    peak GPU memory of one worker, and whether it fits
#   ./submit.sh --local COMMAND --help                    a command's options
#   ./submit.sh [--dry-run] CONFIG [--set k=v ...]        spark-submit the run to the config's cluster
#                                                         (--dry-run prints the command instead)
#
# --local needs no Spark installation: Spark comes from the project's own jars (Spark 4). The
# project is built (mvn package) when its jars are missing or older than a source file or pom.
# The cluster jar is built for the cluster's Spark: spark-submit --version decides, or
# L1RA_SPARK=3.5 / L1RA_SPARK=4. JVM options can be added with L1RA_JAVA_OPTS (e.g. -Xmx16g).
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }

local_mode=0
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --local) local_mode=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { usage >&2; exit 2; }

export OPT_OUT_TRACKING=true   # DJL: no telemetry
export MKL_DYNAMIC=FALSE       # bitwise-reproducible CPU BLAS (see EngineInfo)
# conf/java17-opens.args: the --add-opens list Spark's launcher passes on Java 17 (one copy)
JVM_OPTS=(@conf/java17-opens.args -Dai.djl.offline=true -XX:+UseParallelGC -Xmx${L1RA_HEAP:-6g}
          -Dlog4j2.configurationFile=conf/log4j2.properties ${L1RA_JAVA_OPTS:-})

# the commit the jars are built from (report.json and the adapter's provenance.json name it)
git_commit() {
  local c
  c=$(git rev-parse HEAD 2>/dev/null) || { echo unknown; return; }
  [[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || c="$c-dirty"
  echo "$c"
}

job_jar() { ls job/target/l1ra-job-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1 || true; }

# true when $1 is missing or older than a main source file, a pom or the JVM options file
stale() {
  [[ ! -f $1 ]] && return 0
  [[ -n $(find pom.xml conf/java17-opens.args core model data-prep job -type f \
            \( -path '*/src/main/*' -o -name pom.xml -o -name java17-opens.args \) \
            -newer "$1" -print -quit 2>/dev/null) ]]
}

build_local() {
  local jar
  jar=$(job_jar)
  if [[ -z $jar ]] || stale "$jar" || stale job/target/classpath.txt; then
    echo "building the project (mvn package; later runs reuse job/target until a source changes) ..." >&2
    mvn -B -q -DskipTests -Dgit.commit="$(git_commit)" package >&2
    touch "$(job_jar)" job/target/classpath.txt
  fi
}

if [[ $local_mode -eq 1 ]]; then
  build_local
  # in-process Spark needs no network address; without this Spark warns about the host name
  export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
  export L1RA_LAUNCHER="./submit.sh --local"   # how a stopped run names the command that resumes it
  exec java "${JVM_OPTS[@]}" -cp "$(job_jar):$(cat job/target/classpath.txt)" dev.l1ra.job.Main "$@"
fi

# Cluster: the cluster jar is built for the cluster's Spark line; the submit command comes from the
# config's spark section (SubmitCommand), as an argument list: no shell parsing in between.
spark_line=${L1RA_SPARK:-}
if [[ -z $spark_line ]] && command -v spark-submit >/dev/null; then
  spark_line=$(spark-submit --version 2>&1 | sed -n 's/.*version \([0-9][0-9]*\.[0-9][0-9]*\)\..*/\1/p' | head -1)
elif [[ -z $spark_line ]]; then
  echo "no spark-submit on the PATH: the cluster jar is for Spark 4 (L1RA_SPARK=3.5 for a Spark 3.5 cluster)" >&2
fi
case "${spark_line:-4}" in
  3.5) profiles=spark-3.5,cluster; cluster_jar=job/target/spark-3.5/l1ra-spark-job.jar ;;
  4|4.*) profiles=cluster; cluster_jar=job/target/l1ra-spark-job.jar ;;
  *) echo "error: spark-submit is Spark $spark_line; the job is built for Spark 3.5 or 4 (set L1RA_SPARK=3.5 or 4 to choose)" >&2
     exit 2 ;;
esac
build_local
if stale "$cluster_jar"; then
  echo "building the cluster jar (mvn -P$profiles package) ..." >&2
  mvn -B -q -DskipTests -Dgit.commit="$(git_commit)" -P"$profiles" package -pl job -am >&2
  touch "$cluster_jar"
fi
submit=(java -cp "$(job_jar):$(cat job/target/classpath.txt)" dev.l1ra.job.SubmitCommand)
if [[ $dry_run -eq 1 ]]; then
  exec "${submit[@]}" --shell "$cluster_jar" "$@"
fi
args_file=$(mktemp)
trap 'rm -f "$args_file"' EXIT
"${submit[@]}" "$cluster_jar" "$@" >"$args_file"
cmd=()
while IFS= read -r -d '' a; do cmd+=("$a"); done <"$args_file"
"${cmd[@]}"
