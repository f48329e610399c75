"""Fixtures of the cloud tests: the real service (tests/cloud_support.py) on SQLite and on PostgreSQL.

``cloud`` starts the service on a fresh database: a SQLite file, or a new database in a
throw-away PostgreSQL cluster (Debian's ``postgresql`` package, started once per test session on
a free port with its socket in a temporary folder, never the machine's own server on 5432).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cloud_support import CloudService, Operation, operations, run_service

from supplies_cloud.db import migrate

# --- databases ----------------------------------------------------------------------------------------


def _pg_bindir() -> Path | None:
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _install_postgresql() -> str | None:
    """Tries Debian's package (one xdist worker at a time); the reason it could not, or None."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "not root or no apt-get"
    with open(Path(tempfile.gettempdir()) / "supplies-cloud-postgresql-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _pg_bindir() is not None:
            return None
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"]
        for command in (install, ["apt-get", "update", "-qq"], install):
            try:
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=900, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                return str(exc)
            if done.returncode == 0 and command is install and _pg_bindir() is not None:
                return None
        return (done.stderr or done.stdout).strip()[-300:] or "apt-get failed"


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary folder, trust auth, on 127.0.0.1:<free port>."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cloud-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.template: str | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.root / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}\n{tail}")

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "postgres.log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh database, copied from a migrated template (one migration per session)."""
        name = f"cloud_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            if self.template is None:
                conn.execute("CREATE DATABASE cloud_template")
                migrate(self.url("cloud_template"))
                self.template = "cloud_template"
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One private cluster per test session (per xdist worker), stopped at the end."""
    bindir = _pg_bindir()
    if bindir is None:
        reason = _install_postgresql()
        bindir = _pg_bindir()
        if bindir is None:
            pytest.skip(f"PostgreSQL's initdb and pg_ctl are missing and could not be installed: {reason}")
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (one migration per session)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "cloud.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "cloud.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database()


@pytest.fixture
def start_cloud(database_url: str, backend: str, tmp_path: Path) -> Iterator[Callable[..., CloudService]]:
    """Starts services on this test's database with settings of the test's choosing."""
    with contextlib.ExitStack() as stack:

        def start(**overrides: Any) -> CloudService:
            return stack.enter_context(run_service(database_url, tmp_path, backend, **overrides))

        yield start


@pytest.fixture
def cloud(start_cloud: Callable[..., CloudService]) -> CloudService:
    """The service with its default settings and the demo catalog imported."""
    service = start_cloud()
    service.import_catalog()
    return service


@pytest.fixture(scope="session")
def contract_operations() -> dict[str, Operation]:
    """The operations of docs/cloud-api.yaml by operationId."""
    return operations()
