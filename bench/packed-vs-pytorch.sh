#!/usr/bin/env bash
# The package as a user installs it, against PyTorch: `npm pack` into two new projects, one installed as the README
# tells a user on a machine that cannot reach ONNX Runtime's CUDA download (ONNXRUNTIME_NODE_INSTALL=skip), one with a
# plain `npm install` (where that download fails, npm drops onnxruntime-node); then bench/pytorch-compare.ts times the
# engine compileForInference picks there (what classify() uses), on a preprocessed batch, interleaved with PyTorch
# (python3-torch + python3-torchvision, 2 threads). Extra arguments go to pytorch-compare.ts (--models, --batches, --reps).
#   bash bench/packed-vs-pytorch.sh [--reps 9]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Settings of an `npm run` that started this script would point npm at this repository.
unset $(env | grep -io '^npm_[a-z0-9_]*') ONNXRUNTIME_NODE_INSTALL 2>/dev/null || true
npm run build >/dev/null
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
install() { # project folder, then the environment of its npm install
  local project="$work/$1"
  shift
  mkdir "$project"
  echo '{ "name": "packed-user", "private": true, "type": "module" }' >"$project/package.json"
  (cd "$project" && env "$@" npm install --no-audit --no-fund --loglevel=error "$tarball" >/dev/null)
  local ort=missing
  [ -d "$project/node_modules/onnxruntime-node" ] && ort=installed
  echo "${project##*/}: installed ($ort onnxruntime-node, $(du -sm "$project/node_modules" | cut -f1) MB of node_modules)" >&2
}
install readme ONNXRUNTIME_NODE_INSTALL=skip
install plain
npx tsx bench/pytorch-compare.ts --packed "README install=$work/readme,plain install=$work/plain" "$@"
