"""Tests of tools/devicelint.py: each device rule on small made-up cells, flagged and not."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from devicelint import check_cells, main


def _check(*cells: str) -> list[str]:
    return check_cells(*cells, host_callables={"evaluate"})


def test_rules_on_examples():
    assert _check("x = torch.randn(3, generator=generator).to(device)") == []
    assert _check("x = torch.randn(3)") == ["0:1:rng-generator"]
    assert _check("x = torch.rand(3, generator=g, device=device)") == ["0:1:rng-device"]
    assert _check("w = torch.empty(3).normal_()") == ["0:1:rng-generator"]
    assert _check("y = torch.randn_like(x)") == ["0:1:rng-generator"]
    assert _check("x = x.cuda()") == ["0:1:cuda-literal"]
    assert _check('x = x.to("cuda")') == ["0:1:cuda-literal"]
    assert _check('x = torch.zeros(3, device="cuda:0")') == ["0:1:cuda-literal"]
    assert _check('d = torch.device("cuda" if ok else "cpu")') == []
    # flow-sensitive: a name is on the device only after it is moved, until it is reassigned
    assert _check("a = t.numpy()", "t = t.to(device)", "b = t.numpy()") == ["2:1:numpy-on-device"]
    assert _check("t = t.to(device)", "t = t.cpu()", "b = t.numpy()") == []
    assert _check("t = t.to(device)", "b = t.detach().cpu().numpy()") == []
    assert _check("t = t.to(device)", "y = net(t)[0]", "np.asarray(y)") == ["2:1:numpy-on-device"]
    assert _check("net.to(device)", "out = net(x)", "out") == ["2:1:print-device-tensor"]
    assert _check("t = t.to(device)", "ax.imshow(t[0])") == ["1:1:numpy-on-device"]
    assert _check("t = t.to(device)", "print(t)", "print(t.shape, round(t.sum().item(), 3))") == [
        "1:1:print-device-tensor"
    ]
    assert _check("t = t.to(device)", 'print(f"{t.sum():.3f} {t}")') == ["1:1:print-device-tensor"]
    assert _check('print(f"on {device}")', "print(x.device)") == [
        "0:1:print-device",
        "1:1:print-device",
    ]
    floats = 'print(f"{t.sum().item()} {t.mean().item():.3f} {(t > 0).sum().item()}")'
    assert _check("t = t.to(device)", floats, "print(float(t.max()))") == [
        "1:1:print-device-float",
        "2:1:print-device-float",
    ]
    # host values: .item(), float(), helpers that return floats, annotated cnnutils functions
    src = "def err(a, b):\n    return ((a - b).norm() / b.norm()).item()\n"
    assert _check("t = t.to(device)", src, "e = err(t, t)", "e", "evaluate(net, t)") == []
    assert _check("t = t.to(device)", "t.numpy()  # device: ok (never on CUDA)") == []
    assert _check("%matplotlib inline\nif x:\n    %pip install y\n") == []


def test_the_command_line_reports_and_fails(tmp_path, capsys):
    cell = {"cell_type": "code", "source": "x = torch.randn(3)", "metadata": {}, "id": "a"}
    bad = tmp_path / "bad.ipynb"
    bad.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    assert main([str(bad)]) == 1
    assert "rng-generator" in capsys.readouterr().out
