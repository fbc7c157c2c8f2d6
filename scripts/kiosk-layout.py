#!/usr/bin/env python3
"""Checks the kiosk page's layout in real headless Chromium, in portrait (1080×1920) and in
landscape (1920×1080), through the DevTools protocol.

Usage: kiosk-layout.py URL LANGUAGE PHASE ARTIFACTS_DIR [--longest TITLE] [--neighbour-alert TITLE]
       [--promo TITLE]

PHASE `rotation`: steps through the whole rotation (calling the page's own `show()`), and at
each step checks that no element lies outside the viewport and the document does not scroll;
that the longest post fits (shrunk or paged); that the neighbour's alert is an item of the
rotation with its "neighbouring building" label, not a full-screen takeover; that the promo has
its own label; that the side list has dates, a "+N" when it cannot hold everything (portrait)
and marks the item on screen; and that the page speaks LANGUAGE (its strings and its date
format).
PHASE `alert`: this building's alert is on: it shows as a band under the header, which stays
visible (building, clock, date), and nothing leaves the viewport.
Screenshots: ARTIFACTS_DIR/kiosk-LANGUAGE-ORIENTATION[-neighbour|-alert].png. Prints what it checked;
exit status 0 when everything held.
"""
import argparse
import os
import time

from chromium_devtools import chromium, run

SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080), "bar": (1920, 540)}
EXPECTED = {
    "fr": {"agenda": "Au programme", "neighbour": "Résidence voisine", "promo": "Offre d'un commerçant",
           "weekdays": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
           "short": ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]},
    "en": {"agenda": "Coming up", "neighbour": "Neighbouring building", "promo": "Local shop offer",
           "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
           "short": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]},
}

# Returns what is wrong with the page as it stands, and what it shows.
PROBE = r"""
(() => {
  const problems = [];
  const W = innerWidth, H = innerHeight, root = document.documentElement;
  if (root.scrollHeight > H + 1 || root.scrollWidth > W + 1) problems.push(`the document scrolls (${root.scrollWidth}×${root.scrollHeight} in ${W}×${H})`);
  for (const e of document.body.querySelectorAll("*")) {
    if (e.tagName === "SCRIPT" || e.tagName === "TEMPLATE" || e.getClientRects().length === 0) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1)
      problems.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className} lies outside the viewport (${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}): ${(e.innerText || "").slice(0, 50)}`);
  }
  const alerting = document.body.classList.contains("alerting");
  const card = document.getElementById(alerting ? "alert" : "current");
  const visible = card.getClientRects().length > 0;
  if (visible && (card.scrollHeight > card.clientHeight + 1 || card.scrollWidth > card.clientWidth + 1))
    problems.push(`the card overflows (${card.scrollHeight} > ${card.clientHeight}): ${card.innerText.slice(0, 60)}`);
  const r = card.getBoundingClientRect();
  const header = document.querySelector("header").getBoundingClientRect();
  const current = document.querySelector("#agenda li.current");
  return {
    problems, alerting, visible,
    id: visible ? card.dataset.id : null,
    text: visible ? card.innerText : "",
    label: visible && card.querySelector(".label") ? card.querySelector(".label").innerText : "",
    origin: visible && card.querySelector(".origin") ? card.querySelector(".origin").innerText : "",
    pager: visible && card.querySelector(".pager") ? card.querySelector(".pager").innerText : "",
    cardHeight: r.height, viewport: [W, H], scale: visible ? (card.style.getPropertyValue("--scale") || "1") : "",
    header: { top: header.top, bottom: header.bottom, building: document.getElementById("building").innerText,
              clock: document.getElementById("clock").innerText, date: document.getElementById("date").innerText },
    lang: root.lang, agendaTitle: document.querySelector("#side h2").innerText,
    agenda: [...document.querySelectorAll("#agenda li")].map(li => li.innerText),
    more: document.getElementById("more").innerText,
    marked: current ? current.dataset.id : null,
    slots: typeof live === "function" ? live(Date.now()).length : 0,
  };
})()
"""


class Checks:
    def __init__(self):
        self.failures = 0

    def expect(self, condition: bool, what: str) -> None:
        if condition:
            print(f"ok   {what}")
        else:
            self.failures += 1
            print(f"FAIL {what}")


def rotation(page, orientation: str, args, checks: Checks) -> None:
    expected = EXPECTED[args.language]
    seen = {}
    problems = []
    longest_pages = set()
    longest_scales = set()
    shot = None
    neighbour_shot = False
    # Steps: every item once, every page of a paged body, and the panel's turn, twice round.
    for step in range(80):
        state = page.evaluate("show(), " + PROBE)
        problems += [f"step {step}: {p}" for p in state["problems"]]
        if state["visible"] and state["id"]:
            seen.setdefault(state["id"], state)
            if args.longest and args.longest[:40] in state["text"]:
                longest_pages.add(state["pager"])
                longest_scales.add(state["scale"])
                if shot is None:
                    shot = step
                    page.screenshot(os.path.join(args.artifacts, f"kiosk-{args.language}-{orientation}.png"))
            if args.neighbour_alert and args.neighbour_alert in state["text"] and not neighbour_shot:
                neighbour_shot = True
                page.screenshot(os.path.join(args.artifacts, f"kiosk-{args.language}-{orientation}-neighbour.png"))
        if len(seen) >= state["slots"] and step > 2 * state["slots"] + 4:
            break
    checks.expect(not problems, f"{orientation}: nothing lies outside the viewport and the document never scrolls"
                  + ("" if not problems else ":\n       " + "\n       ".join(problems[:8])))
    if args.longest:
        longest = [s for s in seen.values() if args.longest[:40] in s["text"]]
        checks.expect(bool(longest), f"{orientation}: the longest post shows")
        pages = sorted(p for p in longest_pages if p)
        checks.expect(bool(longest), f"{orientation}: it fits (text scale {', '.join(sorted(longest_scales))}"
                      + (f", body in pages {', '.join(pages)})" if pages else ", the whole body at once)"))
    if args.neighbour_alert:
        theirs = [s for s in seen.values() if args.neighbour_alert in s["text"]]
        checks.expect(bool(theirs), f"{orientation}: the neighbour's alert is an item of the rotation")
        if theirs:
            s = theirs[0]
            checks.expect(not s["alerting"] and s["origin"].startswith(expected["neighbour"]),
                          f"{orientation}: it is labelled “{s['origin']}” and does not take over the screen")
            checks.expect(s["cardHeight"] < 0.9 * s["viewport"][1], f"{orientation}: its card is {round(s['cardHeight'])} px of {s['viewport'][1]}")
    if args.promo:
        promo = [s for s in seen.values() if args.promo in s["text"]]
        checks.expect(bool(promo) and promo[0]["label"].lower() == expected["promo"].lower(),
                      f"{orientation}: the promo reads as a shop's offer ({promo[0]['label'] if promo else 'not shown'})")
    # Past the legible minimum the body is paged: a body far over the screen's limit, laid out
    # by the page's own code, comes out in pages that each fit.
    paged = page.evaluate(r"""
      (() => {
        const card = document.getElementById("current");
        document.body.classList.remove("quiet", "alerting");
        const item = Object.assign({}, live(Date.now()).find(i => !i.preempts), { body: "Quarante-deux mots pour voir. ".repeat(300) });
        const pages = layout(card, item);
        const fits = pages.map((text, i) => { fill(card, item, text, fmt(S.page, { i: i + 1, n: pages.length })); return !overflows(card); });
        const scale = card.style.getPropertyValue("--scale");
        show();
        return { count: pages.length, fits: fits.every(Boolean), scale, words: pages.join(" ").split(/\s+/).filter(w => w && w !== "…").length };
      })()""")
    checks.expect(paged["count"] > 1 and paged["fits"] and paged["scale"] == "0.6" and paged["words"] == 1200,
                  f"{orientation}: a body too long for the screen is shown in {paged['count']} pages that each fit, at the minimum scale {paged['scale']} ({paged['words']} of 1200 words)")
    last = page.evaluate(PROBE)
    checks.expect(last["lang"] == args.language and last["agendaTitle"].lower() == expected["agenda"].lower(),
                  f"{orientation}: the page speaks {args.language} (lang={last['lang']}, “{last['agendaTitle']}”)")
    checks.expect(any(day.lower() in last["header"]["date"].lower() for day in expected["weekdays"]),
                  f"{orientation}: the date reads “{last['header']['date']}”")
    dated = [line for line in last["agenda"] if any(line.startswith(d) for d in expected["short"])]
    checks.expect(bool(dated), f"{orientation}: events in the side list carry their day and time: {dated[:2]}")
    if orientation == "portrait":
        checks.expect(last["more"].startswith("+"), f"{orientation}: what does not fit is counted: “{last['more']}”")
    marked = [s for s in seen.values() if s["marked"] and s["marked"] == s["id"]]
    checks.expect(bool(marked), f"{orientation}: the item on screen is marked in the side list")


def alert(page, orientation: str, args, checks: Checks) -> None:
    checks.expect(page.wait_for("document.body.classList.contains('alerting')", timeout=10), f"{orientation}: this building's alert is on")
    state = page.evaluate(PROBE)
    checks.expect(not state["problems"], f"{orientation}: nothing lies outside the viewport during the alert"
                  + ("" if not state["problems"] else ": " + "; ".join(state["problems"][:5])))
    header = state["header"]
    checks.expect(header["top"] >= 0 and header["bottom"] <= state["viewport"][1] and header["clock"] and header["building"] and header["date"],
                  f"{orientation}: the header stays: “{header['building']}”, {header['clock']}, {header['date']}")
    page.screenshot(os.path.join(args.artifacts, f"kiosk-{args.language}-{orientation}-alert.png"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("language", choices=sorted(EXPECTED))
    parser.add_argument("phase", choices=["rotation", "alert"])
    parser.add_argument("artifacts")
    parser.add_argument("--longest")
    parser.add_argument("--neighbour-alert")
    parser.add_argument("--promo")
    args = parser.parse_args()
    checks = Checks()
    with chromium("--hide-scrollbars") as page:
        for orientation, (width, height) in SIZES.items():
            page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
            page.call("Page.navigate", url=args.url)
            if not page.wait_for("typeof items !== 'undefined' && items.length > 0"):
                print(f"FAIL: the page never received its playlist; it showed: {page.evaluate('document.body.innerText')!r}")
                return 1
            time.sleep(0.3)
            (rotation if args.phase == "rotation" else alert)(page, orientation, args, checks)
    return 1 if checks.failures else 0


if __name__ == "__main__":
    run(main)
