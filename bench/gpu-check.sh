#!/usr/bin/env bash
# One prepared GPU check for a machine with an NVIDIA GPU and no network: run from the repository root after
# `npm install && npm run build` (with ONNXRUNTIME_NODE_INSTALL_CUDA=v12 for ONNX Runtime's CUDA provider, where its
# files can be fetched or were copied in). WebGPU in Node runs the tfjs engines when the webgpu package (Dawn) and
# @tensorflow/tfjs-backend-webgpu are installed (the repository's devDependencies) and Vulkan finds the GPU (libvulkan1;
# NVIDIA's driver packages include its Vulkan driver). Prints the skip reason of each GPU path that does not start, then
# a table. Arguments go to bench/gpu-check.ts (--models, --batches, --reps, --software).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi -L
else
  echo "No NVIDIA GPU here (nvidia-smi finds none); the GPU paths below are skipped."
fi
exec npx tsx bench/gpu-check.ts "$@"
