#!/usr/bin/env bash
# Assembles a SPARK_HOME from the project's Maven classpath, for local-cluster masters
# (local-cluster[N,C,MB] starts N executor JVMs, and Spark builds their classpath from
# $SPARK_HOME/jars): target/spark-home/jars holds links to every jar of job/target/classpath.txt
# and the job jar, launcher/target/scala-X tells Spark's launcher the Scala version, and conf/
# links the project's log4j2.properties so that executors log as quietly as the driver.
# Prints the folder; use it as
#
#   export SPARK_HOME=$(scripts/spark-home.sh)
#   ./submit.sh --local bench-dp --master 'local-cluster[2,1,4096]' --shape llama3-8b ...
#
# Builds the project first when job/target/classpath.txt is missing. The links follow rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [[ ! -f job/target/classpath.txt ]] || ! ls job/target/l1ra-job-*.jar >/dev/null 2>&1; then
  echo "building the project (mvn package) ..." >&2
  mvn -B -q -DskipTests package >&2
fi
home=$root/target/spark-home
scala=$(tr ':' '\n' <job/target/classpath.txt | sed -n 's|.*/spark-core_\([0-9.]*\)-.*|\1|p' | head -1)
[[ -n $scala ]] || { echo "error: no spark-core jar in job/target/classpath.txt" >&2; exit 2; }
rm -rf "$home/jars" "$home/launcher"
mkdir -p "$home/jars" "$home/launcher/target/scala-$scala" "$home/conf"
job_jar=$(ls "$root"/job/target/l1ra-job-*.jar | grep -v -e sources -e tests | head -1)
for jar in $(tr ':' '\n' <job/target/classpath.txt) "$job_jar"; do
  ln -sf "$jar" "$home/jars/"
done
ln -sf "$root/conf/log4j2.properties" "$home/conf/log4j2.properties"
echo "$home"
