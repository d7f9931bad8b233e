"""Accuracy, macro F1 and the confusion matrix of class predictions."""

from __future__ import annotations

from collections.abc import Sequence


def confusion(labels: Sequence[int], predicted: Sequence[int], classes: int) -> list[list[int]]:
    """`matrix[true][predicted]` counts."""
    if len(labels) != len(predicted):
        raise ValueError(f"{len(labels)} labels but {len(predicted)} predictions")
    matrix = [[0] * classes for _ in range(classes)]
    for true, guess in zip(labels, predicted, strict=True):
        matrix[int(true)][int(guess)] += 1
    return matrix


def scores(labels: Sequence[int], predicted: Sequence[int], classes: int) -> dict:
    """{"accuracy", "f1" (macro: the mean over classes of each class's F1), "confusion", "n"}."""
    matrix = confusion(labels, predicted, classes)
    n = sum(map(sum, matrix))
    correct = sum(matrix[c][c] for c in range(classes))
    f1s = []
    for c in range(classes):
        true_pos = matrix[c][c]
        said = sum(matrix[t][c] for t in range(classes))  # predicted as c
        actual = sum(matrix[c])
        f1s.append(2 * true_pos / (said + actual) if said + actual else 0.0)
    return {
        "accuracy": correct / n if n else float("nan"),
        "f1": sum(f1s) / classes,
        "confusion": matrix,
        "n": n,
    }
