#!/usr/bin/env python3
"""A minimal elevator screen: reads a palier node's feed socket and shows the playlist in a
terminal, one item at a time, alerts first. Python's standard library only.

    python3 screen.py [path/to/feed.sock]      (default: .palier/run/feed.sock)

It keeps its copy of the playlist as docs/feed.md says: `snapshot` replaces the list, `remove`
deletes by id, `upsert` deletes by id then inserts at `position`. When the node goes away it
reconnects every few seconds and starts again from the next snapshot.
"""
import json
import selectors
import socket
import sys
import time

path = sys.argv[1] if len(sys.argv) > 1 else ".palier/run/feed.sock"


def render(item, building):
    print("\033[2J\033[H", end="")  # clear the terminal
    print(f"{building}    {time.strftime('%H:%M')}\n")
    if item is None:
        print("Bonne journée !")
        return
    badge = "!! ALERTE !!" if item["preempts"] else item["kind"].upper()
    print(f"{badge}\n\n{item['title']}\n")
    if item["body"]:
        print(item["body"] + "\n")
    if item.get("event"):
        start = time.strftime("%A %d %B %H:%M", time.localtime(item["event"]["start"] / 1000))
        print(f"{start} · {item['event']['place']}\n")
    check = " ✓" if item["author"]["verified"] else ""
    print(f"— {item['author']['name']}{check}")


def play(connection):
    items, building, turn, next_switch, buffer = [], "", 0, 0.0, b""
    selector = selectors.DefaultSelector()
    selector.register(connection, selectors.EVENT_READ)
    while True:
        now = time.time()
        if now >= next_switch:
            live = [i for i in items if i["from"] <= now * 1000 < i["until"]]
            urgent = [i for i in live if i["preempts"]]
            rotation = urgent or live
            item = rotation[turn % len(rotation)] if rotation else None
            render(item, building)
            turn += 1
            next_switch = now + (item["displaySeconds"] if item else 10)
        if not selector.select(timeout=max(0.0, next_switch - time.time())):
            continue
        chunk = connection.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            event = json.loads(line)
            if event["type"] == "hello":
                building = event["building"]["name"]
            elif event["type"] == "snapshot":
                items, turn, next_switch = event["items"], 0, 0.0
            elif event["type"] == "remove":
                items = [i for i in items if i["id"] != event["id"]]
            elif event["type"] == "upsert":
                items = [i for i in items if i["id"] != event["item"]["id"]]
                items.insert(min(event["position"], len(items)), event["item"])
                if event["item"]["preempts"]:
                    turn, next_switch = 0, 0.0


while True:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            play(s)
    except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError) as error:
        print(f"waiting for the node ({error.__class__.__name__})…", file=sys.stderr)
    time.sleep(3)
