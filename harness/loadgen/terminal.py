"""One simulated terminal of the load generator: its installation, its paho client, its visits and what it signs."""

from __future__ import annotations

import secrets
import ssl
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from harness.loadgen.plan import Step, Visit
from harness.loadgen.telemetry import TerminalTelemetry
from protocol.messages import DocumentKind, Request, RequestBody, RequestHeader, ReserveBody
from protocol.national_code import NationalCode
from protocol.seal import seal_national_code, sign_request
from protocol.topics import request_topic
from provisioning.installed import Installation, load_installation
from provisioning.refusals import ProvisioningRefusal


def load_installations(folders: Sequence[str]) -> list[Installation]:
    """The installed terminals in `folders`, in order; raises if one does not load."""
    now = datetime.now(UTC)
    found = []
    for folder in folders:
        installation = load_installation(Path(folder), now)
        if isinstance(installation, ProvisioningRefusal):
            raise RuntimeError(f"the terminal in {folder} does not load: {installation}")
        found.append(installation)
    return found


@dataclass
class Try:
    """One request of a visit, signed once and sent (again, the same bytes) until answered or given up."""

    label: str
    """"reserve", "retry", "commit" or "void"."""
    request_id: str
    payload: bytes
    sent: float = 0.0
    tries: int = 0
    sequence: int = 0
    """Which send this is (unique in the driver), so that a deadline is only ever that send's."""


class SimulatedTerminal:
    """One simulated terminal: its installation (keys, certificate, center keys), its session, its visits."""

    def __init__(self, installation: Installation, steps: tuple[Step, ...]) -> None:
        self.installation = installation
        self.name = installation.terminal
        self.steps = deque(steps)
        self.requests = request_topic(installation.district, installation.terminal)
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=self.name,
                                  protocol=mqtt.MQTTv5, userdata=self)
        tls = installation.tls
        self.client.tls_set(ca_certs=str(tls.ca_file), certfile=str(tls.cert_file), keyfile=str(tls.key_file),
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.max_inflight_messages_set(20)
        self.subscribed = False
        self.visit: Step | None = None
        self.tx = ""
        self.national = ""
        self.inquiry_code = ""
        self.pending: Try | None = None
        self.signed: deque[tuple[str, Try, Try | None]] = deque()
        """Presigned (tx id, reserve, second try of a RETRIED visit) for the visits with a known voter, in order."""
        self.counts: Counter[str] = Counter()
        """What it was answered, as its closing report counts (issued, voided, duplicates_refused, ineligible)."""
        self.last_rtt_ms: float | None = None
        self.telemetry: TerminalTelemetry | None = None
        """Its health reporter, when the run has a telemetry load."""

    def request(self, body: RequestBody, tx: str, request_id: str | None = None) -> tuple[str, bytes]:
        """A request signed with this terminal's key, as its link sends it."""
        who = self.installation
        header = RequestHeader(request_id or secrets.token_hex(16), tx, who.terminal, who.branch, who.district,
                               datetime.now(UTC))
        return header.request_id, sign_request(Request(header, body), who.signing_key)

    def reserve(self, national: str, tx: str) -> Try:
        sealed = seal_national_code(NationalCode(national), self.installation.center_sealing_key)
        request_id, payload = self.request(ReserveBody(sealed, DocumentKind.SMART_CARD, False), tx)
        return Try("reserve", request_id, payload)

    def presign(self, index: int) -> None:
        """Seal and sign every reserve whose voter is known, before the clock starts (the terminal's own work,
        kept out of the measured window on a machine whose cores the center needs)."""
        for position, step in enumerate(self.steps):
            if step.code is None:
                continue
            tx = secrets.token_hex(16)
            first = self.reserve(step.code, tx)
            second = None
            if step.visit is Visit.RETRIED:
                if (index + position) % 2:
                    second = Try("retry", first.request_id, first.payload)
                else:
                    sealed = seal_national_code(NationalCode(step.code), self.installation.center_sealing_key)
                    request_id, payload = self.request(ReserveBody(sealed, DocumentKind.SMART_CARD, False), tx)
                    second = Try("retry", request_id, payload)
            self.signed.append((tx, first, second))
