"""A convolution-layer explorer that runs in the browser: no Python kernel, no network.

:func:`conv_explorer_html` returns one self-contained block of HTML (a ``<style>``, a ``<div>``
and a plain-JavaScript ``<script>``, no external file, font or framework) that works wherever
HTML output runs its scripts: on the book's static pages, in Jupyter and in Colab. The reader
sets the input's height, width and channels and the layer's kernel size, stride, padding,
dilation, number of filters, groups and bias, and sees

* the output volume ``C_out × H_out × W_out`` with ``H_out = ⌊(H + 2P − D(K − 1) − 1) / S⌋ + 1``
  worked out for both axes;
* a warning when ``S`` does not divide ``H + 2P − D(K − 1) − 1``, naming the input rows and
  columns the floor leaves unread (and, separately, those that fall between dilated taps);
* an error when the dilated kernel does not fit in the padded input, or groups do not divide;
* the parameters (weights plus biases) and multiply-adds per image, as
  :func:`cnnutils.geometry.conv2d_cost` counts them;
* the window sliding over one channel of the padded input, with play/pause, step and a slider.

The arithmetic is the pure function ``window.cnnConvExplorer.compute({...})`` in the page, the
JavaScript twin of :func:`~cnnutils.geometry.conv2d_cost`,
:func:`~cnnutils.geometry.conv_output_size`, :func:`~cnnutils.geometry.window_taps` and
:func:`~cnnutils.geometry.untouched_indices`; the tests compare them setting by setting.

Each explorer's HTML is a deterministic function of the arguments (nbval compares it), and the
elements' ids derive from ``element_id``, so several explorers can share a page.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING

from cnnutils._checks import _bool, _int, _str

if TYPE_CHECKING:  # pragma: no cover
    from IPython.display import HTML

__all__ = [
    "EXPLORER_LIMITS",
    "EXPLORER_PRESETS",
    "conv_explorer_html",
    "display_conv_explorer",
]

#: The range of each control, inclusive; the page refuses values outside it.
EXPLORER_LIMITS: MappingProxyType[str, tuple[int, int]] = MappingProxyType(
    {
        "height": (1, 256),
        "width": (1, 256),
        "in_channels": (1, 4096),
        "kernel_size": (1, 15),
        "stride": (1, 8),
        "padding": (0, 16),
        "dilation": (1, 8),
        "out_channels": (1, 4096),
        "groups": (1, 4096),
    }
)


def _preset(height, width, c_in, k, s, p, d, c_out, groups=1) -> dict[str, int]:
    values = (height, width, c_in, k, s, p, d, c_out, groups)
    return dict(zip(EXPLORER_LIMITS, values, strict=True))


#: The presets of the explorer's "try" menu as (label, settings) pairs, every one a valid layer.
EXPLORER_PRESETS: tuple[tuple[str, dict[str, int]], ...] = (
    ("7×7, 3×3, stride 3: a row is lost", _preset(7, 7, 3, 3, 3, 0, 1, 2)),
    ("7×7, 3×3, stride 3, padding 1", _preset(7, 7, 3, 3, 3, 1, 1, 2)),
    ("VGG: 3×3, stride 1, padding 1", _preset(14, 14, 64, 3, 1, 1, 1, 64)),
    ("AlexNet conv1 on 224×224", _preset(224, 224, 3, 11, 4, 0, 1, 96)),
    ("AlexNet conv1 on 227×227", _preset(227, 227, 3, 11, 4, 0, 1, 96)),
    ("dilation 2", _preset(7, 7, 2, 3, 1, 0, 2, 1)),
    ("dilation 2, stride 2: gaps", _preset(9, 9, 1, 3, 2, 0, 2, 1)),
    ("1×1 bottleneck 192 → 16", _preset(28, 28, 192, 1, 1, 0, 1, 16)),
    ("5×5, 192 → 32 on 28×28, padding 2", _preset(28, 28, 192, 5, 1, 2, 1, 32)),
    ("depthwise 3×3, groups 256", _preset(14, 14, 256, 3, 1, 1, 1, 256, 256)),
)

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@cache
def _asset(name: str) -> str:
    text = resources.files("cnnutils.course").joinpath("static", name).read_text(encoding="utf-8")
    lowered = text.lower()
    # Inside <script> and <style>, these would end or confuse the element.
    assert "</script" not in lowered and "<!--" not in lowered and "</style" not in lowered, name
    return text


def conv_explorer_html(
    *,
    element_id: str = "conv-explorer",
    height: int = 7,
    width: int = 7,
    in_channels: int = 3,
    kernel_size: int = 3,
    stride: int = 2,
    padding: int = 1,
    dilation: int = 1,
    out_channels: int = 2,
    groups: int = 1,
    bias: bool = True,
    presets: bool = True,
) -> str:
    """The HTML of a convolution-layer explorer that computes and animates in the browser.

    The arguments are the explorer's starting settings; the reader changes them on the page.
    One value per hyperparameter applies to both axes (square kernels, equal strides), while
    height and width are separate. A setting PyTorch would reject (a kernel larger than the
    padded input, groups that do not divide the channels) is allowed: the explorer then opens
    on its error message.

    Args:
        element_id: the id of the explorer's outer ``<div>``, unique on the page; the ids of
            its controls are ``f"{element_id}-stride"`` and so on. Letters, digits, ``-`` and
            ``_``, starting with a letter, at most 64 characters.
        height: ``H`` of the input, in ``EXPLORER_LIMITS["height"]`` (as every argument below).
        width: ``W`` of the input.
        in_channels: ``C_in``.
        kernel_size: ``K``, the kernel is ``K × K``.
        stride: ``S``.
        padding: ``P`` zeros per side.
        dilation: ``D``; 1 means no gaps.
        out_channels: ``C_out``, the number of filters.
        groups: ``G``, as in ``nn.Conv2d``.
        bias: whether the layer has biases (one per filter).
        presets: whether to offer the "try" menu of :data:`EXPLORER_PRESETS`.

    Returns:
        A self-contained HTML string, the same for the same arguments. In the page,
        ``window.cnnConvExplorer.compute(settings)`` is the pure arithmetic and
        ``window.cnnConvExplorer.instances[element_id]`` the explorer.

    Raises:
        TypeError: ``element_id`` not a string, a setting not an int, ``bias`` or ``presets``
            not a bool.
        ValueError: a malformed ``element_id``, or a setting outside ``EXPLORER_LIMITS``.

    Example:
        >>> html = conv_explorer_html(element_id="demo", stride=3, padding=0)
        >>> html.startswith('<div id="demo" class="cnn-conv-explorer')
        True
        >>> html == conv_explorer_html(element_id="demo", stride=3, padding=0)
        True
    """
    fn = "conv_explorer_html"
    _str(element_id, "element_id", fn)
    if not _ID.fullmatch(element_id):
        raise ValueError(
            f"{fn}: element_id must start with a letter and hold only letters, digits, '-' "
            f"and '_' (at most 64 characters), got {element_id!r}"
        )
    settings = {
        "height": height,
        "width": width,
        "in_channels": in_channels,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "out_channels": out_channels,
        "groups": groups,
    }
    values: dict[str, int | bool] = {
        name: _int(value, name, fn, *EXPLORER_LIMITS[name]) for name, value in settings.items()
    }
    values["bias"] = _bool(bias, "bias", fn)
    presets = _bool(presets, "presets", fn)
    config = {
        "values": values,
        "limits": {name: list(bounds) for name, bounds in EXPLORER_LIMITS.items()},
        "presets": [
            {"name": name, "values": {**preset, "bias": True}} for name, preset in EXPLORER_PRESETS
        ]
        if presets
        else [],
    }
    config_json = json.dumps(config, sort_keys=True, separators=(",", ":"))
    mount = (
        "(function (script) {\n"
        "  var root = (script && script.closest && script.closest('.cnn-conv-explorer')) ||\n"
        f"    document.getElementById({json.dumps(element_id)});\n"
        f"  window.cnnConvExplorer.mount(root, {config_json});\n"
        "})(document.currentScript);\n"
    )
    return (
        f'<div id="{element_id}" class="cnn-conv-explorer tex2jax_ignore mathjax_ignore">\n'
        f"<style>\n{_asset('conv_explorer.css')}</style>\n"
        '<div class="cce-mount"><p>A convolution-layer explorer: it needs JavaScript, which '
        "runs on the book's website, in Jupyter and in Colab.</p></div>\n"
        f"<script>\n{_asset('conv_explorer.js')}{mount}</script>\n"
        "</div>\n"
    )


def display_conv_explorer(**settings: int | bool | str) -> HTML:
    """:func:`conv_explorer_html` wrapped for display: the last line of a notebook cell.

    Args:
        **settings: the keyword arguments of :func:`conv_explorer_html`.

    Returns:
        An ``IPython.display.HTML`` object whose ``data`` is the explorer's HTML.

    Example:
        >>> shown = display_conv_explorer(element_id="demo")
        >>> shown.data == conv_explorer_html(element_id="demo")
        True
    """
    from IPython.display import HTML

    return HTML(conv_explorer_html(**settings))
