"""The results as a terminal table, a JSON file and a PNG chart (requests/s and p99)."""

import json
from pathlib import Path
from typing import Any


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(document: dict[str, Any]) -> str:
    """One row per cell, grouped by scenario."""
    header = (
        f"{'scenario':30} {'implementation':13} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'err':>5} {'t/o':>5} {'CPU ms/req':>10} {'RSS MiB':>8} {'of C/L':>7} {'vs FastAPI':>10}"
    )
    lines = [header, "-" * len(header)]
    for cell in document["results"]:
        if cell["failure"]:
            lines.append(f"{cell['scenario']:30} {cell['implementation']:13} FAILED")
            continue
        lines.append(
            f"{cell['scenario']:30} {cell['implementation']:13} {cell['rps']:8.0f} "
            f"{cell['p50_ms']:8.1f} {cell['p99_ms']:8.1f} {cell['errors']:5d} "
            f"{cell['timeouts']:5d} {cell['cpu_ms_per_request']:10.2f} "
            f"{cell['peak_rss_mb']:8.1f} {_number(cell['ideal_fraction']):>7} "
            f"{_number(cell['ratio_to_fastapi']):>10}"
        )
    identical = "yes" if document["responses_identical"] else "NO"
    lines.append(f"Responses identical across implementations: {identical}")
    return "\n".join(lines)


def write_json(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def write_chart(document: dict[str, Any], path: Path) -> None:
    """Grouped bars: requests/s (top) and p99 in ms (bottom), per scenario and implementation."""
    import matplotlib  # noqa: PLC0415 (optional, and the backend must be chosen first)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    scenarios = list(dict.fromkeys(cell["scenario"] for cell in document["results"]))
    names = list(document["implementations"])
    cells = {(cell["implementation"], cell["scenario"]): cell for cell in document["results"]}
    width = 0.8 / max(len(names), 1)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, 1.6 * len(scenarios)), 8))
    for index, name in enumerate(names):
        xs = [i + index * width for i in range(len(scenarios))]
        top.bar(xs, [cells[(name, s)]["rps"] for s in scenarios], width, label=name)
        bottom.bar(xs, [cells[(name, s)]["p99_ms"] for s in scenarios], width, label=name)
    ticks = [i + 0.4 - width / 2 for i in range(len(scenarios))]
    for axis, title in (
        (top, "requests/s (higher is better)"),
        (bottom, "p99 ms (lower is better)"),
    ):
        axis.set_xticks(ticks, [s.replace(" orders", "\norders") for s in scenarios], fontsize=8)
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    bottom.set_yscale("log")
    # Above the bars, not on them: one row per five implementations.
    top.legend(fontsize=8, ncols=min(len(names), 5), loc="lower center", bbox_to_anchor=(0.5, 1.08))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
