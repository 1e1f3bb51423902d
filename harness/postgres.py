"""A private PostgreSQL cluster for tests and benches: initdb in a temporary folder, a Unix socket there only."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg.conninfo import make_conninfo

UNPRIVILEGED_USER = "postgres"
"""The system user the cluster runs as when we are root (PostgreSQL refuses to run as root); Debian's package
makes it, and it is made here when missing."""
SUPERUSER = "postgres"
PORT = 5432
"""Only names the socket file: the cluster listens on no TCP port, and each has a folder of its own."""
_START_TIMEOUT_S = 60
_SETTINGS = {
    "listen_addresses": "''",
    "port": str(PORT),
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_connections": "200",
    "shared_buffers": "'128MB'",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


BENCH_SETTINGS = {
    # Durable still: fsync, synchronous_commit and full_page_writes stay on (_SETTINGS). Group commit: a committing
    # backend waits up to commit_delay µs for others when at least commit_siblings are in a transaction, so one WAL
    # flush covers several commits; and WAL room so that no checkpoint falls in the middle of a run.
    "commit_delay": "200",
    "commit_siblings": "4",
    "wal_buffers": "'16MB'",
    "max_wal_size": "'4GB'",
    "checkpoint_timeout": "'30min'",
}
"""The benches' cluster settings over ours (bench/registry_reserves.py, center_loadgen.py, roll_load.py)."""


class PostgresMissingError(RuntimeError):
    """PostgreSQL's server programs are not installed (scripts/install-system-packages installs them)."""


def server_bin_dir() -> Path:
    """The folder of initdb, pg_ctl and postgres: Debian's /usr/lib/postgresql/<newest>/bin, else the PATH's."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: _version(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found is not None:
        return Path(found).resolve().parent
    raise PostgresMissingError("no initdb: install PostgreSQL (scripts/install-system-packages)")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


class PostgresCluster:
    """One cluster, started by `start` and removed by `stop`. Durable commits (fsync on); reachable only through
    the Unix socket in its own folder, which only its user and root can enter, so local connections are trusted.
    Run as root, it runs as the unprivileged `postgres` user, who owns the folder."""

    def __init__(self, parent: Path | None = None, settings: dict[str, str] | None = None) -> None:
        """`parent`: where its temporary folder goes (the system's temporary folder by default; the user it runs
        as must be able to pass through it). `settings`: postgresql.conf lines added to or replacing ours."""
        self._bin = server_bin_dir()
        self._parent = parent if parent is not None else Path(tempfile.gettempdir())
        self._settings = {**_SETTINGS, **(settings or {})}
        self._user = server_user()
        self.folder: Path | None = None
        self._running = False

    @property
    def bin_dir(self) -> Path:
        """The folder of the server's programs (pgbench among them, when installed)."""
        return self._bin

    def server_version(self) -> str:
        with psycopg.connect(self.dsn()) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return "?" if row is None else str(row[0])

    @property
    def socket_dir(self) -> Path:
        if self.folder is None:
            raise RuntimeError("the cluster has not been started")
        return self.folder

    @property
    def data_dir(self) -> Path:
        return self.socket_dir / "data"

    def dsn(self, dbname: str = "postgres", **options: str) -> str:
        """A libpq connection string to `dbname` as the superuser, through the socket."""
        return make_conninfo(host=str(self.socket_dir), port=PORT, user=SUPERUSER, dbname=dbname, **options)

    def start(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="vk-pg-", dir=self._parent))
        self.folder = folder
        folder.chmod(0o700)
        if self._user is not None:
            os.chown(folder, self._user.pw_uid, self._user.pw_gid)
        self._program("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                      "--locale=C", "--no-instructions")
        settings = "".join(f"{key} = {value}\n" for key, value in self._settings.items())
        settings += f"unix_socket_directories = '{folder}'\n"
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# the test harness (harness/postgres.py)\n" + settings)
        self._program("pg_ctl", "-D", str(self.data_dir), "-l", str(folder / "server.log"), "-w",
                      "-t", str(_START_TIMEOUT_S), "start")
        self._running = True

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self._running:
            self._running = False
            self._program("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def log(self) -> str:
        """What the server logged so far (for a failing test's message)."""
        path = self.socket_dir / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def create_database(self, name: str) -> str:
        """A new, empty database; its connection string."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return self.dsn(name)

    def fresh_schema(self, dbname: str = "postgres") -> str:
        """A connection string whose tables go in a new, empty schema of `dbname` (cheaper than a database, for
        one test or one example of a property test each)."""
        schema = f"s_{secrets.token_hex(6)}"
        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema)))
        return self.dsn(dbname, options=f"-c search_path={schema}")

    def _program(self, name: str, *args: str) -> None:
        command: Sequence[str] = [str(self._bin / name), *args]
        environment = server_environment()
        user = self._user
        done = subprocess.run(
            command, cwd=self.socket_dir, env=environment, capture_output=True, text=True, check=False,
            user=None if user is None else user.pw_uid, group=None if user is None else user.pw_gid,
            extra_groups=None if user is None else [],
        )
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                               f"\n{self.log()[-2000:]}")

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


def server_environment() -> dict[str, str]:
    """Our environment for the server's programs, without libpq's PG* variables, in the C locale."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    environment["LC_ALL"] = "C"
    return environment


def server_user() -> pwd.struct_passwd | None:
    """The user to run the server as: ourselves unless we are root; then `postgres`, made if missing."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", UNPRIVILEGED_USER], check=True, capture_output=True)
        return pwd.getpwnam(UNPRIVILEGED_USER)
