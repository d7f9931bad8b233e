"""Checkpoints as `NAME.safetensors` (weights) + `NAME.json` (model name, kwargs, config, epoch,
metrics, package version). Loading rebuilds the model from these two files and never unpickles.

The weights file also describes itself: its safetensors header (`__metadata__`, string values)
names the model and its kwargs (JSON) and the denoisekit version that wrote it, so a
`.safetensors` separated from its `.json` still says what network it holds, and loading refuses a
`.json` that describes another one. Files written before the header carried this (an empty
header) still load.

Optimizer and scheduler state for `--resume` go the same way: tensors into
`NAME.optim.safetensors`, everything else into the JSON.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, DataError
from ..files import atomic_paths, json_text
from ..registry import create_model

FORMAT_VERSION = 1


def _paths(path: str | Path) -> tuple[Path, Path, Path]:
    """Weights, metadata and optimizer paths for `run/best`, `run/best.safetensors` or `.json`."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return (
        p.with_suffix(".safetensors"),
        p.with_suffix(".json"),
        p.with_suffix(".optim.safetensors"),
    )


def _package_version() -> str:
    from .. import __version__

    return __version__


def header_metadata(meta: dict[str, Any], *, version: str | None = None) -> dict[str, str]:
    """The safetensors `__metadata__` for checkpoint metadata `meta`: `model`, `kwargs` (as
    JSON) and `denoisekit_version` (`version`, else this package's), all strings."""
    header = {"denoisekit_version": version or _package_version()}
    if "model" in meta:
        header["model"] = str(meta["model"])
        header["kwargs"] = json.dumps(meta.get("kwargs") or {}, sort_keys=True)
    return header


# safetensors caps its JSON header at 100 MB; a larger length field means a damaged file
_MAX_HEADER = 100_000_000


def weights_header(path: str | Path) -> dict[str, str]:
    """The `__metadata__` of a `.safetensors` file ({} when it has none), read without torch.

    Raises DataError naming the file when it is not a readable safetensors file.
    """
    metadata = _safetensors_header(Path(path)).get("__metadata__") or {}
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}


def tensor_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in a `.safetensors` file, from its header alone."""
    header = _safetensors_header(Path(path))
    shapes = {}
    for name, entry in header.items():
        if name != "__metadata__" and isinstance(entry, dict):
            shape = entry.get("shape")
            shapes[name] = tuple(int(d) for d in shape) if isinstance(shape, list) else ()
    return shapes


def _safetensors_header(weights: Path) -> dict[str, Any]:
    try:
        with weights.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            raw = f.read(size) if 0 < size <= _MAX_HEADER else b""
    except OSError as e:
        raise DataError(f"cannot read checkpoint weights {weights}: {e}") from None
    try:
        header = json.loads(raw) if len(raw) == size else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict):
        raise DataError(f"cannot read checkpoint weights {weights}: not a safetensors file")
    return header


def check_header(weights: Path, meta_path: Path, meta: dict[str, Any]) -> None:
    """DataError when the weights' header names another model or kwargs than the `.json`.

    A header without a model (weights written before it carried one) passes.
    """
    header = weights_header(weights)
    if "model" not in header:
        return
    try:
        saved_kwargs = json.loads(header.get("kwargs", "{}"))
    except json.JSONDecodeError:
        saved_kwargs = header.get("kwargs")
    described = json.loads(json.dumps(meta.get("kwargs") or {}))
    if header["model"] != meta["model"] or saved_kwargs != described:
        saved, wrong = (json.dumps(k, sort_keys=True) for k in (saved_kwargs, described))
        raise DataError(
            f"{weights} does not match {meta_path}: the weights hold {header['model']} {saved}, "
            f"the .json describes {meta['model']} {wrong}; the two files must come from the "
            "same checkpoint"
        )


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    meta: dict[str, Any],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
) -> Path:
    """Write weights (+ optimizer state) and metadata as one set; returns the weights path.

    Every file is written to a temp file first; only when all are complete do they replace
    the old set, the `.json` last, which records the SHA-256 of the others (`sha256`), so a
    set torn by a crash during the renames is refused on load (`verify_files`). A failed
    write (a full disk) is a DataError naming the file, and leaves the previous set as it
    was. The weights' safetensors header gets `header_metadata(meta)`: model, kwargs, version.
    """
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    weights, meta_path, optim_path = _paths(path)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    meta = {**meta, "format": FORMAT_VERSION, "denoisekit_version": _package_version()}
    targets = [weights, optim_path, meta_path] if optimizer is not None else [weights, meta_path]
    writing = weights
    try:
        with atomic_paths(*targets) as temps:
            save_file(state, str(temps[0]), metadata=header_metadata(meta))
            digests = {"weights": _sha256(temps[0])}
            if optimizer is not None:
                writing = optim_path
                tensors, rest = _flatten_optimizer(optimizer.state_dict())
                save_file(tensors, str(temps[1]))
                digests["optimizer"] = _sha256(temps[1])
                meta["optimizer"] = rest
                meta["scheduler"] = scheduler.state_dict() if scheduler is not None else None
            writing = meta_path
            temps[-1].write_text(json_text({**meta, "sha256": digests}))
    except (SafetensorError, OSError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise DataError(
            f"cannot write checkpoint {writing}: {reason}; the previous {weights.stem}.* files "
            "are left as they were"
        ) from None
    return weights


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(path: str | Path, meta: dict[str, Any], *, optimizer: bool = False) -> None:
    """DataError when the weights (and, with `optimizer`, the optimizer state) are not the
    files the `.json` was written with: a save torn between files, or a file replaced.
    Metadata without hashes (written before they were recorded, or by hand) passes."""
    recorded = meta.get("sha256")
    if not isinstance(recorded, dict):
        return
    weights, meta_path, optim_path = _paths(path)
    checks = [("weights", weights)] + ([("optimizer", optim_path)] if optimizer else [])
    for role, file in checks:
        if role in recorded and file.is_file() and _sha256(file) != recorded[role]:
            raise DataError(
                f"{file} is not the file {meta_path} was saved with (its SHA-256 differs): "
                "a save torn by a crash, or a file replaced; this checkpoint set is not used"
            )


def read_meta(path: str | Path) -> dict[str, Any]:
    given = Path(path)
    if given.is_dir():
        raise DataError(
            f"{given} is a folder without best.safetensors; a run folder holds best.* and "
            "last.* once `denoisekit train` has finished an epoch"
        )
    if given.is_file() and given.suffix not in (".safetensors", ".json"):
        raise DataError(f"{given} is not a checkpoint: give NAME.safetensors (NAME.json beside it)")
    weights, meta_path, _ = _paths(path)
    if not weights.is_file():
        raise DataError(f"checkpoint not found: {weights}")
    if not meta_path.is_file():
        raise DataError(f"checkpoint metadata missing: {meta_path} (it sits beside the weights)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        raise DataError(f"checkpoint metadata is not valid JSON: {meta_path}") from None
    if not isinstance(meta, dict) or "model" not in meta:
        raise DataError(f"{meta_path} has no 'model' entry; is it a denoisekit checkpoint?")
    if not isinstance(meta.get("kwargs", {}), dict):
        raise DataError(
            f"{meta_path}: 'kwargs' must map argument names to values, got "
            f"{type(meta['kwargs']).__name__}; the .json is damaged or not from denoisekit"
        )
    if meta.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        raise DataError(
            f"{meta_path} is checkpoint format {meta['format']!r}; this denoisekit reads format "
            f"{FORMAT_VERSION}: use the denoisekit version that wrote it"
        )
    return meta


def _mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """The first difference between a model's parameters and a state dict, in words."""
    expected = model.state_dict()
    for key, tensor in state.items():
        if key in expected and expected[key].shape != tensor.shape:
            return (
                f"{key} is {tuple(tensor.shape)} in the weights but {tuple(expected[key].shape)} "
                "in the model"
            )
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    parts = [f"{len(missing)} tensors missing (e.g. {missing[0]})"] if missing else []
    parts += [f"{len(unexpected)} unexpected (e.g. {unexpected[0]})"] if unexpected else []
    return ", ".join(parts) or "tensor types differ"


_MAX_SIZE_ARGUMENT = 65_536


def check_shapes(weights: Path, meta_path: Path, meta: dict[str, Any]) -> None:
    """DataError naming the first difference when the model the `.json` describes does not
    have the tensors of the weights file: built on the meta device (shapes, no memory), so a
    `.json` asking for a network of 10^11 parameters is refused before anything is allocated.
    """
    kwargs = meta.get("kwargs", {})
    shapes = tensor_shapes(weights)
    # Even on the meta device every layer is a Python object: a `depth` of 10^8 would take
    # minutes and gigabytes to build. No network here has a size argument past this.
    ceiling = max(_MAX_SIZE_ARGUMENT, 64 * len(shapes))
    for key, value in kwargs.items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > ceiling:
            raise DataError(
                f"{meta_path} asks for {meta['model']} with {key}={value}, far more than the "
                f"{len(shapes)} tensors of {weights} can hold; the .json is damaged or belongs "
                "to other weights"
            )
    try:
        with torch.device("meta"):
            skeleton = create_model(meta["model"], **kwargs)
    except (ConfigError, TypeError, ValueError) as e:
        raise DataError(f"{meta_path} describes a model that cannot be built: {e}") from None
    except (RuntimeError, NotImplementedError):
        return  # a model that cannot be built without data: the load below checks it
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    for key, shape in expected.items():
        if key in shapes and shapes[key] != shape:
            raise DataError(
                f"{meta_path} does not match {weights}: the .json describes {meta['model']} "
                f"{json.dumps(kwargs, sort_keys=True)}, whose {key} is {shape}, but the "
                f"weights hold {shapes[key]}; the two files must come from the same checkpoint"
            )
    missing = [k for k in expected if k not in shapes]
    unexpected = [k for k in shapes if k not in expected]
    if missing or unexpected:
        parts = [f"{len(missing)} tensors missing (e.g. {missing[0]})"] if missing else []
        parts += [f"{len(unexpected)} unexpected (e.g. {unexpected[0]})"] if unexpected else []
        raise DataError(
            f"{weights} does not match {meta_path} ({meta['model']} {kwargs}): "
            f"{', '.join(parts)}; the two files must come from the same checkpoint"
        )


def load_checkpoint(
    path: str | Path, *, map_location: str = "cpu", fusion: bool | int = True
) -> tuple[nn.Module, dict]:
    """Rebuild the model named in the metadata and load its weights; returns (model, meta).

    A Noise2Void model comes wrapped in the noisy-pixel fusion its run config asks for
    (`models/fusion.py`); `fusion=False` gives the bare network (to read or train its
    weights), an int overrides the window (0: off). DataError when the weights' header names
    another model or kwargs than the `.json` (`check_header`).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights, meta_path, _ = _paths(path)
    meta = read_meta(path)
    check_header(weights, meta_path, meta)
    verify_files(path, meta)
    kwargs = meta.get("kwargs", {})
    check_shapes(weights, meta_path, meta)  # before any memory is taken for the model
    try:
        model = create_model(meta["model"], **kwargs)
    except (ConfigError, TypeError, ValueError, RuntimeError, MemoryError) as e:
        raise DataError(f"{meta_path} describes a model that cannot be built: {e}") from None
    try:
        state = load_file(str(weights), device=map_location)
    except (SafetensorError, OSError) as e:
        raise DataError(f"cannot read checkpoint weights {weights}: {e}") from None
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise DataError(
            f"{weights} does not match {meta_path} ({meta['model']} {kwargs}): "
            f"{_mismatch(model, state)}; the two files must come from the same checkpoint"
        ) from None
    model.eval()
    if getattr(model, "noise_aware", False):
        model.sigma_estimator = trained_estimator(meta)
    if fusion is not False:
        from ..models.fusion import with_fusion

        train_config = dict(meta.get("config", {}).get("train", {}))
        if fusion is not True:
            train_config["fusion_window"] = fusion
        model = with_fusion(model, train_config)
    return model, meta


def trained_estimator(meta: dict[str, Any]) -> str:
    """The noise-level estimator a noise-aware checkpoint should be run blind with.

    Weights that learned from estimated levels (`noise.level: auto`, or a self-supervised
    objective) learned the Haar reading's scale, bias included, so they get "haar"; weights
    that learned from the true level get the most accurate reading, the default estimator.
    """
    from ..noise.estimate import DEFAULT_ESTIMATOR

    config = meta.get("config") or {}
    level = (config.get("noise") or {}).get("level", "image")
    objective = (config.get("train") or {}).get("objective", "supervised")
    return "haar" if level == "auto" or objective != "supervised" else DEFAULT_ESTIMATOR


def load_training_state(
    path: str | Path, optimizer: torch.optim.Optimizer, scheduler: Any = None
) -> dict[str, Any]:
    """Restore optimizer (and scheduler) state saved by `save_checkpoint`; returns the metadata."""
    from safetensors.torch import load_file

    _, _, optim_path = _paths(path)
    meta = read_meta(path)
    if "optimizer" not in meta or not optim_path.is_file():
        raise DataError(f"{optim_path} missing: this checkpoint cannot resume training")
    verify_files(path, meta, optimizer=True)
    optimizer.load_state_dict(_unflatten_optimizer(load_file(str(optim_path)), meta["optimizer"]))
    if scheduler is not None and meta.get("scheduler"):
        scheduler.load_state_dict(meta["scheduler"])
    return meta


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for idx, values in state["state"].items():
        plain[str(idx)] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{key}"] = value.detach().contiguous().cpu()
            else:
                plain[str(idx)][key] = value
    return tensors, {"state": plain, "param_groups": state["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in rest["state"].items()}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    return {"state": state, "param_groups": rest["param_groups"]}
