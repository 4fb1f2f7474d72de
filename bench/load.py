"""Drive wrk: one run against one URL, its numbers read from a JSON line its Lua `done` prints."""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MARKER = "BENCH_RESULT "

# wrk's `done` hook has the exact latency histogram; print what we need as one JSON line.
DONE_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    "MARKER", summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
""".replace("MARKER", MARKER)


class WrkMissing(RuntimeError):
    """wrk is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "wrk is not installed: the benchmark drives every server with it. Install it from "
            "your system's packages (Debian/Ubuntu: `apt-get install wrk`; macOS: "
            "`brew install wrk`), then run the command again."
        )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing
    return path


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one wrk run measured. Errors count non-2xx/3xx answers and socket errors."""

    requests: int
    seconds: float
    errors: int
    timeouts: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse(output: str) -> LoadResult:
    """The result line of `DONE_SCRIPT` in wrk's output."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line.removeprefix(MARKER))
            break
    else:
        raise ValueError(f"wrk printed no result line:\n{output[-2000:]}")
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["connect"] + data["read"] + data["write"] + data["status"],
        timeouts=data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def run_wrk(
    url: str,
    *,
    token: str,
    connections: int,
    seconds: float,
    cpu: int | None = None,
    timeout: float = 2.0,
) -> LoadResult:
    """One wrk run: `connections` keep-alive clients for `seconds`, one wrk thread.

    wrk counts a timeout for an answer slower than `timeout` (its latency is then not
    recorded) and, every 2 s, for a request still unanswered after `timeout`: keep `timeout`
    well under `seconds`, or requests that never get an answer go uncounted.
    """
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "done.lua"
        script.write_text(DONE_SCRIPT)
        command = [
            wrk_path(),
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout:g}s",
            "-H",
            f"Authorization: Bearer {token}",
            "-s",
            str(script),
            url,
        ]
        if cpu is not None and shutil.which("taskset"):
            command = ["taskset", "-c", str(cpu), *command]
        completed = subprocess.run(  # noqa: S603 (wrk on a loopback URL we built)
            command, capture_output=True, text=True, timeout=seconds + timeout + 30, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return parse(completed.stdout)
