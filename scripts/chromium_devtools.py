"""Headless Chromium driven through its DevTools protocol, for the kiosk page's checks
(kiosk-check.py, kiosk-layout.py, kiosk-launcher.py). Needs Debian's `chromium` and the
websocket-client package (scripts/setup.sh --tests installs both)."""
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import sys
import urllib.request

import websocket  # websocket-client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> bool:
        """Whether `expression` became true within `timeout`; while the page is still loading
        (no body yet) a script error counts as not yet."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(expression):
                    return True
            except RuntimeError:
                pass
            time.sleep(0.1)
        return False

    def screenshot(self, path: str) -> None:
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
        print(f"ok   screenshot {path} ({len(png)} bytes)")


class NoBrowser(Exception):
    """Chromium is missing or its DevTools endpoint never came up."""


@contextlib.contextmanager
def chromium(*flags: str):
    """A headless Chromium (portrait 1080×1920 unless the page says otherwise), with its first
    page enabled; stopped and its profile removed at the end."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise NoBrowser("chromium is not installed (Debian package `chromium`)")
    port = free_port()
    profile = tempfile.mkdtemp(prefix="palier-chromium-")
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--window-size=1080,1920", *flags,
         f"--remote-debugging-port={port}", "--remote-allow-origins=*", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        targets = None
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as response:
                    targets = [t for t in json.load(response) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not targets:
            raise NoBrowser(f"chromium's DevTools endpoint did not come up on port {port}")
        page = Page(targets[0]["webSocketDebuggerUrl"])
        page.call("Page.enable")
        yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def run(main) -> None:
    """Runs a check's `main` and exits with its status; a missing browser or any other failure
    is said on stdout as one FAIL line, which the tests show."""
    try:
        status = main()
    except NoBrowser as error:
        print(f"FAIL: {error}")
        status = 1
    except Exception as error:
        print(f"FAIL: {type(error).__name__}: {error}")
        status = 1
    sys.exit(status)
