"""Progress bars on stderr (tqdm) for the verbs: per image in `evaluate` and `demo`, per file
and per tile in `denoise`.

A bar is drawn only where someone can watch it: when stderr is a terminal. The one exception is
the tile bar of a large image (`LOG_TILES` tiles or more: about 4 MP at the default 512-pixel
tile, several seconds to minutes on a CPU), which also goes to a log or a pipe, refreshed at most
every `LOG_INTERVAL` seconds, so a long run is never silent there. Small images in a log, and
every test, print nothing. Library functions take `progress=False` by default; the command line
turns it on. The callbacks the inference code takes are plain `progress(done, total)` callables
(`inference.tiles.Progress`), so this module is only for the verbs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

LOG_TILES = 16  # tiles from which an image's tile bar is shown on a non-terminal stderr too
LOG_INTERVAL = 10.0  # seconds between refreshes of a bar written to a log or pipe


def stderr_is_terminal() -> bool:
    """Whether stderr is an interactive terminal (a bar there redraws in place)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


def bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "image",
    enabled: bool = True,
    leave: bool = True,
):
    """A tqdm bar on stderr, drawn when `enabled` and stderr is a terminal (else silent).

    Use it as tqdm: iterate it, or call `.update(n)`, inside a `with` block; `.write(text,
    file=sys.stdout)` prints a line without tearing the bar."""
    from tqdm import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not (enabled and stderr_is_terminal()),
        leave=leave,
        dynamic_ncols=True,
    )


@contextmanager
def tile_bar(
    total: int, desc: str, *, enabled: bool = True
) -> Iterator[Callable[[int, int], None] | None]:
    """A `progress(done, total)` callback that draws the tiles of one image, or None when no
    bar is wanted: not `enabled`, a single tile, or a non-terminal stderr and fewer than
    `LOG_TILES` tiles. On a terminal the bar is removed when the image is done (the file bar
    stays); in a log its last state stays, one line per image."""
    terminal = stderr_is_terminal()
    if not enabled or total < 2 or (not terminal and total < LOG_TILES):
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=total,
        desc=desc,
        unit="tile",
        file=sys.stderr,
        leave=not terminal,
        dynamic_ncols=terminal,
        ascii=None if terminal else True,
        mininterval=0.1 if terminal else LOG_INTERVAL,
    ) as shown:

        def progress(done: int, total: int) -> None:
            shown.update(done - shown.n)

        yield progress
