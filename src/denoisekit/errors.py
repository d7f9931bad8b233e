"""Errors meant for people: the CLI prints their message as one line and exits non-zero."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DenoiseKitError(Exception):
    """Base class for problems a user can fix (bad input, missing data, unknown names)."""


class ConfigError(DenoiseKitError, ValueError):
    """A run config key, value or type is wrong."""


class DataError(DenoiseKitError):
    """A data root, data set or image file is missing or unreadable."""


class UnknownNameError(DenoiseKitError, ValueError):
    """A model, data set, noise or loss name is not known."""


def close_names(name: str, known: Iterable[str], n: int = 3) -> str:
    """'did you mean ...' listing the closest known names, or all of them when none is close."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=n, cutoff=0.5)
    if close:
        return "did you mean " + ", ".join(close) + "?"
    return "known: " + ", ".join(known)


def unknown(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    """One-line error for an unknown `kind` called `name`, listing close names."""
    return UnknownNameError(f"unknown {kind} {name!r}; {close_names(name, known)}")


class InputWarning(UserWarning):
    """Something about an input file a user should know but that does not stop the run (a
    damaged EXIF block, frames past the first): the CLI prints it as one `note:` line."""
