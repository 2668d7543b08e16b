"""The in-browser layer explorer (cnnutils.course.explorer), tested in headless Chromium.

1. Its arithmetic, ``window.cnnConvExplorer.compute``, against ``conv2d_cost``,
   ``conv_output_size``, ``window_taps`` and ``untouched_indices`` on about 1,500 settings,
   invalid ones included; its per-cell animation state against a brute-force replay.
2. The page as a reader uses it: typing values, picking presets, toggling the bias, stepping and
   playing the animation through every output position; with two explorers on one page, no
   console error and no request leaving the page; readable on light and dark pages.
3. The Python side's argument checks.
4. ``check_site_explorer``: the explorer on the built chapter 04 page (``$SITE_DIR``, default
   ``_build/html``), driven the same way, readable in the book's light and dark themes; skipped
   only when no site has been built.

The browser is ``$CHROMIUM`` (default ``/usr/bin/chromium``); Playwright never downloads one.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sitekit import PageRecorder, serve

from cnnutils import conv_output_size
from cnnutils.course.explorer import (
    EXPLORER_LIMITS,
    EXPLORER_PRESETS,
    conv_explorer_html,
    display_conv_explorer,
)
from cnnutils.geometry import conv2d_cost, untouched_indices, window_taps

REPO = Path(__file__).resolve().parents[2]
SITE_DIR = Path(os.environ.get("SITE_DIR", REPO / "_build" / "html")).resolve()
CHAPTER_PAGE = "notebooks/04_conv_layers.html"
TIMEOUT_MS = 15_000
NAMES = tuple(EXPLORER_LIMITS)


# --------------------------------------------------------------------------------------------
# Python-side references
# --------------------------------------------------------------------------------------------


def reference(s: dict[str, Any]) -> dict[str, Any] | None:
    """What ``compute(s)`` must return, from the package; ``None`` where PyTorch would refuse."""
    try:
        cost = conv2d_cost(
            (s["in_channels"], s["height"], s["width"]),
            s["out_channels"],
            s["kernel_size"],
            stride=s["stride"],
            padding=s["padding"],
            dilation=s["dilation"],
            groups=s.get("groups", 1),
            bias=s.get("bias", True),
        )
    except (TypeError, ValueError):
        return None
    k, st, p, d = s["kernel_size"], s["stride"], s["padding"], s["dilation"]
    assert cost.out_shape[1:] == conv_output_size((s["height"], s["width"]), k, st, p, d)
    axes = {}
    for name, size in (("rows", s["height"]), ("cols", s["width"])):
        taps = window_taps(size, k, st, p, d)
        never = untouched_indices(size, k, st, p, d)
        axes[name] = {
            "taps": taps,
            "never": never,
            "dropped": [i for i in never if i > taps[-1][-1]],
            "remainder": (size + 2 * p - d * (k - 1) - 1) % st,
        }
    return {
        "out_shape": list(cost.out_shape),
        "weight_shape": list(cost.weight_shape),
        "parameters": cost.parameters,
        "multiply_adds": cost.multiply_adds,
        "axes": axes,
        "warning": axes["rows"]["remainder"] != 0 or axes["cols"]["remainder"] != 0,
    }


def runs(indices: list[int]) -> str:
    """The page's way of writing index lists: ``[0, 1, 2, 5]`` -> ``"0–2, 5"``."""
    groups: list[list[int]] = []
    for i in indices:
        if groups and i == groups[-1][-1] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return ", ".join(str(g[0]) if len(g) == 1 else f"{g[0]}–{g[-1]}" for g in groups)


def _settings_grid() -> list[dict[str, Any]]:
    """About 1,500 settings: a seeded sample of small layers, the presets, and invalid ones."""
    space = itertools.product(
        (1, 2, 5, 7, 8, 12),  # height
        (1, 4, 7, 9),  # width
        (1, 2, 6),  # in_channels
        (1, 2, 3, 5),  # kernel_size
        (1, 2, 3, 4),  # stride
        (0, 1, 2),  # padding
        (1, 2, 3),  # dilation
        (1, 3, 6),  # out_channels
        (1, 2, 3),  # groups
        (True, False),  # bias
    )
    sample = random.Random(0).sample(list(space), 1_400)
    grid = [dict(zip((*NAMES, "bias"), values, strict=True)) for values in sample]
    grid += [{**values, "bias": True} for _, values in EXPLORER_PRESETS]
    base = {**EXPLORER_PRESETS[0][1], "bias": True}
    for name, bad in [
        ("stride", 0),
        ("stride", 2.5),
        ("stride", True),
        ("stride", "3"),
        ("stride", None),
        ("padding", -1),
        ("kernel_size", 0),
        ("kernel_size", 8),  # 8 > 7: does not fit
        ("dilation", 4),  # 4 * 2 + 1 = 9 > 7
        ("height", 0),
        ("groups", 2),  # does not divide 3 input channels
        ("groups", 0),
        ("out_channels", -2),
        ("bias", 1),
    ]:
        grid.append({**base, name: bad})
    return grid


# --------------------------------------------------------------------------------------------
# Browser fixtures
# --------------------------------------------------------------------------------------------


TWO_EXPLORERS = (
    "<!doctype html><html><head><meta charset='utf-8'><title>explorers</title></head><body>"
    + conv_explorer_html(element_id="first", stride=3, padding=0)
    + conv_explorer_html(element_id="second", height=9, width=9, in_channels=1, dilation=2)
    + "</body></html>"
)


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One page holding two explorers; it must stay free of errors and external requests."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    recorder = PageRecorder(page)
    page.set_content(TWO_EXPLORERS)
    page.wait_for_selector('#first[data-ready="true"]', state="attached")
    page.wait_for_selector('#second[data-ready="true"]', state="attached")
    try:
        yield page
    finally:
        context.close()
    recorder.assert_clean()


# --------------------------------------------------------------------------------------------
# 1. compute() against the package
# --------------------------------------------------------------------------------------------

_COMPUTE_ALL_JS = """
grid => grid.map(s => {
  const r = window.cnnConvExplorer.compute(s);
  if (!r.ok) return {ok: false, error: r.error};
  return {ok: true, out_shape: r.out_shape, weight_shape: r.weight_shape,
          parameters: r.parameters, multiply_adds: r.multiply_adds, remainder: r.remainder,
          warning: r.warning, gap_note: r.gap_note, never_read: r.never_read, dropped: r.dropped,
          gaps: r.gaps, row_taps: r.row_taps, col_taps: r.col_taps, positions: r.positions};
})
"""


def test_compute_agrees_with_the_package(page: Page) -> None:
    grid = _settings_grid()
    results = page.evaluate(_COMPUTE_ALL_JS, grid)
    counts = {"valid": 0, "invalid": 0, "warned": 0, "gaps": 0}
    for s, got in zip(grid, results, strict=True):
        want = reference(s)
        if want is None:
            assert not got["ok"] and got["error"], (s, got)
            counts["invalid"] += 1
            continue
        assert got["ok"], (s, got)
        counts["valid"] += 1
        for key in ("out_shape", "weight_shape", "parameters", "multiply_adds"):
            assert got[key] == want[key], (s, key, got[key], want[key])
        rows, cols = want["axes"]["rows"], want["axes"]["cols"]
        assert got["positions"] == want["out_shape"][1] * want["out_shape"][2]
        assert got["remainder"] == [rows["remainder"], cols["remainder"]], s
        assert (got["warning"] is not None) == want["warning"], (s, got["warning"])
        assert got["row_taps"] == rows["taps"] and got["col_taps"] == cols["taps"], s
        assert got["never_read"] == {"rows": rows["never"], "cols": cols["never"]}, s
        assert got["dropped"] == {"rows": rows["dropped"], "cols": cols["dropped"]}, s
        for axis, noun in ((rows, "row"), (cols, "column")):
            if axis["dropped"]:
                plural = noun + ("s" if len(axis["dropped"]) > 1 else "")
                assert f"input {plural} {runs(axis['dropped'])} " in got["warning"], (s, got)
        gaps = [i for a in (rows, cols) for i in a["never"] if i not in a["dropped"]]
        assert (got["gap_note"] is not None) == bool(gaps), (s, got["gap_note"])
        counts["warned"] += got["warning"] is not None
        counts["gaps"] += got["gap_note"] is not None
    # The grid exercises every branch, many times.
    assert min(counts.values()) >= 50, counts
    assert counts["valid"] + counts["invalid"] >= 1_400, counts


_CELL_STATES_JS = """
grid => grid.map(s => {
  const api = window.cnnConvExplorer, r = api.compute(s), p = s.padding, frames = [];
  for (let f = 0; f < r.positions; f++) {
    const cells = [];
    for (let y = -p; y < s.height + p; y++)
      for (let x = -p; x < s.width + p; x++) cells.push(api.cellState(r, f, y, x));
    frames.push(cells.join(" "));
  }
  return frames;
})
"""


def _replay(s: dict[str, Any]) -> list[str]:
    """Brute force: which cells each output position reads, and which were read before."""
    k, st, p, d = s["kernel_size"], s["stride"], s["padding"], s["dilation"]
    rows = window_taps(s["height"], k, st, p, d)
    cols = window_taps(s["width"], k, st, p, d)
    every = {(r, q) for rr in rows for cc in cols for r in rr for q in cc}
    frames, read = [], set()
    for ri, ci in itertools.product(rows, cols):
        taps = {(r, q) for r in ri for q in ci}
        cells = []
        for r in range(-p, s["height"] + p):
            for q in range(-p, s["width"] + p):
                if (r, q) in taps:
                    cells.append("tap")
                elif not (0 <= r < s["height"] and 0 <= q < s["width"]):
                    cells.append("pad")
                elif (r, q) not in every:
                    cells.append("never")
                else:
                    cells.append("read" if (r, q) in read else "unread")
        frames.append(" ".join(cells))
        read |= taps
    return frames


def test_animation_cells_replay_the_windows(page: Page) -> None:
    grid = [
        {**dict(zip(NAMES, values, strict=True)), "bias": True}
        for values in [
            (7, 7, 1, 3, 3, 0, 1, 1, 1),
            (5, 6, 1, 3, 2, 1, 1, 1, 1),
            (9, 9, 1, 3, 2, 1, 2, 1, 1),
            (8, 5, 1, 2, 3, 2, 1, 1, 1),
            (6, 7, 1, 3, 1, 2, 3, 1, 1),
            (4, 4, 1, 1, 2, 0, 1, 1, 1),
        ]
    ]
    assert page.evaluate(_CELL_STATES_JS, grid) == [_replay(s) for s in grid]


def test_index_lists_are_compact(page: Page) -> None:
    fmt = "([xs, n]) => window.cnnConvExplorer.formatIndices(xs, n)"
    assert page.evaluate(fmt, [[0, 1, 2, 5, 7, 8], 8]) == "0–2, 5, 7–8" == runs([0, 1, 2, 5, 7, 8])
    assert page.evaluate(fmt, [list(range(0, 40, 2)), 3]) == "0, 2, 4, … (20 in all)"


# --------------------------------------------------------------------------------------------
# 2. The page as a reader uses it
# --------------------------------------------------------------------------------------------


def _text(page: Page, root: str, out: str) -> str:
    return page.inner_text(f'#{root} [data-out="{out}"]')


def _visible(page: Page, root: str, out: str) -> bool:
    return page.is_visible(f'#{root} [data-out="{out}"]')


def _type(page: Page, root: str, **values: int) -> None:
    """Type into the number fields like a reader (each keystroke fires an input event)."""
    for name, value in values.items():
        field = page.locator(f"#{root}-{name}")
        field.fill("")
        field.press_sequentially(str(value))


def _settings_on_page(page: Page, root: str) -> dict[str, Any]:
    values = {name: int(page.input_value(f"#{root}-{name}")) for name in NAMES}
    values["bias"] = page.is_checked(f"#{root}-bias")
    return values


def check_display(page: Page, root: str) -> dict[str, Any]:
    """The explorer's text agrees with the package for whatever settings its fields hold."""
    s = _settings_on_page(page, root)
    want = reference(s)
    if want is None:
        assert _visible(page, root, "error"), s
        assert _text(page, root, "shape") == "—"
        assert not _visible(page, root, "anim") and not _visible(page, root, "warning")
        return s
    assert not _visible(page, root, "error"), _text(page, root, "error")
    c_out, h_out, w_out = want["out_shape"]
    assert _text(page, root, "shape") == f"{c_out} × {h_out} × {w_out}"
    assert _text(page, root, "params").startswith(f"{want['parameters']:,} = ")
    assert _text(page, root, "macs").startswith(f"{want['multiply_adds']:,} per image")
    formula = _text(page, root, "formula")
    assert formula.strip().endswith(f"= {w_out}"), formula
    assert f"⌋ + 1 = {h_out}" in formula, formula
    assert _visible(page, root, "warning") == want["warning"], s
    if want["warning"]:
        warning = _text(page, root, "warning")
        for axis, noun in (("rows", "row"), ("cols", "column")):
            dropped = want["axes"][axis]["dropped"]
            if dropped:
                plural = noun + ("s" if len(dropped) > 1 else "")
                assert f"input {plural} {runs(dropped)} " in warning, warning
    assert _visible(page, root, "anim")
    assert page.get_attribute(f"#{root}", "data-positions") == str(h_out * w_out)
    return s


def check_animation(page: Page, root: str) -> None:
    """Step, step back, jump and play through every output position, in row-major order."""
    n = int(page.get_attribute(f"#{root}", "data-positions"))
    w_out = int(_text(page, root, "shape").split(" × ")[2])

    def button(action: str) -> None:
        page.click(f'#{root} [data-action="{action}"]')

    button("first")
    seen = []
    for step in range(n):
        if step:
            button("step")
        position = int(page.get_attribute(f"#{root}", "data-position"))
        i, j = divmod(position, w_out)
        assert _text(page, root, "position").startswith(
            f"output ({i}, {j}) · position {position + 1:,} of {n:,}"
        )
        seen.append(position)
    assert seen == list(range(n))
    button("step")  # no further than the last
    assert page.get_attribute(f"#{root}", "data-position") == str(n - 1)
    if n > 1:
        button("back")
        assert page.get_attribute(f"#{root}", "data-position") == str(n - 2)
    button("first")
    if n > 1:  # play and pause at the slowest speed (a second a step) ...
        page.select_option(f'#{root} [data-role="speed"]', label="slow")
        button("play")
        assert page.get_attribute(f"#{root}", "data-playing") == "true"
        assert page.inner_text(f'#{root} [data-action="play"]') == "⏸ pause"
        button("play")
        assert page.get_attribute(f"#{root}", "data-playing") == "false"
        assert int(page.get_attribute(f"#{root}", "data-position")) < n - 1
    page.select_option(f'#{root} [data-role="speed"]', label="fastest")  # ... then to the end
    button("play")
    page.wait_for_function(
        """([id, last]) => { const el = document.getElementById(id);
             return el.getAttribute("data-playing") === "false" &&
                    el.getAttribute("data-position") === String(last); }""",
        arg=[root, n - 1],
        timeout=TIMEOUT_MS,
    )
    page.select_option(f'#{root} [data-role="speed"]', label="normal")


def drive_explorer(page: Page, root: str, *, thorough: bool = True) -> None:
    """Use the explorer with id ``root`` like a reader; every displayed value is checked.

    ``thorough=False`` (the built site) skips the second animation, the groups and range
    errors, the slider and the tour of all presets.
    """
    check_display(page, root)
    # The slide's 7×7 input, 3×3 kernel, stride 3: row and column 6 are lost ...
    _type(page, root, height=7, width=7, in_channels=3, kernel_size=3, stride=3, padding=0)
    _type(page, root, dilation=1, out_channels=2, groups=1)
    page.set_checked(f"#{root}-bias", True)
    check_display(page, root)
    warning = _text(page, root, "warning")
    assert "input row 6 is never read" in warning and "input column 6 is never read" in warning
    check_animation(page, root)
    # ... padding 1 makes the division exact.
    _type(page, root, padding=1)
    assert not _visible(page, root, "warning")
    check_display(page, root)
    # Unequal sides, dilation gaps, no bias.
    _type(page, root, height=9, width=6, kernel_size=3, stride=2, padding=0, dilation=2)
    page.set_checked(f"#{root}-bias", False)
    s = check_display(page, root)
    assert "no biases" in _text(page, root, "params") and not s["bias"]
    assert _visible(page, root, "gaps") and "rows: input rows 1, 3, 5, 7" in _text(
        page, root, "gaps"
    ).lower().replace("\n", " ")
    if thorough:
        check_animation(page, root)
    page.set_checked(f"#{root}-bias", True)
    # A kernel larger than the padded input, then groups that do not divide: errors.
    _type(page, root, dilation=4)
    check_display(page, root)
    assert "does not fit" in _text(page, root, "error")
    preset = f'#{root} [data-role="preset"]'
    if not thorough:  # AlexNet's first layer on 224: column 223 is lost
        page.select_option(preset, label="AlexNet conv1 on 224×224")
        check_display(page, root)
        assert "input column 223 is never read" in _text(page, root, "warning")
        return
    _type(page, root, dilation=1, groups=2)
    check_display(page, root)
    assert "must divide" in _text(page, root, "error")
    _type(page, root, groups=1, stride=0)
    assert "stride S must be a whole number from 1 to" in _text(page, root, "error")
    _type(page, root, stride=1)
    check_display(page, root)
    # Presets: AlexNet's first layer on 224 (column 223 lost) and on 227 (exact).
    page.select_option(preset, label="AlexNet conv1 on 224×224")
    check_display(page, root)
    assert _text(page, root, "shape") == "96 × 54 × 54"
    assert "input column 223 is never read" in _text(page, root, "warning")
    page.select_option(preset, label="AlexNet conv1 on 227×227")
    check_display(page, root)
    assert _text(page, root, "shape") == "96 × 55 × 55" and not _visible(page, root, "warning")
    page.fill(f'#{root} [data-role="scrub"]', "3024")  # the slider: the last of 55 · 55
    assert _text(page, root, "position").startswith("output (54, 54) · position 3,025 of 3,025")
    for label, _ in EXPLORER_PRESETS:
        page.select_option(preset, label=label)
        check_display(page, root)


def test_the_reader_drives_the_explorer(page: Page) -> None:
    assert page.locator(".cnn-conv-explorer").count() == 2
    drive_explorer(page, "first")


def test_explorers_on_one_page_are_independent(page: Page) -> None:
    before = check_display(page, "second")
    _type(page, "first", stride=2, padding=1, kernel_size=3, dilation=1, groups=1)
    assert check_display(page, "second") == before
    assert before["dilation"] == 2 and before["height"] == 9
    assert _text(page, "second", "shape") == "2 × 4 × 4"
    ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
    assert len(ids) == len(set(ids)), "duplicate ids on the page"
    check_animation(page, "second")


_COLOURS_JS = """
sel => {
  // The element's text colour and the background it is drawn on: the backgrounds of it and its
  // ancestors composited from the page's canvas (white) up, alpha included.
  const parse = css => (css.match(/[\\d.]+/g) || []).map(Number);
  const el = document.querySelector(sel);
  const layers = [];
  for (let e = el; e; e = e.parentElement) layers.push(parse(getComputedStyle(e).backgroundColor));
  let bg = [255, 255, 255];
  for (const [r, g, b, a = 1] of layers.reverse()) {
    if (r === undefined) continue;
    bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
  }
  return [parse(getComputedStyle(el).color).slice(0, 3), bg];
}
"""


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of an element's text against the background it is drawn on."""

    def luminance(rgb: list[float]) -> float:
        lin = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    text, background = page.evaluate(_COLOURS_JS, selector)
    a, b = sorted((luminance(text), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def check_readable(page: Page, root: str) -> None:
    """Text, dimmed labels and the message boxes all contrast 4.5:1 or more (WCAG AA)."""
    for part in (
        '[data-out="shape"]',
        ".cce-key",
        ".cce-field > span",
        '[data-out="warning"]',
        '[data-out="error"]',
        '[data-out="position"]',
    ):
        selector = f"#{root} {part}"
        if page.locator(selector).first.is_visible():
            assert contrast(page, selector) >= 4.5, (root, part, contrast(page, selector))


def _page_colours(page: Page, background: str, text: str) -> None:
    page.evaluate(
        "([bg, fg]) => { document.body.style.background = bg; document.body.style.color = fg;"
        " document.documentElement.classList.toggle('page-restyled'); }",  # as a theme switch does
        [background, text],
    )


def test_readable_on_light_and_dark_pages(page: Page) -> None:
    _type(page, "first", height=7, width=7, kernel_size=3, stride=3, padding=0, dilation=1)
    _type(page, "second", kernel_size=11, dilation=1, padding=0)  # an error box
    cell = "() => getComputedStyle(document.getElementById('first')).getPropertyValue('--cce-cell')"
    light = page.evaluate(cell)
    for background, text, dark in [("#ffffff", "#222222", False), ("#121212", "#e6e6e6", True)]:
        _page_colours(page, background, text)
        page.wait_for_function(
            "dark => (document.getElementById('first').dataset.dark === 'true') === dark", arg=dark
        )
        assert (page.evaluate(cell) != light) == dark
        for root in ("first", "second"):
            check_readable(page, root)
    _page_colours(page, "", "")
    page.wait_for_function("() => document.getElementById('first').dataset.dark === undefined")


# --------------------------------------------------------------------------------------------
# 3. The Python side
# --------------------------------------------------------------------------------------------


def test_html_is_deterministic_self_contained_and_ids_follow_the_argument() -> None:
    html = conv_explorer_html(element_id="ex-1", stride=3)
    assert html == conv_explorer_html(element_id="ex-1", stride=3)
    assert html != conv_explorer_html(element_id="ex-1", stride=2)
    assert "http" not in html and "src=" not in html and "@import" not in html  # nothing fetched
    assert html.count("<script>") == 1 and html.count("</script>") == 1
    assert display_conv_explorer(element_id="ex-1", stride=3).data == html
    other = conv_explorer_html(element_id="ex-2", stride=3)
    assert other == html.replace('"ex-1"', '"ex-2"')  # only the id differs


def test_presets_are_valid_layers_within_the_limits() -> None:
    assert len({name for name, _ in EXPLORER_PRESETS}) == len(EXPLORER_PRESETS)
    for _, values in EXPLORER_PRESETS:
        assert reference(values) is not None, values
        for name, value in values.items():
            low, high = EXPLORER_LIMITS[name]
            assert low <= value <= high, (name, value)
        conv_explorer_html(**values)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"element_id": 3}, TypeError, r"conv_explorer_html: element_id must be a str, got int"),
        ({"element_id": "1st"}, ValueError, r"element_id must start with a letter.*got '1st'"),
        ({"element_id": "a b"}, ValueError, r"got 'a b'"),
        ({"element_id": 'x"><script>'}, ValueError, r"element_id must start"),
        ({"element_id": "x" * 65}, ValueError, r"at most 64 characters"),
        ({"stride": 2.5}, TypeError, r"conv_explorer_html: stride must be an int, got 2\.5"),
        ({"stride": True}, TypeError, r"stride must be an int, got True"),
        ({"stride": 0}, ValueError, r"conv_explorer_html: stride must be in \[1, 8\], got 0"),
        ({"padding": -1}, ValueError, r"padding must be in \[0, 16\], got -1"),
        ({"height": 257}, ValueError, r"height must be in \[1, 256\], got 257"),
        ({"out_channels": "8"}, TypeError, r"out_channels must be an int, got '8'"),
        ({"bias": 1}, TypeError, r"conv_explorer_html: bias must be a bool, got 1"),
        ({"presets": "no"}, TypeError, r"presets must be a bool, got 'no'"),
    ],
)
def test_bad_arguments_are_refused_clearly(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        conv_explorer_html(**kwargs)
    with pytest.raises(error, match=match):
        display_conv_explorer(**kwargs)


def test_unknown_arguments_and_positional_use_are_refused() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'strides'"):
        conv_explorer_html(strides=2)
    with pytest.raises(TypeError):
        conv_explorer_html("conv-explorer")  # keyword-only


def test_a_kernel_that_does_not_fit_opens_on_its_error(page: Page) -> None:
    html = conv_explorer_html(element_id="tiny", height=3, width=3, kernel_size=5, padding=0)
    page.evaluate(
        "html => { const d = document.createElement('div'); document.body.appendChild(d);"
        " d.innerHTML = html; for (const old of d.querySelectorAll('script')) {"
        " const s = document.createElement('script'); s.textContent = old.textContent;"
        " old.replaceWith(s); } }",
        html,
    )  # what JupyterLab does with a cell's HTML output
    assert _visible(page, "tiny", "error") and "does not fit" in _text(page, "tiny", "error")
    assert not _visible(page, "tiny", "anim")


# --------------------------------------------------------------------------------------------
# 4. The explorer on the built site
# --------------------------------------------------------------------------------------------


def check_site_explorer(browser: Browser, site_dir: Path = SITE_DIR) -> None:
    """Open chapter 04 of the built site offline and drive its explorer; raise if anything fails.

    The site is served from ``site_dir`` on 127.0.0.1; the page must hold exactly one explorer,
    mounted by its script, whose every output agrees with the package, with no console error
    and no request leaving the machine.
    """
    with serve(site_dir) as url:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, service_workers="block"
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            recorder = PageRecorder(page, url)
            page.goto(url + CHAPTER_PAGE, wait_until="load")
            explorers = page.locator(".cnn-conv-explorer")
            assert explorers.count() == 1, f"{CHAPTER_PAGE}: {explorers.count()} explorers"
            root = explorers.first.get_attribute("id")
            page.wait_for_selector(f'#{root}[data-ready="true"]', state="attached")
            page.locator(f"#{root}").scroll_into_view_if_needed()
            drive_explorer(page, root, thorough=False)
            _type(page, root, height=7, width=7, kernel_size=3, stride=3, padding=0, dilation=1)
            check_readable(page, root)
            for _ in range(3):  # the theme's switch cycles light -> dark -> auto
                if page.get_attribute("html", "data-theme") == "dark":
                    break
                page.click(".theme-switch-button")
            assert page.get_attribute("html", "data-theme") == "dark"
            check_display(page, root)
            check_readable(page, root)
            recorder.assert_clean()
        finally:
            context.close()


def test_explorer_on_the_built_site(browser: Browser) -> None:
    if not (SITE_DIR / CHAPTER_PAGE).is_file():
        pytest.skip(f"no built site: {SITE_DIR / CHAPTER_PAGE} does not exist (make book)")
    check_site_explorer(browser, SITE_DIR)
