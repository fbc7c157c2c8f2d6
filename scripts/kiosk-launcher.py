#!/usr/bin/env python3
"""Checks examples/screen/launcher.html in real headless Chromium: opened while no node
listens, it waits (no error page); once COMMAND has started the node, it opens the kiosk page
by itself.

Usage: kiosk-launcher.py LAUNCHER_FILE KIOSK_URL -- COMMAND [ARGS…]
COMMAND runs in the background from the moment the launcher has been seen waiting, and is
stopped (SIGTERM) at the end. Exit status 0 when everything held.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

layout = import_module("kiosk-layout")


def main() -> int:
    separator = sys.argv.index("--")
    launcher, kiosk = sys.argv[1:separator]
    command = sys.argv[separator + 1:]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("FAIL: chromium is not installed (Debian package `chromium`)")
        return 1
    port = layout.free_port()
    profile = tempfile.mkdtemp(prefix="palier-chromium-")
    process = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--window-size=1080,1920",
         f"--remote-debugging-port={port}", "--remote-allow-origins=*", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    node = None
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
        page = layout.Page(targets[0]["webSocketDebuggerUrl"])
        page.call("Page.enable")
        page.call("Page.navigate", url=pathlib.Path(launcher).resolve().as_uri() + "#" + kiosk)
        time.sleep(4)  # two tries at least, with no node
        waiting = page.evaluate("location.protocol === 'file:' && document.body.innerText.includes('démarre')")
        if not waiting:
            print(f"FAIL: with no node the launcher did not wait; it shows {page.evaluate('location.href')!r}: "
                  f"{page.evaluate('document.body.innerText')!r}")
            return 1
        print("ok   with no node, the launcher waits and shows the clock")
        node = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        opened = page.wait_for(f"location.href === {json.dumps(kiosk)} && typeof items !== 'undefined'", timeout=30)
        if not opened:
            print(f"FAIL: the launcher never opened {kiosk}; it shows {page.evaluate('location.href')!r}")
            return 1
        print(f"ok   once the node runs, the launcher opens {kiosk} by itself")
        return 0
    finally:
        if node:
            node.terminate()
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.kill()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
