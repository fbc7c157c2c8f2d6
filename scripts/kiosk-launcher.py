#!/usr/bin/env python3
"""Checks examples/screen/launcher.html in real headless Chromium: opened while no node
listens, it waits (no error page); once COMMAND has started the node, it opens the kiosk page
by itself.

Usage: kiosk-launcher.py LAUNCHER_FILE KIOSK_URL -- COMMAND [ARGS…]
COMMAND runs in the background from the moment the launcher has been seen waiting, and is
stopped (SIGTERM) at the end. Exit status 0 when everything held.
"""
import json
import pathlib
import subprocess
import sys
import time

from chromium_devtools import chromium, run


def main() -> int:
    separator = sys.argv.index("--")
    launcher, kiosk = sys.argv[1:separator]
    command = sys.argv[separator + 1:]
    node = None
    try:
        with chromium() as page:
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


if __name__ == "__main__":
    run(main)
