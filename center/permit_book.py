"""The district's offline permits on file: each signed permit, its secrets sealed to the center, and its end."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from joserfc.jwk import OKPKey

from center.permits import IssuedPermit
from protocol.codec import ProtocolError
from protocol.messages import ID_PATTERN
from protocol.permit import Permit, PermitEnd, PermitSecrets
from protocol.seal import (
    open_permit,
    open_permit_end,
    public_part,
    seal_permit_secrets,
    unseal_permit_secrets,
)

PERMITS_FOLDER = "permits"
RECORD_SUFFIX = ".permit.json"
RECORD_VERSION = 1
_FIELDS = frozenset({"version", "permit", "secrets", "end"})


@dataclass(frozen=True)
class PermitOnFile:
    """A permit as the district keeps it, verified and opened: the permit (and its signed form), its secrets and when
    it ended (None: not ended)."""

    permit: Permit
    signed: bytes = field(repr=False)
    secrets: PermitSecrets = field(repr=False)
    ended_at: datetime | None

    def __repr__(self) -> str:
        return f"PermitOnFile({self.permit.permit_id}, <secrets redacted>, ended_at={self.ended_at})"


class PermitFileError(Exception):
    """A permit's file is there but does not hold: unreadable, altered, or not signed by the district."""


class PermitBook:
    """`folder/<permit id>.permit.json`, one file a permit, each written in one atomic rename. Every read verifies
    the permit and its end with the district's key (`district_key`, its public part suffices) and opens the
    secrets with the center's sealing key: a file altered on disk is refused, never trusted."""

    def __init__(self, folder: Path, district_key: OKPKey, sealing_key: OKPKey) -> None:
        self.folder = folder
        self._district_key = public_part(district_key)
        self._sealing_key = sealing_key

    def add(self, issued: IssuedPermit) -> Path:
        """Keep a newly issued permit (its secrets sealed to the center's own key). A permit id is random: one
        already on file is refused (ValueError)."""
        path = self._path(issued.permit.permit_id)
        if path.exists():
            raise ValueError(f"permit {issued.permit.permit_id} is already on file")
        sealed = seal_permit_secrets(issued.secrets, public_part(self._sealing_key))
        self._write(path, issued.signed.decode("ascii"), sealed, None)
        return path

    def end(self, permit_id: str, signed_end: bytes) -> PermitOnFile:
        """Keep the signed end of a permit on file (an earlier end stays: a permit ends once, at its first end)."""
        path = self._path(permit_id)
        data = self._read(path)
        on_file = self._open(data)
        if on_file.ended_at is None:
            end = open_permit_end(signed_end, self._district_key)
            if isinstance(end, ProtocolError) or not _ends(end, on_file.permit):
                raise PermitFileError(f"the end of permit {permit_id} does not hold: {end}")
            self._write(path, data["permit"], data["secrets"], signed_end.decode("ascii"))
            return dataclasses.replace(on_file, ended_at=end.ended_at)
        return on_file

    def get(self, permit_id: str) -> PermitOnFile | None:
        """The permit on file under this id; None if the district issued none (or the id is not a permit id).
        PermitFileError if its file does not hold."""
        if not re.fullmatch(ID_PATTERN, permit_id, flags=re.ASCII):
            return None
        path = self._path(permit_id)
        if not path.exists():
            return None
        return self._open(self._read(path))

    def ids(self) -> list[str]:
        """The ids of the permits on file, in name order."""
        if not self.folder.is_dir():
            return []
        return sorted(path.name.removesuffix(RECORD_SUFFIX) for path in self.folder.glob(f"*{RECORD_SUFFIX}"))

    def _path(self, permit_id: str) -> Path:
        if not re.fullmatch(ID_PATTERN, permit_id, flags=re.ASCII):
            raise ValueError("not a permit id")
        return self.folder / f"{permit_id}{RECORD_SUFFIX}"

    def _read(self, path: Path) -> dict[str, str | None]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PermitFileError(f"{path.name} does not read: {type(exc).__name__}") from exc
        if (not isinstance(data, dict) or set(data) != _FIELDS or data["version"] != RECORD_VERSION
                or not isinstance(data["permit"], str) or not isinstance(data["secrets"], str)
                or not isinstance(data["end"], str | None)):
            raise PermitFileError(f"{path.name} is not a permit record of version {RECORD_VERSION}")
        return {"permit": data["permit"], "secrets": data["secrets"], "end": data["end"]}

    def _open(self, data: dict[str, str | None]) -> PermitOnFile:
        signed = str(data["permit"]).encode("ascii")
        permit = open_permit(signed, self._district_key)
        if isinstance(permit, ProtocolError):
            raise PermitFileError(f"the permit on file does not verify: {permit}")
        secrets = unseal_permit_secrets(str(data["secrets"]), self._sealing_key)
        if isinstance(secrets, ProtocolError):
            raise PermitFileError(f"the secrets of permit {permit.permit_id} do not open: {secrets}")
        ended_at = None
        if data["end"] is not None:
            end = open_permit_end(data["end"].encode("ascii"), self._district_key)
            if isinstance(end, ProtocolError) or not _ends(end, permit):
                raise PermitFileError(f"the end of permit {permit.permit_id} on file does not hold")
            ended_at = end.ended_at
        return PermitOnFile(permit, signed, secrets, ended_at)

    def _write(self, path: Path, permit: str | None, secrets: str | None, end: str | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"version": RECORD_VERSION, "permit": permit, "secrets": secrets, "end": end}
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)


def _ends(end: PermitEnd, permit: Permit) -> bool:
    return (end.permit_id, end.district, end.branch) == (permit.permit_id, permit.district, permit.branch)
