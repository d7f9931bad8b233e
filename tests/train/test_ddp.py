"""Training under DDP (Lightning Fabric, gloo on the CPU): 2 processes with the same global batch
validate as 1 process does; ranks draw different noise and patches but validate alike; only rank
0 writes; --resume under DDP repeats the uninterrupted run exactly; and two "nodes" started by
torchrun on 127.0.0.1 train as one machine with two processes does.

The runs are `ddp_run.py` (a tiny U-Net from fixed starting weights, 16 synthetic 32x32 images,
3 epochs of 24 steps), started by torchrun in subprocesses, shared by the tests of this module.

Tolerance, 1 process against 2: the runs draw different noise and patch orders (each rank its
own), so they agree as runs with different noise seeds do, not bit for bit. Measured on this
configuration (same starting weights, noise seeds 0-3, 1 process): final validation PSNR
22.52-22.68 dB (a 0.16 dB spread), final train loss 0.0470-0.0497; 2 processes: 22.62 dB, 0.0471.
The test allows 0.25 dB and 10 % of the train loss. Getting the global batch wrong (16 per
process, i.e. 32 instead of 16) lands at 20.77 dB and 0.070, far outside both.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import denoisekit
from denoisekit.checkpoints.checkpoint import load_checkpoint, save_checkpoint

DRIVER = Path(__file__).with_name("ddp_run.py")
KWARGS = {"base_channels": 8, "depth": 2, "in_channels": 1, "out_channels": 1}
LIMIT_S = 300  # per launch; a hung rendezvous fails the test instead of stalling CI
PSNR_TOLERANCE_DB = 0.25
LOSS_TOLERANCE = 0.10


def _settings(init: Path, batch: int, *extra: str) -> list[str]:
    return [
        "model.name=unet",
        "model.kwargs={base_channels: 8, depth: 2, in_channels: 1, out_channels: 1}",
        f"train.init={init}",
        "data.patch_size=16",
        "data.patches_per_image=24",
        "noise.train=gaussian:25/255",
        "train.epochs=3",
        "train.lr=0.002",
        f"train.batch_size={batch}",
        "train.precision=32-true",
        "train.accelerator=cpu",
        "train.num_threads=1",
        "train.eval_batch_size=4",
        *extra,
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    # one thread per process (2 processes share the CI machine); gloo over the loopback
    return {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *args]


def _run(command: list[str], where: Path) -> None:
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=LIMIT_S)
    assert done.returncode == 0, f"{where}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def _records(folder: Path) -> dict[int, dict]:
    return {int(p.stem[4:]): json.loads(p.read_text()) for p in folder.glob("rank*.json")}


def _two_nodes(out: Path, record: Path, settings: list[str]) -> None:
    """Two torchrun "nodes" of one process each, meeting on a free loopback port."""
    port = str(_free_port())
    nodes = [
        subprocess.Popen(
            _torchrun(
                "--nnodes=2",
                f"--node-rank={rank}",
                "--nproc-per-node=1",
                "--master-addr=127.0.0.1",
                f"--master-port={port}",
                str(DRIVER),
                str(out),
                str(record),
                json.dumps(settings),
            ),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    try:
        logs = [node.communicate(timeout=LIMIT_S)[0] for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    for node, log in zip(nodes, logs, strict=True):
        assert node.returncode == 0, log[-4000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    torch.manual_seed(0)
    start = denoisekit.create_model("unet", **KWARGS)
    save_checkpoint(root / "init", start, {"model": "unet", "kwargs": KWARGS, "channels": 1})
    init = root / "init.safetensors"
    one = _settings(init, 16)
    two = _settings(init, 8, "train.devices=2", "train.strategy=ddp")
    _run(
        [sys.executable, str(DRIVER), str(root / "one"), str(root / "rec-one"), json.dumps(one)],
        root / "one",
    )
    # 2 processes, stopped after epoch 2 (as a time limit would) and resumed
    standalone = _torchrun("--standalone", "--nproc-per-node=2", str(DRIVER), str(root / "two"))
    _run(
        [*standalone, str(root / "rec-two-a"), json.dumps([*two, "train.stop_after=2"])],
        root / "two",
    )
    _run([*standalone, str(root / "rec-two"), json.dumps(two), "--resume"], root / "two")
    # the same 2 processes as 2 nodes of 1, uninterrupted
    nodes = _settings(init, 8, "train.devices=1", "train.num_nodes=2", "train.strategy=ddp")
    _two_nodes(root / "nodes", root / "rec-nodes", nodes)
    return root


def _validation(history: list[dict]) -> list[tuple]:
    return [(row["epoch"], row["val_loss"], row["val_psnr"], row["val_ssim"]) for row in history]


def test_two_processes_validate_as_one_with_the_same_global_batch(runs):
    one = _records(runs / "rec-one")[0]["history"]
    two = _records(runs / "rec-two")[0]["history"]
    assert [row["epoch"] for row in one] == [row["epoch"] for row in two] == [0, 1, 2, 3]
    # epoch 0 scores the starting weights: the same validation, to the last bit
    assert _validation(one)[0] == _validation(two)[0]
    assert one[-1]["val_psnr"] > one[0]["val_psnr"] + 3  # it learned: the check means something
    assert abs(one[-1]["val_psnr"] - two[-1]["val_psnr"]) < PSNR_TOLERANCE_DB
    assert abs(one[-1]["train_loss"] / two[-1]["train_loss"] - 1) < LOSS_TOLERANCE


def test_ranks_draw_their_own_noise_and_validate_alike(runs):
    ranks = _records(runs / "rec-two")
    assert sorted(ranks) == [0, 1]
    assert _validation(ranks[0]["history"]) == _validation(ranks[1]["history"])
    first, second = ranks[0]["first_batches"], ranks[1]["first_batches"]
    assert len(first) == len(second) == 1  # the resumed run trains epoch 3 only
    assert first[0]["noise"] != second[0]["noise"]  # each rank its own noise
    assert first[0]["clean"] != second[0]["clean"]  # and its own part of the patches
    epochs = _records(runs / "rec-two-a")[0]["first_batches"]
    assert epochs[0]["clean"] != epochs[1]["clean"]  # a new order (and crops) each epoch


def test_only_rank_0_writes(runs):
    for record in ("rec-two-a", "rec-two", "rec-nodes"):
        ranks = _records(runs / record)
        assert ranks[1]["calls"] == {}, record
        assert ranks[0]["calls"]["save_yaml"] == 1
        assert ranks[0]["calls"]["write_history"] >= 1
    written = sorted(p.name for p in (runs / "two").iterdir())
    assert "metrics.csv" in written and "last.safetensors" in written
    assert not [name for name in written if name.endswith(".tmp")]


def test_resume_under_ddp_and_two_nodes_repeat_the_uninterrupted_run(runs):
    resumed = _records(runs / "rec-two")[0]["history"]
    nodes = _records(runs / "rec-nodes")
    assert _validation(resumed) == _validation(nodes[0]["history"])
    assert _validation(nodes[0]["history"]) == _validation(nodes[1]["history"])
    a = load_checkpoint(runs / "two" / "last.safetensors")[0].state_dict()
    b = load_checkpoint(runs / "nodes" / "last.safetensors")[0].state_dict()
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_a_world_that_does_not_match_the_settings_is_one_line(tmp_path, monkeypatch, capsys):
    # as torchrun sets it up for 2 processes, where the config says 1 device on 1 node
    elastic = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"}
    elastic |= {"GROUP_RANK": "0", "TORCHELASTIC_RUN_ID": "test", "MASTER_ADDR": "127.0.0.1"}
    for key, value in {**elastic, "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(key, value)
    from denoisekit.cli import main

    settings = ["train.accelerator=cpu", "train.strategy=ddp", "train.epochs=1"]
    argv = ["train", "-o", str(tmp_path / "run"), *(a for s in settings for a in ("--set", s))]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "does not match the world size (2)" in err and len(err.splitlines()) == 1
