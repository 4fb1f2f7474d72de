"""Scenarios and the run: every implementation under every scenario, repeated, with medians.

Each repetition runs every implementation once per database wait L, in an order that rotates
from one repetition to the next (repetition r starts at the r-th implementation), so on a
machine that drifts (thermal throttling, a neighbour) no server always runs first or last.
Each cell reports the median of its runs with their min and max, and its ratios to the
references (`servers.REFERENCE`, `servers.ORM_REFERENCE`) are taken per repetition, then
summarised the same way.
"""

import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from itertools import groupby
from pathlib import Path
from typing import Any

import psycopg

from bench import data, load, servers

Log = Callable[[str], None]

# Idle after the warm-up: less than IDLE_CPU_S of the server's CPU in IDLE_WINDOWS consecutive
# windows of IDLE_WINDOW_S, or give up after IDLE_BOUND_S (the run then records it).
IDLE_WINDOW_S = 0.1
IDLE_CPU_S = 0.002
IDLE_WINDOWS = 2
IDLE_BOUND_S = 5.0


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
    """One implementation under one scenario: the medians over the repeats, and their spread.

    `runs` holds each repetition's numbers (`repetition` is its 0-based index); the ratios
    are filled in by `add_ratios` from the runs of the same repetition.
    """

    implementation: str
    scenario: str
    wait_ms: int
    connections: int
    orders: int
    tier: str = ""
    framework: str = ""
    rps: float = 0.0
    rps_min: float = 0.0
    rps_max: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    timeouts: int = 0
    cpu_ms_per_request: float = 0.0
    cpu_min: float = 0.0
    cpu_max: float = 0.0
    peak_rss_mb: float = 0.0
    ideal_fraction: float | None = None
    ratio_to_fastapi: float | None = None
    ratio_to_fastapi_min: float | None = None
    ratio_to_fastapi_max: float | None = None
    ratio_to_sqla: float | None = None
    ratio_to_sqla_min: float | None = None
    ratio_to_sqla_max: float | None = None
    cpu_ratio_to_fastapi: float | None = None
    cpu_ratio_to_fastapi_min: float | None = None
    cpu_ratio_to_fastapi_max: float | None = None
    cpu_ratio_to_sqla: float | None = None
    cpu_ratio_to_sqla_min: float | None = None
    cpu_ratio_to_sqla_max: float | None = None
    idle_timeouts: int = 0
    failure: str | None = None
    runs: list[dict[str, float]] = field(default_factory=list)


# (field, the run's number, the reference implementation): the ratios `add_ratios` fills in.
RATIOS = (
    ("ratio_to_fastapi", "rps", servers.REFERENCE),
    ("ratio_to_sqla", "rps", servers.ORM_REFERENCE),
    ("cpu_ratio_to_fastapi", "cpu_ms_per_request", servers.REFERENCE),
    ("cpu_ratio_to_sqla", "cpu_ms_per_request", servers.ORM_REFERENCE),
)


def rotated[T](items: Sequence[T], repetition: int) -> list[T]:
    """`items` starting at index `repetition` mod their number, wrapping around."""
    if not items:
        return []
    start = repetition % len(items)
    return [*items[start:], *items[:start]]


@dataclass(frozen=True, slots=True)
class Block:
    """One database wait L within one repetition: its scenarios, and the servers in order."""

    repetition: int
    wait_ms: int
    scenarios: list[Scenario]
    implementations: list[servers.Implementation]


def schedule(
    implementations: Sequence[servers.Implementation], scenarios: Sequence[Scenario], repeat: int
) -> list[Block]:
    """The run's order: per repetition, per database wait L (ascending), every server once.

    Installing L is a database change, so a repetition groups its scenarios by L; within each
    group repetition r starts at implementation r mod n.
    """
    by_wait = groupby(sorted(scenarios, key=lambda s: s.wait_ms), lambda s: s.wait_ms)
    groups = [(wait_ms, list(group)) for wait_ms, group in by_wait]
    return [
        Block(repetition, wait_ms, group, rotated(implementations, repetition))
        for repetition in range(repeat)
        for wait_ms, group in groups
    ]


@dataclass(frozen=True, slots=True)
class Idle:
    """What `wait_until_idle` saw: whether the processes went idle, and how long it waited."""

    idle: bool
    waited_s: float


def wait_until_idle(
    pids: list[int],
    *,
    window: float = IDLE_WINDOW_S,
    threshold: float = IDLE_CPU_S,
    windows: int = IDLE_WINDOWS,
    bound: float = IDLE_BOUND_S,
) -> Idle:
    """Poll the processes' CPU time until it stops growing, for at most `bound` seconds.

    Idle is less than `threshold` seconds of CPU (all of `pids`) in each of `windows`
    consecutive windows of `window` seconds. /proc counts CPU in clock ticks (10 ms on most
    kernels), so the default 2 ms means no tick at all in the window. A window that would end
    after `bound` is not started: the answer is then not idle.
    """
    started = time.monotonic()
    deadline = started + bound
    quiet = 0
    last = servers.cpu_seconds(pids)
    while quiet < windows:
        if time.monotonic() + window > deadline:
            return Idle(idle=False, waited_s=time.monotonic() - started)
        time.sleep(window)  # the sampling window itself, not a synchronisation
        now = servers.cpu_seconds(pids)
        quiet = quiet + 1 if now - last < threshold else 0
        last = now
    return Idle(idle=True, waited_s=time.monotonic() - started)


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
    blocks = schedule(cfg.implementations, cfg.scenarios, cfg.repeat)
    for block in blocks:
        session.repetition = block.repetition
        session.tag = f"[{block.repetition + 1}/{cfg.repeat}] "
        with data.database_wait(cfg.database_url, block.wait_ms / 1000):
            for impl in block.implementations:
                session.run_server(impl, block.scenarios)
    results = [asdict(summarise(cell)) for cell in session.cells.values()]
    add_ratios(results)
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
            "idle_window_s": IDLE_WINDOW_S,
            "idle_cpu_s": IDLE_CPU_S,
            "idle_windows": IDLE_WINDOWS,
            "idle_bound_s": IDLE_BOUND_S,
            # The servers' order in each repetition (the same for every database wait L).
            "run_order": [
                [impl.name for impl in block.implementations]
                for block in blocks
                if block.wait_ms == blocks[0].wait_ms
            ],
        },
        "reference": servers.REFERENCE,
        "orm_reference": servers.ORM_REFERENCE,
        "tiers": list(servers.TIERS),
        "implementations": {
            impl.name: {
                "label": impl.label,
                "tier": impl.tier,
                "framework": impl.framework,
                "django": impl.django,
            }
            for impl in cfg.implementations
        },
        "response_digests": digests,
        "responses_identical": len(set(digests.values())) == 1
        and len(digests) == len(cfg.implementations),
        "results": results,
    }


class _Session:
    """The state of one run: the cells filled so far and each implementation's responses."""

    def __init__(self, cfg: Settings, customers: dict[int, data.Customer], log: Log) -> None:
        self.cfg = cfg
        self.customers = customers
        self.log = log
        self.tag = ""
        self.repetition = 0
        self.server_cpu, self.load_cpu = _pins()
        self.env = servers.server_env(cfg.database_url, cfg.pool_size)
        self.cells = {
            (impl.name, scenario): Cell(
                impl.name,
                scenario.name,
                scenario.wait_ms,
                scenario.connections,
                scenario.orders,
                tier=impl.tier,
                framework=impl.framework,
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
                    self.log(f"{self.tag}{impl.name:18} {scenario.name} ...")
                    numbers = self._measure(server, scenario)
                    self.cells[(impl.name, scenario)].runs.append(numbers)
                    busy = (
                        f", still busy {numbers['idle_wait_s']:.1f} s after the warm-up"
                        if numbers["idle_timeout"]
                        else ""
                    )
                    self.log(
                        f"{self.tag}{impl.name:18} {scenario.name}: {numbers['rps']:.0f} req/s, "
                        f"p99 {numbers['p99_ms']:.1f} ms, {numbers['errors']:.0f} errors{busy}"
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
        # The warm-up leaves requests in flight (some servers finish them, Django's handler
        # cancels them): measure from a quiet server, or record that it never went quiet.
        idle = wait_until_idle(tree)
        before = servers.cpu_seconds(tree)
        result = wrk(self.cfg.duration)
        used = servers.cpu_seconds(tree) - before
        return {
            "repetition": self.repetition,
            "idle_wait_s": round(idle.waited_s, 3),
            "idle_timeout": 0.0 if idle.idle else 1.0,
            "rps": result.rps,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "errors": result.errors,
            "timeouts": result.timeouts,
            "cpu_ms_per_request": 1000 * used / result.requests if result.requests else 0.0,
            "peak_rss_mb": max(servers.peak_rss_mb(pid) for pid in servers.worker_pids(server)),
        }


def summarise(cell: Cell) -> Cell:
    """Fill in the cell's medians, min and max from its runs (worst errors and timeouts)."""
    if not cell.runs:
        return cell
    for name in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request", "peak_rss_mb"):
        setattr(cell, name, round(statistics.median(run[name] for run in cell.runs), 3))
    rps = [run["rps"] for run in cell.runs]
    cpu = [run["cpu_ms_per_request"] for run in cell.runs]
    cell.rps_min, cell.rps_max = round(min(rps), 3), round(max(rps), 3)
    cell.cpu_min, cell.cpu_max = round(min(cpu), 3), round(max(cpu), 3)
    cell.errors = int(max(run["errors"] for run in cell.runs))
    cell.timeouts = int(max(run["timeouts"] for run in cell.runs))
    cell.idle_timeouts = int(sum(run.get("idle_timeout", 0) for run in cell.runs))
    if cell.wait_ms > 0:
        ideal = cell.connections / (cell.wait_ms / 1000)
        cell.ideal_fraction = round(cell.rps / ideal, 3)
    return cell


def add_ratios(results: list[dict[str, Any]]) -> None:
    """Fill in each result's `RATIOS`: per repetition, then their median, min and max.

    A repetition's ratio is this cell's number over the reference's in the same repetition
    and scenario. Without a reference run in any of the cell's repetitions (the reference not
    run, or failed), the ratio and its spread are None.
    """
    runs = {
        (cell["implementation"], cell["scenario"]): {
            int(run["repetition"]): run for run in cell["runs"]
        }
        for cell in results
    }
    for cell in results:
        own = runs[(cell["implementation"], cell["scenario"])]
        for name, number, reference in RATIOS:
            theirs = runs.get((reference, cell["scenario"]), {})
            ratios = [
                run[number] / theirs[repetition][number]
                for repetition, run in sorted(own.items())
                if repetition in theirs and theirs[repetition][number]
            ]
            if ratios:
                spread = statistics.median(ratios), min(ratios), max(ratios)
                median, low, high = (round(value, 3) for value in spread)
            else:
                median = low = high = None
            cell[name], cell[f"{name}_min"], cell[f"{name}_max"] = median, low, high


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
        "psycopg-pool", "orjson", "sqlalchemy", "flask-sqlalchemy", "django-bolt", "msgspec",
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
