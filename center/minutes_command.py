"""`kiosk-center minutes export|verify|sign-bundle`: the district's aggregate written signed from the registry or
checked, and the day's election bundle signed for the center's config."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from center import pki
from center.config import ConfigRefused, load_center_config
from center.election_bundle import BundleRefused, configured_bundle
from center.enrolled import EnrolledTerminals
from center.results_export import write_export
from center.results_source import open_registry, read_results
from center.results_verify import report, verify_export
from center.storage import open_database
from protocol.codec import MAX_ELECTION_BUNDLE_BYTES, ProtocolError, decode_election_bundle
from protocol.seal import election_bundle_hash, load_key, sign_election_bundle


def minutes_command(args: argparse.Namespace) -> int:
    """`export --config C --out DIR`, `verify DIR --ca CA --center-key PEM` (exit 1 on any mismatch), or
    `sign-bundle --ca CA --bundle JSON --out FILE`."""
    if args.action == "sign-bundle":
        if not args.ca or not args.bundle or not args.out:
            return _refused("minutes sign-bundle refused:", ["give --ca, --bundle and --out"])
        return _sign_bundle(Path(args.ca), Path(args.bundle), Path(args.out))
    if args.action == "export":
        if not args.config or not args.out or args.dir:
            return _refused("minutes export refused:", ["give --config and --out (and no folder)"])
        return _export(Path(args.config), Path(args.out))
    if not args.dir or not args.ca or not args.center_key:
        return _refused("minutes verify refused:", ["give the export's folder, --ca and --center-key"])
    try:
        center_key, district_key = load_key(Path(args.center_key)), load_key(Path(args.ca) / pki.ENROLMENT_PUBLIC)
    except (OSError, ValueError) as exc:
        return _refused("minutes verify refused:", [f"a key does not load: {exc}"])
    verdict = verify_export(Path(args.dir), center_key, district_key, EnrolledTerminals(Path(args.ca)))
    lines, holds = report(verdict)
    print("\n".join(lines), file=sys.stdout if holds else sys.stderr)
    return 0 if holds else 1


def _export(config_path: Path, out: Path) -> int:
    config = load_center_config(config_path)
    if isinstance(config, ConfigRefused):
        return _refused(f"config {config_path} refused:", list(config.problems))
    bundle = configured_bundle(config)
    if isinstance(bundle, BundleRefused):
        return _refused("minutes export refused:", [bundle.detail])
    enrolled = EnrolledTerminals(config.enrolment_ca) if config.enrolment_ca is not None else {}
    database = open_database(config.database)
    registry = open_registry(config, database)
    try:
        stored = read_results(registry, config.district, bundle, enrolled)
    finally:
        registry.close()
        database.close()
    try:
        exported = write_export(stored.results, stored.rows, bundle, load_key(config.signing_key), out,
                                datetime.now(UTC))
    except (OSError, ValueError) as exc:
        return _refused("minutes export refused:", [str(exc)])
    agg = exported.results.aggregate
    print(f"جمع ناحیه صادر شد (EXPORTED): {len(exported.results.received)} minutes, {len(agg.counted)} branches "
          f"counted, {len(agg.missing)} missing, {len(agg.conflicts)} in conflict, {len(agg.flags)} flags -> {out}")
    return 0


def _sign_bundle(ca_folder: Path, bundle_file: Path, out: Path) -> int:
    """The day's election bundle signed with the district CA's enrolment key: the same bytes enrolment signs into
    each terminal's folder (Ed25519 is deterministic), for the center's `[minutes] bundle_file`."""
    ca = pki.load_ca(ca_folder)
    if isinstance(ca, pki.PkiRefusal):
        return _refused("minutes sign-bundle refused:", [f"{ca.problem.value}: {ca.detail}"])
    try:
        with bundle_file.open("rb") as file:
            data = file.read(MAX_ELECTION_BUNDLE_BYTES + 1)
    except OSError as exc:
        return _refused("minutes sign-bundle refused:", [f"{bundle_file}: {exc.strerror or exc}"])
    bundle = decode_election_bundle(data)
    if isinstance(bundle, ProtocolError):
        return _refused("minutes sign-bundle refused:", [f"{bundle_file}: not an election bundle ({bundle})"])
    if bundle.district != ca.district:
        return _refused("minutes sign-bundle refused:", [f"the bundle is for {bundle.district}, the CA serves "
                                                         f"{ca.district}"])
    signed = sign_election_bundle(bundle, ca.enrolment_key)
    try:
        with out.open("xb") as file:
            file.write(signed + b"\n")
    except OSError as exc:
        return _refused("minutes sign-bundle refused:", [f"{out}: {exc.strerror or exc}"])
    print(f"election bundle of {bundle.district} signed: {out} (hash {election_bundle_hash(signed)})")
    return 0


def _refused(title: str, problems: list[str]) -> int:
    print(title, file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 2
