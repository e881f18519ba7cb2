#!/bin/bash
# Databricks init script: the CUDA build of libtorch 2.7.1 that DJL 0.36's PyTorch engine (pytorch-jni
# 2.7.1-0.36.0) loads on GPU executors; PYTORCH_LIBRARY_PATH in job.json points at its lib folder.
set -euo pipefail
/databricks/python/bin/pip install --quiet "torch==2.7.1" --index-url https://download.pytorch.org/whl/cu126
