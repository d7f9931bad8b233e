"""Classifier networks, labels from class folders, and the scores."""

import pytest
import torch

from denoisekit.classify.metrics import confusion, scores
from denoisekit.classify.registry import classifier_names, create_classifier
from denoisekit.classify.train import class_labels
from denoisekit.errors import ConfigError, DataError, UnknownNameError


@pytest.mark.parametrize("name", classifier_names())
def test_every_classifier_gives_logits_and_gradients_on_odd_sizes(name):
    model = create_classifier(name, num_classes=3)
    logits = model(torch.rand(2, 3, 37, 31))
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unknown_classifiers_and_arguments_are_one_line_errors():
    with pytest.raises(UnknownNameError, match="resnet-small"):
        create_classifier("resnet-smal")
    with pytest.raises(ConfigError, match="widths"):
        create_classifier("resnet-small", width=[8])


def test_labels_come_from_class_folders():
    names = ["Siirt/b.jpg", "Kirmizi/a.jpg", "Kirmizi/c.jpg"]
    labels, classes = class_labels(names)
    assert classes == ["Kirmizi", "Siirt"] and labels.tolist() == [1, 0, 0]
    with pytest.raises(DataError, match="class folder"):
        class_labels(["Other/x.jpg"], classes)
    with pytest.raises(DataError, match="two or more"):
        class_labels(["a.jpg", "b.jpg"])


def test_scores_against_hand_counts():
    labels = [0, 0, 0, 1, 1]
    predicted = [0, 0, 1, 1, 0]
    assert confusion(labels, predicted, 2) == [[2, 1], [1, 1]]
    s = scores(labels, predicted, 2)
    assert s["accuracy"] == pytest.approx(3 / 5)
    # F1 of class 0: 2 * 2 / (3 + 3); of class 1: 2 * 1 / (2 + 2); macro is their mean
    assert s["f1"] == pytest.approx((4 / 6 + 2 / 4) / 2)


def test_training_keeps_the_best_epoch_and_stops_where_told(tmp_path):
    from denoisekit.classify.config import ClassifierConfig
    from denoisekit.classify.train import finished_run, load_classifier, train_classifier

    torch.manual_seed(0)
    images = torch.rand(8, 3, 12, 12)
    images[4:, 0] += 0.5  # class 1 is redder
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    config = ClassifierConfig()
    config.model.kwargs = {"widths": [4, 8]}
    config.train.epochs, config.train.stop_after, config.train.batch_size = 3, 2, 4
    result = train_classifier(
        config,
        (images.clamp(0, 1), labels),
        (images.clamp(0, 1), labels),
        tmp_path,
        classes=["a", "b"],
        progress=False,
    )
    assert [row["epoch"] for row in result["history"]] == [1, 2]
    best = max(result["history"], key=lambda row: row["val_accuracy"])
    assert result["best_val_accuracy"] == best["val_accuracy"]
    model, meta = load_classifier(result["checkpoint"])
    assert meta["epoch"] == result["best_epoch"] and model.num_classes == 2
    assert finished_run(tmp_path, config, ["a", "b"], 0) is not None
    config.train.stop_after = 3  # another config: not the finished run
    assert finished_run(tmp_path, config, ["a", "b"], 0) is None


def test_a_moving_average_of_the_weights_is_what_is_judged_and_kept(tmp_path):
    from denoisekit.classify.config import ClassifierConfig
    from denoisekit.classify.train import load_classifier, predict, train_classifier

    torch.manual_seed(0)
    images = torch.rand(8, 3, 12, 12)
    images[4:, 0] += 0.5
    images = images.clamp(0, 1)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    kept = {}
    for ema in (None, 0.5):
        config = ClassifierConfig()
        config.model.kwargs = {"widths": [4, 8]}
        config.train.epochs, config.train.batch_size, config.train.ema = 2, 4, ema
        result = train_classifier(
            config,
            (images, labels),
            (images, labels),
            tmp_path / str(ema),
            classes=["a", "b"],
            progress=False,
        )
        model, _ = load_classifier(result["checkpoint"])
        best = max(result["history"], key=lambda row: row["val_accuracy"])
        # the kept weights score what the history says the judged weights scored
        accuracy = float((predict(model, images) == labels).float().mean())
        assert accuracy == pytest.approx(best["val_accuracy"])
        kept[ema] = model.state_dict()
    changed = [k for k in kept[None] if not torch.equal(kept[None][k], kept[0.5][k])]
    assert changed  # the average is not the raw weights
    config.train.ema = 1.0
    with pytest.raises(ConfigError, match="ema"):
        train_classifier(
            config, (images, labels), (images, labels), tmp_path / "x", classes=["a", "b"]
        )
