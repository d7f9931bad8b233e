"""Every shipped weight has a model card (`weights/<name>.md`) that cannot drift from its .json:
its measured figures, parameter count, kwargs, steps and the licence of its training data."""

import json
import re
from pathlib import Path

import pytest

import denoisekit
from denoisekit.checkpoints import pretrained

WEIGHTS = Path(pretrained.__file__).resolve().parents[1] / "weights"
SHIPPED = sorted(p.stem for p in WEIGHTS.glob("*.safetensors"))
_NONE_YET = pytest.param(None, marks=pytest.mark.skip(reason="no weights shipped yet"))
# what the licence section must say for each training set a .json's training_data names
BERKELEY = ("Berkeley Segmentation Dataset", "non-commercial research")
LICENCE_WORDS = {"train400": BERKELEY, "cbsd432": BERKELEY, "city100": ("City100", "research")}
SET_NAMES = {
    "set12": "Set12",
    "bsd68": "BSD68",
    "cbsd68": "CBSD68",
    "city100": "City100",
    "bsd68 8-bit": "BSD68, 8-bit",
    "cbsd68 8-bit": "CBSD68, 8-bit",
    "city100 8-bit": "City100, 8-bit",
}


def section(card: str, title: str) -> str:
    found = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", card, re.M | re.S)
    assert found, f"the card has no '## {title}' section"
    return found.group(1)


def expected_figures(measured: dict) -> tuple[list[str], list[str]]:
    """Every PSNR (2 decimals) and SSIM (4 decimals) of a .json's `measured`, sorted."""
    psnr, ssim = [], []
    for value in measured.values():
        entries = value.values() if isinstance(value, dict) else [{"psnr": value}]
        for entry in entries:
            psnr.append(f"{entry['psnr']:.2f}")
            if "ssim" in entry:
                ssim.append(f"{entry['ssim']:.4f}")
    return sorted(psnr), sorted(ssim)


def card_figures(text: str) -> tuple[list[str], list[str]]:
    """The PSNR-like (dd.dd) and SSIM-like (0.dddd) numbers of `text`, code spans left out."""
    prose = re.sub(r"`[^`]*`", "", text)  # noise specs and commands hold numbers too
    psnr = re.findall(r"(?<![\d.])\d{2}\.\d{2}(?![\d.])", prose)
    ssim = re.findall(r"(?<![\d.])0\.\d{4}(?![\d.])", prose)
    return sorted(psnr), sorted(ssim)


def test_figures_are_read_from_tables_and_prose():
    text = "| Set12 | 15 | 32.78 | 0.9037 |\nwindow 11x11, sigma 1.5, `jpeg:90 a=0.0002 12.34`"
    assert card_figures(text) == (["32.78"], ["0.9037"])
    measured = {"set12": {"15": {"psnr": 32.776, "ssim": 0.90371}}, "x blind": 31.239}
    assert expected_figures(measured) == (["31.24", "32.78"], ["0.9037"])


@pytest.mark.parametrize("name", SHIPPED or [_NONE_YET])
def test_every_shipped_weight_has_a_card_that_matches_its_json(name):
    card_path = WEIGHTS / f"{name}.md"
    assert card_path.is_file(), f"{name}.safetensors ships without a model card {card_path.name}"
    card = card_path.read_text(encoding="utf-8")
    meta = json.loads((WEIGHTS / f"{name}.json").read_text())
    assert card.startswith(f"# Model card: `{name}`")

    # what it is: the architecture, its kwargs and its parameter count, computed
    net = denoisekit.create_model(meta["model"], **meta["kwargs"])
    params = sum(p.numel() for p in net.parameters())
    assert meta.get("params", params) == params
    what = section(card, "What it is")
    assert f"`{meta['model']}`" in what and f"`{json.dumps(meta['kwargs'])}`" in what
    assert f"{params:,}" in what, f"the card should state {params:,} parameters"
    assert f"{meta['steps']:,}" in section(card, "Training")
    for title in ("Intended use", "Training data", "Limits"):
        assert section(card, title).strip()

    # the licence of every training set the .json names
    licence = section(card, "Licence")
    assert "MIT" in licence
    for data in re.split(r"[^a-z0-9-]+", meta["training_data"].lower()):
        if data:
            assert data in LICENCE_WORDS, f"add the licence of training set {data!r} to this test"
            for words in LICENCE_WORDS[data]:
                assert words in licence, f"{name}.md's licence section lacks {words!r} ({data})"

    # measured: exactly the .json's figures, each nested one on its own (set, sigma) row
    measured = section(card, "Measured")
    assert card_figures(measured) == expected_figures(meta["measured"]), (
        f"{name}.md's Measured section and {name}.json's `measured` disagree"
    )
    for key, value in meta["measured"].items():
        if isinstance(value, dict):
            for sigma, entry in value.items():
                row = rf"\|\s*{SET_NAMES.get(key, key)}\s*\|\s*{sigma}\s*\|\s*"
                row += rf"{entry['psnr']:.2f}\s*\|\s*{entry['ssim']:.4f}\s*\|"
                assert re.search(row, measured), f"{name}.md has no row for {key} sigma {sigma}"
        else:  # a flat "<set> <noise spec>, blind" figure: its noise spec is named
            label = key.split(" ", 1)[-1].removesuffix(", blind")
            assert label in measured, f"{name}.md does not name {label!r}"
    assert "seeded" in measured and "PSNR" in measured  # the protocol is stated
