"""The day's election bundle in the provisioning folder: signed by the district, verified at install and at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import OKPKey

from protocol.codec import ProblemKind, ProtocolError
from protocol.minutes import ElectionBundle
from protocol.seal import election_bundle_hash, open_election_bundle
from provisioning.refusals import Problem, ProvisioningRefusal

ELECTION = "election.jws"
"""Beside the installed enrolment, so installing a renewed enrolment bundle leaves it in place."""


@dataclass(frozen=True)
class InstalledElection:
    """What the branch counts for, as verified, and the SHA-256 of the signed bundle (named by the minutes)."""

    bundle: ElectionBundle
    bundle_hash: str


def open_election(signed: bytes, trusted: OKPKey, district: str) -> InstalledElection | ProvisioningRefusal:
    """The bundle verified with the district key the installation trusts, and for this terminal's district."""
    opened = open_election_bundle(signed.strip(), trusted, district)
    if isinstance(opened, ProtocolError):
        return ProvisioningRefusal(_problem(opened), str(opened))
    return InstalledElection(opened, election_bundle_hash(signed))


def read_election(folder: Path, trusted: OKPKey, district: str) -> InstalledElection | ProvisioningRefusal:
    """The installed election bundle, verified again (a missing one refuses start-up as surely as a bad one)."""
    try:
        signed = (folder / ELECTION).read_bytes()
    except OSError as exc:
        return ProvisioningRefusal(Problem.NO_ELECTION, f"{folder / ELECTION}: {type(exc).__name__}")
    return open_election(signed, trusted, district)


def install_election(folder: Path, signed: bytes, trusted: OKPKey, district: str
                     ) -> InstalledElection | ProvisioningRefusal:
    """Verify, then replace the installed election bundle in one rename; a refused bundle changes nothing."""
    election = open_election(signed, trusted, district)
    if isinstance(election, ProvisioningRefusal):
        return election
    staging = folder / f"{ELECTION}.new"
    with staging.open("wb") as file:
        file.write(signed.strip() + b"\n")
        file.flush()
        os.fsync(file.fileno())
    staging.replace(folder / ELECTION)
    return election


def _problem(error: ProtocolError) -> Problem:
    if error.kind is ProblemKind.BAD_SIGNATURE:
        return Problem.ELECTION_NOT_SIGNED
    if error.kind is ProblemKind.BAD_VALUE and error.where == "district":
        return Problem.ELECTION_FOREIGN
    return Problem.ELECTION_UNREADABLE
