"""Browser fixtures: a ``netplay serve`` subprocess, one headless Chromium, fresh pages per test.

The tests need Debian's chromium (``apt-get install chromium``; .ci/run installs it) and the Python
``playwright`` package (the test extra), launched with ``executable_path``: Playwright's own browser
downloads are never used. Without chromium the tests are skipped, except under CI (``CI`` set),
where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("NETPLAY_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BANNER = re.compile(r" on 127\.0\.0\.1:(\d+) ")


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@dataclass
class NetplayServer:
    """A ``netplay serve`` process on a free port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(log: Path, *args: str, port: int = 0) -> NetplayServer:
    """Start ``netplay serve`` (server-side bots wait 0.2 s) and wait for its banner."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "netplay", "serve", "--port", str(port), "--bot-delay", "0.2", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = BANNER.search(log.read_text(errors="replace"))
        if found:
            return NetplayServer(process, int(found.group(1)), log)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("netplay serve did not start:\n" + log.read_text(errors="replace"))


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetplayServer]:
    """One server for the browser tests (each test uses its own rooms)."""
    server = start_server(tmp_path_factory.mktemp("server") / "serve.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium. Module-scoped, not session-scoped: Playwright's sync API keeps an event
    loop running while it is open, and pytest-asyncio cannot run the async tests of other modules
    until it is closed."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run under CI, but: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Pages:
    """Opens pages, each in its own browser context (its own storage: a separate visitor)."""

    browser: Any
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, url: str, *, name: str | None = None, width: int = 1100, height: int = 900) -> Any:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        if name is not None:  # the page reads the player's name from localStorage
            context.add_init_script(
                f"if (location.protocol === 'http:') localStorage.setItem('netplay.name', {name!r})"
            )
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        page.goto(url)
        return page

    def close(self) -> None:
        for context in self.contexts:
            for page in context.pages:
                leave(page)
            context.close()


# A closed or reloaded page keeps its seats for the server's reconnect grace (it says no "bye"), so
# a test's rooms would outlive it and meet the next test's (in the lobby, in quick match): each page
# still open at the end of a test leaves on purpose first, and waits until the server has heard it.
LEAVE = """async () => {
  const client = window.netplayPage?.client();
  if (!client || client.closed) return;
  await new Promise((done) => {
    client.on("close", done);
    setTimeout(done, 2000);
    client.close();
  });
}"""


def leave(page: Any) -> None:
    try:
        page.evaluate(LEAVE)
    except Exception:  # a page that has gone, or is not the netplay page: nothing to leave
        pass


@pytest.fixture
def pages(browser: Any) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """Save a page's screenshot as test-artifacts/NAME.png (CSS animations finished first)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page: Any, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return save
