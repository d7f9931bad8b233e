"""Data sets as in-memory `ImageSet`s, named or from any folder, and training patches.

from denoisekit.data import load_dataset
train = load_dataset("pistachio", split="train", size=100)   # (3, 100, 100) each
clean = train.stack()                                         # (N, 3, 100, 100)
"""

from .folder import SPLITS, ImageSet, list_images, load_folder, split_indices
from .patches import PatchDataset, augment, dihedral, random_patch_batch
from .registry import DATASETS, dataset_names, load_dataset, resolve_data_root

__all__ = [
    "DATASETS",
    "SPLITS",
    "ImageSet",
    "PatchDataset",
    "augment",
    "dataset_names",
    "dihedral",
    "list_images",
    "load_dataset",
    "load_folder",
    "random_patch_batch",
    "resolve_data_root",
    "split_indices",
]
