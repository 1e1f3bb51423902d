"""A private high-availability PostgreSQL for tests and benches: one etcd and two or three Patroni nodes on loopback."""

from __future__ import annotations

import contextlib
import enum
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

import psycopg
from psycopg.conninfo import make_conninfo

from harness.postgres import SUPERUSER, server_bin_dir, server_environment, server_user

LOOPBACK = "127.0.0.1"
REPLICATION_USER = "replicator"
_START_TIMEOUT_S = 180.0
_STOP_TIMEOUT_S = 30.0
_POLL_S = 0.1
_T = TypeVar("_T")
PARAMETERS: dict[str, str | int] = {
    "synchronous_commit": "on",
    "fsync": "on",
    "full_page_writes": "on",
    "max_connections": 200,
    "shared_buffers": "128MB",
    "wal_keep_size": "256MB",
    "log_min_messages": "warning",
}
"""postgresql.conf of every node (Patroni keeps them in etcd); durable commits, as on the single test cluster.
Patroni adds `synchronous_standby_names` itself in synchronous mode."""


class MemberRole(enum.StrEnum):
    """A node's place in the cluster, as Patroni's REST API names it."""

    LEADER = "leader"
    SYNC_STANDBY = "sync_standby"
    REPLICA = "replica"


@dataclass(frozen=True)
class Member:
    """One node as Patroni sees it: its role and its PostgreSQL's state ("running", "starting", ...)."""

    name: str
    role: MemberRole
    state: str
    port: int


@dataclass(frozen=True)
class HaTiming:
    """Patroni's clock: the leader key lives `ttl` seconds unless renewed, each node runs its loop every
    `loop_wait` seconds, and gives up on etcd or PostgreSQL after `retry_timeout`. Patroni asks that loop_wait +
    2 × retry_timeout ≤ ttl. Failover after the primary dies takes about ttl + loop_wait."""

    ttl: int = 8
    loop_wait: int = 1
    retry_timeout: int = 3

    def __post_init__(self) -> None:
        if self.loop_wait < 1 or self.retry_timeout < 1 or self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise ValueError("Patroni needs loop_wait ≥ 1 and loop_wait + 2 × retry_timeout ≤ ttl")


@dataclass(frozen=True)
class Killed:
    """A node killed by `kill_primary`: its name, and time.monotonic() just after its processes got SIGKILL."""

    name: str
    at: float


class HaClusterError(RuntimeError):
    """The cluster did not reach the state waited for; the message carries the nodes' logs' tails."""


def free_port() -> int:
    """A TCP port of the loopback nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class _Process:
    """A program of the cluster, run as the server's user in a session of its own, its output in a log file."""

    def __init__(self, command: Sequence[str], log: Path, cwd: Path) -> None:
        user = server_user()
        environment = {key: value for key, value in server_environment().items()
                       if not key.startswith(("PATRONI", "PYTHON", "ETCD", "VIRTUAL_ENV"))}
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(
                command, cwd=cwd, env=environment, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, user=None if user is None else user.pw_uid,
                group=None if user is None else user.pw_gid, extra_groups=None if user is None else [],
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, characters: int = 1500) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-characters:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to its whole session if it has not ended in time."""
        if not self.alive():
            return
        self.popen.terminate()
        try:
            self.popen.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(self.popen.pid)
            self.popen.wait(_STOP_TIMEOUT_S)


class _Node:
    """One PostgreSQL under its own Patroni: a folder with its config, data and socket; a port each for both."""

    def __init__(self, name: str, folder: Path, pg_port: int, api_port: int) -> None:
        self.name = name
        self.folder = folder
        self.pg_port = pg_port
        self.api_port = api_port
        self.patroni: _Process | None = None

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def kill(self) -> float:
        """SIGKILL Patroni and the postmaster's process group (every backend); time.monotonic() just after. Once
        all are gone, release the shared memory a killed postmaster leaves behind (its System V segment and the
        /dev/shm files its processes had mapped), which only a restart on the same data would otherwise free."""
        postmaster = self.postmaster_pid()
        group = os.getpgid(postmaster) if postmaster is not None and _running(postmaster) else None
        patroni_alive = self.patroni is not None and self.patroni.alive()
        if group is None and not patroni_alive:
            return time.monotonic()  # nothing left running (killed before): its resources were released then
        members = [] if group is None else _members_of(group)
        mapped = {path for pid in members for path in _shared_memory_of(pid)}
        if self.patroni is not None and patroni_alive:
            _kill_group(self.patroni.popen.pid)
        if group is not None:
            _kill_group(group)
        at = time.monotonic()
        if self.patroni is not None:
            self.patroni.popen.wait(_STOP_TIMEOUT_S)
        deadline = at + _STOP_TIMEOUT_S
        while any(_running(pid) for pid in members) and time.monotonic() < deadline:
            time.sleep(0.01)
        listed = {segment for control in mapped for segment in _segments_listed_in(control)}
        for path in mapped | listed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        segment = self._shared_memory_segment() if group is not None else None
        if segment is not None:
            subprocess.run(["ipcrm", "-m", str(segment)], capture_output=True, check=False)
        return at

    def _shared_memory_segment(self) -> int | None:
        """The System V segment id postmaster.pid records (its seventh line: key and id)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(encoding="ascii").splitlines()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        fields = lines[6].split() if len(lines) > 6 else []
        return int(fields[1]) if len(fields) == 2 and fields[1].isdigit() else None

    def postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text(encoding="ascii").split("\n", 1)[0]
        except (FileNotFoundError, PermissionError, UnicodeDecodeError):
            return None
        return int(first) if first.strip().isdigit() else None


class PatroniCluster:
    """etcd and `nodes` PostgreSQL nodes under Patroni, on loopback ports chosen free, in one temporary folder
    only the server's user (unprivileged `postgres` when we are root) and root can enter. Synchronous mode with
    synchronous_commit on: a commit is acknowledged only once it is on the synchronous standby too, and Patroni
    promotes only that standby. Clients log in with a password over TCP (`dsn` names every node, so libpq finds
    the primary); Patroni itself uses each node's Unix socket."""

    def __init__(self, nodes: int = 2, parent: Path | None = None, timing: HaTiming | None = None,
                 parameters: dict[str, str | int] | None = None) -> None:
        if nodes not in (2, 3):
            raise ValueError("two or three nodes")
        self._count = nodes
        self._parent = parent if parent is not None else Path(tempfile.gettempdir())
        self.timing = timing or HaTiming()
        self._parameters = {**PARAMETERS, **(parameters or {})}
        self._password = secrets.token_urlsafe(18)
        self._replication_password = secrets.token_urlsafe(18)
        self._api_password = secrets.token_urlsafe(18)
        self.scope = f"vk-{secrets.token_hex(4)}"
        self.folder: Path | None = None
        self._etcd: _Process | None = None
        self._etcd_port = 0
        self._ports: set[int] = set()
        self.nodes: list[_Node] = []

    def start(self, timeout: float = _START_TIMEOUT_S) -> None:
        """etcd, then the nodes; returns once there is a leader and a synchronous standby, every node running."""
        folder = Path(tempfile.mkdtemp(prefix="vk-ha-", dir=self._parent))
        self.folder = folder
        folder.chmod(0o700)
        user = server_user()
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
        self._start_etcd(folder)
        for index in range(1, self._count + 1):
            node = _Node(f"node{index}", folder / f"node{index}", self._free_port(), self._free_port())
            node.folder.mkdir(mode=0o700)
            if user is not None:
                os.chown(node.folder, user.pw_uid, user.pw_gid)
            config = node.folder / "patroni.yml"
            config.write_text(json.dumps(self._config(node), indent=1), encoding="utf-8")
            config.chmod(0o600)
            if user is not None:
                os.chown(config, user.pw_uid, user.pw_gid)
            node.patroni = _Process(["patroni", str(config)], node.folder / "patroni.log", node.folder)
            self.nodes.append(node)
        self.wait_for(self._leader_writable, timeout, "a first leader accepting writes")
        self.wait_for_sync_standby(timeout)

    def _free_port(self) -> int:
        """A free loopback port not yet given to another program of this cluster."""
        while (port := free_port()) in self._ports:
            pass
        self._ports.add(port)
        return port

    def _start_etcd(self, folder: Path) -> None:
        self._etcd_port, peer = self._free_port(), self._free_port()
        data = folder / "etcd"
        client_url, peer_url = f"http://{LOOPBACK}:{self._etcd_port}", f"http://{LOOPBACK}:{peer}"
        self._etcd = _Process(
            ["etcd", "--name", "dcs", "--data-dir", str(data), "--listen-client-urls", client_url,
             "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
             "--initial-advertise-peer-urls", peer_url, "--initial-cluster", f"dcs={peer_url}",
             "--initial-cluster-token", self.scope, "--initial-cluster-state", "new", "--log-level", "warn"],
            folder / "etcd.log", folder)
        self.wait_for(self._etcd_healthy, 60.0, "etcd to answer")

    def _etcd_healthy(self) -> bool:
        answer = _get_json(f"http://{LOOPBACK}:{self._etcd_port}/health")
        return isinstance(answer, dict) and answer.get("health") == "true"

    def _config(self, node: _Node) -> dict[str, Any]:
        """The node's Patroni configuration (YAML is a superset of JSON, so it is written as JSON)."""
        timing = self.timing
        return {
            "scope": self.scope,
            "name": node.name,
            "log": {"level": "WARNING"},
            "restapi": {"listen": f"{LOOPBACK}:{node.api_port}", "connect_address": f"{LOOPBACK}:{node.api_port}",
                        "authentication": {"username": "harness", "password": self._api_password}},
            "etcd3": {"hosts": f"{LOOPBACK}:{self._etcd_port}"},
            "bootstrap": {
                "dcs": {
                    "ttl": timing.ttl, "loop_wait": timing.loop_wait, "retry_timeout": timing.retry_timeout,
                    # The synchronous standby has every acknowledged commit whatever its replay lag: never refuse to
                    # promote it for lag.
                    "maximum_lag_on_failover": 2**40,
                    "synchronous_mode": True,
                    "postgresql": {"use_pg_rewind": False, "use_slots": True, "parameters": self._parameters},
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}],
            },
            "postgresql": {
                "listen": f"{LOOPBACK}:{node.pg_port}",
                "connect_address": f"{LOOPBACK}:{node.pg_port}",
                "use_unix_socket": True,
                "data_dir": str(node.data_dir),
                "bin_dir": str(server_bin_dir()),
                "pgpass": str(node.folder / "pgpass"),
                "authentication": {
                    "superuser": {"username": SUPERUSER, "password": self._password},
                    "replication": {"username": REPLICATION_USER, "password": self._replication_password},
                },
                "parameters": {"unix_socket_directories": str(node.folder)},
                "pg_hba": [
                    "local all all trust",
                    f"host replication {REPLICATION_USER} {LOOPBACK}/32 scram-sha-256",
                    f"host all all {LOOPBACK}/32 scram-sha-256",
                ],
            },
            "watchdog": {"mode": "off"},
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }

    def dsn(self, dbname: str = "postgres", **options: str) -> str:
        """A libpq connection string naming every node, in order, that connects only to the one accepting writes
        (target_session_attrs=read-write): after a failover a new connection finds the new primary."""
        return make_conninfo(host=",".join(LOOPBACK for _ in self.nodes),
                             port=",".join(str(node.pg_port) for node in self.nodes), user=SUPERUSER,
                             password=self._password, dbname=dbname, target_session_attrs="read-write",
                             connect_timeout="3", **options)

    @property
    def password(self) -> str:
        """The superuser's password (random, made for this cluster)."""
        return self._password

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every node as "host:port", in order (the registry's `hosts` option)."""
        return tuple(f"{LOOPBACK}:{node.pg_port}" for node in self.nodes)

    def login(self, dbname: str = "postgres") -> str:
        """A connection string without hosts: the database, the user and its password (with `hosts`)."""
        return make_conninfo(user=SUPERUSER, password=self._password, dbname=dbname)

    def node_dsn(self, name: str, dbname: str = "postgres") -> str:
        """A connection string to one node only (a standby too)."""
        node = self._node(name)
        return make_conninfo(host=LOOPBACK, port=node.pg_port, user=SUPERUSER, password=self._password,
                             dbname=dbname, connect_timeout="3")

    def create_database(self, name: str) -> str:
        """A new, empty database (made on the primary); its multi-node connection string."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return self.dsn(name)

    def members(self) -> list[Member]:
        """The nodes as the first live Patroni reports them (empty if none answers)."""
        for node in self.nodes:
            if node.patroni is None or not node.patroni.alive():
                continue
            answer = _get_json(f"http://{LOOPBACK}:{node.api_port}/cluster")
            if isinstance(answer, dict):
                return [Member(m["name"], MemberRole(m["role"]), str(m.get("state", "")), int(m.get("port", 0)))
                        for m in answer.get("members", []) if m.get("role") in MemberRole.__members__.values()]
        return []

    def leader(self) -> str | None:
        return next((m.name for m in self.members() if m.role is MemberRole.LEADER and m.state == "running"), None)

    def wait_for_sync_standby(self, timeout: float = _START_TIMEOUT_S) -> str:
        """Wait until a leader runs with a synchronous standby and every live node runs; the standby's name."""
        def ready() -> str | None:
            members = self.members()
            live = {node.name for node in self.nodes if node.patroni is not None and node.patroni.alive()}
            if {m.name for m in members if m.state == "running"} != live:
                return None
            if not any(m.role is MemberRole.LEADER for m in members):
                return None
            return next((m.name for m in members if m.role is MemberRole.SYNC_STANDBY), None)
        return self.wait_for(ready, timeout, "a leader with a synchronous standby")

    def kill_primary(self) -> Killed:
        """SIGKILL the leader's Patroni and its PostgreSQL (the postmaster's whole session, backends included), as
        if its machine died; the name and when."""
        name = self.leader()
        if name is None:
            raise HaClusterError("no running leader to kill" + self.logs())
        return Killed(name, self._node(name).kill())

    def wait_for_promotion(self, killed: Killed, timeout: float = _START_TIMEOUT_S) -> str:
        """Wait until another node leads and accepts writes; its name."""
        def promoted() -> str | None:
            name = self._leader_writable()
            return name if name not in (None, killed.name) else None
        return self.wait_for(promoted, timeout, f"a new primary after {killed.name} was killed")

    def _leader_writable(self) -> str | None:
        name = self.leader()
        if name is None:
            return None
        try:
            with psycopg.connect(self.node_dsn(name), autocommit=True) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        except psycopg.OperationalError:
            return None
        return name if row is not None and row[0] is False else None

    def wait_for(self, ready: Callable[[], _T | None], timeout: float, what: str) -> _T:
        """Poll `ready` until it gives something other than None or False; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = ready()
            if value is not None and value is not False:
                return value
            if time.monotonic() > deadline:
                raise HaClusterError(f"timed out waiting for {what}" + self.logs())
            time.sleep(_POLL_S)

    def logs(self) -> str:
        """The tails of etcd's and every node's log (for a failing test's message)."""
        parts = [] if self._etcd is None else [f"\n--- etcd\n{self._etcd.tail()}"]
        parts += [f"\n--- {node.name}\n{node.patroni.tail()}" for node in self.nodes if node.patroni is not None]
        return "".join(parts)

    def _node(self, name: str) -> _Node:
        return next(node for node in self.nodes if node.name == name)

    def stop(self) -> None:
        """Kill every node (its data is thrown away: a clean shutdown would only add checkpoints), stop etcd, remove
        the folder."""
        for node in self.nodes:
            node.kill()
        if self._etcd is not None:
            self._etcd.stop()
        self.nodes = []
        self._etcd = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PatroniCluster:
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


def _get_json(url: str) -> Any:
    """GET a JSON document from a local service; None if it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            stream: IO[bytes] = answer
            return json.loads(stream.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (nobody may reap an orphaned postmaster here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _members_of(group: int) -> list[int]:
    """The processes of a process group (field 5 of /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[-1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if len(fields) > 2 and fields[2] == str(group):
            members.append(int(stat.parent.name))
    return members


def _shared_memory_of(pid: int) -> set[str]:
    """The PostgreSQL dynamic shared memory files (/dev/shm/PostgreSQL.*) a process has mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return set()
    return {line.split(None, 5)[-1] for line in maps.splitlines() if "/dev/shm/PostgreSQL." in line}


_DSM_MAGIC = 0x9A503D32
_DSM_HEADER = struct.Struct("=III4x")
_DSM_ITEM = struct.Struct("=IIQQQ?7x")


def _segments_listed_in(path: str) -> list[str]:
    """If `path` is a dynamic shared memory control segment (PostgreSQL 15's dsm_control_header on x86-64 and
    aarch64: magic, nitems, maxitems, then items of handle, refcnt, first_page, npages, a pointer, pinned), the
    files of the segments it lists: those a restarted postmaster would remove (handles with the low bit set live
    in the main shared memory and have no file)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    if len(data) < _DSM_HEADER.size or _DSM_HEADER.unpack_from(data)[0] != _DSM_MAGIC:
        return []
    _, count, capacity = _DSM_HEADER.unpack_from(data)
    if _DSM_HEADER.size + capacity * _DSM_ITEM.size != len(data) or count > capacity:
        return []
    handles = [_DSM_ITEM.unpack_from(data, _DSM_HEADER.size + i * _DSM_ITEM.size) for i in range(count)]
    return [f"/dev/shm/PostgreSQL.{handle}" for handle, refcnt, *_ in handles if refcnt > 0 and handle % 2 == 0]


def _kill_group(pid: int) -> None:
    """SIGKILL the process group `pid` leads (never our own)."""
    if pid == os.getpgrp():
        raise RuntimeError("refusing to kill our own process group")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
