#!/usr/bin/env bash
# The project's test command: the full build with Spark 4 (default), then the Spark 3.5 / Scala 2.12
# profile for the modules that use Spark.
set -euo pipefail
cd "$(dirname "$0")"
export OPT_OUT_TRACKING=true
mvn -B verify "$@"
mvn -B verify -Pspark-3.5 -pl data-prep,job -am "$@"
