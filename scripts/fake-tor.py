#!/usr/bin/env python3
"""A stand-in for the system's tor, for palier's tests that run without root (the real thing runs
in the onion lab, scripts/tor-lab.sh): a control port per node (a Unix socket) and one SOCKS5 port
shared by them, joined by a registry of the onion services the nodes publish.

    fake-tor.py DIR NAME=SERVICEID... [--auth cookie|password|null] [--bootstrap N] [--wrong-id]

For each NAME it listens on DIR/NAME/control (cookie DIR/NAME/control.authcookie, 32 random bytes)
and answers PROTOCOLINFO, AUTHENTICATE, GETINFO status/bootstrap-phase (below 100 % for the
first N asks, 100 % after), GETINFO net/listeners/socks, ADD_ONION (answering SERVICEID, or
another id with --wrong-id; the service lives as long as its control connection, as without
Detach) and ONION_CLIENT_AUTH_ADD. Its SOCKS5 port (written to DIR/socks.port once ready)
connects a domain-name CONNECT to `<serviceid>.onion` with the local port the service named —
when the service asked for client authorisation (ClientAuthV3), only for a control connection
that gave a private key whose X25519 public key is the one the service named, else it answers
"general failure" as tor does. Every command is appended to DIR/commands.log. Stop it with
SIGTERM: every control connection closes, as when tor stops.
"""
import asyncio
import base64
import os
import signal
import struct
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

services = {}  # service id -> (local port, authorised public key bytes or None, owner name)
credentials = {}  # (client name, service id) -> public key bytes the client derived


def parse_args(argv):
    directory, names, auth, bootstrap, wrong = argv[0], {}, "cookie", 0, False
    rest = argv[1:]
    while rest:
        word = rest.pop(0)
        if word == "--auth":
            auth = rest.pop(0)
        elif word == "--bootstrap":
            bootstrap = int(rest.pop(0))
        elif word == "--wrong-id":
            wrong = True
        else:
            name, service = word.split("=", 1)
            names[name] = service
    return directory, names, auth, bootstrap, wrong


async def control(name, service_id, directory, auth, bootstrap, wrong, socks_port, reader, writer):
    cookie = open(os.path.join(directory, name, "control.authcookie"), "rb").read()
    asks = 0
    published = []

    def log(line):
        with open(os.path.join(directory, "commands.log"), "a") as f:
            f.write(f"{name} {line}\n")

    def send(*lines):
        for i, line in enumerate(lines):
            separator = " " if i == len(lines) - 1 else "-"
            writer.write(f"{line[:3]}{separator}{line[4:]}\r\n".encode())

    try:
        while True:
            raw = await reader.readline()
            if not raw:
                break
            line = raw.decode().rstrip("\r\n")
            log(line)
            words = line.split(" ")
            command = words[0].upper()
            if command == "PROTOCOLINFO":
                methods = {"cookie": "COOKIE,SAFECOOKIE", "password": "HASHEDPASSWORD", "null": "NULL"}[auth]
                cookie_file = f' COOKIEFILE="{os.path.join(directory, name, "control.authcookie")}"' if auth == "cookie" else ""
                send("250 PROTOCOLINFO 1", f"250 AUTH METHODS={methods}{cookie_file}", '250 VERSION Tor="0.4.9.11"', "250 OK")
            elif command == "AUTHENTICATE":
                given = words[1] if len(words) > 1 else ""
                ok = auth == "null" or (auth == "cookie" and given.lower() == cookie.hex())
                send("250 OK" if ok else "515 Authentication failed: Wrong length on authentication cookie.")
            elif command == "GETINFO" and words[1] == "status/bootstrap-phase":
                asks += 1
                progress = 100 if asks > bootstrap else 50
                send(f'250 status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS={progress} TAG=x SUMMARY="x"', "250 OK")
            elif command == "GETINFO" and words[1] == "net/listeners/socks":
                send(f'250 net/listeners/socks="127.0.0.1:{socks_port}"', "250 OK")
            elif command == "ADD_ONION":
                port = next(w for w in words if w.startswith("Port="))
                local = int(port.rsplit(":", 1)[1])
                authorised = next((w.split("=", 1)[1] for w in words if w.startswith("ClientAuthV3=")), None)
                key = base64.b32decode(authorised + "=" * (-len(authorised) % 8)) if authorised else None
                answered = ("x" * 56) if wrong else service_id
                services[answered] = (local, key, name)
                published.append(answered)
                send(f"250 ServiceID={answered}", "250 OK")
            elif command == "ONION_CLIENT_AUTH_ADD":
                private = base64.b64decode(words[2].split(":", 1)[1])
                public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                credentials[(name, words[1])] = public
                send("250 OK")
            else:
                send("510 Unrecognized command")
            await writer.drain()
    finally:
        # Without Detach, a service goes with its control connection.
        for service in published:
            services.pop(service, None)
        writer.close()


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def socks(reader, writer, directory):
    try:
        version, count = await reader.readexactly(2)
        await reader.readexactly(count)
        writer.write(b"\x05\x00")
        _, command, _, kind = await reader.readexactly(4)
        if kind != 3:
            writer.write(b"\x05\x08\x00\x01" + bytes(6))
            return writer.close()
        host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        (port,) = struct.unpack(">H", await reader.readexactly(2))
        service = host.removesuffix(".onion")
        entry = services.get(service)
        allowed = entry is not None and (entry[1] is None or any(
            key == entry[1] for (client, sid), key in credentials.items() if sid == service))
        with open(os.path.join(directory, "commands.log"), "a") as f:
            f.write(f"socks CONNECT {host}:{port} {'ok' if allowed else 'refused'}\n")
        if not allowed:
            writer.write(b"\x05\x01\x00\x01" + bytes(6))
            await writer.drain()
            return writer.close()
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", entry[0])
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await writer.drain()
        await asyncio.gather(pipe(reader, target_writer), pipe(target_reader, writer))
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main():
    # A test runner may have blocked SIGTERM in the threads this process inherits its mask from.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    directory, names, auth, bootstrap, wrong = parse_args(sys.argv[1:])
    server = await asyncio.start_server(lambda r, w: socks(r, w, directory), "127.0.0.1", 0)
    socks_port = server.sockets[0].getsockname()[1]
    controls = []
    for name, service_id in names.items():
        os.makedirs(os.path.join(directory, name), exist_ok=True)
        path = os.path.join(directory, name, "control")
        if os.path.exists(path):
            os.unlink(path)
        with open(os.path.join(directory, name, "control.authcookie"), "wb") as f:
            f.write(os.urandom(32))
        controls.append(await asyncio.start_unix_server(
            lambda r, w, n=name, s=service_id: control(n, s, directory, auth, bootstrap, wrong, socks_port, r, w), path=path))
    with open(os.path.join(directory, "socks.port.tmp"), "w") as f:
        f.write(f"{socks_port}\n")
    os.rename(os.path.join(directory, "socks.port.tmp"), os.path.join(directory, "socks.port"))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for item in controls + [server]:
        item.close()
    for name in names:
        os.unlink(os.path.join(directory, name, "control"))
    os.unlink(os.path.join(directory, "socks.port"))


if __name__ == "__main__":
    asyncio.run(main())
