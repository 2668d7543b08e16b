"""What the browser tests share: the offline guard, the error allow-list and a site server.

Used by ``tests/test_site.py`` (every page of the book) and ``tests/test_explorer.py`` (the
layer explorer, on its own and on the built chapter page).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
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
