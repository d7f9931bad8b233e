"""The typed settings of a classifier run (a `classifier:` section of a downstream config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import ModelConfig


def _resnet() -> ModelConfig:
    return ModelConfig(name="resnet-small")


@dataclass
class ClassifierTrainConfig:
    epochs: int = 15
    batch_size: int = 32
    lr: float = 2e-3  # AdamW, cosine to lr / 100 over the run
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    # judge and keep an exponential moving average of the weights (and batch-norm statistics),
    # updated every step with this decay (e.g. 0.995), instead of the weights themselves
    ema: float | None = None
    eval_batch_size: int = 64
    # end after this epoch, the schedule still spanning `epochs` (as a time limit would)
    stop_after: int | None = None


@dataclass
class ClassifierAugmentConfig:
    dihedral: bool = True  # one of the 8 flips / quarter turns per image
    jitter: float = 0.0  # brightness / contrast jitter (data/jitter_crops.py)
    crop_scale: float = 1.0  # random resized crops of [crop_scale, 1] of the area; 1: off


@dataclass
class NoiseAugmentConfig:
    """Training on noisy images, the alternative to denoising before classifying: each
    training image gets one of `noises` (drawn uniformly), stored as `storage` says, except a
    `clean_fraction` of them that stay clean. No noises: a clean-only classifier."""

    noises: list[str] = field(default_factory=list)
    clean_fraction: float = 0.25
    storage: str | None = "8bit"
    # start from the clean classifier's weights (fine-tuning on noisy images) instead of from
    # scratch, for `epochs` at `lr` (None: the classifier's own)
    from_clean: bool = False
    epochs: int | None = None
    lr: float | None = None


@dataclass
class ClassifierConfig:
    model: ModelConfig = field(default_factory=_resnet)
    train: ClassifierTrainConfig = field(default_factory=ClassifierTrainConfig)
    augment: ClassifierAugmentConfig = field(default_factory=ClassifierAugmentConfig)
    noise: NoiseAugmentConfig = field(default_factory=NoiseAugmentConfig)
