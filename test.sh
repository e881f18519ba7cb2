#!/usr/bin/env bash
# The project's test command: the full build with Spark 4 (default), then the Spark 3.5 / Scala 2.12
# profile for the modules that use Spark, which also builds the cluster jar for Spark 3.5 clusters
# and Databricks 15.4 LTS (job/target/spark-3.5/l1ra-spark-job.jar) and checks it (ClusterJarIT).
# The Spark 3.5 build goes to target/spark-3.5/ and leaves the Spark 4 build that local runs use.
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
mvn -B verify "$@"
mvn -B verify -Pspark-3.5,cluster -pl data-prep,job -am "$@"
