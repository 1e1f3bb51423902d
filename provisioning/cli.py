"""`kiosk-provision`: make the device's keys, install the district's bundles and permits, show them, zeroize after
the election."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from protocol.seal import load_key
from provisioning.device import CSR, SIGNING_PUBLIC, init_device, load_device
from provisioning.election import install_election
from provisioning.install import CLIENT_CERT, INSTALLED, install_bundle
from provisioning.installed import Installation, load_enrolment, load_installation
from provisioning.permits import install_permit
from provisioning.pins import PINS_FILE, Role, set_pin
from provisioning.refusals import ProvisioningRefusal
from provisioning.zeroize import RECORD, zeroize

REFUSED = 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    now = datetime.now(UTC)
    match args.command:
        case "init":
            return _init(Path(args.dir), args.terminal, args.user, now)
        case "install":
            return _install(Path(args.dir), Path(args.bundle), Path(args.trust), now)
        case "install-election":
            return _install_election(Path(args.dir), Path(args.bundle), now)
        case "status":
            return _status(Path(args.dir), now)
        case "set-pin":
            return _set_pin(Path(args.dir), Role(args.role), args.stdin)
        case "permit":
            return _permit(Path(args.dir), Path(args.permit), now)
        case "zeroize":
            journal = Path(args.journal) if args.journal else Path(args.dir) / "journal.db"
            voter_key = Path(args.voter_key) if args.voter_key else journal.parent / "voter-hash.key"
            return _zeroize(Path(args.dir), journal, voter_key, args.force, now)
        case _:
            raise AssertionError(f"unhandled command {args.command}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-provision", description="Terminal enrolment.")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="make the TLS and signing keys on this device, and the CSR")
    init.add_argument("--dir", required=True, help="the device's provisioning folder")
    init.add_argument("--terminal", required=True, help="terminal id (the certificate's CN)")
    init.add_argument("--user", help="service user that owns the private keys (default: the caller)")
    install = commands.add_parser("install", help="verify and install the district's enrolment bundle")
    install.add_argument("bundle")
    install.add_argument("--dir", required=True)
    install.add_argument("--trust", required=True, help="the district's enrolment public key (PEM)")
    election = commands.add_parser("install-election", help="verify and install the day's election bundle (after "
                                   "install: it must be signed with the key trusted there, for the same district)")
    election.add_argument("bundle")
    election.add_argument("--dir", required=True)
    status = commands.add_parser("status", help="what is installed and when certificates expire")
    status.add_argument("--dir", required=True)
    pin = commands.add_parser("set-pin", help="set an official's PIN for the operator screen (kept as a scrypt hash)")
    pin.add_argument("--dir", required=True)
    pin.add_argument("--role", required=True, choices=[role.value for role in Role])
    pin.add_argument("--stdin", action="store_true", help="read the PIN from the first line of stdin, not a prompt")
    permit = commands.add_parser("permit", help="check and keep an offline permit the district wrote for this branch "
                                 "(kiosk-center permit issue --out); the kiosk takes it at its next start")
    permit.add_argument("permit")
    permit.add_argument("--dir", required=True)
    wipe = commands.add_parser("zeroize", help="wipe keys, the HMAC secret and personal data after closing")
    wipe.add_argument("--dir", required=True)
    wipe.add_argument("--journal", help="the terminal's journal (default DIR/journal.db)")
    wipe.add_argument("--voter-key", help="the journal's HMAC secret (default voter-hash.key beside the journal)")
    wipe.add_argument("--force", action="store_true", help="even before the closing report is acknowledged")
    return parser


def _init(folder: Path, terminal: str, user: str | None, now: datetime) -> int:
    made = init_device(folder, terminal, now, user)
    if isinstance(made, ProvisioningRefusal):
        return _refused(made)
    print(f"کلیدها ساخته شد (KEYS CREATED) terminal={terminal}")
    print(f"  CSR: {folder / CSR}")
    print(f"  signing public key: {folder / SIGNING_PUBLIC}")
    print(f"  signing key fingerprint: {made.signing_key().thumbprint()}")
    return 0


def _install(folder: Path, bundle: Path, trust: Path, now: datetime) -> int:
    try:
        data = bundle.read_bytes()
        trusted = load_key(trust)
    except (OSError, ValueError) as exc:
        print(f"رد شد — فایل خوانده نشد (REFUSED unreadable_input: {exc})", file=sys.stderr)
        return REFUSED
    installed = install_bundle(folder, data, trusted, now)
    if isinstance(installed, ProvisioningRefusal):
        return _refused(installed)
    print(f"بسته ثبت‌نام نصب شد (INSTALLED) terminal={installed.terminal} branch={installed.branch} "
          f"district={installed.district} election={installed.election_id}")
    return 0


def _read_input(path: Path) -> bytes | None:
    """The file's bytes; None, with the refusal printed, if it does not read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"رد شد — فایل خوانده نشد (REFUSED unreadable_input: {exc})", file=sys.stderr)
        return None


def _install_election(folder: Path, bundle: Path, now: datetime) -> int:
    data = _read_input(bundle)
    if data is None:
        return REFUSED
    enrolled = load_enrolment(folder, now)
    if isinstance(enrolled, ProvisioningRefusal):
        return _refused(enrolled)
    installed = install_election(folder, data, enrolled.trusted, enrolled.enrolment.district)
    if isinstance(installed, ProvisioningRefusal):
        return _refused(installed)
    codes = ",".join(election.code for election in installed.bundle.elections)
    print(f"بستهٔ انتخابات نصب شد (ELECTION INSTALLED) district={installed.bundle.district} elections={codes} "
          f"hash={installed.bundle_hash}")
    return 0


def _status(folder: Path, now: datetime) -> int:
    device = load_device(folder)
    record = folder / RECORD
    if record.is_file():
        print(f"پاک‌سازی شده (ZEROIZED): {json.loads(record.read_text(encoding='utf-8'))['at']}")
    if isinstance(device, ProvisioningRefusal):
        return _refused(device)
    print(f"terminal={device.terminal} signing-key={device.signing_key().thumbprint()}")
    installation = load_installation(folder, now)
    if isinstance(installation, Installation):
        _print_installation(installation, now)
        return 0
    certificate = folder / INSTALLED / CLIENT_CERT
    if certificate.is_file():
        found = x509.load_pem_x509_certificate(certificate.read_bytes())
        print(f"  certificate serial={found.serial_number:x} not-after={found.not_valid_after_utc.isoformat()}")
    return _refused(installation)


def _print_installation(installation: Installation, now: datetime) -> None:
    left = installation.certificate_not_after - now
    print(f"نصب شده (INSTALLED) election={installation.election_id} district={installation.district} "
          f"branch={installation.branch}")
    print(f"  hours: opening={installation.opening:%H:%M} closing={installation.closing:%H:%M}")
    print(f"  certificate serial={installation.certificate_serial} "
          f"not-after={installation.certificate_not_after.isoformat()} "
          f"({left.days} روز / days, {left.seconds // 3600} h left)")
    print(f"  district CA not-after={installation.ca_not_after.isoformat()}")
    print(f"  card trust anchors: {installation.csca_path}")
    elections = ", ".join(f"{e.code} ({len(e.candidates)} candidates)" for e in installation.election.bundle.elections)
    print(f"  elections: {elections}; bundle hash={installation.election.bundle_hash}")


def _set_pin(folder: Path, role: Role, from_stdin: bool) -> int:
    if from_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass(f"PIN ({role.value}): ")
        if getpass.getpass("PIN again: ") != pin:
            print("رد شد — دو PIN یکسان نیستند (REFUSED pins_differ)", file=sys.stderr)
            return REFUSED
    problem = set_pin(folder / PINS_FILE, role, pin)
    if problem is not None:
        print(f"رد شد — PIN باید ۶ تا ۱۲ رقم باشد (REFUSED {problem.value})", file=sys.stderr)
        return REFUSED
    print(f"PIN ثبت شد (PIN SET) role={role.value} file={folder / PINS_FILE}")
    return 0


def _permit(folder: Path, signed: Path, now: datetime) -> int:
    data = _read_input(signed)
    if data is None:
        return REFUSED
    installation = load_installation(folder, now)
    if isinstance(installation, ProvisioningRefusal):
        return _refused(installation)
    permit = install_permit(installation, data)
    if isinstance(permit, ProvisioningRefusal):
        return _refused(permit)
    print(f"مجوز کار بدون اتصال نگه داشته شد (PERMIT KEPT) permit={permit.permit_id} branch={permit.branch} "
          f"from={permit.not_before.isoformat()} until={permit.not_after.isoformat()} max_slips={permit.max_slips}")
    return 0


def _zeroize(folder: Path, journal: Path, voter_key: Path, force: bool, now: datetime) -> int:
    done = zeroize(folder, journal, voter_key, now, force=force)
    if isinstance(done, ProvisioningRefusal):
        hint = " — برای اجبار --force (use --force to override)"
        print(done.message() + hint, file=sys.stderr)
        return REFUSED
    forced = " FORCED" if done.forced else ""
    print(f"پاک‌سازی انجام شد (ZEROIZED{forced}): {len(done.wiped_files)} files wiped, "
          f"{done.scrubbed_rows} journal rows scrubbed")
    return 0


def _refused(refusal: ProvisioningRefusal) -> int:
    print(refusal.message(), file=sys.stderr)
    return REFUSED


if __name__ == "__main__":
    sys.exit(main())
