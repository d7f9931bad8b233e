"""Training: the Fabric loop, losses and safetensors checkpoints."""

from .checkpoint import load_checkpoint, save_checkpoint
from .loop import TrainResult, train

__all__ = ["TrainResult", "load_checkpoint", "save_checkpoint", "train"]
