"""Tests of cnnutils.training.parallel: two DDP processes train the model one process trains."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

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


def our_processes(marker: str) -> dict[int, str]:
    """Live processes whose command line holds ``marker`` (zombies have none)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in command:
            found[int(cmdline.parent.name)] = command
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc (Linux)")
def test_a_timed_out_launch_leaves_no_process_and_no_file(tmp_path, monkeypatch):
    """torchrun starts each worker in its own session: killing torchrun alone would orphan
    them, and they would write the model later. The timeout here fires once both workers run."""
    out = tmp_path / "never.pt"
    marker = f"--out={out}"
    seen = {}
    real_communicate = subprocess.Popen.communicate

    def communicate(self, input=None, timeout=None):
        if timeout != 0.01:  # not launch's own wait: the real thing
            return real_communicate(self, input, timeout)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen.update(
                {p: c for p, c in our_processes(marker).items() if "torch.distributed.run" not in c}
            )
            if len(seen) >= 2:
                break
            time.sleep(0.2)
        raise subprocess.TimeoutExpired(self.args, timeout)

    monkeypatch.setattr(subprocess.Popen, "communicate", communicate)
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        launch(out, nproc=2, steps=2000, batch_size=2, timeout=0.01)
    assert len(seen) == 2, "the two workers never started"
    assert time.monotonic() - start < 300
    assert our_processes(marker) == {}  # torchrun and both workers are gone
    time.sleep(1)  # a surviving worker would have written the model by now
    assert our_processes(marker) == {}
    assert not out.exists() and list(tmp_path.iterdir()) == []
