"""The results as a terminal table, a JSON file, PNG charts, and the answer table.

The answer (`answer_table`, `answer_chart`): for each framework and tier, the best
implementation's requests/s relative to `servers.REFERENCE`, with the spread of the
per-repetition ratios.
"""

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from bench import servers

# The answer table's rows, in this order; a framework not listed here follows them.
FRAMEWORKS = ("DRF", "django-ninja", "Django plain views", "django-bolt", "FastAPI", "Flask")
TIER_COLOURS = {"idiomatic": "#4c72b0", "tuned": "#dd8452", "raw": "#55a868"}
OTHER_COLOUR = "#8c8c8c"


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _spread(low: float | None, high: float | None, digits: int = 2) -> str:
    return "-" if low is None or high is None else f"{low:.{digits}f}..{high:.{digits}f}"


def _tiers(document: dict[str, Any]) -> list[str]:
    """The tiers in their order (`servers.TIERS`), then any other the document names."""
    named = [cell["tier"] for cell in document["results"]]
    return list(dict.fromkeys([*document.get("tiers", servers.TIERS), *named]))


def _frameworks(document: dict[str, Any]) -> list[str]:
    named = [cell["framework"] for cell in document["results"]]
    return list(dict.fromkeys([*FRAMEWORKS, *named]))


def _scenarios(document: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(cell["scenario"] for cell in document["results"]))


def _measured(cell: dict[str, Any]) -> bool:
    return not cell["failure"] and bool(cell["runs"])


def _repetitions(document: dict[str, Any]) -> int:
    return int(document.get("config", {}).get("repeat", 1))


def ordered(document: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    """One scenario's cells: by tier, then by requests/s (highest first), failures last."""
    tiers = _tiers(document)
    cells = [cell for cell in document["results"] if cell["scenario"] == scenario]
    return sorted(
        cells,
        key=lambda cell: (tiers.index(cell["tier"]), not _measured(cell), -cell["rps"]),
    )


def table(document: dict[str, Any]) -> str:
    """One block per scenario; its rows grouped by tier, fastest first."""
    header = (
        f"{'tier':9} {'implementation':18} {'req/s':>7} {'min..max':>13} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'err':>4} {'t/o':>4} {'CPU ms/req':>10} {'min..max':>11} "
        f"{'RSS MiB':>7} {'of C/L':>6} {'vs FastAPI':>10} {'min..max':>10} {'vs SQLA':>7}"
    )
    lines: list[str] = []
    for scenario in _scenarios(document):
        lines += ["", scenario, header, "-" * len(header)]
        previous = None
        for cell in ordered(document, scenario):
            tier = cell["tier"] if cell["tier"] != previous else ""
            previous = cell["tier"]
            if cell["failure"]:
                first = cell["failure"].strip().splitlines()[0] if cell["failure"].strip() else ""
                lines.append(f"{tier:9} {cell['implementation']:18} FAILED: {first[:100]}")
                continue
            lines.append(
                f"{tier:9} {cell['implementation']:18} {cell['rps']:7.0f} "
                f"{_spread(cell['rps_min'], cell['rps_max'], 0):>13} "
                f"{cell['p50_ms']:7.1f} {cell['p99_ms']:7.1f} {cell['errors']:4d} "
                f"{cell['timeouts']:4d} {cell['cpu_ms_per_request']:10.2f} "
                f"{_spread(cell['cpu_min'], cell['cpu_max']):>11} "
                f"{cell['peak_rss_mb']:7.1f} {_number(cell['ideal_fraction']):>6} "
                f"{_number(cell['ratio_to_fastapi']):>10} "
                f"{_spread(cell['ratio_to_fastapi_min'], cell['ratio_to_fastapi_max']):>10} "
                f"{_number(cell['ratio_to_sqla']):>7}"
            )
    reference = document.get("reference", servers.REFERENCE)
    orm_reference = document.get("orm_reference", servers.ORM_REFERENCE)
    lines += [
        "",
        f"Medians and min..max of {_repetitions(document)} repetition(s). vs FastAPI: req/s "
        f"over {reference}'s in the same repetition; vs SQLA: over {orm_reference}'s.",
    ]
    idle = [
        f"{cell['implementation']} ({cell['scenario']}, {cell['idle_timeouts']}x)"
        for cell in document["results"]
        if cell.get("idle_timeouts")
    ]
    if idle:
        lines.append(
            "Still busy when the measured run began (idle wait gave up): " + ", ".join(idle)
        )
    identical = "yes" if document["responses_identical"] else "NO"
    if not document["responses_identical"]:
        identical += f" ({_odd_ones_out(document.get('response_digests', {}))})"
    lines.append(f"Responses identical across implementations: {identical}")
    return "\n".join(lines)


def _odd_ones_out(digests: dict[str, str]) -> str:
    """Which implementations answered unlike the most common answer."""
    if not digests:
        return "no answers compared"
    counts = Counter(digests.values())
    usual = counts.most_common(1)[0][0]
    odd = [name for name, digest in digests.items() if digest != usual]
    return "different from the others: " + ", ".join(odd) if odd else "some did not answer"


def write_json(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


# --- The answer: the best of each framework and tier -------------------------------------------


def best_cells(document: dict[str, Any], scenario: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(framework, tier) -> the measured cell with the highest ratio to the reference.

    By requests/s when no cell of the pair has a ratio (the reference did not run).
    """
    best: dict[tuple[str, str], dict[str, Any]] = {}

    def rank(cell: dict[str, Any]) -> tuple[bool, float, float]:
        ratio = cell["ratio_to_fastapi"]
        return ratio is not None, ratio or 0.0, cell["rps"]

    for cell in document["results"]:
        if cell["scenario"] != scenario or not _measured(cell):
            continue
        key = (cell["framework"], cell["tier"])
        if key not in best or rank(cell) > rank(best[key]):
            best[key] = cell
    return best


def _answer_cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "-"
    name = f"`{cell['implementation']}`"
    if cell["ratio_to_fastapi"] is None:
        spread = f"{cell['rps_min']:.0f}-{cell['rps_max']:.0f}"
        return f"{cell['rps']:.0f} req/s ({spread}) {name}"
    spread = f"{cell['ratio_to_fastapi_min']:.2f}-{cell['ratio_to_fastapi_max']:.2f}"
    return f"{cell['ratio_to_fastapi']:.2f} ({spread}) {name}"


def answer_table(document: dict[str, Any], scenario_name: str) -> str:
    """Markdown: a row per framework, a column per tier, the best implementation of each.

    Each cell is its requests/s relative to the reference (`document["reference"]`): the
    median of the per-repetition ratios, their min-max, and the implementation's name; `-`
    where the framework has no implementation of that tier (or none was measured). Without the
    reference in the run, the cell shows requests/s instead.
    """
    tiers = _tiers(document)
    best = best_cells(document, scenario_name)
    lines = [
        "| framework | " + " | ".join(tiers) + " |",
        "|---|" + "---|" * len(tiers),
    ]
    for framework in _frameworks(document):
        cells = [_answer_cell(best.get((framework, tier))) for tier in tiers]
        lines.append(f"| {framework} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def answer_caption(document: dict[str, Any], scenario_name: str) -> str:
    reference = document.get("reference", servers.REFERENCE)
    return (
        f"Best of each framework and tier, {scenario_name}: req/s relative to {reference} "
        f"(median of {_repetitions(document)} per-repetition ratio(s), min-max)"
    )


# --- Charts --------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib  # noqa: PLC0415 (optional, and the backend must be chosen first)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    return plt


def _tier_legend(tiers: list[str]) -> list[Any]:
    from matplotlib.patches import Patch  # noqa: PLC0415

    return [Patch(color=TIER_COLOURS.get(tier, OTHER_COLOUR), label=tier) for tier in tiers]


HEADER_IN = 0.8  # inches above the panels for the title and the legend


def _header(figure: Any, title: str, tiers: list[str], extra: tuple[Any, ...] = ()) -> None:
    """Lay the panels out below HEADER_IN, then put the title and the tiers' legend there."""
    height = figure.get_figheight()
    # First: tight_layout would otherwise make room for the title once more.
    figure.tight_layout(rect=(0, 0, 1, 1 - HEADER_IN / height))
    figure.suptitle(title, fontsize=10, y=1 - 0.06 / height, va="top")
    figure.legend(
        handles=[*_tier_legend(tiers), *extra],
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.42 / height),
        fontsize=8,
        ncols=len(tiers) + len(extra),
        frameon=False,
    )


def _reference_line(reference: str) -> Any:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    return Line2D([], [], color="#333333", linestyle="--", linewidth=0.8, label=f"{reference} = 1")


def _grid(count: int, columns: int) -> tuple[int, int]:
    columns = max(1, min(count, columns))
    return math.ceil(count / columns), columns


def write_chart(document: dict[str, Any], path: Path) -> None:
    """A panel per scenario: horizontal bars of requests/s, by tier, with min..max whiskers.

    Within each tier the bars are sorted fastest first; each is labelled with its median
    requests/s and its ratio to the reference.
    """
    plt = _pyplot()
    scenarios = _scenarios(document)
    tiers = _tiers(document)
    per_panel = max((len(ordered(document, s)) for s in scenarios), default=1)
    rows, columns = _grid(len(scenarios), 2)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(max(9.0, 7.5 * columns), rows * (0.3 * per_panel + 1.4) + HEADER_IN),
        squeeze=False,
    )
    for index, scenario in enumerate(scenarios):
        axis = axes[index // columns][index % columns]
        cells = ordered(document, scenario)
        ys = list(range(len(cells)))
        rps = [cell["rps"] if _measured(cell) else 0.0 for cell in cells]
        low = [
            max(0.0, r - cell["rps_min"]) if _measured(cell) else 0.0
            for r, cell in zip(rps, cells, strict=True)
        ]
        high = [
            max(0.0, cell["rps_max"] - r) if _measured(cell) else 0.0
            for r, cell in zip(rps, cells, strict=True)
        ]
        colours = [TIER_COLOURS.get(cell["tier"], OTHER_COLOUR) for cell in cells]
        axis.barh(ys, rps, color=colours, xerr=[low, high], capsize=2, ecolor="#333333")
        right = max([cell["rps_max"] for cell in cells if _measured(cell)], default=1.0) or 1.0
        for y, value, cell in zip(ys, rps, cells, strict=True):
            if not _measured(cell):
                label = "FAILED"
            else:
                ratio = cell["ratio_to_fastapi"]
                label = f"{value:,.0f}" + ("" if ratio is None else f"  x{ratio:.2f}")
            axis.text(
                max(value, cell["rps_max"] if _measured(cell) else 0.0) + right * 0.01,
                y,
                label,
                va="center",
                fontsize=7,
            )
        # A thin line between tiers.
        for y in range(1, len(cells)):
            if cells[y]["tier"] != cells[y - 1]["tier"]:
                axis.axhline(y - 0.5, color="#999999", linewidth=0.6)
        axis.set_yticks(ys, [cell["implementation"] for cell in cells], fontsize=8)
        axis.invert_yaxis()
        axis.set_xlim(0, right * 1.28)
        axis.set_title(scenario, fontsize=10)
        axis.grid(axis="x", alpha=0.3)
        axis.tick_params(axis="x", labelsize=8)
        axis.set_xlabel("requests/s (higher is better)", fontsize=8)
    for index in range(len(scenarios), rows * columns):
        axes[index // columns][index % columns].axis("off")
    reference = document.get("reference", servers.REFERENCE)
    _header(
        figure,
        f"GET users/{{id}}/orders, one worker each: median requests/s, whiskers min..max of "
        f"{_repetitions(document)} repetition(s)\nlabels: median req/s, then xN: N times "
        f"{reference}'s req/s (median of the per-repetition ratios)",
        tiers,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def answer_chart(document: dict[str, Any], path: Path) -> None:
    """The answer as grouped bars: a panel per scenario, a group per framework, a bar per tier.

    Each bar is the best implementation of that framework and tier (named on the bar), as
    requests/s relative to the reference with the per-repetition min..max as whiskers; a
    dashed line marks the reference (1.0). Without the reference in a scenario, requests/s.
    """
    plt = _pyplot()
    scenarios = _scenarios(document)
    tiers = _tiers(document)
    frameworks = _frameworks(document)
    reference = document.get("reference", servers.REFERENCE)
    rows, columns = _grid(len(scenarios), 2)
    figure, axes = plt.subplots(
        rows, columns, figsize=(max(9.0, 7.5 * columns), 4.2 * rows + HEADER_IN), squeeze=False
    )
    width = 0.8 / max(len(tiers), 1)
    any_relative = False
    for index, scenario in enumerate(scenarios):
        axis = axes[index // columns][index % columns]
        best = best_cells(document, scenario)
        relative = any(cell["ratio_to_fastapi"] is not None for cell in best.values())
        any_relative = any_relative or relative
        tallest = 0.0
        for t, tier in enumerate(tiers):
            for f, framework in enumerate(frameworks):
                x = f + (t - (len(tiers) - 1) / 2) * width
                cell = best.get((framework, tier))
                if cell is None or (relative and cell["ratio_to_fastapi"] is None):
                    axis.text(x, 0, "-", ha="center", va="bottom", fontsize=8, color="#666666")
                    continue
                if relative:
                    value = cell["ratio_to_fastapi"]
                    low, high = cell["ratio_to_fastapi_min"], cell["ratio_to_fastapi_max"]
                else:
                    value, low, high = cell["rps"], cell["rps_min"], cell["rps_max"]
                axis.bar(
                    x,
                    value,
                    width,
                    color=TIER_COLOURS.get(tier, OTHER_COLOUR),
                    yerr=[[max(0.0, value - low)], [max(0.0, high - value)]],
                    capsize=2,
                    ecolor="#333333",
                )
                tallest = max(tallest, high)
                axis.text(
                    x,
                    high,
                    f" {cell['implementation']} {value:.2f}"
                    if relative
                    else f" {cell['implementation']} {value:.0f}",
                    ha="center",
                    va="bottom",
                    rotation=90,
                    fontsize=6.5,
                )
        if relative:
            axis.axhline(1.0, color="#333333", linestyle="--", linewidth=0.8)
            axis.set_ylabel(f"req/s relative to {reference}", fontsize=8)
        else:
            axis.set_ylabel("req/s", fontsize=8)
        axis.set_ylim(0, max(tallest, 1.0 if relative else 0.0) * 1.6 or 1.0)
        axis.set_xticks(range(len(frameworks)), frameworks, fontsize=8)
        axis.set_title(scenario, fontsize=10)
        axis.grid(axis="y", alpha=0.3)
        axis.tick_params(axis="y", labelsize=8)
    for index in range(len(scenarios), rows * columns):
        axes[index // columns][index % columns].axis("off")
    measure = f"req/s relative to {reference}" if any_relative else "req/s (no reference run)"
    _header(
        figure,
        f"Best of each framework and tier: {measure}\nmedian, whiskers min..max of "
        f"{_repetitions(document)} per-repetition value(s); '-': none of that tier",
        tiers,
        (_reference_line(reference),) if any_relative else (),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
