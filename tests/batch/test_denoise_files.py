"""`denoisekit denoise` on files and folders: tree mirrored, formats and bit depths kept,
palette / CMYK / EXIF / alpha handled, inputs never overwritten, default model by channels."""

import numpy as np
import pytest
import torch
from PIL import Image

import denoisekit
from denoisekit.batch.jobs import plan
from denoisekit.checkpoints.checkpoint import save_checkpoint
from denoisekit.cli import main
from denoisekit.inference import LoadedDenoiser
from denoisekit.io import read_image, save_image

# small tensors: one thread is faster, and immune to other jobs on a busy machine
pytestmark = pytest.mark.usefixtures("one_thread")


def _noisy(shape, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    base = np.linspace(0.2, 0.8, shape[1])[None, :] * np.ones(shape[:2])
    if len(shape) == 3:
        base = base[..., None] * np.ones(shape[-1])
    return np.clip((base + rng.normal(0, 0.1, shape)) * top, 0, top).astype(dtype)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "in"
    (root / "sub" / "deep").mkdir(parents=True)
    save_image(_noisy((20, 30, 3)), root / "a.png")
    save_image(_noisy((12, 18, 3), seed=1), root / "sub" / "b.jpg")
    save_image(_noisy((16, 10, 3), np.uint16, 2), root / "sub" / "deep" / "c.tif", bit_depth=16)
    save_image(_noisy((9, 11), np.uint16, 3), root / "sub" / "g16.png", bit_depth=16)
    save_image(_noisy((8, 8)), root / ".hidden.png")
    return root


def test_folder_tree_mirrored_with_format_and_depth_kept(tree, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["denoise", str(tree), "-o", str(out), "--model", "median"]) == 0
    assert capsys.readouterr().out.startswith("4 files, 0.0 MP")
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "sub/b.jpg", "sub/deep/c.tif", "sub/g16.png"]
    for name in written:
        before, after = read_image(tree / name), read_image(out / name)
        assert after.dtype == before.dtype and after.shape == before.shape, name
        assert not np.array_equal(after, before), name  # it was filtered
    with Image.open(out / "sub" / "b.jpg") as img:
        assert img.format == "JPEG"


def test_format_option_and_single_file_output(tree, tmp_path, capsys):
    out = tmp_path / "webp"
    assert (
        main(["denoise", str(tree), "-o", str(out), "--model", "median", "--format", "webp"]) == 0
    )
    assert {p.suffix for p in out.rglob("*") if p.is_file()} == {".webp"}
    single = tmp_path / "one.bmp"
    assert main(["denoise", str(tree / "a.png"), "-o", str(single), "--model", "median"]) == 0
    with Image.open(single) as img:
        assert img.format == "BMP" and img.size == (30, 20)
    folder = tmp_path / "existing"
    folder.mkdir()
    assert main(["denoise", str(tree / "a.png"), "-o", str(folder), "--model", "median"]) == 0
    assert (folder / "a.png").is_file()
    assert not [p for p in tmp_path.rglob(".*") if p.name != ".hidden.png"]  # no temp files left


def test_palette_cmyk_exif_and_alpha(tmp_path):
    root = tmp_path / "odd"
    root.mkdir()
    rgb = _noisy((20, 30, 3))
    Image.fromarray(rgb).convert("P").save(root / "palette.png")
    Image.fromarray(rgb).convert("CMYK").save(root / "cmyk.jpg")
    Image.fromarray(rgb).convert("CMYK").save(root / "cmyk.tif")
    rotated = Image.fromarray(rgb)
    exif = rotated.getexif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    rotated.save(root / "exif.jpg", exif=exif)
    rgba = np.concatenate([rgb, _noisy((20, 30, 1), seed=9)], axis=-1)
    Image.fromarray(rgba).save(root / "rgba.png")
    out = tmp_path / "out"
    assert main(["denoise", str(root), "-o", str(out), "--model", "median"]) == 0
    assert read_image(out / "palette.png").shape == (20, 30, 3)
    assert read_image(out / "cmyk.jpg").shape == (20, 30, 3)
    # a CMYK TIFF is converted to RGB, not read as four raw ink channels (RGB + alpha)
    cmyk = read_image(root / "cmyk.tif")
    assert cmyk.shape == (20, 30, 3) and np.abs(cmyk.astype(int) - rgb).max() <= 1
    assert read_image(out / "cmyk.tif").shape == (20, 30, 3)
    assert read_image(out / "exif.jpg").shape == (30, 20, 3)
    with Image.open(out / "exif.jpg") as img:
        assert img.getexif().get(0x0112, 1) == 1  # rotation applied to the pixels, tag gone
    result = read_image(out / "rgba.png")
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])


def test_output_inside_input_is_not_read_back(tree, capsys):
    out = tree / "clean"
    for _ in range(2):
        assert main(["denoise", str(tree), "-o", str(out), "--model", "median"]) == 0
        assert capsys.readouterr().out.startswith("4 files")
    assert not (out / "clean").exists()


def _tiny_checkpoint(path, channels, seed):
    torch.manual_seed(seed)
    kwargs = {"in_channels": channels, "base_channels": 2, "depth": 1}
    model = denoisekit.create_model("unet", **kwargs)
    save_checkpoint(path, model, {"model": "unet", "kwargs": kwargs, "channels": channels})
    return LoadedDenoiser(model)


def test_legacy_positional_output_and_sigma_note(tree, tmp_path, capsys):
    _tiny_checkpoint(tmp_path / "m", 3, 0)  # a U-Net takes no noise level
    target = tmp_path / "legacy.png"
    argv = ["denoise", str(tree / "a.png"), str(target), "--checkpoint", str(tmp_path / "m")]
    assert main(argv + ["--sigma", "25"]) == 0
    captured = capsys.readouterr()
    assert "--sigma ignored" in captured.err and "1 file," in captured.out
    assert read_image(target).shape == (20, 30, 3)
    argv.append("--overwrite")  # the positional output exists now (see test_cli_options.py)
    assert main(argv + ["--strength", "1.5"]) == 0
    assert "note: --strength ignored" in capsys.readouterr().err
    assert main(argv + ["--strength", "0"]) == 1
    err = capsys.readouterr().err
    assert "strength must be a finite number > 0" in err and len(err.strip().splitlines()) == 1


def test_default_model_follows_the_image_channels(tree, tmp_path, monkeypatch, capsys):
    weights = tmp_path / "weights"
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(weights))
    gray = _tiny_checkpoint(weights / "gray-blind", 1, 1)
    colour = _tiny_checkpoint(weights / "color-blind", 3, 2)
    out = tmp_path / "out"
    assert (
        main(["denoise", str(tree / "sub"), "-o", str(out), "--tile", "8", "--overlap", "2"]) == 0
    )
    assert "(color-blind, gray-blind)" in capsys.readouterr().out
    # the command line runs networks in precision "auto" (bf16 where the CPU has it)
    gray, colour = (denoisekit.load(m, precision="auto") for m in (gray, colour))
    expected = gray.denoise(read_image(tree / "sub" / "g16.png"), tile=8, overlap=2)
    np.testing.assert_array_equal(read_image(out / "g16.png"), expected)
    expected = colour.denoise(read_image(tree / "sub" / "deep" / "c.tif"), tile=8, overlap=2)
    np.testing.assert_array_equal(read_image(out / "deep" / "c.tif"), expected)


def test_default_model_follows_the_grain(tmp_path, monkeypatch, capsys):
    from denoisekit.noise import camera_pipeline, jpeg

    weights = tmp_path / "weights"
    monkeypatch.setenv("DENOISEKIT_WEIGHTS", str(weights))
    names = (("gray-blind", 1), ("color-blind", 3), ("color-camera", 3), ("gray-camera", 1))
    for name, channels in names:
        _tiny_checkpoint(weights / name, channels, 0)
    ramp = torch.linspace(0.2, 0.8, 64)
    clean = torch.stack([ramp[None, :].expand(64, 64), ramp[:, None].expand(64, 64)] * 2)[1:]
    grain = camera_pipeline(clean[None], 0.01, 0.0002, generator=torch.Generator().manual_seed(0))
    (tmp_path / "in").mkdir()
    save_image(
        (grain[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8),
        tmp_path / "in" / "photo.png",
    )
    save_image(_noisy((64, 64, 3)), tmp_path / "in" / "white.png")
    assert main(["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "(color-camera, color-blind)" in captured.out
    assert "note: color-camera denoised 1 file whose noise reads as camera grain" in captured.err
    assert "--model color-blind treats noise as white instead" in captured.err
    # a gray camera's photo saved as JPEG goes to gray-camera; one note names both camera models
    generator = torch.Generator().manual_seed(1)
    gray = jpeg(camera_pipeline(clean[None, :1], 0.01, 0.0002, generator=generator), 85)[0, 0]
    save_image((gray.numpy() * 255).round().astype(np.uint8), tmp_path / "in" / "gray.png")
    assert main(["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "o1")]) == 0
    captured = capsys.readouterr()
    assert "(gray-camera, color-camera, color-blind)" in captured.out
    assert (
        "note: gray-camera denoised 1 file and color-camera denoised 1 file whose noise reads "
        "as camera grain or JPEG; --model gray-blind or --model color-blind treats noise as "
        "white instead"
    ) in captured.err
    # a given level: the noise is taken as Gaussian, and the level-aware model gets it
    assert main(["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "o2"), "--sigma", "5"]) == 0
    captured = capsys.readouterr()
    assert "(gray-blind, color-blind)" in captured.out and "camera" not in captured.err


def test_plan_several_inputs(tree, tmp_path):
    jobs = plan([tree / "a.png", tree / "sub"], tmp_path / "o", fmt="png")
    targets = sorted(j.target.relative_to(tmp_path / "o").as_posix() for j in jobs)
    assert targets == ["a.png", "sub/b.png", "sub/deep/c.png", "sub/g16.png"]


@pytest.mark.parametrize("verb", ["denoise", "noise"])
def test_bad_files_are_listed_at_the_end_and_the_rest_written(tmp_path, capsys, verb):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        save_image(_noisy((12, 14, 3)), folder / name)
    whole = (folder / "a.png").read_bytes()
    (folder / "b.png").write_bytes(whole[: len(whole) // 2])  # truncated
    (folder / "fake.jpg").write_text("not a jpeg")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    extra = ["--model", "median"] if verb == "denoise" else ["--noise", "gaussian:0.1"]
    assert main([verb, str(folder), "-o", str(out), *extra]) == 3  # partial
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
    err = capsys.readouterr().err.strip().splitlines()
    listed = [line for line in err if line.startswith("skipped ")]
    assert len(listed) == 3 and all(n in "".join(listed) for n in ("b.png", "fake.jpg", "notes"))
    assert err[-1] == "denoisekit: warning: 3 input files skipped (listed above)"


def test_images_above_the_bomb_limit_need_allow_large(tmp_path, capsys, monkeypatch):
    save_image(_noisy((40, 50)), tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40x50 = 2000 pixels is "large"
    argv = [
        "denoise",
        str(tmp_path / "big.png"),
        "-o",
        str(tmp_path / "o.png"),
        "--model",
        "median",
    ]
    assert main(argv) == 1
    assert "--allow-large" in capsys.readouterr().err and not (tmp_path / "o.png").exists()
    assert main([*argv, "--allow-large"]) == 0
    assert read_image(tmp_path / "o.png", allow_large=True).shape == (40, 50)
    assert Image.MAX_IMAGE_PIXELS == 1000  # the limit is restored after each read


def test_a_model_meeting_another_channel_count_says_how_it_was_handled(tmp_path, capsys):
    kwargs = {"in_channels": 1, "base_channels": 2, "depth": 1}
    gray_model = denoisekit.create_model("unet", **kwargs)
    save_checkpoint(tmp_path / "gray", gray_model, {"model": "unet", "kwargs": kwargs})
    for name, shape in (("rgb0.png", (12, 10, 3)), ("rgb1.png", (8, 8, 3)), ("g.png", (9, 9))):
        save_image(_noisy(shape), tmp_path / "in" / name)
    argv = ["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out")]
    assert main([*argv, "--checkpoint", str(tmp_path / "gray")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: gray is a gray model: each colour channel of 2 files was denoised on its own"
    ]
    assert main([*argv, "--model", "median"]) == 0  # a filter takes any channel count: no note
    assert "note:" not in capsys.readouterr().err


def test_a_large_image_shows_its_tiles_and_a_small_one_nothing(tmp_path, capsys):
    """stderr is not a terminal under pytest: only an image of `LOG_TILES` tiles or more gets
    a tile bar there (so a log of a long run is not silent), and small ones print nothing."""
    from denoisekit.progress import LOG_TILES

    save_image(_noisy((64, 64, 3)), tmp_path / "big.png")  # 5 x 5 tiles of 16 at overlap 4
    args = ["--model", "median", "--tile", "16", "--overlap", "4"]
    assert main(["denoise", str(tmp_path / "big.png"), "-o", str(tmp_path / "o.png"), *args]) == 0
    err = capsys.readouterr().err
    assert 25 >= LOG_TILES and "big.png: 100%" in err and "25/25" in err and "tile/s" in err
    save_image(_noisy((30, 30, 3)), tmp_path / "small.png")  # 3 x 3 tiles: below LOG_TILES
    assert main(["denoise", str(tmp_path / "small.png"), "-o", str(tmp_path / "s.png"), *args]) == 0
    assert capsys.readouterr().err == ""
