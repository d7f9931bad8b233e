#!/usr/bin/env bash
# Train one model on several machines with torchrun (docs/scaling.md, "Several machines").
# Run this same script on every machine, with NODE_RANK=0 on the first and 1, 2, ... on the
# others; MAIN_ADDR is the first machine's address, which all of them must reach. The data and
# the run folder must be at the same paths on every machine (a shared filesystem).
#
#   NODE_RANK=0 MAIN_ADDR=node0.cluster NODES=2 GPUS=4 ./train-torchrun.sh CONFIG.yaml /shared/runs/x
#
# DEVICE=cpu GPUS=1 tries it on one machine: two shells, NODE_RANK=0 and 1, MAIN_ADDR=127.0.0.1.
set -euo pipefail
config=$1
out=$2
: "${NODE_RANK:?set NODE_RANK (0 on the first machine)}"
: "${MAIN_ADDR:?set MAIN_ADDR (the first machine)}"
NODES=${NODES:-2}
DEVICE=${DEVICE:-cuda}
GPUS=${GPUS:-$(nvidia-smi --list-gpus | wc -l)}
PORT=${PORT:-29500}
resume=()
[[ -f $out/last.json ]] && resume=(--resume)  # a stopped run goes on

# --devices is the processes per machine (= --nproc-per-node); train.num_nodes the machines.
# train.batch_size is per process: the global batch is batch_size x GPUS x NODES.
exec torchrun --nnodes "$NODES" --node-rank "$NODE_RANK" --nproc-per-node "$GPUS" \
  --master-addr "$MAIN_ADDR" --master-port "$PORT" \
  -m denoisekit train "$config" -o "$out" --device "$DEVICE" --devices "$GPUS" \
  --set train.num_nodes="$NODES" "${resume[@]}"
