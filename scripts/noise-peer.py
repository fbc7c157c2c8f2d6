#!/usr/bin/env python3
"""An independent palier sync peer for the interoperability test.

It uses the `noiseprotocol` package (not palier's code) for Noise_XXpsk3_25519_ChaChaPoly_SHA256
and `cryptography` for Ed25519, dials a palier node, completes the handshake and the identity
exchange of docs/protocol.md part 2, then exchanges transport messages: hello, ping/pong, bye.

usage: noise-peer.py HOST PORT NETWORK_KEY_HEX [--stall SECONDS | --invalid | --envelope SEED_HEX ENVELOPE_HEX]
Prints one line per step; exits 0 only if every step succeeded. With --stall, after hello it
asks for everything the node holds (a reconcile with an empty id list) and then stops reading
for SECONDS: a peer that stops reading, which the node must drop without slowing anyone else.
With --invalid, it sends an invalid envelope, expects `bye` reason 2, dials again with the same
building key and expects to be refused (`bye` reason 3).
With --envelope, it speaks as the building whose Ed25519 seed is SEED_HEX, sends one `envelopes`
message holding ENVELOPE_HEX (made by the test: hostile field values), and prints `bye N` if the
node closes the session, else `kept` once a ping sent after it is answered.
"""
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives import serialization
from noise.connection import Keypair, NoiseConnection

PROTOCOL = b"Noise_XXpsk3_25519_ChaChaPoly_SHA256"
PROLOGUE = b"palier-sync-v1"
IDENTITY_DOMAIN = b"palier-sync-identity-v1\x00"


def send_frame(sock, data):
    sock.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError("connection closed")
        out += chunk
    return out


def recv_frame(sock):
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    if length > 65535:
        raise ValueError("frame too large")
    return recv_exact(sock, length)


def open_session(host, port, psk_hex, key, small_buffer=False):
    """Dials, runs the Noise handshake and the identity exchange; returns (socket, noise)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if small_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, port))

    noise = NoiseConnection.from_name(PROTOCOL)
    noise.set_as_initiator()
    noise.set_psks(psk=bytes.fromhex(psk_hex))
    noise.set_prologue(PROLOGUE)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, os.urandom(32))
    noise.start_handshake()
    send_frame(sock, noise.write_message())
    noise.read_message(recv_frame(sock))
    send_frame(sock, noise.write_message())
    assert noise.handshake_finished
    print("handshake complete")
    handshake_hash = noise.get_handshake_hash()

    # Identity: type 0x00, building key, Ed25519 signature over domain || role || handshake hash.
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = key.sign(IDENTITY_DOMAIN + b"\x00" + handshake_hash)
    send_frame(sock, noise.encrypt(b"\x00" + public + signature))

    theirs = noise.decrypt(recv_frame(sock))
    assert theirs[0] == 0x00, "first message is not an identity"
    their_key, their_signature = theirs[1:33], theirs[33:97]
    Ed25519PublicKey.from_public_bytes(their_key).verify(their_signature, IDENTITY_DOMAIN + b"\x01" + handshake_hash)
    print("identity verified", their_key.hex())
    return sock, noise


def varint(value):
    out = b""
    while value >= 0x80:
        out += bytes([(value & 0x7F) | 0x80])
        value >>= 7
    return out + bytes([value])


def next_bye(sock, noise):
    """Reads messages until a bye; returns its reason code."""
    while True:
        message = noise.decrypt(recv_frame(sock))
        if message[0] == 0x08:
            return message[1]


def main():
    host, port, psk_hex = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 4 else None
    stall = float(sys.argv[5]) if mode == "--stall" else None
    key = Ed25519PrivateKey.generate()
    if mode == "--envelope":
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[5]))
    sock, noise = open_session(host, port, psk_hex, key, small_buffer=stall is not None)

    name = b"interop peer"
    send_frame(sock, noise.encrypt(b"\x01" + struct.pack(">HH", 1, 1) + bytes([len(name)]) + name + struct.pack(">H", 15)))
    if mode == "--envelope":
        envelope = bytes.fromhex(sys.argv[6])
        send_frame(sock, noise.encrypt(b"\x04\x01" + varint(len(envelope)) + envelope))
        send_frame(sock, noise.encrypt(b"\x06" + struct.pack(">Q", 7)))
        while True:
            message = noise.decrypt(recv_frame(sock))
            if message[0] == 0x08:
                print("bye", message[1], flush=True)
                break
            if message[0] == 0x07 and struct.unpack(">Q", message[1:9])[0] == 7:
                print("kept", flush=True)
                send_frame(sock, noise.encrypt(b"\x08\x00" + bytes([4]) + b"done"))
                break
        sock.close()
        print("ok")
        return
    if mode == "--invalid":
        # An envelope that is not one: the node must say bye (reason 2) and refuse us for a while.
        send_frame(sock, noise.encrypt(b"\x04\x01\x03\x01\x02\x03"))
        print("bye", next_bye(sock, noise), flush=True)
        sock.close()
        again, noise = open_session(host, port, psk_hex, key)
        print("refused", next_bye(again, noise), flush=True)
        again.close()
        print("ok")
        return
    if stall is not None:
        # reconcile, format 1, one range: infinite bound, no prefix, id list of 0 ids.
        send_frame(sock, noise.encrypt(b"\x02\x01\x00\x00\x02\x00"))
        print("stalling", flush=True)
        time.sleep(stall)
        sock.close()
        print("ok")
        return
    send_frame(sock, noise.encrypt(b"\x06" + struct.pack(">Q", 42)))
    send_frame(sock, noise.encrypt(b"\x7f"))  # an unknown type: must be answered "unsupported"
    got_hello = got_pong = got_unsupported = False
    while not (got_hello and got_pong and got_unsupported):
        message = noise.decrypt(recv_frame(sock))
        if message[0] == 0x01:
            got_hello = True
            print("hello version", struct.unpack(">H", message[1:3])[0])
        elif message[0] == 0x07:
            assert struct.unpack(">Q", message[1:9])[0] == 42
            got_pong = True
            print("pong 42")
        elif message[0] == 0x09:
            assert message[1] == 0x7F
            got_unsupported = True
            print("unsupported 127")
    send_frame(sock, noise.encrypt(b"\x08\x00" + bytes([4]) + b"done"))
    sock.close()
    print("ok")


if __name__ == "__main__":
    main()
