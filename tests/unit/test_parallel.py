"""Tests of cnnutils.training.parallel: two DDP processes train the model one process trains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnutils.training.parallel import demo_problem, launch, shard, train_steps


def test_shard_splits_a_batch_in_order():
    x = torch.arange(8)
    assert torch.equal(torch.cat([shard(x, r, 4) for r in range(4)]), x)
    with pytest.raises(ValueError, match=r"shard: rank must be in \[0, 2\), got 2"):
        shard(x, 2, 2)
    with pytest.raises(
        ValueError, match="shard: the batch of 8 must split evenly over world_size=3"
    ):
        shard(x, 0, 3)


def test_two_half_batch_gradients_average_to_the_global_gradient():
    """What DDP's all-reduce relies on: the mean of equal-sized shard means is the global mean."""
    torch.manual_seed(0)
    model, x, y = demo_problem(images=16)
    model.double()
    x = x.double()
    grads = []
    for rank in range(2):
        model.zero_grad()
        nn.functional.cross_entropy(model(shard(x, rank, 2)), shard(y, rank, 2)).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    for g0, g1, p in zip(*grads, model.parameters(), strict=True):
        torch.testing.assert_close((g0 + g1) / 2, p.grad)


def test_train_steps_needs_enough_images():
    with pytest.raises(ValueError, match="train_steps: need steps · batch_size = 12 images, got 8"):
        train_steps(nn.Linear(2, 2), torch.zeros(8, 2), torch.zeros(8, dtype=torch.int64),
                    steps=3, batch_size=4)  # fmt: skip


def test_torchrun_two_processes_equal_one_process_with_the_global_batch(tmp_path):
    out = tmp_path / "ddp.pt"
    launch(out, nproc=2, steps=3, batch_size=32, timeout=180)
    saved = torch.load(out)
    model, x, y = demo_problem(images=96)
    single = train_steps(model, x, y, steps=3, batch_size=32)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(saved["state_dict"][name], value, rtol=0, atol=1e-6)
    # the global loss is the mean of the two processes' shard losses
    per_rank = torch.tensor(saved["losses"])  # (2, steps)
    torch.testing.assert_close(per_rank.mean(0), torch.tensor(single), rtol=1e-5, atol=1e-6)
    assert not torch.equal(per_rank[0], per_rank[1])
