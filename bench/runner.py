"""Scenarios and the run: every implementation under every scenario, repeated, with medians."""

import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from itertools import groupby
from pathlib import Path
from typing import Any

import psycopg

from bench import data, load, servers

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Database wait L (ms), concurrency C, and the orders per customer in the response."""

    wait_ms: int
    connections: int
    orders: int

    @property
    def name(self) -> str:
        return f"L={self.wait_ms}ms C={self.connections} orders={self.orders}"


def full_scenarios(orders: int, payloads: list[int], payload_connections: int) -> list[Scenario]:
    """The issue's grid: L=0 at C=1 and 64, L=50 ms at C=1, 50, 200, then payload growth.

    Payload growth runs at its own (low) concurrency: at C=64 a Django style needs longer than
    wrk's timeout to serve 1,000 orders to everyone queued, and would report only timeouts.
    """
    grid = [Scenario(0, 1, orders), Scenario(0, 64, orders)]
    grid += [Scenario(50, c, orders) for c in (1, 50, 200)]
    grid += [Scenario(0, payload_connections, n) for n in dict.fromkeys([orders, *payloads])]
    return list(dict.fromkeys(grid))


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def quick_scenarios(orders: int) -> list[Scenario]:
    return [Scenario(0, 8, orders)]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    scenarios: list[Scenario]
    implementations: list[servers.Implementation]
    duration: float
    warmup: float
    repeat: int
    pool_size: int
    timeout: float = 2.0


@dataclass(slots=True)
class Cell:
    """One implementation under one scenario: the medians over the repeats."""

    implementation: str
    scenario: str
    wait_ms: int
    connections: int
    orders: int
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    timeouts: int = 0
    cpu_ms_per_request: float = 0.0
    peak_rss_mb: float = 0.0
    ideal_fraction: float | None = None
    ratio_to_fastapi: float | None = None
    failure: str | None = None
    runs: list[dict[str, float]] = field(default_factory=list)


def _canonical(body: bytes) -> str:
    return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))


def _pins() -> tuple[int | None, int | None]:
    """(server core, load generator core): different cores when there are two or more."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[-1], cpus[0]


def run(cfg: Settings, log: Log) -> dict[str, Any]:
    """Prepare the database, run every cell, and return the results document."""
    load.wrk_path()  # fail early, with the message, when wrk is missing
    # A SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so servers stop and L is undone.
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        return _run(cfg, log)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(cfg: Settings, log: Log) -> dict[str, Any]:
    log("Preparing the database (migrate, bench customers and tokens)...")
    data.migrate(cfg.database_url)
    customers = data.seed(cfg.database_url, sorted({s.orders for s in cfg.scenarios}))
    session = _Session(cfg, customers, log)
    by_wait = groupby(sorted(cfg.scenarios, key=lambda s: s.wait_ms), lambda s: s.wait_ms)
    groups = [(wait_ms, list(group)) for wait_ms, group in by_wait]
    for repeat in range(1, cfg.repeat + 1):
        session.tag = f"[{repeat}/{cfg.repeat}] "
        for wait_ms, scenarios in groups:
            with data.database_wait(cfg.database_url, wait_ms / 1000):
                for impl in cfg.implementations:
                    session.run_server(impl, scenarios)
    results = [_summarise(cell) for cell in session.cells.values()]
    _ratios(results)
    digests = {
        name: hashlib.sha256("\n".join(b for _, b in sorted(bodies.items())).encode()).hexdigest()
        for name, bodies in session.responses.items()
    }
    return {
        "machine": machine(cfg.database_url),
        "config": {
            "scenarios": [asdict(scenario) | {"name": scenario.name} for scenario in cfg.scenarios],
            "duration_s": cfg.duration,
            "warmup_s": cfg.warmup,
            "repeat": cfg.repeat,
            "pool_size": cfg.pool_size,
            "wrk_timeout_s": cfg.timeout,
            "threads": servers.THREADS,
            "server_cpu": session.server_cpu,
            "load_cpu": session.load_cpu,
        },
        "implementations": {impl.name: impl.label for impl in cfg.implementations},
        "response_digests": digests,
        "responses_identical": len(set(digests.values())) == 1
        and len(digests) == len(cfg.implementations),
        "results": [asdict(cell) for cell in results],
    }


class _Session:
    """The state of one run: the cells filled so far and each implementation's responses."""

    def __init__(self, cfg: Settings, customers: dict[int, data.Customer], log: Log) -> None:
        self.cfg = cfg
        self.customers = customers
        self.log = log
        self.tag = ""
        self.server_cpu, self.load_cpu = _pins()
        self.env = servers.server_env(cfg.database_url, cfg.pool_size)
        self.cells = {
            (impl.name, scenario): Cell(
                impl.name, scenario.name, scenario.wait_ms, scenario.connections, scenario.orders
            )
            for impl in cfg.implementations
            for scenario in cfg.scenarios
        }
        # Canonical JSON of each implementation's answer, per payload size.
        self.responses: dict[str, dict[int, str]] = {}

    def run_server(self, impl: servers.Implementation, scenarios: list[Scenario]) -> None:
        """Start one implementation, check its answers, run its scenarios, stop it."""
        probe = self.customers[scenarios[0].orders]
        try:
            with servers.serving(
                impl, env=self.env, probe_path=probe.path, token=probe.token, cpu=self.server_cpu
            ) as server:
                for scenario in scenarios:
                    self._check_response(server, scenario.orders)
                    self.log(f"{self.tag}{impl.name:12} {scenario.name} ...")
                    numbers = self._measure(server, scenario)
                    self.cells[(impl.name, scenario)].runs.append(numbers)
                    self.log(
                        f"{self.tag}{impl.name:12} {scenario.name}: {numbers['rps']:.0f} req/s, "
                        f"p99 {numbers['p99_ms']:.1f} ms, {numbers['errors']:.0f} errors"
                    )
        except (RuntimeError, OSError) as error:
            self.log(f"{self.tag}{impl.name}: FAILED: {error}")
            for scenario in scenarios:
                self.cells[(impl.name, scenario)].failure = str(error)[:2000]

    def _check_response(self, server: servers.Server, orders: int) -> None:
        seen = self.responses.setdefault(server.implementation.name, {})
        if orders in seen:
            return
        customer = self.customers[orders]
        status, body = servers.get(server.base_url + customer.path, customer.token)
        if status != 200:
            raise servers.ServerFailed(f"GET {customer.path} answered {status}: {body[:300]!r}")
        seen[orders] = _canonical(body)

    def _measure(self, server: servers.Server, scenario: Scenario) -> dict[str, float]:
        customer = self.customers[scenario.orders]
        url = server.base_url + customer.path

        def wrk(seconds: float) -> load.LoadResult:
            return load.run_wrk(
                url,
                token=customer.token,
                connections=scenario.connections,
                seconds=seconds,
                cpu=self.load_cpu,
                timeout=self.cfg.timeout,
            )

        wrk(self.cfg.warmup)
        tree = servers.process_tree(server.process.pid)
        before = servers.cpu_seconds(tree)
        result = wrk(self.cfg.duration)
        used = servers.cpu_seconds(tree) - before
        return {
            "rps": result.rps,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "errors": result.errors,
            "timeouts": result.timeouts,
            "cpu_ms_per_request": 1000 * used / result.requests if result.requests else 0.0,
            "peak_rss_mb": max(servers.peak_rss_mb(pid) for pid in servers.worker_pids(server)),
        }


def _summarise(cell: Cell) -> Cell:
    if not cell.runs:
        return cell
    for name in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request", "peak_rss_mb"):
        setattr(cell, name, round(statistics.median(run[name] for run in cell.runs), 3))
    cell.errors = int(max(run["errors"] for run in cell.runs))
    cell.timeouts = int(max(run["timeouts"] for run in cell.runs))
    if cell.wait_ms > 0:
        ideal = cell.connections / (cell.wait_ms / 1000)
        cell.ideal_fraction = round(cell.rps / ideal, 3)
    return cell


def _ratios(cells: list[Cell]) -> None:
    reference = {
        cell.scenario: cell.rps for cell in cells if cell.implementation == servers.REFERENCE
    }
    for cell in cells:
        if reference.get(cell.scenario):
            cell.ratio_to_fastapi = round(cell.rps / reference[cell.scenario], 3)


def machine(database_url: str) -> dict[str, Any]:
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.partition(":")[2].strip()
                break
    versions: dict[str, str | None] = {}
    for package in (
        "django", "djangorestframework", "django-ninja", "pydantic", "fastapi", "starlette",
        "flask", "werkzeug", "uvicorn", "uvloop", "httptools", "gunicorn", "psycopg",
        "psycopg-pool", "orjson",
    ):  # fmt: skip
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    wrk = subprocess.run(  # noqa: S603
        [load.wrk_path(), "-v"], capture_output=True, text=True, check=False
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "postgresql": row[0] if row else None,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "",
        "versions": versions,
    }
