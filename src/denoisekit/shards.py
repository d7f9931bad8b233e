"""`--shard i/N`: a deterministic 1/N of a verb's inputs, so N processes (or machines) that
run the same command with shards 0/N ... N-1/N cover every input exactly once.

Each input belongs to the shard `sha1(key) mod N`, where the key is the file's path relative
to its input root (POSIX separators), so the split does not depend on the order files are
listed in, on the machine, or on the Python version (unlike `hash`), and adding a file never
moves another one to a different shard. Shards are not equal in size: with few files one can
hold noticeably more than 1/N of them (hash placement is binomial), which is the price of a
split each process computes on its own, without talking to the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from .errors import ConfigError

T = TypeVar("T")
_SPELLING = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based: 0/2 and 1/2 are the two halves)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"shard {self.index}/{self.count}: use i/N with N >= 1 and 0 <= i < N"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, key: str) -> bool:
        """Whether the input with this key (its path relative to its input root) is ours."""
        return shard_of(key, self.count) == self.index

    def select(self, items: Iterable[T], key: Callable[[T], str]) -> list[T]:
        """The items of this shard, in their order."""
        return [item for item in items if self.holds(key(item))]


def shard_of(key: str, count: int) -> int:
    """The shard (0 ... count-1) a key belongs to: the first 8 bytes of its SHA-1, mod count."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str | Shard | None) -> Shard | None:
    """'i/N' (e.g. '0/4') -> Shard; None stays None (every input)."""
    if text is None or isinstance(text, Shard):
        return text
    match = _SPELLING.fullmatch(str(text))
    if not match:
        raise ConfigError(f"--shard {text!r}: write i/N, e.g. 0/4 for the first of 4 shards")
    return Shard(int(match.group(1)), int(match.group(2)))
