"""What the browser tests stand on: the real `make serve`, Debian's Chromium driven by Playwright's
sync API, and a visitor that notices what a person would (or should) never see.

Every test gets a fresh browser context (no cookies, no cache) whose requests are all routed:
anything not addressed to the live server on 127.0.0.1 is aborted and recorded, and the test fails
(a published page must not depend on a CDN). Console errors and uncaught page errors fail the test
too. Every page the visitor arrives at is screenshotted into build/test-artifacts/screenshots/.

Why the sync API: these tests are plain step-by-step scripts, and the sync API keeps them so. It
runs its own event loop between calls, so the fixtures are module-scoped: Playwright starts with the
first browser test and stops after the last, before any async test of another module runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ..conftest import ROOT, SCREENSHOTS, make_serve

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
DATABASE = ROOT / "build" / "drugbeleid.db"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
# Generous for a shared 2-core machine, still far below what a person would wait.
STEP_TIMEOUT_MS = 15_000


@dataclass
class Visitor:
    """One person with one browser tab. `open`/`arrived` check and screenshot each page."""

    page: object
    base: str
    name: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    expected_errors: list[re.Pattern] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    last_snapped_url: str = ""

    def url(self, path: str) -> str:
        return self.base + path

    def open(
        self,
        path: str,
        label: str,
        width: int | None = None,
        ready=None,
        full_page: bool = False,
        status: int | None = None,
    ):
        """Type `path` into the address bar; `ready(page)` waits for what the page draws later.
        The page must answer 2xx, or `status` when it is meant to be an error page."""
        if width is not None:
            height = PHONE["height"] if width < 600 else DESKTOP["height"]
            self.page.set_viewport_size({"width": width, "height": height})
        if status is not None:
            self.expect_console_error(rf"status of {status}")
        response = self.page.goto(self.url(path), wait_until="load")
        if not (response and (response.status == status if status else response.ok)):
            self.snap(label)
            raise AssertionError(f"{path}: HTTP {response and response.status}")
        if ready is not None:
            ready(self.page)
        self.arrived(label, full_page=full_page)
        return response

    @contextlib.contextmanager
    def navigates(self, label: str, status: int | None = None):
        """`with visitor.navigates("label"): <click or key press>`: waits for the new page to load,
        checks its HTTP status (2xx, or `status` when the step is meant to fail), then `arrived`."""
        with self.page.expect_navigation(wait_until="load") as navigation:
            yield
        response = navigation.value
        if status is not None:
            self.expect_console_error(rf"status of {status}")
        if not (response and (response.status == status if status else response.ok)):
            self.snap(label)
            raise AssertionError(f"{label}: {self.page.url} answered HTTP {response and response.status}")
        self.arrived(label)

    def arrived(self, label: str, full_page: bool = False) -> None:
        """After a navigation: check the page and screenshot what the person sees."""
        self.snap(label, full_page=full_page)
        self.assert_clean()

    def snap(self, label: str, full_page: bool = False) -> Path:
        """What the person sees (the window), or the whole page. JPEG: a full-page PNG of a long
        page takes seconds to encode on a busy machine."""
        width = self.page.viewport_size["width"]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")[:60] or "page"
        path = SCREENSHOTS / f"{self.name}--{len(self.shots) + 1:02d}-{slug}-{width}px.jpg"
        self.page.screenshot(path=str(path), full_page=full_page, type="jpeg", quality=70)
        self.shots.append(path)
        self.last_snapped_url = self.page.url
        return path

    def expect_console_error(self, pattern: str) -> None:
        """An error the page is meant to cause (e.g. the HTTP 400 of a wrong query)."""
        self.expected_errors.append(re.compile(pattern))

    def assert_clean(self) -> None:
        """Fails once per problem: what was reported already is not reported again at teardown."""
        external, self.external_requests = self.external_requests, []
        errors, self.console_errors = self.console_errors, []
        assert not external, f"requests that left 127.0.0.1 (blocked): {external}"
        unexpected = [e for e in errors if not any(p.search(e) for p in self.expected_errors)]
        assert not unexpected, f"console errors on {self.page.url}: {unexpected}"

    def no_horizontal_scroll(self) -> None:
        scroll_width, inner_width = self.page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width + 1, (
            f"{self.page.url} scrolls sideways at {inner_width} px: the page is {scroll_width} px wide"
        )


def sql(query: str, *params):
    """The database `make serve` serves, read directly: the independent answer to what pages show."""
    with contextlib.closing(sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True)) as db:
        return db.execute(query, params).fetchall()


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def live_site():
    with make_serve() as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    # Not a skip: without a browser these tests cannot say anything, and CI (.ci/run) installs one.
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium) or set CHROMIUM=/path/to/chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visitor(request, chromium, live_site):
    context = chromium.new_context(viewport=DESKTOP, locale="nl-BE")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    person = Visitor(page=page, base=live_site, name=request.node.name)
    own_host = urlsplit(live_site).netloc

    def only_local(route):
        url = route.request.url
        if urlsplit(url).netloc == own_host or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            person.external_requests.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", only_local)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and person.console_errors.append(f"{message.text} ({message.location.get('url', '')})")
        ),
    )
    page.on("pageerror", lambda error: person.console_errors.append(f"uncaught: {error}"))
    yield person
    try:
        if page.url != person.last_snapped_url:  # where the test ended (or failed), if not shot yet
            person.snap("end")
        person.assert_clean()
    finally:
        context.close()
