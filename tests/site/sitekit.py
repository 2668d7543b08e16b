"""What the browser tests share: the offline guard, the error allow-list and a site server;
and the pure rules of what a reader must not see (a visible ``assert``, a machine path or a
traceback in an output, alt text that is a file name, unreadable contrast).

Used by ``tests/test_site.py`` (every page of the book) and ``tests/test_explorer.py`` (the
layer explorer, on its own and on the built chapter page).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import re
import threading
from collections.abc import Iterable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response, Route

LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Console errors and uncaught exceptions that are known and harmless.
ALLOWED_ERRORS = [
    # Sphinx 7 inserts sphinx-thebe's `const THEBE_JS_URL` script twice on every page; the second
    # copy throws (Chromium reports it as an uncaught exception, so this list filters page errors
    # and console errors alike). Fixed in Sphinx 8: drop this entry after upgrading.
    re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),
]


def is_local_url(url: str) -> bool:
    """Whether the browser may fetch ``url``: this machine, or data held in the page."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def allowed(message: str) -> bool:
    return any(pattern.search(message) for pattern in ALLOWED_ERRORS)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 at a free port, in a daemon thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class PageRecorder:
    """Listens to one page and remembers everything that went wrong while it loaded.

    Requests leaving the machine are aborted and listed. Failed requests and HTTP errors are
    recorded for ``origin``, or for every request when no origin is given.
    """

    def __init__(self, page: Page, origin: str | None = None) -> None:
        self.origin = None if origin is None else origin.rstrip("/")
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        page.context.route("**/*", self._route)
        page.on("pageerror", lambda exc: self._error(f"uncaught exception: {exc}"))
        page.on("console", self._console)
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.on("websocket", lambda ws: self._external_ws(ws.url))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if is_local_url(url):
            route.continue_()
        else:
            self.external.append(f"{route.request.method} {url}")
            route.abort("blockedbyclient")

    def _error(self, text: str) -> None:
        if not allowed(text):
            self.errors.append(text)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self._error(f"console error: {message.text} ({where})")

    def _same_origin(self, url: str) -> bool:
        return self.origin is None or url.startswith(self.origin + "/")

    def _request_failed(self, request: Request) -> None:
        if self._same_origin(request.url):
            self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and self._same_origin(response.url):
            self.failed.append(f"{response.url}: HTTP {response.status}")

    def _external_ws(self, url: str) -> None:
        if not is_local_url(url):
            self.external.append(f"WEBSOCKET {url}")

    def problems(self) -> list[str]:
        """Everything recorded, one line each."""
        return (
            self.errors
            + [f"failed request {r}" for r in self.failed]
            + [f"request left 127.0.0.1 (aborted): {r}" for r in self.external]
        )

    def assert_clean(self) -> None:
        assert not self.problems(), self.problems()


# --------------------------------------------------------------------------------------------
# What a reader of the site must not see, as pure functions (unit-tested in tests/test_site.py)
# --------------------------------------------------------------------------------------------

# Tags under which a code cell's input is not on the page: removed, or folded away behind a
# click ("hide-input": worked solutions, plotting helpers, the assertions backing the prose).
HIDDEN_INPUT_TAGS = frozenset({"remove-input", "hide-input", "remove-cell"})
# Tag of a cell whose error is the teaching point (nbval, nbmake and myst-nb all honour it).
RAISES_TAG = "raises-exception"


def input_shown(tags: Iterable[str]) -> bool:
    """Whether a code cell with these tags shows its source on the site without a click."""
    return not HIDDEN_INPUT_TAGS & set(tags)


def _python_source(source: str) -> str:
    """A cell's source as plain Python: IPython magics (``%pip``, ``!ls``) become calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # IPython is there wherever notebooks run; this keeps the kit light
        return source
    return TransformerManager().transform_cell(source)


def assert_lines(source: str) -> list[str]:
    """The ``assert`` statements of a cell's source, each as its first line, stripped.

    Nested ones count too (an ``assert`` inside a function the cell defines is still on the
    page). The word in a string or a comment does not. Source that does not parse falls back to
    lines that start with ``assert``.
    """
    lines = source.splitlines()
    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return [line.strip() for line in lines if re.match(r"\s*assert\b", line)]
    found = sorted({node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)})
    # Magics are rewritten one line for one line, so the numbers hold for the original source.
    return [lines[n - 1].strip() if n <= len(lines) else "assert" for n in found]


# Paths of the machine that produced an output: home folders, temporary and cache folders,
# installed-package folders, Windows drives, IPython's temporary cell files.
_MACHINE_PATH = re.compile(
    r"""(?<![\w.:/-])/(?:root|home|Users|tmp|var/folders|private/var|opt|work|usr/(?:local/)?lib)
        /[^\s'"<>)\],]*"""
    r"""|(?<![\w/])~/[\w.][^\s'"<>)\],]*"""
    r"|\b[A-Za-z]:\\[^\s'\"<>]*"
    r"|ipykernel_\d+",
    re.VERBOSE,
)
# What an error that reached the page looks like: a traceback, or a network failure's message.
_ERROR_TEXT = re.compile(
    r"Traceback \(most recent call last\)"
    r"|^-{20,}\s*\n\s*\w*(?:Error|Exception)\b"  # IPython's traceback header
    r"|\bCell In\[\d+\], line \d+"
    r"|\bURLError\b|\bHTTPError\b|\burlopen error\b|\bConnection(?:Refused)?Error\b"
    r"|\bMaxRetryError\b|\bgaierror\b|\[Errno -?\d+\]"
    r"|Name or service not known|Temporary failure in name resolution|Network is unreachable",
    re.MULTILINE,
)


def _excerpt(text: str, match: re.Match[str], width: int = 30) -> str:
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    snippet = " ".join(text[start:end].split())
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


# An installed package's folder, found by its name and widened to the whole path around it
# (a search that starts anywhere in a long token, such as an embedded image, would be slow).
_PACKAGES_DIR = re.compile(r"(?:site|dist)-packages\b")
_PATH_CHAR = re.compile(r"[^\s'\"<>()\[\],]")


def _whole_token(text: str, start: int, end: int, limit: int = 300) -> str:
    while start > 0 and end - start < limit and _PATH_CHAR.match(text[start - 1]):
        start -= 1
    while end < len(text) and end - start < limit and _PATH_CHAR.match(text[end]):
        end += 1
    return text[start:end]


def machine_paths(text: str) -> list[str]:
    """Every path of the build machine in ``text`` (``/root/.cache/...``, ``site-packages``)."""
    found = [m.group(0) for m in _MACHINE_PATH.finditer(text)]
    found += [_whole_token(text, m.start(), m.end()) for m in _PACKAGES_DIR.finditer(text)]
    return list(dict.fromkeys(found))


def error_texts(text: str) -> list[str]:
    """Every traceback or network-error message in ``text``, with a little context."""
    return list(dict.fromkeys(_excerpt(text, m) for m in _ERROR_TEXT.finditer(text)))


def output_problems(text: str, *, raises: bool = False) -> list[str]:
    """What is wrong with one cell's shown output text: machine paths anywhere, and tracebacks
    or network errors unless the cell is tagged ``raises-exception`` (a short error is then the
    point, but still without the machine's paths)."""
    problems = [f"machine path {p!r}" for p in machine_paths(text)]
    if not raises:
        problems += [f"error text {e!r}" for e in error_texts(text)]
    return problems


def notebook_output_text(output: dict[str, Any]) -> str:
    """The text a notebook output puts on the page (streams, text/plain/html/markdown/latex,
    and an error's name, value and traceback, ANSI colours stripped)."""
    if output.get("output_type") == "stream":
        parts = [output.get("text", "")]
    elif output.get("output_type") == "error":
        parts = [f"{output.get('ename', '')}: {output.get('evalue', '')}"]
        parts += output.get("traceback", [])
    else:
        data = output.get("data", {})
        parts = [data.get(m, "") for m in ("text/plain", "text/html", "text/markdown")]
        parts.append(data.get("text/latex", ""))
    text = "\n".join("".join(p) if isinstance(p, list) else str(p) for p in parts)
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


_FILE_NAME = re.compile(r"^[^\s]*\.(?:png|jpe?g|gif|svg|webp|pdf)$", re.IGNORECASE)


def alt_text_problem(alt: str | None, src: str = "", *, label: str | None = None) -> str | None:
    """Why an image's alt text says nothing to a reader, or None when it is real text.

    Missing, empty, the image's own address, or a bare file name (docutils falls back to the
    URI when no alt is given, so ``../_images/3f2a….png`` is what a screen reader would read).
    An image with no alt attribute at all may be named by ``label`` instead (its
    ``aria-label`` or ``title``: an ipywidgets ``Image`` can carry only a tooltip).
    """
    if alt is None:
        if label and label.strip() and not _FILE_NAME.match(label.strip()):
            return None
        return "no alt attribute"
    text = alt.strip()
    if not text:
        return "empty alt text"
    if text == src.strip() or _FILE_NAME.match(text):
        return f"alt text is a file name ({text[:60]!r})"
    return None


# --------------------------------------------------------------------------------------------
# Colour contrast (WCAG 2.x), for what axe-core does not measure: input placeholders
# --------------------------------------------------------------------------------------------

RGBA = tuple[float, float, float, float]

_RGB_FUNC = re.compile(
    r"^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$"
)


def parse_css_colour(text: str) -> RGBA:
    """``rgb(...)``, ``rgba(...)`` (what ``getComputedStyle`` returns) or ``#rgb``/``#rrggbb``
    as (r, g, b, alpha) with channels 0..255 and alpha 0..1. Anything else raises ValueError."""
    text = text.strip().lower()
    if text == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    hexa = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", text)
    if hexa:
        digits = hexa.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return (float(r), float(g), float(b), 1.0)
    match = _RGB_FUNC.match(text)
    if not match:
        raise ValueError(f"not a colour this check reads: {text!r}")
    r, g, b = (float(match.group(i)) for i in (1, 2, 3))
    alpha = 1.0 if match.group(4) is None else float(match.group(4))
    if match.group(5):
        alpha /= 100
    return (r, g, b, alpha)


def blend(top: RGBA, bottom: RGBA) -> RGBA:
    """``top`` painted over ``bottom`` (source-over compositing)."""
    a_top, a_bottom = top[3], bottom[3]
    alpha = a_top + a_bottom * (1 - a_top)
    if alpha == 0:
        return (0.0, 0.0, 0.0, 0.0)
    channels = (
        (t * a_top + b * a_bottom * (1 - a_top)) / alpha
        for t, b in zip(top[:3], bottom[:3], strict=True)
    )
    r, g, b = channels
    return (r, g, b, alpha)


def relative_luminance(colour: RGBA) -> float:
    """WCAG relative luminance of an opaque colour: 0 for black, 1 for white."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def layered_background(layers: Iterable[str]) -> RGBA:
    """The colour behind an element: the ``background-color`` of it and of each ancestor,
    innermost first, painted from the outermost in, over a white canvas."""
    colour: RGBA = (255.0, 255.0, 255.0, 1.0)
    for layer in reversed(list(layers)):
        colour = blend(parse_css_colour(layer), colour)
    return colour


def contrast_ratio(foreground: RGBA, background: RGBA) -> float:
    """WCAG contrast ratio, 1 to 21, of text in ``foreground`` on ``background``.

    A translucent foreground is first painted over the background, and a translucent background
    over white (the page canvas).
    """
    background = blend(background, (255.0, 255.0, 255.0, 1.0))
    foreground = blend(foreground, background)
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)
