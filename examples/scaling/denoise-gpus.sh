#!/usr/bin/env bash
# Denoise a folder with every GPU of one machine, one process per GPU, each a shard
# (docs/scaling.md, "Sharded inference"):  ./denoise-gpus.sh photos/ denoised/ [more options]
set -euo pipefail
inputs=$1
out=$2
shift 2
gpus=$(nvidia-smi --list-gpus | wc -l)
pids=()
for ((i = 0; i < gpus; i++)); do
  denoisekit denoise "$inputs" -o "$out" --device "cuda:$i" --shard "$i/$gpus" "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done  # exit 3: some files skipped
exit "$status"
