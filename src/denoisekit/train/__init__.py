"""Training: the Fabric loop, objectives, losses, recipes (checkpoints live in `checkpoints/`)."""

from .loop import TrainResult, train

__all__ = ["TrainResult", "train"]
