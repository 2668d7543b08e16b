"""Browser test of the built Jupyter Book site, fully offline.

Every page of the book (read from ``_toc.yml``, plus ``index.html``, ``genindex.html`` and
``search.html``) is opened in headless Chromium through a web server on 127.0.0.1, and must:

1. raise no JavaScript exception and log no console error (one known Sphinx 7 bug allowed);
2. load every same-origin resource (no failed request, no HTTP status >= 400);
3. make no request to any host other than this machine: the site must work offline, so a theme
   or extension that pulls scripts, fonts or styles from a CDN fails here (each request leaving
   127.0.0.1 is aborted and listed);
4. show no broken image;
5. contain no broken internal link, fragment included (``page.html#anchor`` needs ``id="anchor"``
   on the target page);
6. have its maths typeset by the vendored MathJax (``mjx-container`` elements appear, no TeX
   error), which proves MathJax is served from the site rather than a CDN;
7. on notebook pages (the chapters, and notebooks under ``book/``), carry exactly one "Open in
   Colab" link, to the URL ``_config.yml`` implies; other pages carry none;
8. have a non-empty ``<title>`` and ``<h1>``;
9. render every saved ipywidgets view with the vendored widgets HTML manager (no CDN);
10. on notebook pages, show the execution badge that ``tools/nbtool.py`` generates.

What a reader sees is checked page by page too, each check with its own list of offenders
(every page is opened once for all of them; see "What a reader sees" below):

- no ``assert`` in shown code (code folded behind a click, such as ``hide-input`` cells, is fine);
- no code block, output or table wider than its column at 1280 px, and no page that scrolls
  sideways on a 390 px phone screen;
- no path of the build machine, traceback or network error in an output (an error may show in
  a cell tagged ``raises-exception``, still without paths);
- real alt text on every image (not missing, not a file name);
- no serious or critical violation found by axe-core, which the test injects from
  ``_build/axe`` (``make vendor``); the site never ships it.

The notebook-side rules (asserts, outputs, alt text in cell metadata) also run on the notebooks'
JSON without a browser. Separate tests switch the theme to dark mode (no errors, a dark
background, no text below axe's contrast threshold), measure the contrast of the search field's
placeholder and hints in both modes, and run the Sphinx search offline.

A full-page screenshot of each page goes to ``_build/screenshots/`` before the assertions, so a
person can look at what the browser saw, failing or not.

The site comes from ``$SITE_DIR`` (default ``_build/html``; ``make book`` builds it), the browser
from ``$CHROMIUM`` (default ``/usr/bin/chromium``; Playwright never downloads one here).
"""

from __future__ import annotations

import html.parser
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from playwright.sync_api import (
    Browser,
    Page,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sitekit import (
    RAISES_TAG,
    PageRecorder,
    alt_text_problem,
    assert_lines,
    blend,
    contrast_ratio,
    error_texts,
    input_shown,
    is_local_url,
    layered_background,
    machine_paths,
    notebook_output_text,
    output_problems,
    parse_css_colour,
    relative_luminance,
    serve,
)

REPO = Path(__file__).resolve().parents[2]
SITE_DIR = Path(os.environ.get("SITE_DIR", REPO / "_build" / "html")).resolve()
SCREENSHOT_DIR = REPO / "_build" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000  # any single Playwright action or navigation
MATHJAX_TIMEOUT_MS = 10_000
SCREENSHOT_TIMEOUT_MS = 90_000  # a full-page capture of the API page (~100,000 px) is slow
COLAB_PREFIX = "https://colab.research.google.com/"
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")  # what a TOC `file:` entry may end with
EXTRA_PAGES = ("index.html", "genindex.html", "search.html")


# --------------------------------------------------------------------------------------------
# Which pages, and what the book's configuration expects of them
# --------------------------------------------------------------------------------------------


def _load_yaml(name: str) -> dict[str, Any]:
    with open(REPO / name, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _docname(entry: str) -> str:
    """``notebooks/01_x.ipynb`` or ``notebooks/01_x`` → ``notebooks/01_x``."""
    for suffix in SOURCE_SUFFIXES:
        if entry.endswith(suffix):
            return entry[: -len(suffix)]
    return entry


def toc_docnames(toc: dict[str, Any], root: Path = REPO) -> list[str]:
    """Document names in ``_toc.yml`` order: the root, then every ``file`` (and ``glob``) entry."""
    names = [_docname(toc["root"])]

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if "file" in node:
                names.append(_docname(str(node["file"])))
            if "glob" in node:
                matches = sorted(
                    p.relative_to(root).as_posix()
                    for p in root.glob(str(node["glob"]) + ".*")
                    if p.suffix in SOURCE_SUFFIXES
                )
                names.extend(_docname(m) for m in matches)
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key, []))

    walk(toc)
    return list(dict.fromkeys(names))


def is_notebook(page: str) -> bool:
    """Whether the page comes from a notebook (a chapter, or a notebook page such as conventions):
    the theme gives those a Colab link, and tools/nbtool.py an execution badge."""
    return (REPO / page).with_suffix(".ipynb").is_file()


def site_pages() -> list[str]:
    """Every page under test, as a path relative to the site folder."""
    pages = [f"{name}.html" for name in toc_docnames(_load_yaml("_toc.yml"))]
    return list(dict.fromkeys([*pages, *EXTRA_PAGES]))


def expected_colab_url(page: str, config: dict[str, Any]) -> str:
    """The Colab link sphinx-book-theme should put on a chapter page, from ``_config.yml``."""
    repo = config["repository"]
    org_repo = urlsplit(repo["url"]).path.strip("/").removesuffix(".git")
    book_path = (repo.get("path_to_book") or "").strip("/")
    book_path = f"{book_path}/" if book_path else ""
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    notebook = page.removesuffix(".html") + ".ipynb"
    return f"{colab}/github/{org_repo}/blob/{repo.get('branch', 'master')}/{book_path}{notebook}"


def screenshot_path(page: str) -> Path:
    return SCREENSHOT_DIR / (page.removesuffix(".html").replace("/", "__") + ".png")


# --------------------------------------------------------------------------------------------
# Link checking, browser-free (unit-tested below on a synthetic site)
# --------------------------------------------------------------------------------------------


class _IdCollector(html.parser.HTMLParser):
    """Every fragment target of an HTML document: ``id`` attributes and ``<a name>``."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (tag == "a" and key == "name")):
                self.ids.add(value)


def html_ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        collector = _IdCollector()
        collector.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = collector.ids
    return cache[path]


def link_problems(
    site: Path, page_url: str, hrefs: Iterable[str], id_cache: dict[Path, set[str]]
) -> list[str]:
    """Broken internal links among ``hrefs`` found on the page served at ``page_url``.

    Same-origin links are mapped onto files under ``site`` (a folder means its ``index.html``);
    the file must exist and, when the link has a fragment and targets HTML, hold that id.
    Links to other origins and non-HTTP schemes (``mailto:``, ``javascript:``) are not checked
    here: the browser-side guard is what proves nothing external is fetched.
    """
    base = urlsplit(page_url)
    problems: list[str] = []
    for href in dict.fromkeys(hrefs):
        target = urlsplit(urljoin(page_url, href))
        if target.scheme not in ("http", "https") or target.netloc != base.netloc:
            continue
        rel = unquote(target.path).lstrip("/")
        path = (site / rel).resolve()
        if target.path.endswith("/") or path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(site.resolve()):
            problems.append(f"{href!r}: outside the site folder")
            continue
        if not path.is_file():
            problems.append(f"{href!r}: no file {path.relative_to(site.resolve()).as_posix()}")
            continue
        fragment = unquote(target.fragment)
        if fragment and path.suffix == ".html" and fragment not in html_ids(path, id_cache):
            problems.append(f"{href!r}: no id {fragment!r} in {path.name}")
    return problems


def problem_report(page: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{len(problems)} problem(s) on {page}:\n{lines}\nscreenshot: {screenshot_path(page)}"


# --------------------------------------------------------------------------------------------
# Fixtures: the site on a loopback web server, one Chromium for the session
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"no built site at {SITE_DIR} (no index.html): run make book first")
    return SITE_DIR


@pytest.fixture(scope="module")
def server_url(site: Path) -> Iterator[str]:
    """Serve the site on 127.0.0.1 at a free port, in a daemon thread."""
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def book_config() -> dict[str, Any]:
    return _load_yaml("_config.yml")


@pytest.fixture(scope="module")
def id_cache() -> dict[Path, set[str]]:
    """The ids of every HTML file parsed so far, shared by the pages' link checks."""
    return {}


# --------------------------------------------------------------------------------------------
# The browser checks
# --------------------------------------------------------------------------------------------


def _redirect_target(site: Path, page: str) -> str | None:
    """Where a ``<meta http-equiv="refresh">`` page sends the browser, relative to the site."""
    text = (site / page).read_text(encoding="utf-8", errors="replace")
    match = re.search(r"""http-equiv=["']?refresh["']?[^>]*url=([^"'>\s]+)""", text, re.I)
    return urljoin(page, match.group(1)) if match else None


def _has_math(site: Path, page: str) -> bool:
    """Whether Sphinx wrote maths into the page (MathJax then has to typeset it)."""
    text = (site / page).read_text(encoding="utf-8", errors="replace")
    return re.search(r"""<(?:span|div)\b[^>]*class="(?:[^"]*\s)?math[\s"]""", text) is not None


_WAIT_FOR_IMAGES_JS = """
async () => {
  // Lazy images below the fold would never load in a headless check: load them all now.
  for (const img of document.images) img.loading = "eager";
  const pending = Array.from(document.images).filter(img => !img.complete);
  await Promise.race([
    Promise.all(pending.map(img => new Promise(done => {
      img.addEventListener("load", done, {once: true});
      img.addEventListener("error", done, {once: true});
    }))),
    new Promise(done => setTimeout(done, 5000)),
  ]);
  return Array.from(document.images)
    .filter(img => !img.complete || img.naturalWidth === 0)
    .map(img => img.getAttribute("src") || img.currentSrc || "(no src)");
}
"""

_MATH_STATE_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const maths = Array.from(document.querySelectorAll("span.math, div.math"));
  return {
    total: maths.length,
    untypeset: maths.filter(m => !m.querySelector("mjx-container"))
                    .map(m => m.textContent.trim().slice(0, 60)),
    errors: Array.from(document.querySelectorAll("mjx-merror"))
                 .map(e => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 60)),
  };
}
"""


def _math_problems(page: Page) -> list[str]:
    try:
        page.wait_for_selector("mjx-container", state="attached", timeout=MATHJAX_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        return [f"maths on the page but no mjx-container after {MATHJAX_TIMEOUT_MS} ms"]
    state = page.evaluate(_MATH_STATE_JS)
    problems = [f"maths left untypeset: {text!r}" for text in state["untypeset"]]
    problems += [f"MathJax TeX error: {text!r}" for text in state["errors"]]
    return problems


def _colab_problems(page: Page, path: str, config: dict[str, Any]) -> list[str]:
    hrefs = page.eval_on_selector_all(
        f'a[href^="{COLAB_PREFIX}"]', "links => links.map(a => a.getAttribute('href'))"
    )
    if not is_notebook(path):
        return [f"Colab link on a page that is not a notebook: {h}" for h in hrefs]
    expected = expected_colab_url(path, config)
    if hrefs == [expected]:
        return []
    return [f"expected exactly one Colab link {expected}, found {len(hrefs)}: {hrefs}"]


_WIDGET_STATE_JS = """
() => Array.from(
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')
).map(script => {
  const area = script.parentElement.querySelector(".widget-subarea .jupyter-widgets");
  return area === null ? script.textContent.trim().slice(0, 80) : null;
})
"""


def expected_widget_views(page: str) -> int:
    """Widget views the page's notebook displays (cells not removed from the site)."""
    source = (REPO / page).with_suffix(".ipynb")
    if not source.is_file():
        return 0
    count = 0
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or {"remove-output", "remove-cell"} & set(tags):
            continue
        count += sum(
            "application/vnd.jupyter.widget-view+json" in out.get("data", {})
            for out in cell.get("outputs", [])
        )
    return count


def _widget_problems(page: Page, path: str) -> list[str]:
    """Every saved widget view the notebook shows must be rendered by the vendored manager."""
    views = page.evaluate(_WIDGET_STATE_JS)
    problems = [f"widget view not rendered: {v}" for v in views if v is not None]
    expected = expected_widget_views(path)
    if len(views) != expected:
        problems.append(f"{len(views)} widget views on the page, the notebook shows {expected}")
    return problems


BADGE = re.compile(
    r"^Outputs generated \d{4}-\d{2}-\d{2} in \d+ s \((CPU, \d+ threads?|a CUDA GPU)\)"
)


def _badge_problems(page: Page, path: str) -> list[str]:
    if not is_notebook(path):
        return []
    badges = [t.strip() for t in page.locator(".chapter-badge").all_text_contents()]
    if len(badges) == 1 and BADGE.match(badges[0]):
        return []
    return [f"expected one execution badge matching {BADGE.pattern!r}, found {badges}"]


def _title_problems(page: Page) -> list[str]:
    problems = []
    if not page.title().strip():
        problems.append("empty <title>")
    headings = [t.strip() for t in page.locator("h1").all_text_contents()]
    if not any(headings):
        problems.append(f"no non-empty <h1> (found {headings})")
    return problems


def _open(browser: Browser, server_url: str) -> tuple[Page, PageRecorder]:
    """A fresh page in its own context, recorded against the site's origin."""
    context = browser.new_context(viewport=VIEWPORT, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    return page, PageRecorder(page, server_url)


@pytest.mark.parametrize("path", [pytest.param(p, id=p) for p in site_pages()])
def test_page(
    path: str,
    site: Path,
    server_url: str,
    browser: Browser,
    book_config: dict[str, Any],
    id_cache: dict[Path, set[str]],
) -> None:
    """Open one page offline in Chromium; every problem found is reported in one failure."""
    assert (site / path).is_file(), f"{path} is in the TOC but not in the site {site}"
    page, recorder = _open(browser, server_url)
    context = page.context
    problems: list[str] = []
    try:
        page.goto(server_url + path, wait_until="load")
        redirect = _redirect_target(site, path)
        if redirect is not None:
            page.wait_for_url(server_url + redirect, wait_until="load")
        page.wait_for_load_state("networkidle")
        shown = redirect or path  # the page actually on screen

        broken_images = page.evaluate(_WAIT_FOR_IMAGES_JS)
        if _has_math(site, shown):
            problems += _math_problems(page)
        problems += _colab_problems(page, shown, book_config)
        problems += _title_problems(page)
        problems += _widget_problems(page, shown)
        problems += _badge_problems(page, shown)
        hrefs = page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.getAttribute('href'))"
        )
        problems += [f"broken link {p}" for p in link_problems(site, page.url, hrefs, id_cache)]
        problems += [f"broken image {src}" for src in broken_images]
    except PlaywrightError as exc:  # a timeout or a crash is one more problem, not the only one
        problems.append(f"browser: {exc}".splitlines()[0])
    finally:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(
                path=screenshot_path(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS
            )
        except PlaywrightError as exc:
            problems.append(f"screenshot failed: {exc}".splitlines()[0])
        context.close()

    problems += recorder.problems()
    assert not problems, problem_report(path, problems)


CHAPTER_PAGES = [p for p in site_pages() if p.startswith("notebooks/")]


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_exercises_on_the_site(path: str, site: Path, server_url: str, browser: Browser) -> None:
    """Worked solutions start hidden and open with one click; every check shows as solved."""
    from cnnutils.course.exercises import exercise_ids

    chapter = Path(path).name[:2]
    page, recorder = _open(browser, server_url)
    try:
        page.goto(server_url + path, wait_until="networkidle")
        hidden = page.locator("div.cell.tag_hide-input:not(.tag_setup) > details.hide")
        solutions = hidden.filter(has=page.locator("span.c1", has_text="# Solution"))
        assert solutions.count() >= 1, "no hidden solution"
        first = solutions.first
        code = first.locator("div.cell_input")
        assert first.get_attribute("open") is None and not code.is_visible()
        first.locator("summary").click()
        assert code.is_visible() and "# Solution" in code.inner_text()
        outputs = "\n".join(page.locator("div.cell_output").all_inner_texts())
    finally:
        page.context.close()
    for exercise_id in (i for i in exercise_ids() if i.startswith(chapter + ".")):
        assert f"✓ Exercise {exercise_id} solved" in outputs, exercise_id
    # Only chapter 01 shows, once, what an unsolved check prints.
    assert outputs.count("✗ Exercise") == (1 if chapter == "01" else 0)
    recorder.assert_clean()


def _switch_mode(page: Page, mode: str) -> None:
    """Click the theme's colour-mode switch until the page is in ``mode``, then let the
    colour transitions finish so that computed colours are the final ones."""
    button = page.locator(".theme-switch-button").first
    for _ in range(3):  # the switch cycles light -> dark -> auto
        if page.get_attribute("html", "data-theme") == mode:
            break
        button.click()
    assert page.get_attribute("html", "data-theme") == mode
    _let_transitions_finish(page)


def _let_transitions_finish(page: Page) -> None:
    """Wait until no CSS transition runs: a colour caught mid-way (a link fading between two
    colours) is not what a reader sees, and axe-core would measure its contrast."""
    page.wait_for_function(
        "() => document.getAnimations()"
        ".every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"
    )


DARK_PAGES = ["book/intro.html", "notebooks/02_convolution.html", "notebooks/04_conv_layers.html"]
_AXE_CONTRAST_JS = """
async () => {
  const options = {runOnly: ["color-contrast"], resultTypes: ["violations"]};
  const result = await axe.run(document, options);
  return result.violations.flatMap(v => v.nodes.map(n =>
    `${n.target.join(" ")}: ${(n.failureSummary || "").split("\\n").slice(1, 2).join("").trim()}`));
}
"""


@pytest.mark.parametrize("path", DARK_PAGES)
def test_dark_mode(
    path: str, site: Path, server_url: str, browser: Browser, axe_source: str
) -> None:
    """The theme switch turns the page dark with no console error, and axe-core finds no text
    below its contrast threshold in dark mode; screenshot for a person."""
    page, recorder = _open(browser, server_url)
    try:
        page.goto(server_url + path, wait_until="networkidle")
        assert page.get_attribute("html", "data-theme") == "light"
        _switch_mode(page, "dark")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        luminance = relative_luminance(parse_css_colour(background))
        assert luminance < 0.1, f"dark mode, yet the background is {background}"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT_DIR / ("dark__" + screenshot_path(path).name))
        page.add_script_tag(content=axe_source)
        low_contrast = page.evaluate(_AXE_CONTRAST_JS)
    finally:
        page.context.close()
    recorder.assert_clean()
    fail_on(path, "text(s) with too little contrast in dark mode", low_contrast)


SEARCH_PAGES = ["search.html", "book/intro.html"]
MIN_CONTRAST = 4.5  # WCAG 2 AA for text of normal size

# Every placeholder and piece of text in the search fields on screen, with its colour and the
# background colours from it up to the root.
_SEARCH_TEXT_JS = """
() => {
  const layers = el => {
    const out = [];
    for (let e = el; e; e = e.parentElement) out.push(getComputedStyle(e).backgroundColor);
    return out;
  };
  const shown = el => el.getClientRects().length > 0
                      && getComputedStyle(el).visibility !== "hidden";
  const items = [];
  for (const input of document.querySelectorAll('input[type="search"], input[name="q"]')) {
    if (!shown(input)) continue;
    items.push({what: `placeholder ${JSON.stringify(input.placeholder)}`,
                colour: getComputedStyle(input, "::placeholder").color, layers: layers(input)});
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.closest(".search-button-field, form.bd-search")) continue;
    if (!shown(el)) continue;
    items.push({what: `text ${JSON.stringify(node.textContent.trim())}`,
                colour: getComputedStyle(el).color, layers: layers(el)});
  }
  return items;
}
"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("path", SEARCH_PAGES)
def test_search_field_is_readable(
    path: str, mode: str, site: Path, server_url: str, browser: Browser
) -> None:
    """The search placeholder and the field's hints reach 4.5:1 against the field, in both
    colour modes (axe-core does not measure placeholders). Other pages open the search dialog."""
    page, recorder = _open(browser, server_url)
    try:
        page.goto(server_url + path, wait_until="networkidle")
        _switch_mode(page, mode)
        if path != "search.html":
            page.locator(".search-button-field:visible").first.click()
            page.wait_for_selector("#pst-search-dialog[open] input", state="visible")
            _switch_mode(page, mode)  # let the dialog's transitions finish too
        items = page.evaluate(_SEARCH_TEXT_JS)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT_DIR / f"search__{mode}__{screenshot_path(path).name}")
    finally:
        page.context.close()
    recorder.assert_clean()
    assert any(i["what"].startswith("placeholder") for i in items), "no search field on screen"
    offenders = []
    for item in items:
        ratio = contrast_ratio(parse_css_colour(item["colour"]), layered_background(item["layers"]))
        if ratio < MIN_CONTRAST:
            offenders.append(f"{item['what']} in {item['colour']}: contrast {ratio:.2f}:1")
    fail_on(path, f"search field text(s) below {MIN_CONTRAST}:1 in {mode} mode", offenders)


@pytest.mark.parametrize(
    ("query", "expected_page"),
    [("receptive field", "notebooks/03_why_convolutions"), ("LeNet", "notebooks/06_lenet5")],
)
def test_search_works_offline(
    query: str, expected_page: str, site: Path, server_url: str, browser: Browser
) -> None:
    """Sphinx's search index is local: a query finds the chapter that explains the term."""
    page, recorder = _open(browser, server_url)
    try:
        page.goto(f"{server_url}search.html?q={query.replace(' ', '+')}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
        hrefs = page.eval_on_selector_all(
            "#search-results ul.search li a", "links => links.map(a => a.getAttribute('href'))"
        )
    finally:
        page.context.close()
    assert any(expected_page in h for h in hrefs), hrefs
    recorder.assert_clean()


# --------------------------------------------------------------------------------------------
# The checker itself must be able to fail
# --------------------------------------------------------------------------------------------


def test_link_problems_on_synthetic_site(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "index.html").write_text('<h1 id="top">Home</h1><a name="legacy"></a>')
    (tmp_path / "docs" / "page.html").write_text('<section id="s-1"><h2 id="a b">x</h2></section>')
    (tmp_path / "docs" / "index.html").write_text("<h1>Docs</h1>")
    (tmp_path / "style.css").write_text("h1 {}")
    url = "http://127.0.0.1:8000/docs/page.html"
    good = [
        "#s-1",
        "page.html#a%20b",
        "../index.html#top",
        "../index.html#legacy",
        "/style.css?v=3",
        "./",
        "../docs",
        "#",
        "mailto:someone@example.org",
        "https://example.org/missing.html#nowhere",
        "javascript:void(0)",
    ]
    bad = ["#missing", "other.html", "../index.html#gone", "../../../etc/passwd", "/nope/"]
    problems = link_problems(tmp_path, url, good + bad, {})
    assert len(problems) == len(bad), problems
    for href, problem in zip(bad, problems, strict=True):
        assert problem.startswith(repr(href)), (href, problem)


def test_url_guard_and_toc_discovery(tmp_path: Path) -> None:
    assert is_local_url("http://127.0.0.1:9/x.js")
    assert is_local_url("http://localhost/x.js")
    assert is_local_url("data:image/png;base64,AAAA")
    assert not is_local_url("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js")
    assert not is_local_url("http://127.0.0.1.example.com/x.js")

    (tmp_path / "notebooks").mkdir()
    for name in ("02_b.ipynb", "01_a.ipynb", "notes.txt"):
        (tmp_path / "notebooks" / name).write_text("{}")
    toc = {
        "root": "book/intro",
        "parts": [
            {"chapters": [{"file": "book/running.md", "sections": [{"file": "book/more"}]}]},
            {"chapters": [{"glob": "notebooks/*"}]},
        ],
    }
    assert toc_docnames(toc, tmp_path) == [
        "book/intro",
        "book/running",
        "book/more",
        "notebooks/01_a",
        "notebooks/02_b",
    ]
    config = {
        "repository": {
            "url": "https://github.com/o/r.git",
            "path_to_book": "/docs/",
            "branch": "x",
        },
        "launch_buttons": {"colab_url": "https://colab.research.google.com/"},
    }
    assert expected_colab_url("notebooks/01_a.html", config) == (
        "https://colab.research.google.com/github/o/r/blob/x/docs/notebooks/01_a.ipynb"
    )


def test_some_page_shows_saved_widgets() -> None:
    """The offline widgets check above must have something to check."""
    assert sum(expected_widget_views(p) for p in site_pages()) >= 1


# --------------------------------------------------------------------------------------------
# What a reader sees (issue-free pages): the notebooks' sources, checked without a browser
# --------------------------------------------------------------------------------------------
#
# A cell is named by its index in the notebook's ``cells`` list (0-based, markdown cells
# included, as ``nbformat`` numbers them) and its first line, so a chapter's author finds it.

NOTEBOOK_PAGES = [p for p in site_pages() if is_notebook(p)]
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def notebook_cells(page: str) -> list[dict[str, Any]]:
    source = (REPO / page).with_suffix(".ipynb")
    return json.loads(source.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict[str, Any]) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def first_line(text: str, width: int = 70) -> str:
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def cell_label(index: int, cell: dict[str, Any]) -> str:
    return f"cell {index} ({first_line(_source(cell))!r})"


def shown_asserts(cells: list[dict[str, Any]]) -> list[str]:
    """Code cells whose source the site shows and that contain ``assert`` statements."""
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or not input_shown(_tags(cell)):
            continue
        lines = assert_lines(_source(cell))
        if lines:
            shown = "; ".join(first_line(line, 60) for line in lines[:3])
            more = f" (+{len(lines) - 3} more)" if len(lines) > 3 else ""
            problems.append(f"{cell_label(i, cell)}: {len(lines)} assert(s): {shown}{more}")
    return problems


def _output_shown(cell: dict[str, Any]) -> bool:
    return not {"remove-output", "remove-cell"} & set(_tags(cell))


def machine_outputs(cells: list[dict[str, Any]]) -> list[str]:
    """Outputs the site shows that carry a machine path, a traceback or a network error."""
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or not _output_shown(cell):
            continue
        raises = RAISES_TAG in _tags(cell)
        for output in cell.get("outputs", []):
            found = output_problems(notebook_output_text(output), raises=raises)
            if output.get("output_type") == "error" and not raises:
                found.insert(0, f"error output {output.get('ename')} (not tagged {RAISES_TAG})")
            problems += [f"{cell_label(i, cell)}: {p}" for p in found]
    return problems


def image_alt_text(cell: dict[str, Any]) -> str | None:
    """The alt text myst-nb gives the cell's image outputs: ``metadata.mystnb.image.alt``."""
    alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    return None if alt is None else str(alt)


def figures_without_alt(cells: list[dict[str, Any]]) -> list[str]:
    """Code cells with image outputs on the site but no alt text in their metadata."""
    problems = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or not _output_shown(cell):
            continue
        images = sum(
            any(m in output.get("data", {}) for m in IMAGE_MIME_TYPES)
            for output in cell.get("outputs", [])
        )
        problem = alt_text_problem(image_alt_text(cell))
        if images and problem:
            problems.append(f"{cell_label(i, cell)}: {images} image(s), {problem}")
    return problems


def offender_report(page: str, check: str, offenders: list[str]) -> str:
    lines = "\n".join(f"  - {o}" for o in offenders)
    return f"{page}: {len(offenders)} {check}:\n{lines}"


def fail_on(page: str, check: str, offenders: list[str]) -> None:
    """Fail with the page's list of offenders, one per line (no assertion rewriting noise)."""
    if offenders:
        pytest.fail(offender_report(page, check, offenders), pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_shows_no_assert(path: str) -> None:
    """Assertions back the prose from cells the site hides (hide-input, remove-input)."""
    offenders = shown_asserts(notebook_cells(path))
    fail_on(path, "shown cell(s) with assert", offenders)


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_outputs_carry_no_machine_detail(path: str) -> None:
    """No build machine's path, traceback or network error in a shown output."""
    offenders = machine_outputs(notebook_cells(path))
    fail_on(path, "output problem(s) in the notebook", offenders)


@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_figures_have_alt_text(path: str) -> None:
    """Every cell that draws a figure says in words what it shows (README: Adding a chapter)."""
    offenders = figures_without_alt(notebook_cells(path))
    fail_on(path, "figure cell(s) without alt text", offenders)


# --------------------------------------------------------------------------------------------
# What a reader sees, measured in the browser on every page
# --------------------------------------------------------------------------------------------

AXE_JS = Path(os.environ.get("AXE_JS", REPO / "_build" / "axe" / "axe.min.js"))
AXE_IMPACTS = ("serious", "critical")  # what fails; minor and moderate findings do not
NARROW_VIEWPORT = {"width": 390, "height": 844}  # a phone held upright
OVERFLOW_TOLERANCE_PX = 1  # sub-pixel rounding

# Lists what a reader sees: shown code with `assert` (folded code does not count); then, with
# everything a click opens opened (folded inputs, dropdowns), code blocks and outputs wider than
# their column, every image with its alt text, every output's text.
_READER_JS = """
(tolerance) => {
  const article = document.querySelector("article.bd-article") || document.body;
  const firstLine = text => (text.split("\\n").find(l => l.trim()) || "").trim();
  const cellOf = el => {
    const cell = el.closest("div.cell");
    const pre = cell && cell.querySelector(".cell_input pre");
    return {cell: pre ? firstLine(pre.textContent) : null, source: pre ? pre.textContent : null,
            tags: cell ? Array.from(cell.classList).filter(c => c.startsWith("tag_"))
                                                   .map(c => c.slice(4)) : []};
  };
  // Shown code: not an output, and not folded away until a click (hide-input cells, closed
  // <details> such as dropdowns, toggled admonitions).
  const folded = ".cell_output, div.cell.tag_hide-input, div.cell.tag_remove-input, "
                 + "details:not([open]), .toggle-hidden, .admonition.dropdown";
  const asserts = [];
  for (const pre of article.querySelectorAll("div.highlight pre")) {
    if (pre.closest(folded)) continue;
    const count = Array.from(pre.querySelectorAll("span.k"))
      .filter(s => s.textContent === "assert").length;
    if (count === 0) continue;
    const lines = pre.textContent.split("\\n").filter(l => /^\\s*assert\\b/.test(l))
      .map(l => l.trim());
    asserts.push({...cellOf(pre), count, lines, block: firstLine(pre.textContent)});
  }
  // Everything below is measured with everything open: a reader can open it.
  for (const d of document.querySelectorAll("details")) d.open = true;
  for (const e of document.querySelectorAll(".toggle-hidden")) e.classList.remove("toggle-hidden");
  const overflows = [];
  const wide = el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + tolerance;
  const blocks = article.querySelectorAll("pre, div.cell_output > *, div.cell_input, table");
  for (const el of blocks) {
    if (!wide(el)) continue;
    if (Array.from(el.querySelectorAll("pre, table")).some(wide)) continue;  // innermost only
    const text = el.tagName === "PRE" ? el.textContent : "";
    const longest = text.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), "");
    const inOutput = el.closest(".cell_output") !== null;
    const kind = el.tagName === "PRE" ? (inOutput ? "output text" : "code")
      : el.tagName === "TABLE" ? "table"
      : inOutput ? `output (${el.className || el.tagName.toLowerCase()})` : "code cell";
    overflows.push({...cellOf(el), kind, by: el.scrollWidth - el.clientWidth,
                    width: el.clientWidth,
                    longest: longest.trimEnd(), block: firstLine(text)});
  }
  const images = Array.from(document.images).map(img => ({
    ...cellOf(img), src: img.getAttribute("src") || "", alt: img.getAttribute("alt"),
    label: img.getAttribute("aria-label") || img.getAttribute("title"), id: img.id || ""}));
  const outputs = Array.from(article.querySelectorAll("div.cell_output"))
    .map(out => ({...cellOf(out), text: out.innerText}));
  const doc = document.documentElement;
  const searchButtons = Array.from(document.querySelectorAll(".search-button-field"))
    .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
    .length;
  return {asserts, overflows, images, outputs, search_buttons: searchButtons,
          page_overflow: doc.scrollWidth - doc.clientWidth};
}
"""

# At a phone's width code blocks scroll inside themselves; the page itself must not scroll
# sideways. Lists the outermost elements of the article that stick out, unless clipped.
_NARROW_JS = """
(tolerance) => {
  const doc = document.documentElement;
  const overflow = doc.scrollWidth - doc.clientWidth;
  if (overflow <= tolerance) return {overflow, wide: []};
  const limit = doc.clientWidth + tolerance;
  const clipped = el => {
    for (let e = el.parentElement; e && e !== doc; e = e.parentElement)
      if (getComputedStyle(e).overflowX !== "visible") return true;
    return false;
  };
  const sticksOut = el => el.getBoundingClientRect().right > limit && !clipped(el);
  const article = document.querySelector("article.bd-article") || document.body;
  const wide = Array.from(article.querySelectorAll("*"))
    .filter(el => sticksOut(el) && !(el.parentElement && sticksOut(el.parentElement)))
    .slice(0, 10)
    .map(el => {
      const cell = el.closest("div.cell");
      const pre = cell && cell.querySelector(".cell_input pre");
      return {cell: pre ? (pre.textContent.split("\\n").find(l => l.trim()) || "").trim() : null,
              element: el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
                ? "." + el.className.trim().split(/\\s+/).join(".") : ""),
              right: Math.round(el.getBoundingClientRect().right)};
    });
  return {overflow, wide};
}
"""

_AXE_RUN_JS = """
async (impacts) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => impacts.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "),
                              summary: (n.failureSummary || "").split("\\n").slice(1, 2).join("")
                                                                .trim()})),
  }));
}
"""


class ReaderView:
    """What one page shows a reader, measured once and shared by the checks below."""

    def __init__(self, path: str, measured: dict[str, Any], axe: list[dict[str, Any]]) -> None:
        self.path = path
        self.measured = measured
        self.axe = axe
        self.narrow: dict[str, Any] = {"overflow": 0, "wide": []}
        self.browser_problems: list[str] = []
        self._cells = notebook_cells(path) if is_notebook(path) else []

    def where(self, item: dict[str, Any]) -> str:
        """The cell an element belongs to, as the notebook numbers it when that is unambiguous."""
        line = item.get("cell")
        if line is None:
            block = item.get("block")
            return f"block {first_line(block)!r}" if block else "outside any cell"
        code = [(i, cell) for i, cell in enumerate(self._cells) if cell["cell_type"] == "code"]
        source = (item.get("source") or "").strip()
        matches = [i for i, cell in code if _source(cell).strip() == source]
        if len(matches) != 1:  # the rendered text differs (say, a tab): fall back to line one
            matches = [i for i, cell in code if first_line(_source(cell), 10**6) == line]
        name = first_line(line)
        return f"cell {matches[0]} ({name!r})" if len(matches) == 1 else f"cell {name!r}"


def _measure(browser: Browser, server_url: str, path: str, axe_source: str) -> ReaderView:
    page, recorder = _open(browser, server_url)
    measured: dict[str, Any] = {}
    axe: list[dict[str, Any]] = []
    narrow: dict[str, Any] | None = None
    problems: list[str] = []
    try:
        page.goto(server_url + path, wait_until="networkidle")
        page.evaluate(_WAIT_FOR_IMAGES_JS)
        if _has_math(SITE_DIR, path):
            _math_problems(page)  # waits until MathJax has typeset, so widths are final
        measured = page.evaluate(_READER_JS, OVERFLOW_TOLERANCE_PX)
        _let_transitions_finish(page)
        page.add_script_tag(content=axe_source)
        axe = page.evaluate(_AXE_RUN_JS, list(AXE_IMPACTS))
        page.set_viewport_size(NARROW_VIEWPORT)
        page.wait_for_function(
            "w => document.documentElement.clientWidth <= w", arg=NARROW_VIEWPORT["width"]
        )
        narrow = page.evaluate(_NARROW_JS, OVERFLOW_TOLERANCE_PX)
    except PlaywrightError as exc:
        problems.append(f"browser: {exc}".splitlines()[0])
    finally:
        page.context.close()
    view = ReaderView(path, measured, axe)
    if narrow is not None:
        view.narrow = narrow
    view.browser_problems = problems + recorder.problems()
    return view


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"no axe-core at {AXE_JS}: run make vendor (make book does)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def reader_views(site: Path, server_url: str, browser: Browser, axe_source: str) -> Iterator[Any]:
    """``reader_views(path)``: each page opened once, however many checks read it."""
    cache: dict[str, ReaderView] = {}

    def view(path: str) -> ReaderView:
        if path not in cache:
            cache[path] = _measure(browser, server_url, path, axe_source)
            assert not cache[path].browser_problems, cache[path].browser_problems
        return cache[path]

    yield view


READER_PAGES = [p for p in site_pages() if p != "index.html"]  # index.html only redirects


@pytest.mark.parametrize("path", READER_PAGES)
def test_shown_code_has_no_assert(path: str, reader_views: Any) -> None:
    view = reader_views(path)
    offenders = [
        f"{view.where(a)}: {a['count']} assert(s): {'; '.join(a['lines'][:3]) or a['block']}"
        for a in view.measured["asserts"]
    ]
    fail_on(path, "shown code block(s) with assert", offenders)


@pytest.mark.parametrize("path", READER_PAGES)
def test_code_and_outputs_fit_their_column(path: str, reader_views: Any) -> None:
    """``scrollWidth`` against ``clientWidth`` of every code block, output and table."""
    view = reader_views(path)
    offenders = []
    for o in view.measured["overflows"]:
        what = o["kind"]
        longest = o["longest"].strip()
        line = f", longest line {len(o['longest'])} chars: {first_line(longest, 50)!r}"
        line = line if longest else ""
        offenders.append(
            f"{view.where(o)}: {what} {o['by']} px wider than its {o['width']} px column{line}"
        )
    if view.measured["page_overflow"] > OVERFLOW_TOLERANCE_PX:
        offenders.append(f"the page scrolls sideways by {view.measured['page_overflow']} px")
    fail_on(path, f"overflow(s) at {VIEWPORT['width']} px", offenders)


@pytest.mark.parametrize("path", READER_PAGES)
def test_one_search_button_on_screen(path: str, reader_views: Any) -> None:
    """The sidebar's search button, and not a second one in a header bar above it."""
    shown = reader_views(path).measured["search_buttons"]
    assert shown == 1, f"{path}: {shown} search buttons on screen at {VIEWPORT['width']} px"


@pytest.mark.parametrize("path", READER_PAGES)
def test_pages_fit_a_phone_screen(path: str, reader_views: Any) -> None:
    """At 390 px, code blocks and outputs may scroll inside themselves; the page may not."""
    view = reader_views(path)
    overflow = view.narrow["overflow"]
    offenders = [
        f"{view.where(w)}: <{w['element']}> reaches {w['right']} px" for w in view.narrow["wide"]
    ]
    if overflow > OVERFLOW_TOLERANCE_PX:
        offenders.insert(0, f"the page scrolls sideways by {overflow} px")
    fail_on(path, f"overflow(s) at {NARROW_VIEWPORT['width']} px", offenders)


@pytest.mark.parametrize("path", READER_PAGES)
def test_outputs_show_no_machine_detail(path: str, reader_views: Any) -> None:
    """The rendered outputs, as a reader reads them: no path, no traceback, no network error."""
    view = reader_views(path)
    offenders = [
        f"{view.where(out)}: {problem}"
        for out in view.measured["outputs"]
        for problem in output_problems(out["text"], raises=RAISES_TAG in out["tags"])
    ]
    fail_on(path, "output problem(s) on the page", offenders)


@pytest.mark.parametrize("path", READER_PAGES)
def test_images_have_alt_text(path: str, reader_views: Any) -> None:
    view = reader_views(path)
    offenders = []
    for img in view.measured["images"]:
        problem = alt_text_problem(img["alt"], img["src"], label=img["label"])
        if problem:
            name = img["id"] or img["src"].rsplit("/", 1)[-1][:16]
            offenders.append(f"{view.where(img)}: image {name}: {problem}")
    fail_on(path, "image(s) without alt text", offenders)


@pytest.mark.parametrize("path", READER_PAGES)
def test_axe_finds_no_serious_violation(path: str, reader_views: Any) -> None:
    """axe-core (vendored from npm, injected here only): no serious or critical violation."""
    view = reader_views(path)
    offenders = []
    for v in view.axe:
        targets = "; ".join(
            f"{n['target']}" + (f" ({n['summary']})" if n["summary"] else "")
            for n in v["nodes"][:5]
        )
        more = f" (+{len(v['nodes']) - 5} more)" if len(v["nodes"]) > 5 else ""
        offenders.append(
            f"{v['impact']} {v['id']}: {v['help']}; {len(v['nodes'])} element(s): {targets}{more}"
        )
    fail_on(path, "axe violation(s)", offenders)


def test_assert_detection() -> None:
    shown = "x = 1\nassert x == 1, 'one'\n"
    nested = "def f(x):\n    assert x > 0\n    return x\n"
    magic = "%pip install cnnutils\n!ls\nassert True\n"
    assert assert_lines(shown) == ["assert x == 1, 'one'"]
    assert assert_lines(nested) == ["assert x > 0"]
    assert assert_lines(magic) == ["assert True"]
    assert assert_lines("print('assert is a keyword')  # assert nothing\n") == []
    assert assert_lines("check(x)\n") == []
    assert assert_lines("assert (\n  1\n") == ["assert ("]  # does not parse: line fallback
    assert input_shown([]) and input_shown(["nbval-ignore-output", "erratum"])
    assert not input_shown(["hide-input"]) and not input_shown(["remove-cell"])

    cells = [
        {"cell_type": "markdown", "source": "assert in prose", "metadata": {}},
        {"cell_type": "code", "source": ["y = 2\n", "assert y\n"], "metadata": {}},
        {"cell_type": "code", "source": "assert y", "metadata": {"tags": ["hide-input"]}},
        {"cell_type": "code", "source": "z = y", "metadata": {}},
    ]
    assert shown_asserts(cells) == ["cell 1 ('y = 2'): 1 assert(s): assert y"]


def test_machine_paths_and_errors() -> None:
    leaks = {
        "saved to /root/.cache/torch/hub/checkpoints/alexnet.pth": "/root/",
        "File /home/ana/venv/lib/python3.11/site-packages/torch/nn.py:12": "/home/",
        "/tmp/ipykernel_4242/123.py:3: UserWarning": "/tmp/",
        "C:\\Users\\ana\\cnn\\data.npz": "C:\\",
        "weights in ~/.cache/torch": "~/",
        "File ~/.venv/lib/python3.12/site-packages/torch/functional.py:9": "site-packages",
        "/usr/local/lib/python3.11/dist-packages/cnnutils/conv.py": "/usr/local/lib",
    }
    for text, part in leaks.items():
        found = machine_paths(text)
        assert found and any(part in f for f in found), (text, found)
    for clean in [
        "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        "input/output 3/4 of the pixels, 10 / 2 = 5",
        "torch.Size([1, 6, 28, 28])",
    ]:
        assert machine_paths(clean) == [], clean

    for text in [
        "Traceback (most recent call last):\n  File ...",
        "weights not available (URLError)",
        "<urlopen error [Errno -3] Temporary failure in name resolution>",
        "-" * 75 + "\nValueError                  Traceback\nCell In[3], line 1",
    ]:
        assert error_texts(text), text
    assert error_texts("✓ Exercise 02.1 solved; the error shrinks by 10×") == []
    short = "ValueError: kernel larger than the padded input"
    assert output_problems(short) == []
    trace = "Traceback (most recent call last):\n  File /home/u/x.py\nValueError: bad"
    assert len(output_problems(trace)) == 2
    assert output_problems(trace, raises=True) == ["machine path '/home/u/x.py'"]


def test_output_texts_of_a_notebook() -> None:
    stream = {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]}
    error = {
        "output_type": "error",
        "ename": "URLError",
        "evalue": "no network",
        "traceback": ["\x1b[0;31mURLError\x1b[0m: no network"],
    }
    data = {"output_type": "execute_result", "data": {"text/plain": "'/root/x'"}}
    assert notebook_output_text(stream) == "a\nb\n"
    assert "\x1b" not in notebook_output_text(error)
    assert "URLError: no network" in notebook_output_text(error)
    assert "/root/x" in notebook_output_text(data)

    cells = [
        {"cell_type": "code", "source": "print(1)", "metadata": {}, "outputs": [stream]},
        {"cell_type": "code", "source": "fetch()", "metadata": {}, "outputs": [error]},
        {"cell_type": "code", "source": "p", "metadata": {}, "outputs": [data]},
        {
            "cell_type": "code",
            "source": "fetch()",
            "metadata": {"tags": ["raises-exception"]},
            "outputs": [error],
        },
        {
            "cell_type": "code",
            "source": "p",
            "metadata": {"tags": ["remove-output"]},
            "outputs": [data],
        },
    ]
    problems = machine_outputs(cells)
    assert [p.split(":")[0] for p in problems] == ["cell 1 ('fetch()')"] * 3 + ["cell 2 ('p')"]
    assert "error output URLError" in problems[0]


def test_alt_text_rules() -> None:
    src = "../_images/3f2a9c.png"
    assert alt_text_problem("Loss falls from 2.3 to 0.1 over 20 epochs", src) is None
    assert alt_text_problem(None, src) == "no alt attribute"
    assert alt_text_problem("  ", src) == "empty alt text"
    assert "file name" in alt_text_problem(src, src)
    assert "file name" in alt_text_problem("figure_1.PNG", src)
    assert alt_text_problem(None, src, label="The convolution explorer's output") is None
    assert alt_text_problem(None, src, label="plot.png") == "no alt attribute"
    assert alt_text_problem(src, src, label="a title does not rescue a file-name alt")

    png = {"output_type": "display_data", "data": {"image/png": "iVBO", "text/plain": "<Fig>"}}
    described = {"mystnb": {"image": {"alt": "Six 5×5 filters, edge-like"}}}
    cells = [
        {"cell_type": "code", "source": "plot()", "metadata": {}, "outputs": [png, png]},
        {"cell_type": "code", "source": "plot()", "metadata": described, "outputs": [png]},
        {"cell_type": "code", "source": "print(1)", "metadata": {}, "outputs": []},
        {
            "cell_type": "code",
            "source": "x",
            "metadata": {"tags": ["remove-cell"]},
            "outputs": [png],
        },
    ]
    assert figures_without_alt(cells) == ["cell 0 ('plot()'): 2 image(s), no alt attribute"]
    assert image_alt_text(cells[1]) == "Six 5×5 filters, edge-like"


def test_contrast_arithmetic() -> None:
    black, white = parse_css_colour("rgb(0, 0, 0)"), parse_css_colour("#fff")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # WCAG's own examples: #767676 is the lightest grey that passes AA on white, #777 fails.
    assert contrast_ratio(parse_css_colour("#767676"), white) == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio(parse_css_colour("#777777"), white) < 4.5
    assert parse_css_colour("rgba(10, 20, 30, 0.5)") == (10.0, 20.0, 30.0, 0.5)
    assert parse_css_colour("rgb(10 20 30 / 50%)") == (10.0, 20.0, 30.0, 0.5)
    half_black = parse_css_colour("rgba(0, 0, 0, 0.5)")
    assert blend(half_black, white)[:3] == pytest.approx((127.5, 127.5, 127.5))
    # A transparent element over a dark body over the white canvas: the body's colour shows.
    dark = layered_background(["rgba(0, 0, 0, 0)", "rgb(18, 18, 18)", "rgba(0, 0, 0, 0)"])
    assert dark == (18.0, 18.0, 18.0, 1.0)
    assert layered_background(["rgba(0, 0, 0, 0)"]) == (255.0, 255.0, 255.0, 1.0)
    assert relative_luminance(dark) < 0.01
    # The theme's dark-mode muted text on its dark background passes; its border colour fails.
    muted, border = parse_css_colour("rgb(156, 164, 175)"), parse_css_colour("rgb(72, 86, 107)")
    assert contrast_ratio(muted, dark) > 4.5 > contrast_ratio(border, dark)
    with pytest.raises(ValueError, match="not a colour"):
        parse_css_colour("oklch(0.7 0.1 200)")
