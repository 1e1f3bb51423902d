"""The district's election bundle at the center: `[minutes] bundle_file`, verified with the district's enrolment key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.pki import ENROLMENT_PUBLIC
from protocol.codec import MAX_ELECTION_BUNDLE_BYTES, ProtocolError
from protocol.minutes import ElectionBundle, Minutes, conformity
from protocol.seal import election_bundle_hash, load_key, open_election_bundle

MAX_BUNDLE_FILE_BYTES = 2 * MAX_ELECTION_BUNDLE_BYTES + 64
"""A signed bundle at most (protocol.seal refuses a larger one), and a line end."""


@dataclass(frozen=True)
class DistrictBundle:
    """The bundle the district signed for its branches, its signed bytes (the evidence, exported with the
    aggregate) and their hash, which the branches' minutes name (`Minutes.bundle_hash`)."""

    bundle: ElectionBundle
    signed: bytes
    hash: str


@dataclass(frozen=True)
class BundleRefused:
    """The bundle file was not accepted; `detail` says why (never its content)."""

    detail: str


def read_district_bundle(signed: bytes, district_key: OKPKey, district: str) -> DistrictBundle | BundleRefused:
    """The signed bundle verified with the district's enrolment public key and parsed strictly; one of another
    district, or signed by another key, is refused."""
    data = signed.strip()
    opened = open_election_bundle(data, district_key, district)
    if isinstance(opened, ProtocolError):
        return BundleRefused(f"not the district's signed election bundle ({opened})")
    return DistrictBundle(opened, data, election_bundle_hash(data))


def configured_bundle(config: CenterConfig) -> DistrictBundle | BundleRefused:
    """`[minutes] bundle_file`, verified with the enrolment public key in the district CA's folder: enrolment signs
    the day's bundle with that key into each terminal's folder, so it is what every terminal trusts it by."""
    if config.minutes is None or config.enrolment_ca is None:
        return BundleRefused("no [minutes] bundle_file (or no enrolment_ca) in the center's config")
    key_file = config.enrolment_ca / ENROLMENT_PUBLIC
    try:
        district_key = load_key(key_file)
    except (OSError, ValueError) as exc:
        return BundleRefused(f"the district's enrolment key {key_file} does not load ({type(exc).__name__})")
    return load_district_bundle(config.minutes.bundle_file, district_key, config.district)


def load_district_bundle(path: Path, district_key: OKPKey, district: str) -> DistrictBundle | BundleRefused:
    """`read_district_bundle` of a file, read up to MAX_BUNDLE_FILE_BYTES (a larger one is refused unread)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BUNDLE_FILE_BYTES + 1)
    except OSError as exc:
        return BundleRefused(f"{path}: {exc.strerror or type(exc).__name__}")
    if len(data) > MAX_BUNDLE_FILE_BYTES:
        return BundleRefused(f"{path}: larger than {MAX_BUNDLE_FILE_BYTES} bytes")
    read = read_district_bundle(data, district_key, district)
    return BundleRefused(f"{path}: {read.detail}") if isinstance(read, BundleRefused) else read


def bundle_misfit(minutes: Minutes, bundle: DistrictBundle) -> str | None:
    """Why these minutes do not fit the district's bundle (they name another, or their figures are not shaped by
    it), or None. Only ever a flag: minutes that do not fit are recorded all the same."""
    if minutes.bundle_hash != bundle.hash:
        return f"they name the bundle {minutes.bundle_hash[:16]}..., the district's is {bundle.hash[:16]}..."
    refused = conformity(minutes.figures, bundle.bundle)
    return None if refused is None else f"{refused.problem.value} at {refused.where}"
