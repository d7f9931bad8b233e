"""Spec strings: parsing, composition, ranges, the per-image sigma, JSON specs, bad specs."""

import json

import pytest
import torch

from denoisekit.errors import ConfigError, DataError, UnknownNameError
from denoisekit.noise import (
    gaussian,
    jpeg,
    motion_blur,
    noise_examples,
    noise_kinds,
    parse_level,
    parse_noise,
    poisson_gaussian,
    quantize,
    salt_pepper,
)

EXAMPLES = [
    "gaussian:0.1",
    "gaussian:25/255",
    "gaussian:0-50/255",
    "poisson:30",
    "poisson-gaussian:a=0.01,b=0.0004",
    "poisson-gaussian:0.01,4e-4",
    "poisson-gaussian:a=0.001-0.02,b=0-0.001",
    "camera-pipeline:a=0.004,b=0.0001",
    "camera-pipeline:a=0.0005-0.02,b=0-0.0004,bayer=0-1+jpeg:70-100",
    "speckle:0.1",
    "salt-pepper:0.05,0.5",
    "salt-pepper:amount=0.05,ratio=0.5",
    "salt-pepper:0.05",
    "motion-blur:9,30",
    "motion-blur:length=3-15,angle=-90-90",
    "jpeg:60",
    "jpeg:20-90",
    "quantize:8",
    "motion-blur:9,30+poisson-gaussian:a=0.01,b=0.0004+jpeg:60",
    " Gaussian : 0.1 + JPEG : 40 ",
]


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "text,value", [("0.1", 0.1), ("25/255", 25 / 255), ("1e-2", 0.01), (" 0.05 ", 0.05)]
)
def test_parse_level(text, value):
    assert parse_level(text) == pytest.approx(value)


@pytest.mark.parametrize("spec", EXAMPLES)
def test_every_example_parses_runs_and_round_trips(spec):
    noise = parse_noise(spec)
    assert parse_noise(noise.spec) == noise
    mid = noise.at_midpoint()
    assert not mid.is_range and parse_noise(mid.spec) == mid
    clean = torch.rand(3, 3, 24, 20, generator=_gen(5))
    noisy, sigma = noise(clean, _gen(1))
    assert noisy.shape == clean.shape and torch.isfinite(noisy).all()
    assert sigma.shape == (3,) and sigma.dtype == torch.float32
    assert (sigma >= 0).all() and (sigma <= 1).all()
    again, sigma_again = noise(clean, _gen(1))
    assert torch.equal(noisy, again) and torch.equal(sigma, sigma_again)
    assert 0 <= noise.low <= noise.sigma <= noise.high <= 1


def test_examples_of_every_kind_are_valid():
    assert sorted(spec.split(":")[0] for spec in noise_examples()) == noise_kinds()
    for spec in noise_examples():
        parse_noise(spec)


def test_kind_names_the_stages_in_order():
    noise = parse_noise("motion-blur:9,30+poisson-gaussian:a=0.01,b=0.0004+jpeg:60")
    assert noise.kind == "motion-blur+poisson-gaussian+jpeg"
    assert [stage.kind for stage in noise.stages] == ["motion-blur", "poisson-gaussian", "jpeg"]


def test_composition_applies_left_to_right():
    clean = torch.rand(2, 3, 32, 32, generator=_gen(3))
    noisy, _ = parse_noise("motion-blur:5,0+poisson-gaussian:a=0.01,b=0.0004+jpeg:60")(
        clean, _gen(7)
    )
    g = _gen(7)
    expected = jpeg(poisson_gaussian(motion_blur(clean, 5, 0), 0.01, 0.0004, generator=g), 60)
    assert torch.equal(noisy, expected)
    # order matters: impulses after a blur stay pure 0/1, impulses before it are smeared
    after, _ = parse_noise("motion-blur:9,0+salt-pepper:0.2")(clean, _gen(0))
    before, _ = parse_noise("salt-pepper:0.2+motion-blur:9,0")(clean, _gen(0))
    assert ((after == 0) | (after == 1)).float().mean() > 0.15
    assert ((before == 0) | (before == 1)).float().mean() < 0.01
    assert torch.equal(before, motion_blur(salt_pepper(clean, 0.2, generator=_gen(0)), 9, 0))


def test_gaussian_spec_matches_the_function():
    clean = torch.rand(2, 1, 16, 16, generator=_gen(2))
    noisy, sigma = parse_noise("gaussian:25/255")(clean, _gen(4))
    assert torch.equal(noisy, gaussian(clean, 25 / 255, generator=_gen(4)))
    assert torch.equal(sigma, torch.full((2,), 25 / 255))


def test_range_draws_per_image_levels_and_midpoint():
    noise = parse_noise("gaussian:0-0.2")
    clean = torch.zeros(64, 1, 32, 32)
    noisy, sigma = noise(clean, torch.Generator().manual_seed(0))
    assert sigma.shape == (64,)
    assert 0 <= sigma.min() and sigma.max() <= 0.2 and sigma.std() > 0.03
    measured = noisy.flatten(1).std(1)
    assert torch.allclose(measured, sigma, atol=0.02)
    mid = noise.at_midpoint()
    assert mid.low == mid.high == pytest.approx(0.1)


def test_ranges_of_other_kinds_and_their_midpoint():
    noise = parse_noise("poisson-gaussian:a=0.001-0.02,b=0-0.001")
    clean = torch.full((64, 1, 32, 32), 0.5)
    _, sigma = noise(clean, _gen())
    low, high = (0.5 * 0.001) ** 0.5, (0.5 * 0.02 + 0.001) ** 0.5
    assert low <= sigma.min() and sigma.max() <= high and sigma.std() > 0.01
    assert noise.low == pytest.approx(low) and noise.high == pytest.approx(high)
    mid = noise.at_midpoint()
    assert mid.stages[0].ranges == ((0.0105, 0.0105), (0.0005, 0.0005))
    assert parse_noise("jpeg:20-91").at_midpoint().spec == "jpeg:56"  # whole numbers
    fixed = parse_noise("jpeg:60")
    assert fixed.at_midpoint() is fixed


def test_low_and_high_follow_the_noise_not_the_parameter():
    # a higher poisson peak means less noise: `low` takes the high peak
    noise = parse_noise("poisson:50-1000+gaussian:0-15/255")
    quiet, loud = (0.5 / 1000) ** 0.5, (0.5 / 50 + (15 / 255) ** 2) ** 0.5
    assert noise.low == pytest.approx(quiet) and noise.high == pytest.approx(loud)
    assert noise.low <= noise.sigma <= noise.high


def test_effective_sigma_matches_measured_noise():
    clean = torch.tensor([0.1, 0.5, 0.9]).view(-1, 1, 1, 1).expand(-1, 1, 256, 256)
    cases = {
        "poisson-gaussian:a=0.01,b=0.0004": lambda x: (0.01 * x + 0.0004) ** 0.5,
        "poisson:30": lambda x: (x / 30) ** 0.5,
        "speckle:0.1": lambda x: 0.1 * x,
        "gaussian:0.03+gaussian:0.04": lambda x: 0.05 + 0 * x,  # variances add
    }
    for spec, expected in cases.items():
        noisy, sigma = parse_noise(spec)(clean, _gen())
        measured = (noisy - clean).flatten(1).std(1)
        levels = torch.tensor([0.1, 0.5, 0.9])
        assert torch.allclose(sigma, expected(levels), rtol=1e-4), spec
        assert torch.allclose(measured, sigma, rtol=0.03), spec


def test_measured_sigma_of_deterministic_stages():
    clean = torch.rand(2, 1, 64, 64, generator=_gen(1))
    noisy, sigma = parse_noise("quantize:4")(clean, _gen())
    assert torch.equal(noisy, quantize(clean, 15))
    assert torch.allclose(sigma, (noisy - clean).flatten(1).square().mean(1).sqrt())
    _, blur_sigma = parse_noise("motion-blur:9,30")(clean, _gen())
    assert torch.equal(blur_sigma, torch.zeros(2))  # blur is not noise


def test_clip_flag():
    noise = parse_noise("gaussian:0.5", clip=True)
    noisy, _ = noise(torch.full((1, 1, 32, 32), 0.5), torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert noise.at_midpoint().clip and parse_noise("gaussian:0-0.5", clip=True).at_midpoint().clip


def test_json_file_spec(tmp_path):
    path = tmp_path / "camera.json"
    path.write_text(json.dumps({"noise": "poisson-gaussian:a=0.01,b=0.0004", "a": 0.01}))
    noise = parse_noise(str(path))
    assert noise == parse_noise("poisson-gaussian:a=0.01,b=0.0004")
    assert noise.spec == "poisson-gaussian:a=0.01,b=0.0004"  # usable without the file
    assert parse_noise(path) == noise  # a Path works too
    combined = parse_noise(f"{path}+jpeg:60")
    assert combined.spec == "poisson-gaussian:a=0.01,b=0.0004+jpeg:60"
    assert combined.kind == "poisson-gaussian+jpeg"


@pytest.mark.parametrize(
    "content,needle",
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ('{"sigma": 0.1}', '"noise"'),
        ('{"noise": 3}', '"noise"'),
        ('{"noise": "other.json"}', "another file"),
        (
            '{"noise": "gausian:0.1"}',
            "in .*camera.json: unknown noise .gausian.; did you mean gaussian",
        ),
    ],
)
def test_bad_json_spec(tmp_path, content, needle):
    path = tmp_path / "camera.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises((ConfigError, UnknownNameError), match=needle):
        parse_noise(str(path))


@pytest.mark.parametrize(
    "spec,needles",
    [
        ("gaussian", ["gaussian needs sigma", "e.g. gaussian:0.1"]),
        ("gaussian:-0.1", [">= 0", "gaussian:0.1"]),
        ("gaussian:25", ["25/255", "gaussian:0.1"]),
        ("gaussian:abc", ["'abc' is not a number", "gaussian:0.1"]),
        ("gaussian:0.3-0.1", ["low > high"]),
        ("gaussian:0.1,0.2", ["takes one value", "e.g. gaussian:0.1"]),
        ("gaussian:0.1,", ["empty value"]),
        ("poisson", ["poisson needs peak", "e.g. poisson:30"]),
        ("poisson:0", ["peak must be > 0", "e.g. poisson:30"]),
        ("poisson:1/0", ["not a number", "poisson:30"]),
        ("poisson-gaussian:a=0.01", ["needs a and b (b missing)", "a=0.01,b=0.0004"]),
        ("poisson-gaussian:a=0.01,c=1", ["no parameter 'c'", "a=0.01,b=0.0004"]),
        ("poisson-gaussian:a=0.01,a=0.02", ["given twice"]),
        ("poisson-gaussian:a=0.01,0.0004", ["follows a name=value"]),
        ("poisson-gaussian:a=2,b=0", ["a must be <= 1", "a=0.01,b=0.0004"]),
        ("poisson-gaussian:a=0.01,b=x", ["b 'x' is not a number"]),
        ("speckle:-1", ["speckle sigma must be >= 0", "speckle:0.1"]),
        ("salt-pepper:0.05,1.5", ["ratio must be <= 1", "salt-pepper:0.05,0.5"]),
        ("motion-blur:0.5,30", ["length must be >= 1", "motion-blur:9,30"]),
        ("motion-blur:angle=30", ["needs length", "motion-blur:9,30"]),
        ("jpeg:60.5", ["whole number", "jpeg:60"]),
        ("jpeg:0", ["quality must be >= 1", "jpeg:60"]),
        ("quantize:17", ["bits must be <= 16", "quantize:8"]),
        ("gaussian:0.1+", ["empty part"]),
        ("", ["gaussian:0.1"]),
        ("gaussian:0.1+jpeg", ["jpeg needs quality", "jpeg:60"]),
    ],
)
def test_bad_specs_name_the_problem_and_show_an_example(spec, needles):
    with pytest.raises(ConfigError) as info:
        parse_noise(spec)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_unknown_kind_lists_close_names():
    with pytest.raises(UnknownNameError, match="did you mean gaussian"):
        parse_noise("gausian:0.1")
    with pytest.raises(UnknownNameError, match="speckle"):
        parse_noise("gaussian:0.1+speckel:0.1")


def _ramp(n=2, channels=3, size=64):
    """Brightness rising left to right from 0 to 1, the same in every channel."""
    return torch.linspace(0, 1, size).view(1, 1, 1, size).expand(n, channels, size, size).clone()


def test_pixel_level_follows_the_signal_for_poisson_gaussian():
    clean = _ramp()
    noise = parse_noise("poisson-gaussian:a=0.01,b=0.0004", level="pixel")
    noisy, level = noise(clean, _gen())
    assert level.shape == (2, 1, 64, 64)
    expected = (0.01 * clean[:, :1] + 0.0004).sqrt()
    inner = (slice(None), slice(None), slice(4, -4), slice(8, -4))  # away from the dark end
    assert torch.allclose(level[inner], expected[inner], rtol=0.1)
    # the map is read from the noisy image, never the clean one: the same noisy batch gives it
    assert torch.allclose(noise.level_map(noisy), level)


def test_pixel_level_of_kinds_that_ignore_the_signal_is_flat():
    clean = _ramp()
    image_level = parse_noise("gaussian:0-0.2+jpeg:60")(clean, _gen())[1]
    noisy, level = parse_noise("gaussian:0-0.2+jpeg:60", level="pixel")(clean, _gen())
    # the gaussian part draws the same sigmas; JPEG adds its nominal 0 to the map
    assert torch.allclose(level.amax((1, 2, 3)), level.amin((1, 2, 3)))
    assert level[:, 0, 0, 0].tolist() == pytest.approx(
        parse_noise("gaussian:0-0.2")(clean, _gen())[1].tolist(), abs=1e-6
    )
    assert not torch.allclose(image_level, level[:, 0, 0, 0])  # image level measures JPEG too


def test_gaussian_ramp_level_is_its_map_per_pixel_and_the_map_rms_per_image():
    clean = torch.full((3, 1, 256, 256), 0.5)
    spec = "gaussian-ramp:0.02,0.2,angle=0-360"
    noisy, level = parse_noise(spec, level="pixel")(clean, _gen())
    _, image_level = parse_noise(spec)(clean, _gen())  # the same draws: angle per image
    assert level.shape == (3, 1, 256, 256)
    assert torch.allclose(level.square().mean((1, 2, 3)).sqrt(), image_level, rtol=1e-4)
    assert torch.allclose((noisy - clean).flatten(1).std(1), image_level, rtol=0.03)
    assert float(level.amin()) == pytest.approx(0.02) and float(level.amax()) == pytest.approx(0.2)
    # without drawn values (a real photo whose spec is known) the map takes the midpoint angle
    flat_spec = parse_noise("gaussian-ramp:0.02,0.2,angle=90", level="pixel")
    rows = flat_spec.level_map(noisy)[0, 0, :, 0]
    assert rows[0] == pytest.approx(0.02) and rows[-1] == pytest.approx(0.2)


def test_noise_level_form_is_part_of_the_model():
    image = parse_noise("poisson:30")
    pixel = parse_noise("poisson:30", level="pixel")
    assert image != pixel and image.per_pixel() == pixel and pixel.at_midpoint().level == "pixel"
    with pytest.raises(ConfigError, match="use image, pixel or auto"):
        parse_noise("poisson:30", level="channel")


def test_auto_level_is_the_haar_estimate_of_each_noisy_image():
    from denoisekit.noise.estimate import estimate_sigma_haar

    clean = torch.full((2, 1, 64, 64), 0.5)
    noisy, level = parse_noise("gaussian:0.05-0.15+jpeg:85", level="auto")(clean, _gen())
    assert torch.allclose(level, estimate_sigma_haar(noisy).float())
    image_level = parse_noise("gaussian:0.05-0.15+jpeg:85")(clean, _gen())[1]
    assert not torch.allclose(level, image_level, atol=1e-3)


def test_unbatched_images_and_exponent_signs():
    with pytest.raises(DataError, match=r"\(B, C, H, W\).*unsqueeze"):
        parse_noise("gaussian:0.1")(torch.rand(3, 8, 8), torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="above 1"):
        gaussian(torch.zeros(1, 1, 8, 8), 25)
    model = parse_noise("gaussian:1e+1/255+jpeg:90")  # the '+' of an exponent joins nothing
    assert [s.kind for s in model.stages] == ["gaussian", "jpeg"]
    assert model.stages[0].ranges[0][0] == pytest.approx(10 / 255)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("level", ["image", "pixel", "auto"])
def test_a_cuda_generator_keeps_noise_and_level_on_the_gpu(level):
    # a level copied back to the host would make every training step wait for the GPU
    spec = "gaussian:0-0.2+poisson-gaussian:a=0-0.01,b=0.0004+salt-pepper:0.01"
    noise = parse_noise(spec, clip=True, level=level)
    clean = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)).cuda()
    noisy, sigma = noise(clean, torch.Generator(device="cuda").manual_seed(1))
    assert noisy.device.type == sigma.device.type == "cuda"
    again, _ = noise(clean, torch.Generator(device="cuda").manual_seed(1))
    assert torch.equal(noisy, again)
