"""Tests of cnnutils.training.loop: reproducible, learns, steps schedulers, fails early."""

from __future__ import annotations

import io
import math

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn
from tqdm.std import tqdm as tqdm_std

from cnnutils.data.augment import random_shift
from cnnutils.data.datasets import ImageDataset, load_mnist
from cnnutils.data.shapes import make_shapes
from cnnutils.models.lenet5 import lenet5
from cnnutils.training.loop import Evaluation, History, evaluate, fit, predict
from cnnutils.training.metrics import confusion_matrix
from cnnutils.viz.training import plot_confusion_matrix, plot_history


@pytest.fixture(scope="module")
def shapes() -> tuple[ImageDataset, ImageDataset]:
    """Zeros and ones of the MNIST subset, padded to 32×32: 160 to train, 40 to validate."""
    train, test = load_mnist()

    def zeros_and_ones(data: ImageDataset, n: int) -> ImageDataset:
        keep = torch.nonzero(data.y < 2).flatten()[:n]
        x = F.pad(data.x[keep], (2, 2, 2, 2))
        return ImageDataset(x, data.y[keep], ("0", "1"), "zeros and ones")

    return zeros_and_ones(train, 160), zeros_and_ones(test, 40)


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return lenet5(variant="modern", num_classes=2)


def run(train, val, *, seed=0, net_seed=0, epochs=2, **kwargs):
    net = small_net(net_seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    history = fit(net, train, val, epochs=epochs, optimizer=opt, batch_size=32, seed=seed,
                  device="cpu", **kwargs)  # fmt: skip
    return net, history


def test_same_seed_gives_the_same_history(shapes):
    train, val = shapes
    shift = lambda x, g: random_shift(x, 2, generator=g)  # noqa: E731
    _, first = run(train, val, augment=shift)
    _, second = run(train, val, augment=shift)
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        assert getattr(first, key) == getattr(second, key), key
    _, other = run(train, val, seed=1, augment=shift)
    assert other.train_loss != first.train_loss


def test_fit_learns_and_records_each_epoch(shapes):
    train, val = shapes
    net, history = run(train, val, epochs=6)
    assert history.epochs == 6 and len(history.val_accuracy) == 6 and len(history.time) == 6
    assert all(b > a for a, b in zip(history.time, history.time[1:], strict=False))
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_accuracy[-1] >= 0.9
    final = evaluate(net, val, device="cpu")
    assert final == Evaluation(history.val_loss[-1], history.val_accuracy[-1])
    assert history.time_to(0.0) == history.time[0] and history.time_to(1.01) == math.inf


def test_fit_without_validation(shapes):
    _, history = run(shapes[0], None, epochs=1)
    assert math.isnan(history.val_accuracy[0]) and math.isnan(history.val_loss[0])


def test_train_metrics_are_means_over_the_epoch():
    """With lr 0 nothing changes, so the training loss is the evaluation loss."""
    data = make_shapes(50, size=32, seed=1, shapes=["circle", "square"])
    no_bn = lenet5(variant="classic", num_classes=2, in_channels=3)  # no batch norm
    history = fit(no_bn, data, data, epochs=1, batch_size=16, device="cpu",
                  optimizer=torch.optim.SGD(no_bn.parameters(), lr=0.0))  # fmt: skip
    assert history.train_loss[0] == pytest.approx(history.val_loss[0], rel=1e-5)
    assert history.train_accuracy[0] == history.val_accuracy[0]


def test_schedulers_step_per_batch_or_per_epoch(shapes):
    train, _ = shapes
    net = small_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    steps = 2 * math.ceil(len(train) / 32)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    fit(net, train, None, epochs=2, optimizer=opt, scheduler=one_cycle, batch_size=32,
        device="cpu")  # fmt: skip
    assert one_cycle.last_epoch == steps
    step = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(net, train, None, epochs=2, optimizer=opt, scheduler=step,
                  scheduler_step="epoch", device="cpu")  # fmt: skip
    assert step.last_epoch == 2
    assert history.lr[1] == pytest.approx(history.lr[0] / 2)


def test_augment_receives_each_batch_and_the_generator(shapes):
    train, _ = shapes
    calls = []

    def augment(x, generator):
        calls.append((x.shape, isinstance(generator, torch.Generator)))
        return x

    run(train, None, epochs=1, augment=augment)
    # the first call is fit's rehearsal on a first batch, before training; then 5 batches
    assert [c[0][0] for c in calls] == [32] * (1 + 5) and all(c[1] for c in calls)


@pytest.mark.parametrize("options", [{"amp": True}, {"channels_last": True}])
def test_mixed_precision_and_channels_last_run_on_cpu(shapes, options):
    train, val = shapes
    _, history = run(train, val, epochs=1, **options)
    assert math.isfinite(history.train_loss[0])


def test_progress_bar_is_quiet_in_tests(shapes, capsys):
    run(shapes[0], None, epochs=1, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    ("progress", "env", "shown"),
    [(True, "", True), (True, "0", True), (True, "1", False), (True, "True", False),
     (False, "", False)],
)  # fmt: skip
def test_progress_bar_honours_tqdm_disable_even_in_notebooks(monkeypatch, progress, env, shown):
    """tqdm.notebook ignores TQDM_DISABLE, so fit passes disable= itself."""
    import cnnutils.training.loop

    seen = []

    def fake_tqdm(iterable, **kwargs):
        seen.append(kwargs["disable"])
        return tqdm_std(iterable, **kwargs, file=io.StringIO())

    monkeypatch.setenv("TQDM_DISABLE", env)
    monkeypatch.setattr(cnnutils.training.loop, "tqdm", fake_tqdm)
    data = ImageDataset(torch.zeros(4, 1, 32, 32), torch.tensor([0, 1, 0, 1]), ("0", "1"))
    run(data, None, epochs=1, progress=progress)
    assert seen == [not shown]


def test_evaluate_and_predict_match_a_manual_computation(shapes):
    _, val = shapes
    net = small_net().eval()
    with torch.no_grad():
        logits = net(val.x)
    result = evaluate(net, val, batch_size=7, device="cpu")
    assert result.loss == pytest.approx(F.cross_entropy(logits, val.y).item(), rel=1e-5)
    assert result.accuracy == pytest.approx((logits.argmax(1) == val.y).float().mean().item())
    assert torch.equal(predict(net, val.x, batch_size=7), logits.argmax(1))
    assert predict(net, val.x[:0]).shape == (0,)


def test_confusion_matrix_matches_sklearn():
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    g = torch.Generator().manual_seed(0)
    y_true, y_pred = (
        torch.randint(0, 4, (100,), generator=g),
        torch.randint(0, 4, (100,), generator=g),
    )
    expected = sk_confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=range(4))
    assert confusion_matrix(y_true, y_pred, 4).tolist() == expected.tolist()
    assert confusion_matrix(torch.tensor([0]), torch.tensor([0]), 3).sum() == 1


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), 2), ValueError,
         r"confusion_matrix: y_true and y_pred must be 1-D of the same length, got shapes "
         r"\(2,\) and \(1,\)"),
        (lambda: confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 2), ValueError,
         r"y_true must hold labels in \[0, 2\), got labels from 0 to 3"),
        (lambda: confusion_matrix(torch.tensor([0]), torch.tensor([0]), 0), ValueError,
         r"num_classes must be >= 1, got 0"),
        (lambda: predict(nn.Identity(), torch.zeros(3, 4)), ValueError,
         r"predict: x must be a tensor of shape \(N, C, H, W\), got shape \(3, 4\)"),
        (lambda: evaluate("net", None), TypeError,
         r"evaluate: model must be a torch.nn.Module, got str"),
        (lambda: plot_confusion_matrix(torch.zeros(2, 3), ["a", "b"]), ValueError,
         r"plot_confusion_matrix: matrix must be square with one row per class \(2\)"),
        (lambda: plot_history([]), TypeError, r"plot_history: histories must be a History"),
        (lambda: plot_history(History(), x="lr"), ValueError, r"x must be 'epoch' or 'time'"),
    ],
)  # fmt: skip
def test_helpers_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def bad_fit_calls(train, val):
    net = small_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    empty = train.subset(slice(0, 0))
    ten_classes = ImageDataset(train.x, train.y, tuple("0123456789"), "ten")
    small_images = train.map(lambda x: x[:, :, :28, :28])
    colour = train.map(lambda x: x.expand(-1, 3, -1, -1))
    return [
        ((net, empty, val), {}, ValueError, r"fit: train is empty \(zeros and ones\): need"),
        ((net, train, empty), {}, ValueError, r"fit: val is empty"),
        ((net, (train.x, train.y), val), {}, TypeError,
         r"fit: train must be a cnnutils.data.ImageDataset, got tuple"),
        (("net", train, val), {}, TypeError, r"fit: model must be a torch.nn.Module, got str"),
        ((net, train, small_images), {}, ValueError,
         r"fit: val images must have the shape of the train images \(1, 32, 32\), "
         r"got \(1, 28, 28\)"),
        ((net, ten_classes, None), {}, ValueError,
         r"fit: the model must output \(N, 10\) logits for the 10 classes of train, "
         r"got shape \(2, 2\)"),
        ((net, train, ten_classes), {}, ValueError,
         r"fit: val must have the 2 classes of train, got 10"),
        ((net, colour, None), {}, RuntimeError, r"expected input\[2, 3, 32, 32\] to have 1 "),
        ((net, train, val), {"epochs": 0}, ValueError, r"fit: epochs must be >= 1, got 0"),
        ((net, train, val), {"batch_size": 2.5}, TypeError, r"fit: batch_size must be an int"),
        ((net, train, val), {"optimizer": "sgd"}, TypeError,
         r"fit: optimizer must be a torch.optim.Optimizer, got str"),
        ((net, train, val), {"scheduler_step": "step"}, ValueError,
         r"scheduler_step must be 'batch' or 'epoch', got 'step'"),
    ], opt  # fmt: skip


def test_fit_fails_early_with_clear_messages(shapes):
    cases, opt = bad_fit_calls(*shapes)
    for args, overrides, error, match in cases:
        kwargs = {"epochs": 1, "optimizer": opt, "device": "cpu", **overrides}
        with pytest.raises(error, match=match):
            fit(*args, **kwargs)


def test_labels_out_of_range_cannot_reach_fit():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\) for 2 classes, got labels"):
        ImageDataset(torch.zeros(3, 3, 32, 32), torch.tensor([0, 1, 2]), ("a", "b"))


def test_plots_return_figures_not_registered_with_pyplot():
    before = plt.get_fignums()
    a = History([1.0, 0.5], [0.5, 0.8], [0.9, 0.6], [0.6, 0.7], [1.0, 2.0], [0.1, 0.1])
    b = History([1.0, 0.4], [0.5, 0.9], [math.nan] * 2, [math.nan] * 2, [0.5, 1.5], [0.1, 0.1])
    fig = plot_history({"a": a, "b": b}, x="time")
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 3  # a: train and validation, b: train only (no validation)
    assert acc_ax.get_xlabel() == "wall time (s)"
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()][:2] == [
        "a train",
        "a validation",
    ]
    cm = plot_confusion_matrix(torch.tensor([[5, 0], [1, 4]]), ("x", "y"))
    assert [t.get_text() for t in cm.axes[0].texts] == ["5", "0", "1", "4"]
    assert [t.get_text() for t in cm.axes[0].get_xticklabels()] == ["x", "y"]


# --- reproducible with dropout; nothing half-trained -----------------------------------------


def dropout_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(32 * 32, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2)
    )


def test_same_seed_gives_the_same_history_with_dropout(shapes):
    """Dropout draws from the global generator: fit seeds it for the run (whatever state the
    caller left it in) and gives the caller's state back."""
    train, val = shapes
    histories = []
    for caller_seed in (1, 2):
        net = dropout_net()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        torch.manual_seed(caller_seed)
        before = torch.get_rng_state()
        histories.append(fit(net, train, val, epochs=2, optimizer=opt, batch_size=32,
                             device="cpu"))  # fmt: skip
        assert torch.equal(torch.get_rng_state(), before)
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert getattr(histories[0], key) == getattr(histories[1], key), key
    net = dropout_net()
    other = fit(net, train, val, epochs=2, device="cpu", batch_size=32, seed=1,
                optimizer=torch.optim.SGD(net.parameters(), lr=0.1))  # fmt: skip
    assert other.train_loss != histories[0].train_loss


def bn_net() -> nn.Module:
    """Batch norm over features (N, 8): it cannot train on a batch of one image."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))


def test_a_last_batch_of_one_image_joins_the_batch_before(shapes):
    train, _ = shapes
    train = train.subset(slice(0, 4 * 32 + 1))  # 129 images: 32, 32, 32, 33
    sizes = []

    def augment(x, generator):
        sizes.append(len(x))
        return x

    net = bn_net()
    history = fit(net, train, None, epochs=2, optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                  batch_size=32, augment=augment, device="cpu")  # fmt: skip
    assert sizes == [32] + [32, 32, 32, 33] * 2  # the first one: the rehearsal before training
    assert math.isfinite(history.train_loss[-1])


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_unchanged(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    after = model.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), key


class InPlaceAfterSigmoid(nn.Module):
    """Its backward pass fails: sigmoid's output, needed for the gradient, is changed in place."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(32 * 32, 2)

    def forward(self, x):
        y = torch.sigmoid(self.linear(x.flatten(1)))
        return y.mul_(2.0)


def test_a_failing_training_step_leaves_the_weights_as_they_were(shapes):
    train, val = shapes
    one_image = train.subset(slice(0, 1))
    net = bn_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    steps = 5 * math.ceil(len(train) / 32)
    cases = [
        (bn_net(), one_image, {}, RuntimeError,
         r"fit: a training step on a first batch of 1 images failed, before any weight "
         r"changed: ValueError: Expected more than 1 value per channel"),
        (InPlaceAfterSigmoid(), train, {}, RuntimeError,
         r"before any weight changed: RuntimeError: .*modified by an inplace operation"),
        (bn_net(), train, {"loss_fn": lambda z, t: F.cross_entropy(z, t, reduction="none")},
         ValueError, r"fit: loss_fn must return one number, .* got shape \(32,\)"),
        (bn_net(), train, {"augment": lambda x, g: x[:, :, :8]}, RuntimeError,
         r"before any weight changed: RuntimeError: mat1 and mat2 shapes cannot be multiplied"),
        (bn_net(), train, {"epochs": 6, "scheduler": "one_cycle"}, ValueError,
         rf"fit: this run steps the scheduler {6 * steps // 5} times \(6 epochs × 5 batches\), "
         rf"but it has {steps} steps left \(total_steps={steps}\); build it with "
         rf"total_steps={6 * steps // 5}"),
        (bn_net(), train, {"optimizer": opt}, ValueError,
         r"fit: the optimizer holds none of the model's parameters"),
        (net, train, {"optimizer": opt, "scheduler": "other"}, ValueError,
         r"fit: scheduler must be a learning-rate scheduler of the optimizer passed to fit"),
        (net, train, {"optimizer": opt, "seed": -1}, ValueError, r"fit: seed must be >= 0"),
    ]  # fmt: skip
    for model, data, overrides, error, match in cases:
        kwargs = {"epochs": 1, "batch_size": 32, "device": "cpu", **overrides}
        kwargs.setdefault("optimizer", torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
        if kwargs.get("scheduler") == "one_cycle":
            kwargs["scheduler"] = torch.optim.lr_scheduler.OneCycleLR(
                kwargs["optimizer"], max_lr=0.1, total_steps=steps
            )
        elif kwargs.get("scheduler") == "other":
            other = torch.optim.SGD(bn_net().parameters(), lr=0.1)
            kwargs["scheduler"] = torch.optim.lr_scheduler.StepLR(other, step_size=1)
        model.train()
        before = state(model)
        with pytest.raises(error, match=match):
            fit(model, data, val, **kwargs)
        assert_unchanged(model, before)
        assert all(p.grad is None for p in model.parameters())
        assert not kwargs["optimizer"].state  # no momentum buffers: no step was taken


def test_the_rehearsal_changes_nothing(shapes):
    """Stop fit right after its rehearsal (at the first real batch): the weights, the batch-norm
    statistics and the gradients are as they were."""
    train, _ = shapes
    net = bn_net()
    with torch.no_grad():
        net[2].running_mean.fill_(0.5)
    net[1].weight.grad = torch.ones_like(net[1].weight)
    before = state(net)
    calls = []

    def augment(x, generator):
        calls.append(len(x))
        if len(calls) == 2:
            raise KeyboardInterrupt  # not an error of the model: passes through as it is
        return x

    with pytest.raises(KeyboardInterrupt):
        fit(net, train, None, epochs=1, optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
            batch_size=32, augment=augment, device="cpu")  # fmt: skip
    assert calls == [32, 32]
    assert_unchanged(net, before)
    assert torch.equal(net[1].weight.grad, torch.ones_like(net[1].weight))
