"""Progress bars: drawn on a terminal's stderr, silent in a log except for a large image's
tiles, off when not asked for; `evaluate` draws one over its images."""

import pytest
import torch
from torch import nn

from denoisekit import progress
from denoisekit.evaluate import evaluate_pairs, make_noisy_pairs
from denoisekit.noise import parse_noise
from denoisekit.progress import LOG_TILES, bar, tile_bar


@pytest.fixture
def terminal(monkeypatch):
    """stderr taken for a terminal (pytest captures it, so it never is one here)."""
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)


def _run(show, total):
    for done in range(1, total + 1):
        show(done, total)


def test_tile_bar_on_a_terminal_draws_and_clears(capsys, terminal):
    with tile_bar(4, "photo.png") as show:
        _run(show, 4)
    err = capsys.readouterr().err
    assert "photo.png:   0%" in err and "/4 [" in err  # redrawn at most every 0.1 s
    assert not err.endswith("\n")  # cleared (leave=False): the file bar stays, not this one


@pytest.mark.parametrize("total", [1, LOG_TILES - 1])
def test_tile_bar_in_a_log_is_silent_below_log_tiles(capsys, total):
    with tile_bar(total, "photo.png") as show:
        assert show is None
    assert capsys.readouterr().err == ""


def test_tile_bar_in_a_log_shows_a_large_image(capsys):
    with tile_bar(LOG_TILES, "photo.png") as show:
        _run(show, LOG_TILES)
    err = capsys.readouterr().err
    assert f"{LOG_TILES}/{LOG_TILES}" in err and err.endswith("\n") and "#" in err  # ASCII bar


def test_nothing_when_not_asked(capsys, terminal):
    with tile_bar(100, "photo.png", enabled=False) as show:
        assert show is None
    with bar(total=3, enabled=False) as shown:
        shown.update(3)
    assert capsys.readouterr().err == ""


def test_bar_only_on_a_terminal(capsys, monkeypatch):
    with bar(total=2, desc="evaluate") as shown:  # a log: nothing
        shown.update(2)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    with bar(total=2, desc="evaluate") as shown:
        shown.update(2)
    assert "evaluate" in (err := capsys.readouterr().err) and "2/2" in err


class _Identity(nn.Module):
    def forward(self, noisy, sigma):
        return noisy


def test_evaluate_counts_images(capsys, terminal):
    images = [torch.rand(1, 12, 12) for _ in range(3)] + [torch.rand(1, 14, 14)]
    pairs = make_noisy_pairs(images, parse_noise("gaussian:0.1"), 0)
    evaluate_pairs(_Identity(), pairs, batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "evaluate" in err and "4/4" in err
    evaluate_pairs(_Identity(), pairs, batch_size=2)  # the default, as training validates
    assert capsys.readouterr().err == ""
