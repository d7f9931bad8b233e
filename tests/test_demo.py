from denoisekit.demo import demo_config


def test_demo_config_is_valid_and_needs_no_data_root():
    exp = demo_config(epochs=1)
    assert exp.base.data.train == "embedded"
    for name in exp.runs:
        run = exp.run_config(name)
        assert run.train.epochs == 1
        assert run.noise.train == "gaussian:0.1"
    assert {exp.run_config(n).model.name for n in exp.runs} == {"autoencoder-seed", "unet"}


def test_pretrained_demo_denoises_blind_at_every_level_and_writes_the_report(tmp_path, monkeypatch):
    import json

    import torch

    from denoisekit.checkpoints.checkpoint import save_checkpoint
    from denoisekit.demo import SIGMAS, run_demo
    from denoisekit.registry import create_model

    kwargs = {"in_channels": 3, "channels": [4, 8], "blocks": 1}
    torch.manual_seed(0)
    model = create_model("drunet", **kwargs)
    with torch.no_grad():  # not the identity: the demo must show a real change
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    info = {"model": "drunet", "kwargs": kwargs, "training_data": "none", "channels": 3}
    save_checkpoint(tmp_path / "weights" / "color-blind", model, {**info, "hardware": "test"})
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(tmp_path / "weights"))

    report = run_demo(tmp_path / "demo", limit=2, classical="gaussian-blur")
    results = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert report.is_file() and "Every noise level" in report.read_text()
    assert list(results["levels"]) == [str(s) for s in SIGMAS]
    at_50 = results["levels"]["50"]
    assert set(at_50) == {"noisy", "color-blind (σ auto)", "gaussian-blur (σ auto)"}
    assert at_50["gaussian-blur (σ auto)"]["psnr"] > at_50["noisy"]["psnr"]
    assert len(results["runs"]) == 2 and results["protocol"]["weights"] == "color-blind"
