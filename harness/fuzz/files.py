"""Fuzz targets for the files a device is given: the terminal's and the center's config, the enrolment bundle."""

from __future__ import annotations

import base64
import random
import tempfile
from pathlib import Path

from center.config import load_center_config
from firmware_app.config import load_config
from harness.fuzz import FuzzTarget, mutate
from harness.fuzz.hostile_jose import compact_jws, hostile_header
from protocol.enrolment import BUNDLE_TYPE, BUNDLE_VERSION, Enrolment, open_bundle, sign_bundle
from protocol.seal import SIGNATURE_ALG, generate_signing_key

_EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "terminal.toml.example"
_TOML_BYTES = b"[]{}=\"'.,#\n\\ 0123456789-:TtrueFalsenan inf_+ex"
CENTER_SEED = b"""district = "d-01"
instance = "center-2"
election_day = 2026-06-12
signing_key = "keys/center-signing.pem"
sealing_key = "keys/center-sealing.pem"
enrolment_ca = "ca"
workers = 4
worker_processes = 2
request_window_seconds = 300

[registry]
engine = "postgresql"
dsn = "dbname=registry user=center"
hosts = ["10.0.0.1:5432", "10.0.0.2:5432"]
pool_size = 8
voter_key = "keys/voter.key"

[broker]
host = "127.0.0.1"
port = 1883

[broker.tls]
ca_file = "ca.pem"
cert_dir = "certs"

[fleet]
opening = "07:00"
approved_software = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]
keep = 240
offline_after_s = 90

[dashboard]
host = "0.0.0.0"
port = 8443
names = ["dashboard.d01.example"]
cert_file = "tls/dashboard.pem"
key_file = "tls/dashboard.key"
staff_file = "staff.json"
metrics_token_file = "metrics.token"

[minutes]
bundle_file = "election-bundle.jws"

[snapshot]
scope = "nation"
interval_s = 900
full_every = 8
tag_bits = 32
lag_s = 30
"""
_VALUES = (b"1", b"-1", b"0", b"99999999999999999999", b"1.5", b"true", b"\"\"", b"\"x\"", b"[]", b"{}",
           b"[1, \"a\"]", b"2026-06-12", b"07:00:00", b"nan", b"inf", b"\"\\u0000\"", b"\"../../etc\"")


def _toml_input(rng: random.Random, valid: bytes) -> bytes:
    """A valid file with a value swapped for one of another type, a line dropped, or bytes mutated."""
    lines = valid.splitlines()
    roll = rng.random()
    if roll < 0.4 and lines:
        at = rng.randrange(len(lines))
        if b"=" in lines[at]:
            key = lines[at].split(b"=", 1)[0]
            lines[at] = key + b"= " + rng.choice(_VALUES)
        return b"\n".join(lines)
    if roll < 0.55 and lines:
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if roll < 0.65:
        return valid + b"\n" + rng.choice([b"extra = 1", b"[unknown]\nx = 1", b"[card]\nreader = 1"])
    return mutate(rng, valid, _TOML_BYTES if rng.random() < 0.7 else b"")


class _FileFeeder:
    """Each input is written to one file and read by the real loader, as the device would read it."""

    def __init__(self, name: str) -> None:
        memory = "/dev/shm" if Path("/dev/shm").is_dir() else None
        self.path = Path(tempfile.mkdtemp(prefix="fuzz-files-", dir=memory)) / name

    def write(self, data: bytes) -> Path:
        self.path.write_bytes(data)
        return self.path


def _bundle_target() -> FuzzTarget:
    district = generate_signing_key()
    enrolment = Enrolment(BUNDLE_VERSION, "E-1", "D01", "B-0001", "T-0001", "07:00", "18:00",
                          "2026-06-12T00:00:00Z", "cert", "chain", "sign", "seal", "anchors", "tkey")
    genuine = sign_bundle(enrolment, district)
    payload = genuine.split(b".")[1]

    def make(rng: random.Random) -> bytes:
        roll = rng.random()
        if roll < 0.4:
            header = hostile_header(rng, {"alg": SIGNATURE_ALG, "typ": BUNDLE_TYPE, "kid": district.thumbprint()})
            return compact_jws(rng, header, mutate(rng, payload), district)
        if roll < 0.7:
            header = {"alg": SIGNATURE_ALG, "typ": BUNDLE_TYPE, "kid": district.thumbprint()}
            body = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
            return compact_jws(rng, header, mutate(rng, body, b"{}[]\",:0123456789truefalsenul"), district)
        return mutate(rng, genuine)

    return FuzzTarget("files.enrolment_bundle", make, lambda data: open_bundle(data, district))


def targets() -> list[FuzzTarget]:
    terminal_file = _FileFeeder("terminal.toml")
    center_file = _FileFeeder("center.toml")
    example = _EXAMPLE.read_bytes()
    return [
        FuzzTarget("files.terminal_config", lambda rng: _toml_input(rng, example),
                   lambda data: load_config(terminal_file.write(data))),
        FuzzTarget("files.center_config", lambda rng: _toml_input(rng, CENTER_SEED),
                   lambda data: load_center_config(center_file.write(data))),
        _bundle_target(),
    ]
