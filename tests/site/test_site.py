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

Separate tests switch the theme to dark mode (no errors, a dark background) and run the Sphinx
search offline.

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
from sitekit import PageRecorder, is_local_url, serve

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


def _luminance(css_colour: str) -> float:
    """Relative brightness 0..1 of an ``rgb(...)``/``rgba(...)`` CSS colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


DARK_PAGES = ["book/intro.html", "notebooks/02_convolution.html", "notebooks/04_conv_layers.html"]


@pytest.mark.parametrize("path", DARK_PAGES)
def test_dark_mode(path: str, site: Path, server_url: str, browser: Browser) -> None:
    """The theme switch turns the page dark with no console error; screenshot for a person."""
    page, recorder = _open(browser, server_url)
    try:
        page.goto(server_url + path, wait_until="networkidle")
        assert page.get_attribute("html", "data-theme") == "light"
        button = page.locator(".theme-switch-button").first
        for _ in range(3):  # the switch cycles light -> dark -> auto
            if page.get_attribute("html", "data-theme") == "dark":
                break
            button.click()
        assert page.get_attribute("html", "data-theme") == "dark"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _luminance(background) < 0.3, f"dark mode, yet the background is {background}"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT_DIR / ("dark__" + screenshot_path(path).name))
    finally:
        page.context.close()
    recorder.assert_clean()


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
