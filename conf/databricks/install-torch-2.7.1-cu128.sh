#!/bin/bash
# Databricks init script for conf/databricks/job.json (runs on every node before Spark starts).
#
# Runtime assumed: Databricks Runtime 15.4 LTS ML GPU (Spark 3.5.0, Scala 2.12, Python 3.11, CUDA
# 12.x driver). It installs the CUDA build of libtorch that DJL 0.36's PyTorch engine loads:
#   - torch 2.7.1: DJL 0.36's JNI is built for PyTorch 2.7.1 (pom.xml, pytorch.version);
#   - flavor cu128: the job jar carries DJL's JNI (ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0) for the
#     cpu and cu128 flavors only; DJL reads the flavor from PYTORCH_FLAVOR and, offline, finds no JNI
#     for any other (cu126, cu118, ...). The CUDA 12.8 wheels bring their own CUDA libraries and run
#     on 12.x drivers through CUDA's minor-version compatibility.
# job.json's spark_env_vars name the same version, flavor and folder (PYTORCH_VERSION,
# PYTORCH_FLAVOR, PYTORCH_LIBRARY_PATH = $TARGET/torch/lib). It installs into a folder of its own,
# not into the runtime's Python, whose torch the ML runtime's libraries use.
set -euo pipefail
TORCH_VERSION=2.7.1
FLAVOR=cu128
TARGET=/databricks/l1ra/torch-2.7.1-cu128

if [[ ! -f $TARGET/torch/lib/libtorch.so ]]; then
  /databricks/python/bin/pip install --quiet --no-cache-dir --target "$TARGET" \
    "torch==$TORCH_VERSION" --index-url "https://download.pytorch.org/whl/$FLAVOR"
fi

# Fail the cluster's start, not the job hours later, when the install is not what DJL loads.
PYTHONPATH=$TARGET /databricks/python/bin/python - "$TORCH_VERSION+$FLAVOR" <<'PY'
import sys
import torch
want = sys.argv[1]
if torch.__version__ != want:
    sys.exit(f"l1ra init script: torch {torch.__version__} installed, DJL 0.36 needs {want}")
if not torch.compiled_with_cxx11_abi():
    sys.exit("l1ra init script: this torch uses the pre-C++11 ABI; DJL's cu128 JNI needs the C++11 ABI")
print(f"l1ra init script: torch {torch.__version__} in {torch.__file__}")
PY
