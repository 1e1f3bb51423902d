"""`kiosk-center permit issue|code|activate|end|list`: the district's offline permits, from issue to end."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc.jwk import OKPKey

from center.config import CenterConfig, ConfigRefused, load_center_config
from center.enrolled import EnrolledTerminals, permit_keys
from center.permit_book import PERMITS_FOLDER, PermitBook, PermitFileError, PermitOnFile
from center.permits import IssuedPermit, broadcast_activation, end_permit, issue_permit
from center.voted_snapshot import snapshot_key
from center.voter_key import configured_voter_key
from protocol.mqtt import MqttSession
from protocol.permit import MAX_BROADCAST_LIFE, ActivationPath
from protocol.seal import load_key
from protocol.topics import permit_topic

log = logging.getLogger(__name__)

PERMIT_FILE_SUFFIX = ".permit.jws"
"""What `permit issue --out` writes for the terminals' provisioning (`kiosk-provision permit FILE`)."""
PUBLISH_WAIT_S = 10.0
PERMITS_IDENTITY_SUFFIX = "permits"
"""The center certificate permit messages are published with by default: `<instance>-permits`, a name of its own
so that it never takes the client id of a running worker or the fleet listener."""


def add_permit_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    permit = commands.add_parser("permit", help="offline permits: issue one to a branch, read out its phone code, "
                                                "activate or end it by broadcast, list them")
    permit.add_argument("action", choices=["issue", "code", "activate", "end", "list"])
    permit.add_argument("--config", required=True, help="the center's config (keys, enrolment CA, broker)")
    permit.add_argument("--permit", help="code, activate, end: the permit id")
    permit.add_argument("--activation", type=int, help="code, activate: the activation's number (1 ...)")
    permit.add_argument("--branch", help="issue: the branch")
    permit.add_argument("--terminal", action="append", default=[], help="issue: a terminal of the branch (repeat)")
    permit.add_argument("--from", dest="not_before", help="issue: start of the window, ISO 8601 with offset "
                                                          "(default now)")
    permit.add_argument("--until", help="issue: end of the window, ISO 8601 with offset")
    permit.add_argument("--max-slips", type=int, help="issue: OFFLINE slips each terminal may issue under it")
    permit.add_argument("--activations", type=int, default=3, help="issue: one-time activations (default 3)")
    permit.add_argument("--path", action="append", choices=[path.value for path in ActivationPath], default=[],
                        help="issue: how it may be activated (repeat; default both)")
    permit.add_argument("--out", help="issue: folder for the signed permit file to provision the terminals with")
    permit.add_argument("--at", help="end: when it ends, ISO 8601 with offset (default now)")
    permit.add_argument("--minutes", type=int, default=15, help="activate: how long the broadcast is valid")
    permit.add_argument("--publish", action="store_true", help="issue: also publish the permit on the broker")
    permit.add_argument("--as", dest="identity", help="the center certificate (CN) to publish with, from the "
                                                      "config's cert_dir (default INSTANCE-permits)")


@dataclass(frozen=True)
class _District:
    config: CenterConfig
    book: PermitBook
    signing_key: OKPKey


def permit_command(args: argparse.Namespace, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    district = _district(Path(args.config))
    if isinstance(district, str):
        return _refused(f"permit {args.action} refused:", [district])
    try:
        match args.action:
            case "issue":
                return _issue(district, args, now)
            case "list":
                return _list(district, now)
        on_file = district.book.get(args.permit or "")
        if on_file is None:
            return _refused(f"permit {args.action} refused:", [f"no permit {args.permit!r} on file"])
        match args.action:
            case "code":
                return _code(on_file, args.activation)
            case "activate":
                return _activate(district, on_file, args, now)
            case "end":
                return _end(district, on_file, args, now)
    except PermitFileError as exc:
        return _refused(f"permit {args.action} refused:", [str(exc)])
    raise AssertionError(f"unhandled permit action {args.action}")


def _district(config_path: Path) -> _District | str:
    config = load_center_config(config_path)
    if isinstance(config, ConfigRefused):
        return f"config {config_path}: " + "; ".join(config.problems)
    if config.enrolment_ca is None:
        return "the config names no enrolment CA folder: no terminal is known, no permit can be issued"
    try:
        signing_key, sealing_key = load_key(config.signing_key), load_key(config.sealing_key)
    except (OSError, ValueError) as exc:
        return f"a center key does not load: {exc}"
    return _District(config, PermitBook(config.enrolment_ca / PERMITS_FOLDER, signing_key, sealing_key), signing_key)


def _issue(district: _District, args: argparse.Namespace, now: datetime) -> int:
    config = district.config
    assert config.enrolment_ca is not None
    problems = [f"--{name} is required" for name, value in (("branch", args.branch), ("until", args.until),
                                                             ("max-slips", args.max_slips)) if not value]
    if not args.terminal:
        problems.append("name the branch's terminals with --terminal")
    window = _instants(args.not_before, args.until, now, problems)
    if problems or window is None:
        return _refused("permit issue refused:", problems)
    keys = permit_keys(EnrolledTerminals(config.enrolment_ca), args.terminal, args.branch)
    if isinstance(keys, str):
        return _refused("permit issue refused:", [keys])
    voter_key = configured_voter_key(config)
    paths = [ActivationPath(path) for path in args.path] or list(ActivationPath)
    try:
        issued = issue_permit(district=config.district, branch=args.branch, terminals=keys, not_before=window[0],
                              not_after=window[1], max_slips=args.max_slips, activations=args.activations,
                              paths=paths, snapshot_key=snapshot_key(voter_key, config.election_day),
                              district_key=district.signing_key, now=now)
    except ValueError as exc:
        return _refused("permit issue refused:", [str(exc)])
    district.book.add(issued)
    permit = issued.permit
    print(f"permit {permit.permit_id} for branch {permit.branch} ({', '.join(permit.terminals)}), "
          f"{permit.not_before.isoformat()} to {permit.not_after.isoformat()}, {permit.max_slips} slips a terminal, "
          f"{permit.activations} activations by {', '.join(path.value for path in permit.paths)}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        written = out / f"{permit.permit_id}{PERMIT_FILE_SUFFIX}"
        written.write_bytes(issued.signed)
        print(f"signed permit written to {written}: provision each terminal with kiosk-provision permit {written}")
    if args.publish:
        topic = permit_topic(config.district, permit.branch, permit.permit_id, "permit")
        if not _publish(config, args.identity, [(topic, issued.signed)]):
            return _refused("permit issued but not published:", ["the broker did not take it; publish it again "
                                                                 "or provision the terminals with the file"])
        print(f"published on {topic} (retained)")
    return 0


def _code(on_file: PermitOnFile, activation: int | None) -> int:
    permit = on_file.permit
    if ActivationPath.PHONE_CODE not in permit.paths:
        return _refused("permit code refused:", ["this permit is not activated by phone"])
    if activation is None or not 1 <= activation <= permit.activations:
        return _refused("permit code refused:", [f"--activation 1 to {permit.activations}"])
    code = IssuedPermit(permit, on_file.signed, on_file.secrets).phone_code(activation)
    print(f"permit {permit.permit_id} activation {activation}: read out {code} to the head of branch {permit.branch}")
    return 0


def _activate(district: _District, on_file: PermitOnFile, args: argparse.Namespace, now: datetime) -> int:
    permit = on_file.permit
    if on_file.ended_at is not None:
        return _refused("permit activate refused:", [f"the permit ended at {on_file.ended_at.isoformat()}"])
    if ActivationPath.BROADCAST not in permit.paths:
        return _refused("permit activate refused:", ["this permit is not activated by broadcast"])
    life = timedelta(minutes=args.minutes)
    if args.activation is None or not 1 <= args.activation <= permit.activations or not (
            timedelta(0) < life <= MAX_BROADCAST_LIFE):
        return _refused("permit activate refused:", [f"--activation 1 to {permit.activations}, --minutes 1 to "
                                                     f"{int(MAX_BROADCAST_LIFE.total_seconds() // 60)}"])
    signed = broadcast_activation(permit, args.activation, district.signing_key, now, life)
    config = district.config
    messages = [(permit_topic(config.district, permit.branch, permit.permit_id, kind), payload)
                for kind, payload in (("permit", on_file.signed), ("activation", signed))]
    if not _publish(config, args.identity, messages):
        return _refused("permit activate refused:", ["the broker did not take the activation"])
    print(f"permit {permit.permit_id} activation {args.activation} broadcast to branch {permit.branch}, valid until "
          f"{(now + life).isoformat()}")
    return 0


def _end(district: _District, on_file: PermitOnFile, args: argparse.Namespace, now: datetime) -> int:
    permit = on_file.permit
    problems: list[str] = []
    ended_at = _instant(args.at, problems, "--at") if args.at else now
    if ended_at is None:
        return _refused("permit end refused:", problems)
    signed = end_permit(permit, district.signing_key, ended_at, now)
    kept = district.book.end(permit.permit_id, signed)
    config = district.config
    topics = {kind: permit_topic(config.district, permit.branch, permit.permit_id, kind)
              for kind in ("activation", "end")}
    print(f"permit {permit.permit_id} ends at {kept.ended_at.isoformat() if kept.ended_at else '?'} (on file)")
    if not _publish(config, args.identity, [(topics["end"], signed), (topics["activation"], b"")]):
        return _refused("permit ended on file but not broadcast:", ["the broker did not take the end; run permit "
                                                                    "end again when it is reachable"])
    print(f"end broadcast to branch {permit.branch} (retained)")
    return 0


def _list(district: _District, now: datetime) -> int:
    for permit_id in district.book.ids():
        try:
            on_file = district.book.get(permit_id)
        except PermitFileError as exc:
            print(f"{permit_id}: does not hold: {exc}")
            continue
        if on_file is None:
            continue
        permit = on_file.permit
        if on_file.ended_at is not None and on_file.ended_at <= now:
            status = f"ended {on_file.ended_at.isoformat()}"
        elif now >= permit.not_after:
            status = "expired"
        elif now < permit.not_before:
            status = "not yet valid"
        else:
            status = "in force"
        print(f"{permit_id} branch {permit.branch} terminals {','.join(permit.terminals)} "
              f"{permit.not_before.isoformat()}..{permit.not_after.isoformat()} max {permit.max_slips}: {status}")
    return 0


def _publish(config: CenterConfig, identity: str | None, messages: list[tuple[str, bytes]]) -> bool:
    """Each message published retained at QoS 1 with one short session of the named center certificate."""
    name = identity or f"{config.instance}-{PERMITS_IDENTITY_SUFFIX}"
    tls = config.tls.files(name) if config.tls is not None else None
    session = MqttSession(client_id=name, broker=config.broker, subscriptions=[], on_message=lambda _t, _p: None,
                          tls=tls)
    session.start()
    try:
        if not session.wait_connected(PUBLISH_WAIT_S):
            log.error("%s could not reach the broker %s", name, config.broker)
            return False
        return all(session.publish(topic, payload, retain=True, wait=PUBLISH_WAIT_S) for topic, payload in messages)
    finally:
        session.stop()


def _instants(start: str | None, end: str | None, now: datetime, problems: list[str]
              ) -> tuple[datetime, datetime] | None:
    not_before = _instant(start, problems, "--from") if start else now
    not_after = _instant(end, problems, "--until") if end else None
    if not_before is None or not_after is None:
        return None
    return not_before, not_after


def _instant(text: str, problems: list[str], option: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.append(f"{option}: not an ISO 8601 time: {text!r}")
        return None
    if value.tzinfo is None:
        problems.append(f"{option}: give the offset (e.g. +03:30): {text!r}")
        return None
    return value.astimezone(UTC)


def _refused(title: str, problems: list[str]) -> int:
    print(title, file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 2
