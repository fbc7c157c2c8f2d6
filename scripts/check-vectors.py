#!/usr/bin/env python3
"""Checks the test vectors of docs/protocol.md with an implementation independent of palier's.

It reads every ```vector block of the document and, using only Python's hashlib (BLAKE2b) and
the `cryptography` package (Ed25519 through OpenSSL, not libsodium):
  - derives the public key from the seed and compares it and its text form;
  - parses the envelope bytes field by field as the document describes them;
  - recomputes the id as BLAKE2b-256 of the domain-separated message;
  - verifies the Ed25519 signature.
It also recomputes the ```sketch block (§9.2): the index sequences, the coded symbols of two sets
and the difference a peeling decoder finds in them, with Python integers only; and the ```onion
block (§13.4): an onion key and its v3 address (SHA3-256), a building's signed onion address, and
the client authorisation keys a network key gives (BLAKE2b, X25519).
Exit status 0 and a line "N passed, 0 failed" when every vector checks.
"""
import base64
import hashlib
import math
import pathlib
import re
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

DOMAIN = b"palier-envelope-v1\x00"
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
KINDS = {1: "tip", 2: "classified", 3: "event", 4: "notice", 5: "flash", 6: "alert", 7: "promo",
         16: "edit", 17: "retract", 18: "hide", 19: "grant", 20: "profile"}


def crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x864CFB
    return crc & 0xFFFFFF


def key_text(key: bytes) -> str:
    data = key + crc24(key).to_bytes(3, "big")
    bits = "".join(f"{b:08b}" for b in data)
    chars = "".join(ALPHABET[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))
    return "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self): return self.take(1)[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def str16(self): return self.take(struct.unpack(">H", self.take(2))[0]).decode("utf-8")
    def str8(self): return self.take(self.u8()).decode("utf-8")


def parse(envelope: bytes) -> dict:
    r = Reader(envelope)
    fields = {"version": r.u8(), "kind": KINDS[r.u8()], "scope": r.u8(), "building": r.take(32),
              "author": r.take(32), "hlc": r.u64(), "expires_at": r.u64()}
    kind = fields["kind"]
    if kind in ("edit", "retract", "hide"):
        fields["target"] = r.take(32)

    def post(k):
        p = {"title": r.str16(), "body": r.str16(), "language": r.str8()}
        if k == "event":
            p.update(starts_at=r.u64(), ends_at=r.u64(), place=r.str16())
        # Extensions (§2.2.1): tag, 2-byte length, value, tags strictly increasing, up to the signature.
        previous = -1
        while len(envelope) - r.pos > 64:
            tag = r.u8()
            value = r.take(struct.unpack(">H", r.take(2))[0])
            if tag <= previous or r.pos > len(envelope) - 64:
                raise ValueError(f"extension {tag} out of order or into the signature")
            previous = tag
            if tag in (1, 2):
                if len(value) != 8:
                    raise ValueError(f"extension {tag} of {len(value)} bytes")
                p["shows_from" if tag == 1 else "shows_until"] = struct.unpack(">Q", value)[0]
            elif tag == 3:
                # Images (§2.2.2): count, then blob, size, type, width, height, alt per image.
                v = Reader(value)
                images = []
                for _ in range(v.u8()):
                    blob, size, kind_code = v.take(32), struct.unpack(">I", v.take(4))[0], v.u8()
                    width, height = struct.unpack(">HH", v.take(4))
                    images.append({"blob": blob.hex(), "size": size, "type": kind_code, "width": width, "height": height, "alt": v.str16()})
                if v.pos != len(value) or not images:
                    raise ValueError("malformed images extension")
                p["images"] = images
            elif tag == 4:
                p["link"] = value.decode("utf-8")
        return p

    if kind in ("tip", "classified", "event", "notice", "flash", "alert", "promo"):
        fields.update(post(kind))
    elif kind == "edit":
        inner = KINDS[r.u8()]
        fields.update(post(inner), edited_kind=inner)
    elif kind == "hide":
        fields["reason"] = r.str16()
    elif kind == "grant":
        fields.update(subject=r.take(32), role=r.u8(), display_name=r.str16())
    elif kind == "profile":
        fields.update(name=r.str16(), address=r.str16())
        if r.u8() == 1:
            fields.update(latitude=r.i32(), longitude=r.i32())
    fields["content_length"] = r.pos
    fields["signature"] = r.take(64)
    if r.pos != len(envelope):
        raise ValueError("trailing bytes")
    return fields


SKETCH_DOMAIN = b"palier-sketch-v1\x00"
MASK = (1 << 64) - 1
LIMIT = 1 << 32


def sketch_item(item_id: bytes):
    h = hashlib.blake2b(SKETCH_DOMAIN + item_id, digest_size=32).digest()
    return int.from_bytes(h[0:8], "little"), int.from_bytes(h[8:16], "little")


def indices(seed: int):
    """0, then the smallest j > i with (j + 1)(j + 2) >= ceil((i + 1)(i + 2) 2^64 / (u + 1))."""
    state, i = seed, 0
    while i < LIMIT:
        yield i
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        u = z ^ (z >> 31)
        target = -(-((i + 1) * (i + 2) << 64) // (u + 1))
        j = max(i + 1, math.isqrt(target) - 2)
        while (j + 1) * (j + 2) < target:
            j += 1
        i = j


def symbols(ids, count):
    out = [[0, 0, 0] for _ in range(count)]  # sum as an integer of 32 bytes, checksum, count
    for item_id in ids:
        checksum, seed = sketch_item(item_id)
        for index in indices(seed):
            if index >= count:
                break
            out[index][0] ^= int.from_bytes(item_id, "big")
            out[index][1] ^= checksum
            out[index][2] += 1
    return out


def symbol_hex(symbol):
    count = symbol[2] & MASK
    varint = b""
    while count >= 0x80:
        varint += bytes([(count & 0x7F) | 0x80])
        count >>= 7
    return (symbol[0].to_bytes(32, "big") + symbol[1].to_bytes(8, "big") + varint + bytes([count])).hex()


def peel(remote, local):
    """Ids only the remote side holds, and only the local side, from the two symbol lists."""
    cells = [[r[0] ^ l[0], r[1] ^ l[1], r[2] - l[2]] for r, l in zip(remote, local)]
    found = {1: [], -1: []}
    progress = True
    while progress:
        progress = False
        for cell in cells:
            if cell[2] in (1, -1):
                item_id = cell[0].to_bytes(32, "big")
                checksum, seed = sketch_item(item_id)
                if checksum != cell[1]:
                    continue
                side = cell[2]
                found[side].append(item_id.hex())
                for index in indices(seed):
                    if index >= len(cells):
                        break
                    cells[index][0] ^= int.from_bytes(item_id, "big")
                    cells[index][1] ^= checksum
                    cells[index][2] -= side
                progress = True
    assert all(cell == [0, 0, 0] for cell in cells), "the symbols do not all decode"
    return sorted(found[1]), sorted(found[-1])


def check_sketch(lines):
    item = lambda n: hashlib.blake2b(bytes([n]), digest_size=32).digest()
    a = [item(n) for n in range(0, 6)]
    b = [item(n) for n in range(0, 4)] + [item(9)]
    expected = []
    sa, sb = symbols(a, 6), symbols(b, 6)
    expected += [f"A{i}: {symbol_hex(s)}" for i, s in enumerate(sa)]
    expected += [f"B{i}: {symbol_hex(s)}" for i, s in enumerate(sb)]
    for n in (0, 4, 9):
        sequence = indices(sketch_item(item(n))[1])
        expected.append(f"indices of item {n}: " + " ".join(str(next(sequence)) for _ in range(6)))
    only_a, only_b = peel(sa, sb)
    expected.append(f"B decodes A's symbols: A only {' '.join(only_a)}; B only {' '.join(only_b)}")
    for want, got in zip(expected, lines):
        assert want == got, f"expected {want!r}, the document says {got!r}"
    assert len(expected) == len(lines), "line count"


def raw_public(private) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_onion(lines):
    v = dict(line.split(": ", 1) for line in lines)
    onion = raw_public(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["onion seed"])))
    assert onion.hex() == v["onion key"], "onion key"
    checksum = hashlib.sha3_256(b".onion checksum" + onion + b"\x03").digest()[:2]
    address = base64.b32encode(onion + checksum + b"\x03").decode().lower() + ".onion"
    assert address == v["address"], "address"
    building_private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["building seed"]))
    building = raw_public(building_private)
    assert building.hex() == v["building key"], "building key"
    signed = b"palier-onion-address-v1\x00" + building + struct.pack(">Q", int(v["issued"])) + onion + struct.pack(">H", int(v["port"]))
    assert signed.hex() == v["signed"], "signed bytes"
    signature = bytes.fromhex(v["signature"])
    Ed25519PublicKey.from_public_bytes(building).verify(signature, signed)
    assert building_private.sign(signed) == signature, "deterministic signature"
    secret = hashlib.blake2b(b"palier-onion-client-auth-v1\x00" + bytes.fromhex(v["network key"]), digest_size=32).digest()
    assert secret.hex() == v["client authorisation private key"], "client authorisation private key"
    public = raw_public(X25519PrivateKey.from_private_bytes(secret))
    assert public.hex() == v["client authorisation public key"], "client authorisation public key"
    assert base64.b32encode(public).decode().rstrip("=") == v["ClientAuthV3"], "ClientAuthV3"


def main() -> int:
    doc = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/protocol.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```vector\n(.*?)```", doc, re.S)
    passed = failed = 0
    for block in blocks:
        v = dict(line.split(": ", 1) for line in block.strip().splitlines())
        name = v["vector"]
        try:
            seed = bytes.fromhex(v["seed"])
            private = Ed25519PrivateKey.from_private_bytes(seed)
            public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            assert public.hex() == v["public key"], "public key"
            assert key_text(public) == v["key text"], "key text"
            envelope = bytes.fromhex(v["envelope"])
            fields = parse(envelope)
            assert fields["version"] == 1, "version"
            assert fields["kind"] == v["kind"], "kind"
            assert fields["author"] == public, "author is the signer"
            if "title" in v:
                assert fields["title"] == v["title"], "title"
            for key, field in (("shows from", "shows_from"), ("shows until", "shows_until")):
                if key in v:
                    assert fields.get(field) == int(v[key]), field
            if "image" in v:
                # "image: <blob> <size> <media type> <width>x<height> <alt>"
                blob, size, mime, dims, alt = v["image"].split(" ", 4)
                image = fields["images"][0]
                assert (image["blob"], image["size"], image["type"], f"{image['width']}x{image['height']}", image["alt"]) == \
                    (blob, int(size), {"image/jpeg": 1, "image/png": 2, "image/webp": 3}[mime], dims, alt), "image"
            if "link" in v:
                assert fields.get("link") == v["link"], "link"
            message = DOMAIN + envelope[:fields["content_length"]]
            assert hashlib.blake2b(message, digest_size=32).hexdigest() == v["id"], "id"
            assert fields["signature"].hex() == v["signature"], "signature field"
            Ed25519PublicKey.from_public_bytes(public).verify(fields["signature"], message)
            # Ed25519 is deterministic: signing again gives the same signature.
            assert private.sign(message) == fields["signature"], "deterministic signature"
            print(f"ok   {name}: {fields['kind']} by {key_text(public)[:9]}…, id {v['id'][:12]}")
            passed += 1
        except Exception as error:  # report every vector, then fail
            print(f"FAIL {name}: {error!r}")
            failed += 1
    if not blocks:
        print("no ```vector blocks found")
        failed += 1
    for block in re.findall(r"```sketch\n(.*?)```", doc, re.S):
        try:
            check_sketch(block.strip().splitlines())
            print("ok   sketch: coded symbols, index sequences and the decoded difference")
            passed += 1
        except Exception as error:
            print(f"FAIL sketch: {error!r}")
            failed += 1
    onions = re.findall(r"```onion\n(.*?)```", doc, re.S)
    if not onions:
        print("no ```onion block found")
        failed += 1
    for block in onions:
        try:
            check_onion(block.strip().splitlines())
            print("ok   onion: address, signed announcement, client authorisation keys")
            passed += 1
        except Exception as error:
            print(f"FAIL onion: {error!r}")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
