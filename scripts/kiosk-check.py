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
import json
import os
import subprocess
import sys
import time

from chromium_devtools import chromium, run


def main() -> int:
    separator = sys.argv.index("--")
    url, expected, alert_text, screenshot = sys.argv[1:separator]
    command = sys.argv[separator + 1:]
    with chromium("--lang=fr-FR") as page:
        page.call("Page.navigate", url=url)
        quoted = json.dumps(expected)
        if not page.wait_for(f"document.body.innerText.includes({quoted})"):
            print(f"FAIL: the page never showed {expected!r}; it showed: {page.evaluate('document.body.innerText')!r}")
            return 1
        print(f"ok   the page shows {expected!r}")
        page.screenshot(os.path.splitext(screenshot)[0] + "-rotation.png")
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
        page.screenshot(screenshot)
        return 0


if __name__ == "__main__":
    run(main)
