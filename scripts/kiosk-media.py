#!/usr/bin/env python3
"""Checks posts with an image and with a link on the kiosk page in real headless Chromium, in
portrait (1080×1920) and in landscape (1920×1080), through the DevTools protocol.

Usage: kiosk-media.py URL IMAGE_TITLE ALT IMAGE_LINK LINK_TITLE LINK ARTIFACTS_DIR

For each orientation, each of the two posts is put on screen (the page's own `show()`), then:
the image post's picture is loaded from the node (`/blobs/…`), carries its alt text, is fitted
whole inside the viewport at a readable size; the link shows as a QR code image, not as text
to follow, large enough to scan, which zbarimg reads back as the post's link from the screenshot;
nothing leaves the viewport and the page does not scroll.
Screenshots: ARTIFACTS_DIR/kiosk-image-ORIENTATION.png and kiosk-link-ORIENTATION.png.
Prints what it checked; exit status 0 when everything held.
"""
import json
import os
import subprocess
import sys
import time

from chromium_devtools import chromium, run

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}

SHOW = r"""
((title) => {
  const now = Date.now();
  const rotation = items.filter(i => i.from <= now && now < i.until && !i.preempts);
  const index = rotation.findIndex(i => i.title === title);
  if (index < 0) return false;
  turn = index; page = 0; show();
  clearTimeout(timer);  // held on screen while it is looked at
  return document.getElementById("current").dataset.id === rotation[index].id;
})
"""

PROBE = r"""
(() => {
  const W = innerWidth, H = innerHeight, root = document.documentElement;
  const inside = r => r.left >= -1 && r.top >= -1 && r.right <= W + 1 && r.bottom <= H + 1;
  const card = document.getElementById("current");
  const out = [...document.querySelectorAll("body *")].filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && !inside(r);
  }).map(e => e.tagName + "." + e.className);
  const pictures = [...card.querySelectorAll(".pictures img")].map(img => {
    const r = img.getBoundingClientRect();
    return {src: img.getAttribute("src"), alt: img.alt, complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
            box: [r.width, r.height], inside: inside(r)};
  });
  const qr = card.querySelector(".qr img");
  const qrBox = qr ? qr.getBoundingClientRect() : null;
  return {scrolls: root.scrollHeight > H + 1 || root.scrollWidth > W + 1, out, pictures,
          qr: qr ? {loaded: qr.complete && qr.naturalWidth > 0, box: [qrBox.width, qrBox.height], inside: inside(qrBox),
                    data: qr.src.startsWith("data:image/svg+xml")} : null,
          links: card.querySelectorAll("a").length, text: card.innerText};
})()
"""


def main() -> int:
    url, image_title, alt, image_link, link_title, link, artifacts = sys.argv[1:8]
    failures = 0

    def expect(condition, what):
        nonlocal failures
        print(("ok   " if condition else "FAIL ") + what)
        failures += 0 if condition else 1

    with chromium("--hide-scrollbars") as page:
        for orientation, (width, height) in SIZES.items():
            page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
            page.call("Page.navigate", url=url)
            if not page.wait_for("typeof items !== 'undefined' && items.some(i => (i.images || []).length > 0)"):
                print(f"FAIL: the page never received the image post; it showed: {page.evaluate('document.body.innerText')!r}")
                return 1
            time.sleep(0.5)  # the page's first rendering done
            for title, name, qr_url in ((image_title, "image", image_link), (link_title, "link", link)):
                expect(page.evaluate(SHOW + f"({json.dumps(title)})"), f"{orientation}: {name} post {title!r} on screen")
                page.wait_for("[...document.querySelectorAll('#current img')].every(i => i.complete)", timeout=5)
                time.sleep(0.3)
                probe = page.evaluate(PROBE)
                expect(not probe["scrolls"] and not probe["out"], f"{orientation}/{name}: nothing outside the viewport ({probe['out'][:3]})")
                expect(probe["links"] == 0, f"{orientation}/{name}: no clickable link")
                expect(qr_url not in probe["text"], f"{orientation}/{name}: the address is not printed as text to follow")
                if name == "image":
                    pictures = probe["pictures"]
                    expect(len(pictures) == 1, f"{orientation}: one picture ({len(pictures)})")
                    for picture in pictures:
                        expect(picture["src"].startswith("/blobs/") and picture["complete"] and picture["natural"] == [300, 400],
                               f"{orientation}: the picture is loaded from the node, 300 × 400 ({picture})")
                        expect(picture["alt"] == alt, f"{orientation}: it carries its alt text")
                        expect(picture["inside"] and min(picture["box"]) >= 300, f"{orientation}: fitted whole and large ({picture['box']})")
                qr = probe["qr"]
                expect(qr is not None and qr["loaded"] and qr["data"] and qr["inside"] and min(qr["box"]) >= 150,
                       f"{orientation}/{name}: the link shows as a QR code image large enough to scan ({qr})")
                shot = os.path.join(artifacts, f"kiosk-{name}-{orientation}.png")
                page.screenshot(shot)
                read = subprocess.run(["zbarimg", "--quiet", "--raw", shot], capture_output=True, text=True)
                expect(read.stdout.strip() == qr_url, f"{orientation}/{name}: zbarimg reads the screen's QR code as {qr_url!r} ({read.stdout.strip()!r})")
    return 1 if failures else 0


if __name__ == "__main__":
    run(main)
