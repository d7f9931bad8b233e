"""Atomic file writes: a temp file in the target folder, then `os.replace`, so a crash or a
bad input never leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)  # read once: os.umask can only be read by setting it
os.umask(_UMASK)


# The tool's own temp files: `.dk<pid>-<random>.tmp<ext>`, short whatever the target's name
# (a 250-byte name plus a long temp suffix would pass the 255-byte limit of most file systems),
# and naming the process that wrote them, so a later run can remove those of a killed one.
_TEMP_PREFIX = ".dk"
_TEMP_NAME = re.compile(r"^\.dk(\d+)-[A-Za-z0-9_]+\.tmp")
_MAX_TEMP_SUFFIX = 16


def _temp_beside(path: Path) -> Path:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotAFolderError(_file_among_parents(folder), path) from None
    suffix = path.suffix if len(path.suffix) <= _MAX_TEMP_SUFFIX else ""
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=".tmp" + suffix, dir=folder
        )
    except OSError as e:
        raise _naming(e, path) from None
    os.close(fd)
    return Path(tmp)


def _file_among_parents(folder: Path) -> Path:
    for part in (folder, *folder.parents):
        if (part.exists() and not part.is_dir()) or (part.is_symlink() and not part.exists()):
            return part
    return folder


class NotAFolderError(NotADirectoryError):
    """A folder an output must go into is a file (or a dangling link): says so, naming both."""

    def __init__(self, folder: Path, path: Path) -> None:
        super().__init__(errno.ENOTDIR, f"{folder} is not a folder, cannot write {path}")
        self.filename = None  # the message names both paths already

    def __str__(self) -> str:
        return self.strerror


def _naming(error: OSError, path: Path) -> OSError:
    """`error` naming `path` when it names no file (ENOSPC, EDQUOT, EIO come without one)."""
    if error.filename is None and error.errno is not None:
        try:
            return type(error)(error.errno, error.strerror or str(error), str(path))
        except TypeError:  # a subclass with a constructor of its own
            return OSError(error.errno, error.strerror or str(error), str(path))
    return error


@contextlib.contextmanager
def atomic_paths(*paths: str | Path) -> Iterator[list[Path]]:
    """Temp paths beside each of `paths`, written by the caller; when all are written they
    replace their targets in the order given (the renames take microseconds: a crash during
    them is what `checkpoints.checkpoint` detects with its hashes), on any error all are
    removed and the targets stay as they were. An OSError without a file name gets the
    target's."""
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            temps.append(_temp_beside(target))
        try:
            yield temps
        except OSError as e:
            raise _naming(e, targets[0] if len(targets) == 1 else targets[-1]) from None
        for tmp in temps:  # mkstemp creates 0600; outputs are shared like any other file
            os.chmod(tmp, 0o666 & ~_UMASK)
        for tmp, target in zip(temps, targets, strict=True):
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            if os.path.lexists(tmp):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success it replaces `path`, on error it is removed."""
    with atomic_paths(path) as (tmp,):
        yield tmp


def remove_stale_temps(folder: str | Path) -> int:
    """Remove the temp files in `folder` (not below) that this tool left when it was killed
    (`kill -9`, power loss): those whose writing process no longer runs on this machine.
    A running process's temps, and files of any other name, are left alone. Returns how many
    were removed."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or _process_runs(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed += 1
        except OSError:
            pass
    return removed


def _process_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: not ours to judge
    return True


def output_folder(path: str | Path, what: str = "--out") -> Path:
    """`path` as a Path, checked up front to be usable as an output folder (it or a parent
    being an existing file is a DataError naming it); nothing is created."""
    from .errors import DataError

    path = Path(path)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            which = "" if part == path else f" (its parent {part} is a file)"
            raise DataError(f"{what} {path} cannot be a folder{which}; choose a folder path")
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def json_text(data: Any) -> str:
    """`data` as the indented JSON text `atomic_write_json` writes (numpy/torch scalars and
    paths allowed)."""
    return json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n"


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json_text(data))


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
