"""The training loop: DataLoader workers change nothing but speed; bad loader settings refused;
a diverging loss stops training with one clear error and writes no checkpoint."""

import pytest
import torch

from denoisekit.checkpoints.checkpoint import load_checkpoint
from denoisekit.config import load_run_config
from denoisekit.errors import ConfigError, DataError
from denoisekit.train import loop, train


def _config(folder, *extra):
    return load_run_config(
        None,
        [
            f"data.train={folder}",
            "data.channels=1",
            "data.patch_size=8",
            "data.patches_per_image=4",
            "data.augment=true",
            "model.name=unet",
            "model.kwargs={base_channels: 4, depth: 2, in_channels: 1, out_channels: 1}",
            "train.epochs=1",
            "train.batch_size=4",
            "train.precision=32-true",
            *extra,
        ],
    )


def test_workers_cut_the_same_patches_as_the_training_process(tmp_path, gray_folder):
    # each patch is seeded by (seed, epoch, index), so worker processes train the same weights
    states = []
    for workers in (0, 2):
        config = _config(gray_folder, f"data.workers={workers}")
        result = train(config, tmp_path / f"w{workers}", progress=False)
        states.append(load_checkpoint(result.out_dir / "last.safetensors")[0].state_dict())
    for key, value in states[0].items():
        assert torch.equal(states[1][key], value), key


def test_negative_workers_are_refused(tmp_path, gray_folder):
    with pytest.raises(ConfigError, match="data.workers"):
        train(_config(gray_folder, "data.workers=-1"), tmp_path / "run", progress=False)


class _Poisoned:
    """An objective whose loss turns to nan from the `after`-th call (a diverging run)."""

    def __init__(self, objective, after):
        self.objective, self.after, self.calls = objective, after, 0

    def __getattr__(self, name):
        return getattr(self.objective, name)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        loss = self.objective(*args, **kwargs)
        return loss * float("nan") if self.calls > self.after else loss


@pytest.mark.parametrize("after", [0, loop.SYNC_EVERY + 3])
def test_a_diverging_loss_stops_training_and_writes_no_checkpoint(
    tmp_path, gray_folder, monkeypatch, after
):
    # the loss is read back only every SYNC_EVERY steps; a nan between reads is still caught
    real = loop.get_objective
    monkeypatch.setattr(loop, "get_objective", lambda *a, **k: _Poisoned(real(*a, **k), after))
    config = _config(gray_folder, "data.patches_per_image=64", "train.batch_size=2")
    with pytest.raises(DataError, match="diverged at epoch 1.*lower train.lr"):
        train(config, tmp_path / "run", progress=False)
    assert not list((tmp_path / "run").glob("*.safetensors"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("objective", ["supervised", "noise2void", "neighbor2neighbor"])
def test_training_on_a_gpu_draws_everything_there_and_repeats(tmp_path, gray_folder, objective):
    # a random draw left on the host would fail here: a CUDA generator cannot fill a CPU tensor
    states = []
    for name in ("a", "b"):
        config = _config(
            gray_folder, "train.accelerator=cuda", f"train.objective={objective}", "seed=3"
        )
        result = train(config, tmp_path / name, progress=False)
        assert result.history[0]["train_loss"] > 0
        states.append(load_checkpoint(result.out_dir / "last.safetensors")[0].state_dict())
    for key, value in states[0].items():
        assert torch.allclose(states[1][key], value, atol=1e-5), key


def _rates(scheduler, optimizer, steps):
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_warmup_ramps_up_then_follows_the_cosine(gray_folder):
    def fresh():
        return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)

    plain_config = _config(gray_folder, "train.lr=1e-3").train
    warm_config = _config(gray_folder, "train.lr=1e-3", "train.warmup_steps=5").train
    plain_opt, warm_opt = fresh(), fresh()
    plain = _rates(loop.make_scheduler(plain_opt, plain_config, 20), plain_opt, 21)
    warm = _rates(loop.make_scheduler(warm_opt, warm_config, 20), warm_opt, 21)
    assert warm[0] == pytest.approx(1e-5) and warm[4] < plain[4]
    assert all(a < b for a, b in zip(warm[:5], warm[1:6], strict=True))  # rising
    assert warm[5:] == pytest.approx(plain[5:], rel=1e-9)  # the same cosine after it
    assert plain[-1] == pytest.approx(1e-5)
    constant = _config(gray_folder, "train.scheduler=none", "train.warmup_steps=3").train
    opt = fresh()
    rates = _rates(loop.make_scheduler(opt, constant, 20), opt, 6)
    assert rates[3:] == pytest.approx([1e-3] * 3) and rates[0] == pytest.approx(1e-5)
    assert (
        loop.make_scheduler(fresh(), _config(gray_folder, "train.scheduler=none").train, 9) is None
    )


def test_a_run_with_warmup_resumes_on_its_schedule(tmp_path, gray_folder):
    config = _config(gray_folder, "train.warmup_steps=3", "train.epochs=2")
    train(config, tmp_path / "full", progress=False)
    config.train.epochs = 1
    train(config, tmp_path / "split", progress=False)
    config.train.epochs = 2
    train(config, tmp_path / "split", resume=True, progress=False)

    def last_rate(run):
        return float((tmp_path / run / "metrics.csv").read_text().splitlines()[-1].split(",")[5])

    # the LambdaLR state (steps taken) came back, so epoch 2 ends on the full run's rate
    assert last_rate("split") == pytest.approx(last_rate("full"), rel=1e-9)
    with pytest.raises(ConfigError, match="warmup_steps must be >= 0"):
        train(_config(gray_folder, "train.warmup_steps=-1"), tmp_path / "bad", progress=False)


def test_stop_after_ends_the_run_on_the_full_schedule_and_resume_goes_on(tmp_path, gray_folder):
    def rates(run):
        rows = (tmp_path / run / "metrics.csv").read_text().splitlines()[1:]
        return [float(row.split(",")[5]) for row in rows]

    train(_config(gray_folder, "train.epochs=3"), tmp_path / "full", progress=False)
    cut = _config(gray_folder, "train.epochs=3", "train.stop_after=1")
    train(cut, tmp_path / "cut", progress=False)
    assert rates("cut") == pytest.approx(rates("full")[:1], rel=1e-9)  # a 3-epoch cosine
    cut.train.stop_after = None
    train(cut, tmp_path / "cut", resume=True, progress=False)
    assert rates("cut") == pytest.approx(rates("full"), rel=1e-9)
    with pytest.raises(ConfigError, match="stop_after must be from 1 to train.epochs .3."):
        train(_config(gray_folder, "train.epochs=3", "train.stop_after=4"), tmp_path / "x")


def _rows(run):
    import csv

    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_fine_tuning_validates_its_start_as_epoch_0_and_keeps_it_unless_beaten(
    tmp_path, gray_folder
):
    start = train(_config(gray_folder, "train.epochs=2"), tmp_path / "start", progress=False)
    init = f"train.init={start.out_dir / 'last.safetensors'}"
    # a rate far too high for fine-tuning: the one trained epoch ends worse than the start
    result = train(_config(gray_folder, init, "train.lr=3.0"), tmp_path / "run", progress=False)
    rows = _rows(result.out_dir)
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert rows[0]["train_loss"] == rows[0]["lr"] == "" and rows[1]["train_loss"] != ""
    # epoch 0 scores the starting weights: the same images and noise as the run they came from
    assert float(rows[0]["val_psnr"]) == pytest.approx(start.history[-1]["val_psnr"], abs=1e-6)
    assert float(rows[1]["val_psnr"]) < float(rows[0]["val_psnr"])
    assert result.best_epoch == 0 and result.best_val_psnr == pytest.approx(
        float(rows[0]["val_psnr"])
    )
    best, meta = load_checkpoint(result.best_path)
    started = load_checkpoint(start.out_dir / "last.safetensors")[0].state_dict()
    assert meta["epoch"] == 0
    for key, value in started.items():
        assert torch.equal(best.state_dict()[key], value), key

    # an epoch that beats the start replaces it
    better = train(_config(gray_folder, init, "train.lr=1e-3"), tmp_path / "b", progress=False)
    psnr = [row["val_psnr"] for row in better.history]
    assert psnr[1] > psnr[0] and better.best_epoch == 1


def test_a_fine_tuning_run_resumes_without_a_second_epoch_0(tmp_path, gray_folder):
    start = train(_config(gray_folder, "train.epochs=2"), tmp_path / "start", progress=False)
    init = f"train.init={start.out_dir / 'last.safetensors'}"
    # too high a rate (as above): the start stays best, also across the restart
    cut = _config(gray_folder, init, "train.lr=3.0", "train.epochs=2", "train.stop_after=1")
    train(cut, tmp_path / "cut", progress=False)
    cut.train.stop_after = None
    resumed = train(cut, tmp_path / "cut", resume=True, progress=False)
    rows = _rows(tmp_path / "cut")
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert [row["epoch"] for row in resumed.history] == [0, 1, 2]
    psnr = [float(row["val_psnr"]) for row in rows]
    assert max(psnr[1:]) < psnr[0]
    # a resume that forgot the best would have saved epoch 2 as best
    assert resumed.best_epoch == 0 and resumed.best_val_psnr == pytest.approx(psnr[0])
    assert load_checkpoint(resumed.best_path)[1]["epoch"] == 0


def test_an_unset_learning_rate_is_lower_from_init_and_saved_resolved(tmp_path, gray_folder):
    import yaml

    from denoisekit.config import DEFAULT_LR, INIT_LR

    assert INIT_LR < DEFAULT_LR
    scratch = train(_config(gray_folder), tmp_path / "scratch", progress=False)
    init = f"train.init={scratch.out_dir / 'last.safetensors'}"
    tuned = train(_config(gray_folder, init), tmp_path / "tuned", progress=False)
    given = train(_config(gray_folder, init, "train.lr=2e-3"), tmp_path / "given", progress=False)
    for run, lr in ((scratch, DEFAULT_LR), (tuned, INIT_LR), (given, 2e-3)):
        saved = yaml.safe_load((run.out_dir / "config.yaml").read_text())
        assert saved["train"]["lr"] == pytest.approx(lr)
        # one epoch of a one-epoch cosine ends at a hundredth of the rate
        assert run.history[-1]["lr"] == pytest.approx(lr / 100)


def test_growing_validates_the_grown_network_as_epoch_0(tmp_path, gray_folder):
    small = {"in_channels": 1, "channels": [4, 8], "blocks": 1}
    model = ["model.name=drunet", f"model.kwargs={small}"]
    start = train(_config(gray_folder, *model), tmp_path / "small", progress=False)
    grow = [
        "model.name=drunet",
        f"model.kwargs={ {**small, 'blocks': 2} }",
        f"train.init={start.out_dir / 'last.safetensors'}",
        "train.grow=true",
    ]
    grown = train(_config(gray_folder, *grow), tmp_path / "grown", progress=False)
    # the new blocks start as the identity: the grown network scores what the small one did
    assert grown.history[0]["epoch"] == 0
    assert grown.history[0]["val_psnr"] == pytest.approx(start.history[-1]["val_psnr"], abs=1e-4)
