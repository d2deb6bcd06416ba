"""Drive Debian's headless Chromium over the DevTools protocol: load a report, ask the page, take screenshots.

What the report's browser tests and its load-time benchmark use. Chromium is started with
``--remote-debugging-pipe``: commands go to its file descriptor 3 and answers come from 4, one JSON message each,
ended by a NUL byte. No port, no network, no driver to match to the browser's version, and no Python
dependency: the protocol is the browser's own (https://chromedevtools.github.io/devtools-protocol/).

    with Browser() as browser:
        page = browser.open(Path("reports/conformance.html").resolve().as_uri(), width=390, height=844)
        page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(Path("reports/screenshots/report-390.png"))

``python -m mapping.report.browser [REPORT]`` opens a report at 1400 and 390 px, writes a screenshot of each first
screen to ``reports/screenshots/`` and prints the HTML's size, its load time and whether the document fits the
screen: what a person looks at before trusting a change to the report.

Chromium runs as root here, hence ``--no-sandbox``; a fresh ``--user-data-dir`` and the flags that switch off
background networking keep it from reaching for a network it does not have.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or answered a command with an error."""


def find_chromium() -> str | None:
    """Debian's chromium (or a ``chromium-browser``) on the PATH, or None."""
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


class Page:
    """One tab, attached with a flat session: every command goes through its session id."""

    def __init__(self, browser: "Browser", session: str, target: str):
        self.browser, self.session, self.target = browser, session, target

    def send(self, method: str, **params: Any) -> dict:
        return self.browser.send(method, session=self.session, **params)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values only)."""
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll until ``expression`` is truthy; its value, or BrowserError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {timeout} s waiting for {expression}")
            time.sleep(0.02)

    def goto(self, url: str, ready: str = "document.body && document.body.dataset.ready === '1'") -> None:
        """Load ``url`` as a new document and wait until ``ready`` holds (the report sets data-ready when its
        script has run). The tab goes to about:blank first, so the same address with another fragment is loaded anew
        (to change only the fragment of the loaded document, set ``location.hash``)."""
        self.send("Page.navigate", url="about:blank")
        self.wait_for("location.href === 'about:blank' && document.readyState === 'complete'")
        self.evaluate("window.__previousDocument = true")
        self.send("Page.navigate", url=url)
        self.wait_for(f"!window.__previousDocument && document.readyState === 'complete' && ({ready})")

    def load_time_ms(self) -> dict[str, float]:
        """Milliseconds from the start of navigation to DOMContentLoaded and to the load event."""
        return self.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                             " return {dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd}; })()")

    def resize(self, width: int, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=width < 800, screenWidth=width, screenHeight=height)

    def screenshot(self, path: Path | str, *, full_page: bool = False) -> Path:
        """A PNG of the viewport (or of the whole page), written to ``path``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Browser:
    """A headless Chromium process with a DevTools pipe; use as a context manager."""

    def __init__(self, chromium: str | None = None, timeout: float = 30.0):
        self.chromium = chromium or find_chromium()
        if self.chromium is None:
            raise BrowserError("chromium is not installed (Debian: apt-get install -y chromium)")
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self.console: list[str] = []  # console errors and uncaught exceptions, from every page

    def __enter__(self) -> "Browser":
        self._profile = tempfile.mkdtemp(prefix="mapping-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds():  # the browser reads commands on fd 3 and writes answers on fd 4 (dup2: inheritable)
            commands, answers = os.dup(to_browser_r), os.dup(from_browser_w)  # above 4: the pipes may be 3 or 4
            os.dup2(commands, 3)
            os.dup2(answers, 4)

        # close_fds=False: fds 3 and 4 are made in the child, after pass_fds would be applied; every other fd
        # Python opens is non-inheritable (PEP 446) and closes on exec anyway.
        self.process = subprocess.Popen(
            [self.chromium, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=child_fds, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            self.send("Browser.getVersion")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.process.poll() is None:
                try:
                    self._write({"id": -1, "method": "Browser.close"})
                    self.process.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    def _write(self, message: dict) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"chromium did not answer within {self.timeout} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited (status {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, *, session: str | None = None, **params: Any) -> dict:
        """Send one command and return its result; events that arrive meanwhile are noted (console errors)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        self._write(command)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self._note(message)

    def _note(self, event: dict) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Page.javascriptDialogOpening":  # an injected alert() must not hang the run
            self.console.append(f"dialog opened: {params.get('message')}")
            self._write({"id": 1_000_000 + self._next_id, "method": "Page.handleJavaScriptDialog",
                         "sessionId": event.get("sessionId"), "params": {"accept": True}})

    def open(self, url: str, *, width: int = 1400, height: int = 900) -> Page:
        """A new tab of the given size with ``url`` loaded and its script run."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session, target)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.resize(width, height)
        page.goto(url)
        return page


#: The widths the report is checked at: a laptop and a phone.
WIDTHS = ((1400, 900), (390, 844))


def look(report: Path, screenshots: Path) -> list[str]:
    """Open ``report`` at each of WIDTHS; a screenshot of each first screen and one line of figures per width."""
    lines = [f"{report}: {report.stat().st_size / 1024:.0f} KiB"]
    with Browser() as browser:
        for width, height in WIDTHS:
            page = browser.open(report.resolve().as_uri(), width=width, height=height)
            timing = page.load_time_ms()
            scroll = page.evaluate("document.documentElement.scrollWidth")
            shot = page.screenshot(screenshots / f"{report.stem}-{width}.png")
            lines.append(f"{width} px: DOMContentLoaded {timing['dom_content_loaded']:.0f} ms, load "
                         f"{timing['load']:.0f} ms; document {scroll} px wide"
                         f"{'' if scroll <= width else ' (WIDER THAN THE SCREEN)'}; screenshot {shot}")
        if browser.console:
            lines.append("console errors: " + "; ".join(browser.console))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapping.report.browser",
                                     description="Screenshots and load time of a report at 1400 and 390 px.")
    parser.add_argument("report", nargs="?", type=Path, default=Path("reports/conformance.html"))
    parser.add_argument("--screenshots", type=Path, default=Path("reports/screenshots"),
                        help="folder for the PNGs (default: reports/screenshots)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"error: no report at {args.report}", file=sys.stderr)
        return 2
    try:
        print("\n".join(look(args.report, args.screenshots)))
    except BrowserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
