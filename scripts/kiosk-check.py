#!/usr/bin/env python3
"""Drives real headless Chromium against a node's kiosk page, through the DevTools protocol.

Usage: kiosk-check.py URL EXPECTED_TEXT ALERT_TEXT SCREENSHOT -- COMMAND [ARGS…]

1. Opens URL and waits until the page's text contains EXPECTED_TEXT.
2. Marks the page (a JavaScript variable a reload would erase), runs COMMAND (which posts an
   alert), and waits until the page shows ALERT_TEXT in its alert banner — with the mark still
   there, so the page updated itself without reloading.
3. Saves PNG screenshots: the rotation before the alert (SCREENSHOT with -rotation added to its
   name) and the alert (SCREENSHOT).
Prints what it checked; exit status 0 when everything held.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=20)
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
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.1)
        return False


def save(page: Page, path: str) -> None:
    png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(png)
    print(f"ok   screenshot saved to {path} ({len(png)} bytes)")


def main() -> int:
    separator = sys.argv.index("--")
    url, expected, alert_text, screenshot = sys.argv[1:separator]
    command = sys.argv[separator + 1:]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("FAIL: chromium is not installed (Debian package `chromium`)")
        return 1
    port = free_port()
    profile = tempfile.mkdtemp(prefix="palier-chromium-")
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--window-size=1080,1920", "--lang=fr-FR",
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
            print("FAIL: chromium's DevTools endpoint did not come up")
            return 1
        page = Page(targets[0]["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.call("Page.navigate", url=url)
        quoted = json.dumps(expected)
        if not page.wait_for(f"document.body.innerText.includes({quoted})"):
            print(f"FAIL: the page never showed {expected!r}; it showed: {page.evaluate('document.body.innerText')!r}")
            return 1
        print(f"ok   the page shows {expected!r}")
        rotation = os.path.splitext(screenshot)[0] + "-rotation.png"
        save(page, rotation)
        page.evaluate("window.palierMark = 'same page'")
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        alert = json.dumps(alert_text)
        shown = (f"document.body.classList.contains('alerting') && "
                 f"document.getElementById('alert').innerText.includes({alert})")
        if not page.wait_for(shown, timeout=10):
            print(f"FAIL: the alert {alert_text!r} never showed; the page showed: {page.evaluate('document.body.innerText')!r}")
            return 1
        if page.evaluate("window.palierMark") != "same page":
            print("FAIL: the page was reloaded to show the alert")
            return 1
        print(f"ok   the alert {alert_text!r} shows without a reload")
        time.sleep(0.3)
        save(page, screenshot)
        return 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
