from denoisekit.demo import demo_config


def test_demo_config_is_valid_and_needs_no_data_root():
    exp = demo_config(epochs=1)
    assert exp.base.data.train == "embedded"
    for name in exp.runs:
        run = exp.run_config(name)
        assert run.train.epochs == 1
        assert run.noise.train == "gaussian:0.1"
    assert {exp.run_config(n).model.name for n in exp.runs} == {"autoencoder-seed", "unet"}
