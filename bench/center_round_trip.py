"""Reserve round trips through a real mosquitto to the center: median latency and reserves per second."""

from __future__ import annotations

import argparse
import queue
import secrets
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from joserfc.jwk import OKPKey

from center.config import CenterConfig
from center.enrolled import EnrolledTerminal
from center.registry import Registry
from center.service import CenterService
from center.synthetic_roll import RollShares, generate_roll
from center.voter_key import registry_key
from harness.broker import Broker
from protocol.messages import (
    Answer,
    DocumentKind,
    Request,
    RequestHeader,
    ReserveAnswer,
    ReserveBody,
    ReserveOutcome,
)
from protocol.mqtt import BrokerAddress, MqttSession
from protocol.national_code import NationalCode
from protocol.seal import (
    generate_sealing_key,
    generate_signing_key,
    open_answer,
    public_part,
    seal_national_code,
    sign_request,
)
from protocol.topics import answer_topic, request_topic

ELECTION_DAY = date(2026, 6, 12)
DISTRICT = "d-bench"


class _Terminal:
    """Reserves voters one after another, as a terminal does, and times each round trip."""

    def __init__(self, broker: BrokerAddress, name: str, center_public: OKPKey, sealing_public: OKPKey) -> None:
        self.name = name
        self.key = generate_signing_key()
        self._center_public = center_public
        self._sealing_public = sealing_public
        self._answers: queue.Queue[bytes] = queue.Queue()
        self.session = MqttSession(
            f"bench-{name}", broker, [answer_topic(DISTRICT, name)], lambda _t, p: self._answers.put(p)
        )
        self.round_trips: list[float] = []

    def reserve_all(self, codes: list[str]) -> None:
        for code in codes:
            sealed = seal_national_code(NationalCode(code), self._sealing_public)
            header = RequestHeader(
                secrets.token_hex(16), secrets.token_hex(16), self.name, "branch-1", DISTRICT, datetime.now(UTC)
            )
            payload = sign_request(Request(header, ReserveBody(sealed, DocumentKind.SMART_CARD, False)), self.key)
            started = time.perf_counter()
            self.session.publish(request_topic(DISTRICT, self.name), payload)
            answer = open_answer(self._answers.get(timeout=10), self._center_public)
            self.round_trips.append(time.perf_counter() - started)
            assert isinstance(answer, Answer) and answer.header.request_id == header.request_id
            assert isinstance(answer.body, ReserveAnswer) and answer.body.outcome is ReserveOutcome.ELIGIBLE


# Every run reuses the same center client ids: a center session that went away for good would keep
# its share of the shared subscription, and mosquitto would queue requests for it.
def _run(folder: Path, broker: Broker, voters: int, terminals: int, workers: int, seed: int) -> tuple[float, float]:
    database = folder / f"registry-{seed}.sqlite"
    roll = generate_roll(voters, seed, ELECTION_DAY, RollShares(0, 0, 0))
    signing, sealing = generate_signing_key(), generate_sealing_key()
    setup = Registry(database, ELECTION_DAY, voter_key=registry_key(sealing))
    setup.load_roll(roll)
    setup.close()
    config = CenterConfig(
        DISTRICT, "bench", ELECTION_DAY, database, folder / "unused", folder / "unused",
        broker.address, None, workers, "center",
        requests_per_terminal_second=1_000_000, answers_per_terminal=100_000_000,
    )
    clients = [
        _Terminal(broker.address, f"t-{seed}-{i}", public_part(signing), public_part(sealing)) for i in range(terminals)
    ]
    codes = [record.national_code.digits for record in roll]
    enrolled = {c.name: EnrolledTerminal(c.name, "branch-1", DISTRICT, "E-bench", public_part(c.key)) for c in clients}
    with CenterService(config, signing, sealing, enrolled=enrolled) as center:
        assert center.wait_connected(10)
        for client in clients:
            client.session.start()
            assert client.session.wait_connected(10)
        warm_up = codes[:terminals]
        threads = [threading.Thread(target=c.reserve_all, args=([warm_up[i]],)) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.round_trips.clear()
        rest = codes[terminals:]
        threads = [
            threading.Thread(target=c.reserve_all, args=(rest[i::terminals],)) for i, c in enumerate(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        for client in clients:
            client.session.stop()
    trips = [trip for client in clients for trip in client.round_trips]
    return statistics.median(trips) * 1000, len(trips) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=400, help="reserves per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; medians are printed")
    args = parser.parse_args()
    print(f"reserve round trips terminal -> mosquitto -> center -> terminal, {args.voters} voters, median of {args.runs}")
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp)) as broker:
        seed = 0
        for terminals, workers in [(1, 1), (4, 1), (4, 2), (16, 2)]:
            latencies, rates = [], []
            for _ in range(args.runs):
                seed += 1
                latency, rate = _run(Path(tmp), broker, args.voters, terminals, workers, seed)
                latencies.append(latency)
                rates.append(rate)
            label = f"{terminals} terminal{'s' if terminals > 1 else ''}, {workers} center worker{'s' if workers > 1 else ''}"
            print(f"  {label:<32} median round trip {statistics.median(latencies):6.2f} ms, "
                  f"{statistics.median(rates):6.0f} reserves/s")


if __name__ == "__main__":
    main()
