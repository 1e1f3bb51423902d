"""`kiosk-center`: the center's keys, the district CA and enrolment, the voter roll, and serving the district."""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from center import pki
from center.broker_config import render_center_acl, render_terminal_acl, secret_group_name
from center.config import DEFAULT_INSTANCE, CenterConfig, ConfigRefused, load_center_config
from center.dashboard.staff import set_password
from center.district_view import DistrictView, open_district_view
from center.enroll import DEFAULT_VALIDITY, Assignment, EnrolRefusal, enroll, load_center_keys
from center.minutes_command import minutes_command
from center.permit_command import add_permit_parser, permit_command
from center.results_source import open_registry
from center.roll import RollRefused, read_roll, write_roll
from center.service import CenterService
from center.snapshot_publisher import SnapshotPublisher
from center.storage import open_database
from center.synthetic_roll import RollShares, generate_roll
from center.voter_key import write_national_voter_key
from center.worker_processes import WorkerProcesses
from protocol import logs
from protocol.sd_notify import SystemdNotifier, watchdog_interval
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, save_key

log = logging.getLogger(__name__)

KEY_FILES = {
    "signing": ("center-signing.pem", "center-signing.pub.pem"),
    "sealing": ("center-sealing.pem", "center-sealing.pub.pem"),
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure(logging.INFO)
    match args.command:
        case "keys":
            return _keys(Path(args.dir))
        case "voter-key":
            return _voter_key(Path(args.out))
        case "roll-generate":
            return _roll_generate(args.voters, args.seed, date.fromisoformat(args.election_day), Path(args.out))
        case "roll-load":
            return _roll_load(Path(args.config), Path(args.roll))
        case "serve":
            return _serve(Path(args.config))
        case "ca":
            return _ca(args)
        case "enroll":
            return _enroll(args)
        case "revoke":
            return _revoke(Path(args.ca), args.name)
        case "staff":
            return _staff_password(Path(args.file), args.staff)
        case "minutes":
            return minutes_command(args)
        case "permit":
            return permit_command(args)
        case _:
            raise AssertionError(f"unhandled command {args.command}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-center", description="The district center.")
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="create the center's signing and sealing key pairs")
    keys.add_argument("dir", help="folder for the PEM files (private keys are written 0600)")
    voter_key = commands.add_parser("voter-key", help="make the national voter key, once for the whole country")
    voter_key.add_argument("out", help="the key file (written 0600; never overwritten); copy it to every district")
    generate = commands.add_parser("roll-generate", help="write a synthetic voter roll as CSV")
    generate.add_argument("--voters", type=int, default=1000)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--election-day", required=True, help="YYYY-MM-DD")
    generate.add_argument("--out", required=True)
    load = commands.add_parser("roll-load", help="load a voter roll CSV into the registry")
    load.add_argument("--config", required=True)
    load.add_argument("roll")
    serve = commands.add_parser("serve", help="answer the district's terminals until stopped")
    serve.add_argument("--config", required=True)
    minutes = commands.add_parser("minutes", help="the branches' minutes: export the district's aggregate, signed, "
                                                  "or verify an export")
    minutes.add_argument("action", choices=["export", "verify", "sign-bundle"])
    minutes.add_argument("dir", nargs="?", help="verify: the export's folder")
    minutes.add_argument("--config", help="export: the center's config")
    minutes.add_argument("--out", help="export: a new (or empty) folder for the export; sign-bundle: the signed "
                                       "bundle's file ([minutes] bundle_file)")
    minutes.add_argument("--ca", help="verify: the district CA's folder (the enrolled terminals' keys, the district's "
                                      "enrolment key); sign-bundle: the CA whose enrolment key signs")
    minutes.add_argument("--bundle", help="sign-bundle: the day's election bundle as JSON (protocol.codec's form)")
    minutes.add_argument("--center-key", help="verify: the center's public signing key (center-signing.pub.pem)")
    _pki_parsers(commands)
    add_permit_parser(commands)
    return parser


def _pki_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ca = commands.add_parser("ca", help="the district CA: create it, issue broker and center certificates")
    ca.add_argument("action", choices=["init", "broker", "center", "dashboard", "crl", "acl"])
    ca.add_argument("--dir", required=True, help="the CA folder (private keys 0600)")
    ca.add_argument("--district", help="init: the district this CA serves")
    ca.add_argument("--host", action="append", default=[], help="broker, dashboard: host name or IP (repeat)")
    ca.add_argument("--name", help="center: the certificate's CN (default center-DISTRICT); with --workers, the "
                                   "center process's `instance` (default center-1)")
    ca.add_argument("--workers", type=int, help="center: one certificate per worker, CN NAME-w1 ... NAME-wN, for a "
                                                "center.toml with instance = NAME, workers <= N, cert_dir = OUT")
    ca.add_argument("--out", help="broker/center: folder for key and certificate; acl: folder for the ACL files")
    ca.add_argument("--days", type=int, default=pki.CA_DAYS)
    enrol = commands.add_parser("enroll", help="check a terminal's CSR, issue its certificate and bundle")
    enrol.add_argument("--ca", required=True)
    enrol.add_argument("--csr", required=True)
    for option in ("district", "branch", "terminal", "opening", "closing", "election-id"):
        enrol.add_argument(f"--{option}", required=True)
    enrol.add_argument("--center-keys", required=True, help="folder with the center's public keys")
    enrol.add_argument("--csca", required=True, help="PEM bundle of the card trust anchors")
    enrol.add_argument("--days", type=int, default=DEFAULT_VALIDITY.days, help="certificate validity")
    enrol.add_argument("--out", required=True, help="the signed bundle to hand to the terminal")
    revoke = commands.add_parser("revoke", help="revoke a terminal's (or center's) certificates, rewrite the CRL")
    revoke.add_argument("--ca", required=True)
    revoke.add_argument("--terminal", dest="name", required=True, help="the certificate's CN")
    staff = commands.add_parser("staff", help="set a district staff member's dashboard password (read without echo)")
    staff.add_argument("action", choices=["set-password"])
    staff.add_argument("--file", required=True, help="the staff file ([dashboard] staff_file); kept 0600")
    staff.add_argument("--staff", required=True, help="the staff member's id (letters, digits, '.', '_', '-')")


def _ca(args: argparse.Namespace) -> int:
    folder, now = Path(args.dir), datetime.now(UTC)
    if args.action == "init":
        if not args.district:
            return _refused("ca init refused:", ["--district is required"])
        made = pki.create_ca(folder, args.district, now, args.days)
        if isinstance(made, pki.PkiRefusal):
            return _refused("ca init refused:", [f"{made.problem.value}: {made.detail}"])
        print(f"CA of district {made.district} in {folder}; give terminals {folder / pki.ENROLMENT_PUBLIC}")
        print(f"center config: group = \"{secret_group_name()}\" (keep it secret: see docs/security.md)")
        return 0
    ca = pki.load_ca(folder)
    if isinstance(ca, pki.PkiRefusal):
        return _refused("CA refused:", [f"{ca.problem.value}: {ca.detail}"])
    match args.action:
        case "broker":
            issued = pki.issue_broker(ca, args.host or ["localhost"], Path(args.out or folder), now, args.days)
            print(f"broker certificate {issued.cert_file}, key {issued.key_file}")
        case "center":
            return _ca_center(ca, args, Path(args.out or folder), now)
        case "dashboard":
            served = pki.issue_dashboard(ca, args.host or ["localhost"], Path(args.out or folder), now, args.days)
            if isinstance(served, pki.PkiRefusal):
                return _refused("dashboard certificate refused:", [f"{served.problem.value}: {served.detail}"])
            print(f"dashboard certificate {served.cert_file}, key {served.key_file}; staff browsers trust "
                  f"{ca.ca_path}")
        case "crl":
            print(f"CRL written to {pki.write_crl(ca, now)}")
        case "acl":
            out = Path(args.out or folder)
            out.mkdir(parents=True, exist_ok=True)
            (out / "terminals.acl").write_text(render_terminal_acl(ca.district))
            names = pki.center_identities(ca)
            (out / "center.acl").write_text(render_center_acl(ca.district, names))
            print(f"ACL files terminals.acl and center.acl written to {out}; the center's admits "
                  f"{', '.join(names) or 'no one yet (issue the center certificates first)'}")
        case _:
            raise AssertionError(f"unhandled ca action {args.action}")
    return 0


def _ca_center(ca: pki.DistrictCa, args: argparse.Namespace, out: Path, now: datetime) -> int:
    """A center certificate for a tool (CN `--name`), or with `--workers` one of its own for each worker."""
    issued: list[pki.KeyAndCertificate] | pki.KeyAndCertificate | pki.PkiRefusal
    if args.workers is None:
        issued = pki.issue_center(ca, args.name or f"center-{ca.district}", out, now, args.days)
    else:
        issued = pki.issue_center_workers(ca, args.name or DEFAULT_INSTANCE, args.workers, out, now, args.days)
    if isinstance(issued, pki.PkiRefusal):
        return _refused("center certificate refused:", [f"{issued.problem.value}: {issued.detail}"])
    for made in issued if isinstance(issued, list) else [issued]:
        print(f"center certificate {made.cert_file}, key {made.key_file}")
    print("render the ACL again (kiosk-center ca acl) and reload the broker so that it admits them")
    return 0


def _staff_password(path: Path, staff: str) -> int:
    """The password twice from the console (never from the command line, which other users can read)."""
    password = getpass.getpass(f"password for {staff}: ")
    if getpass.getpass("again: ") != password:
        return _refused("staff password refused:", ["the two entries differ"])
    problem = set_password(path, staff, password)
    if problem is not None:
        return _refused("staff password refused:", [problem.value])
    print(f"password of {staff} set in {path} (scrypt)")
    return 0


def _enroll(args: argparse.Namespace) -> int:
    ca = pki.load_ca(Path(args.ca))
    if isinstance(ca, pki.PkiRefusal):
        return _refused("enrolment refused:", [f"{ca.problem.value}: {ca.detail}"])
    keys_dir = Path(args.center_keys)
    try:
        csr, csca = Path(args.csr).read_bytes(), Path(args.csca).read_bytes()
        center = load_center_keys(keys_dir / KEY_FILES["signing"][1], keys_dir / KEY_FILES["sealing"][1])
    except (OSError, ValueError) as exc:
        return _refused("enrolment refused:", [f"unreadable input: {exc}"])
    assignment = Assignment(args.election_id, args.district, args.branch, args.terminal, args.opening, args.closing)
    enrolled = enroll(ca, csr, assignment, center, csca, datetime.now(UTC), timedelta(days=args.days))
    if isinstance(enrolled, EnrolRefusal):
        return _refused("enrolment refused:", [f"{enrolled.problem.value}: {enrolled.detail}"])
    Path(args.out).write_bytes(enrolled.bundle + b"\n")
    print(f"terminal {args.terminal} enrolled: certificate {enrolled.certificate.serial_number:x} until "
          f"{enrolled.certificate.not_valid_after_utc.isoformat()}; bundle {args.out}")
    return 0


def _revoke(ca_dir: Path, name: str) -> int:
    ca = pki.load_ca(ca_dir)
    if isinstance(ca, pki.PkiRefusal):
        return _refused("revocation refused:", [f"{ca.problem.value}: {ca.detail}"])
    revoked = pki.revoke(ca, name, datetime.now(UTC))
    if isinstance(revoked, pki.PkiRefusal):
        return _refused("revocation refused:", [f"{revoked.problem.value}: {revoked.detail}"])
    serials = ", ".join(record.serial for record in revoked)
    print(f"revoked {name} ({serials}); reload the broker so it reads {ca.crl_path}")
    return 0


def _keys(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, key in (("signing", generate_signing_key()), ("sealing", generate_sealing_key())):
        private_name, public_name = KEY_FILES[kind]
        save_key(key, folder / private_name, private=True)
        save_key(public_part(key), folder / public_name, private=False)
    print(f"keys written to {folder}")
    return 0


def _voter_key(out: Path) -> int:
    try:
        write_national_voter_key(out)
    except FileExistsError:
        return _refused("voter key refused:", [f"{out} exists; the national key is made once and never replaced"])
    print(f"national voter key written to {out}; give every district center a copy ([registry] voter_key)")
    return 0


def _roll_generate(voters: int, seed: int, election_day: date, out: Path) -> int:
    written = write_roll(generate_roll(voters, seed, election_day, RollShares()), out)
    print(f"{written} voters written to {out}")
    return 0


def _roll_load(config_path: Path, roll_path: Path) -> int:
    config = _config(config_path)
    if config is None:
        return 2
    records = read_roll(roll_path)
    if isinstance(records, RollRefused):
        return _refused(f"roll {roll_path} refused, nothing loaded:", [str(p) for p in records.problems])
    database = open_database(config.database)
    registry = open_registry(config, database)
    try:
        loaded = registry.load_roll(records)
    finally:
        registry.close()
        database.close()
    if isinstance(loaded, RollRefused):
        return _refused(f"roll {roll_path} refused, nothing loaded:", [str(p) for p in loaded.problems])
    where = config.database if isinstance(config.database, Path) else "the national registry"
    print(f"{loaded} voters loaded into {where}")
    return 0


def _serve(config_path: Path) -> int:
    config = _config(config_path)
    if config is None:
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    notifier = SystemdNotifier()
    try:
        view = open_district_view(config)
    except (OSError, ValueError) as exc:
        return _refused("the district view (fleet, dashboard) cannot start", [str(exc)])
    workers = WorkerProcesses.from_config(config)
    with workers:
        log.info("serving district %s with %d worker processes of %d workers each on %s:%d",
                 config.district, config.worker_processes, config.workers, config.broker.host, config.broker.port)
        snapshots = SnapshotPublisher.from_config(config)
        if view is not None:
            view.start()
        if snapshots is not None:
            snapshots.start()
        try:
            notifier.ready()
            died = _supervise(workers, notifier, stop, view=view, snapshots=snapshots)
            notifier.stopping()
        finally:
            if snapshots is not None:
                snapshots.stop()
            if view is not None:
                view.stop()
    status = workers.status()
    print(f"stopped after answering {status.answered} requests ({status.restarts} worker process restarts)")
    return 1 if died else 0


def _supervise(service: CenterService | WorkerProcesses, notifier: SystemdNotifier, stop: threading.Event,
               interval: float | None = None, view: DistrictView | None = None,
               snapshots: SnapshotPublisher | None = None) -> bool:
    """Feed the watchdog while `service` lives (for the worker processes: while their supervisor runs, which starts
    again any that ends), the district `view` and the snapshot publisher, if any; True (the process must end, for
    systemd to start it again) when one has died."""
    period = watchdog_interval() if interval is None else interval
    while not stop.wait(period):
        if snapshots is not None and not snapshots.alive():
            log.critical("the snapshot publisher has died; ending the process so that systemd restarts it")
            return True
        if view is not None and not view.alive():
            log.critical("the district view (fleet intake or dashboard) has died; ending the process so that "
                         "systemd restarts it")
            return True
        if not service.alive():
            log.critical("the center's workers have died or are no longer supervised; ending the process so "
                         "that systemd restarts it")
            return True
        notifier.ping()
    return False


def _config(path: Path) -> CenterConfig | None:
    config = load_center_config(path)
    if isinstance(config, ConfigRefused):
        _refused(f"config {path} refused:", list(config.problems))
        return None
    return config


def _refused(title: str, problems: list[str]) -> int:
    print(title, file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
