"""`kiosk-center`: make the center's keys, generate or load a voter roll, and serve the district."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from center.config import CenterConfig, ConfigRefused, load_center_config
from center.registry import Registry
from center.roll import RollRefused, read_roll, write_roll
from center.service import CenterService
from center.synthetic_roll import RollShares, generate_roll
from protocol.seal import generate_sealing_key, generate_signing_key, public_part, save_key

KEY_FILES = {
    "signing": ("center-signing.pem", "center-signing.pub.pem"),
    "sealing": ("center-sealing.pem", "center-sealing.pub.pem"),
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    match args.command:
        case "keys":
            return _keys(Path(args.dir))
        case "roll-generate":
            return _roll_generate(args.voters, args.seed, date.fromisoformat(args.election_day), Path(args.out))
        case "roll-load":
            return _roll_load(Path(args.config), Path(args.roll))
        case "serve":
            return _serve(Path(args.config))
        case _:
            raise AssertionError(f"unhandled command {args.command}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-center", description="The district center.")
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys", help="create the center's signing and sealing key pairs")
    keys.add_argument("dir", help="folder for the PEM files (private keys are written 0600)")
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
    return parser


def _keys(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, key in (("signing", generate_signing_key()), ("sealing", generate_sealing_key())):
        private_name, public_name = KEY_FILES[kind]
        save_key(key, folder / private_name, private=True)
        save_key(public_part(key), folder / public_name, private=False)
    print(f"keys written to {folder}")
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
    registry = Registry(config.database, config.election_day)
    try:
        loaded = registry.load_roll(records)
    finally:
        registry.close()
    if isinstance(loaded, RollRefused):
        return _refused(f"roll {roll_path} refused, nothing loaded:", [str(p) for p in loaded.problems])
    print(f"{loaded} voters loaded into {config.database}")
    return 0


def _serve(config_path: Path) -> int:
    config = _config(config_path)
    if config is None:
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    with CenterService.from_config(config) as service:
        logging.getLogger(__name__).info(
            "serving district %s with %d workers on %s:%d",
            config.district, config.workers, config.broker.host, config.broker.port,
        )
        stop.wait()
        status = service.status()
    answered = sum(worker.answered for worker in status.workers)
    print(f"stopped after answering {answered} requests")
    return 0


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
