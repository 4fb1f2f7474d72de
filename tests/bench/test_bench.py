"""`manage.py bench`: the harness runs end to end, and every implementation answers alike."""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench import load, report, runner, servers
from orders.management.commands.bench import _scenarios, configured_database_url, database_url

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000/users/1/orders
  1 threads and 8 connections
BENCH_RESULT {"requests":1200,"duration_us":2000000,"connect":0,"read":1,"write":0,\
"status":3,"timeout":2,"p50_us":6500,"p90_us":9000,"p99_us":12250,"max_us":30000}
"""


class TestWrkOutput:
    def test_is_read_from_the_done_hooks_json_line(self) -> None:
        result = load.parse(WRK_OUTPUT)
        assert result.rps == 600
        assert (result.p50_ms, result.p99_ms) == (6.5, 12.25)

    def test_counts_socket_errors_and_non_2xx_answers_as_errors(self) -> None:
        result = load.parse(WRK_OUTPUT)
        assert (result.errors, result.timeouts) == (4, 2)

    def test_without_a_result_line_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no result line"):
            load.parse("Running 2s test\n")


class TestScenarios:
    def test_cover_the_issues_grid(self) -> None:
        scenarios = runner.full_scenarios(10, [100, 1000], 4)
        assert [(s.wait_ms, s.connections, s.orders) for s in scenarios] == [
            (0, 1, 10), (0, 64, 10), (50, 1, 10), (50, 50, 10), (50, 200, 10),
            (0, 4, 10), (0, 4, 100), (0, 4, 1000),
        ]  # fmt: skip

    def test_quick_is_one_scenario_without_database_wait(self) -> None:
        assert [(s.wait_ms, s.connections) for s in runner.quick_scenarios(10)] == [(0, 8)]


class TestSchedule:
    def test_rotates_the_servers_from_one_repetition_to_the_next(self) -> None:
        a, b, c = servers.IMPLEMENTATIONS[:3]
        blocks = runner.schedule([a, b, c], runner.quick_scenarios(10), repeat=4)
        assert [[impl.name for impl in block.implementations] for block in blocks] == [
            [a.name, b.name, c.name],
            [b.name, c.name, a.name],
            [c.name, a.name, b.name],
            [a.name, b.name, c.name],
        ]
        assert [block.repetition for block in blocks] == [0, 1, 2, 3]

    def test_groups_a_repetitions_scenarios_by_database_wait_in_the_same_rotation(self) -> None:
        a, b = servers.IMPLEMENTATIONS[:2]
        fifty, zero, zero_again = (
            runner.Scenario(50, 50, 10), runner.Scenario(0, 1, 10), runner.Scenario(0, 64, 10),
        )  # fmt: skip
        blocks = runner.schedule([a, b], [fifty, zero, zero_again], repeat=2)
        assert [
            (
                block.repetition,
                block.wait_ms,
                block.scenarios,
                [i.name for i in block.implementations],
            )
            for block in blocks
        ] == [
            (0, 0, [zero, zero_again], [a.name, b.name]),
            (0, 50, [fifty], [a.name, b.name]),
            (1, 0, [zero, zero_again], [b.name, a.name]),
            (1, 50, [fifty], [b.name, a.name]),
        ]

    def test_rotation_wraps_around(self) -> None:
        assert runner.rotated("abcde", 7) == list("cdeab")
        assert runner.rotated([], 3) == []


# A child that says when it starts burning CPU, burns for BURN_S, prints the moment it stopped
# (time.monotonic is the system's monotonic clock, the same in every process), then idles.
BURNER = """
import sys, time
print("busy", flush=True)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
print(time.monotonic(), flush=True)
time.sleep(120)
"""
# The burner as a grandchild, as a gunicorn worker is: the wait must watch the whole tree.
PARENT = "import subprocess, sys; subprocess.run([sys.executable, '-c', *sys.argv[1:]])"


def _readline(fd: int) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return line


class TestWaitUntilIdle:
    @pytest.fixture
    def burner(self):
        processes: list[subprocess.Popen[bytes]] = []

        def start(seconds: float) -> subprocess.Popen[bytes]:
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", PARENT, BURNER, str(seconds)],
                stdout=subprocess.PIPE,
                bufsize=0,
                start_new_session=True,
            )
            processes.append(process)
            assert process.stdout is not None
            assert _readline(process.stdout.fileno()) == b"busy\n"  # it is burning now
            return process

        yield start
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            assert process.stdout is not None
            process.stdout.close()

    def test_returns_once_the_busy_phase_is_over_and_before_the_bound(self, burner) -> None:
        process = burner(0.8)
        tree = servers.process_tree(process.pid)
        assert len(tree) == 2  # the parent and the burning grandchild

        idle = runner.wait_until_idle(tree, bound=5.0)
        returned = time.monotonic()

        assert idle.idle
        assert idle.waited_s < 5.0
        # The burner has already printed when it stopped: the wait did not end while it burned.
        fd = process.stdout.fileno()
        assert select.select([fd], [], [], 0)[0], "returned while the process still burned CPU"
        stopped = float(_readline(fd))
        assert stopped <= returned
        # ... and it noticed soon after: two quiet windows of 0.1 s, and some slack.
        assert returned - stopped < 1.5

    def test_gives_up_at_the_bound_and_says_so(self, burner) -> None:
        process = burner(60)
        started = time.monotonic()
        idle = runner.wait_until_idle(servers.process_tree(process.pid), bound=0.6)
        assert not idle.idle
        assert 0.6 - 2 * runner.IDLE_WINDOW_S <= idle.waited_s <= 0.6
        assert time.monotonic() - started < 0.6 + runner.IDLE_WINDOW_S

    def test_an_idle_process_is_idle_after_two_quiet_windows(self) -> None:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        try:
            # Python's start-up burns CPU; the wait may see it, and must then see it stop.
            idle = runner.wait_until_idle([process.pid], bound=5.0)
        finally:
            process.kill()
            process.wait()
        assert idle.idle
        assert idle.waited_s >= runner.IDLE_WINDOWS * runner.IDLE_WINDOW_S


SCENARIO = runner.Scenario(0, 8, 10)


def synthetic(
    series: dict[str, list[float | None]],
    *,
    cpu: dict[str, list[float]] | None = None,
    failed: tuple[str, ...] = (),
    scenario: runner.Scenario = SCENARIO,
) -> dict:
    """A results document as the runner makes it: req/s per repetition (None: not run)."""
    results = []
    for name, rps_by_repetition in series.items():
        impl = servers.BY_NAME[name]
        cell = runner.Cell(
            name, scenario.name, scenario.wait_ms, scenario.connections, scenario.orders,
            tier=impl.tier, framework=impl.framework,
        )  # fmt: skip
        for repetition, rps in enumerate(rps_by_repetition):
            if rps is None:
                continue
            cell.runs.append(
                {
                    "repetition": repetition,
                    "rps": rps,
                    "p50_ms": 5.0,
                    "p99_ms": 9.0,
                    "errors": 0,
                    "timeouts": 0,
                    "peak_rss_mb": 60.0,
                    "idle_wait_s": 0.2,
                    "idle_timeout": 0.0,
                    "cpu_ms_per_request": (cpu or {}).get(name, [1.0] * 9)[repetition],
                }
            )
        if name in failed:
            cell.failure = "GET users/1/orders answered 500"
        results.append(asdict(runner.summarise(cell)))
    runner.add_ratios(results)
    names = list(series)
    return {
        "config": {"repeat": max(len(s) for s in series.values())},
        "reference": servers.REFERENCE,
        "orm_reference": servers.ORM_REFERENCE,
        "tiers": list(servers.TIERS),
        "implementations": {
            name: {
                "label": servers.BY_NAME[name].label,
                "tier": servers.BY_NAME[name].tier,
                "framework": servers.BY_NAME[name].framework,
                "django": True,
            }
            for name in names
        },
        "responses_identical": True,
        "results": results,
    }


def _cell(document: dict, name: str) -> dict:
    return next(cell for cell in document["results"] if cell["implementation"] == name)


class TestSpreadAndRatios:
    @pytest.fixture
    def document(self) -> dict:
        return synthetic(
            {
                servers.REFERENCE: [100, 200, 400],
                servers.ORM_REFERENCE: [None, 100, 50],  # not run in repetition 0
                "drf": [150, 300, 100],
            },
            cpu={servers.REFERENCE: [1, 1, 1], servers.ORM_REFERENCE: [4, 4, 4], "drf": [2, 2, 8]},
        )

    def test_reports_the_min_and_max_beside_each_median(self, document) -> None:
        drf = _cell(document, "drf")
        assert (drf["rps_min"], drf["rps"], drf["rps_max"]) == (100, 150, 300)
        assert (drf["cpu_min"], drf["cpu_ms_per_request"], drf["cpu_max"]) == (2, 2, 8)

    def test_ratio_is_the_median_of_the_per_repetition_ratios(self, document) -> None:
        drf = _cell(document, "drf")
        # Per repetition 150/100, 300/200, 100/400: median 1.5 (the medians' ratio is 0.75).
        assert (drf["ratio_to_fastapi"], drf["ratio_to_fastapi_min"]) == (1.5, 0.25)
        assert drf["ratio_to_fastapi_max"] == 1.5
        assert (drf["cpu_ratio_to_fastapi"], drf["cpu_ratio_to_fastapi_max"]) == (2.0, 8.0)

    def test_pairs_runs_by_repetition_not_by_position(self, document) -> None:
        drf = _cell(document, "drf")
        # Repetitions 1 and 2 only: 300/100 and 100/50.
        assert (drf["ratio_to_sqla"], drf["ratio_to_sqla_min"], drf["ratio_to_sqla_max"]) == (
            2.5, 2.0, 3.0,
        )  # fmt: skip
        assert (drf["cpu_ratio_to_sqla_min"], drf["cpu_ratio_to_sqla_max"]) == (0.5, 2.0)

    def test_the_reference_is_one(self, document) -> None:
        reference = _cell(document, servers.REFERENCE)
        assert (reference["ratio_to_fastapi_min"], reference["ratio_to_fastapi"]) == (1.0, 1.0)
        assert reference["ratio_to_fastapi_max"] == 1.0

    def test_without_the_references_the_ratios_are_none(self) -> None:
        drf = _cell(synthetic({"drf": [150, 300], "flask-raw": [100, 100]}), "drf")
        for name, _, _ in runner.RATIOS:
            assert drf[name] is drf[f"{name}_min"] is drf[f"{name}_max"] is None, name


class TestAnswerTable:
    @pytest.fixture
    def document(self) -> dict:
        return synthetic(
            {
                servers.REFERENCE: [1000, 1000, 1000],
                "fastapi-orjson": [1100, 900, 1200],
                "drf": [100, 100, 100],
                "drf-tuned": [300, 200, 250],
                "plain-async": [50, 60, 70],
                "plain-sync": [2000, 2000, 2000],  # failed: not an answer
                "fast-async": [500, 600, 700],
                "fast-hot": [800, 700, 900],
            },
            failed=("plain-sync",),
        )

    def test_has_a_row_per_framework_a_column_per_tier_and_the_best_of_each(self, document) -> None:
        assert report.answer_table(document, SCENARIO.name).splitlines() == [
            "| framework | idiomatic | tuned | raw |",
            "|---|---|---|---|",
            "| DRF | 0.10 (0.10-0.10) `drf` | 0.25 (0.20-0.30) `drf-tuned` | - |",
            "| django-ninja | - | - | - |",
            "| Django plain views | 0.06 (0.05-0.07) `plain-async` | - "
            "| 0.80 (0.70-0.90) `fast-hot` |",
            "| django-bolt | - | - | - |",
            "| FastAPI | - | - | 1.10 (0.90-1.20) `fastapi-orjson` |",
            "| Flask | - | - | - |",
        ]

    def test_shows_requests_per_second_when_the_reference_did_not_run(self) -> None:
        document = synthetic({"drf": [100, 120, 90], "flask-raw": [400, 500, 450]})
        lines = report.answer_table(document, SCENARIO.name).splitlines()
        assert "| DRF | 100 req/s (90-120) `drf` | - | - |" in lines
        assert "| Flask | - | - | 450 req/s (400-500) `flask-raw` |" in lines

    def test_an_unknown_scenario_has_no_answers(self, document) -> None:
        lines = report.answer_table(document, "L=1ms C=1 orders=1").splitlines()
        assert all(line.endswith("| - | - | - |") for line in lines[2:])


class TestReport:
    def test_orders_rows_by_tier_then_fastest_first_failures_last(self) -> None:
        document = synthetic(
            {
                "fast-async": [500], "drf": [100], "drf-tuned": [300], "ninja": [400],
                "flask-raw": [900], "plain-sync": [2000],
            },
            failed=("plain-sync",),
        )  # fmt: skip
        names = [cell["implementation"] for cell in report.ordered(document, SCENARIO.name)]
        assert names == ["ninja", "drf", "plain-sync", "drf-tuned", "flask-raw", "fast-async"]
        text = report.table(document)
        assert re.search(r"^idiomatic +ninja ", text, re.MULTILINE), text
        assert re.search(r"^ +plain-sync +FAILED: GET users/1/orders answered 500", text, re.M)

    def test_names_the_implementations_that_answered_differently(self) -> None:
        document = synthetic({"drf": [100], "ninja": [100], "flask-raw": [100]})
        document["responses_identical"] = False
        document["response_digests"] = {"drf": "a", "ninja": "b", "flask-raw": "a"}
        assert report.table(document).endswith(
            "Responses identical across implementations: NO (different from the others: ninja)"
        )

    def test_draws_both_charts_for_every_implementation(self, tmp_path) -> None:
        scenarios = [runner.Scenario(0, 1, 10), runner.Scenario(50, 50, 10)]
        results = []
        for scenario in scenarios:
            document = synthetic(
                {name: [100.0 + i, 120.0 + i] for i, name in enumerate(servers.BY_NAME)},
                failed=("drf",),
                scenario=scenario,
            )
            results += document["results"]
        document["results"] = results
        report.write_chart(document, tmp_path / "chart.png")
        report.answer_chart(document, tmp_path / "chart-answer.png")
        for png in ("chart.png", "chart-answer.png"):
            assert (tmp_path / png).read_bytes().startswith(b"\x89PNG"), png


class TestTheCommand:
    def test_refuses_a_database_that_is_not_postgresql(self) -> None:
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            database_url({"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"})

    def test_names_the_configured_postgresql_database_as_a_url(self) -> None:
        db = {"ENGINE": "django.db.backends.postgresql", "NAME": "o d", "USER": "u", "PORT": 5}
        assert database_url(db) == "postgres://u@127.0.0.1:5/o%20d"

    def test_says_how_to_install_wrk_when_it_is_missing(self, monkeypatch) -> None:
        monkeypatch.setattr(shutil, "which", lambda name: None)
        with pytest.raises(CommandError, match="apt-get install wrk"):
            call_command("bench", "--quick", "--database-url", "postgres://nobody@127.0.0.1/x")

    def test_refuses_an_unknown_implementation(self) -> None:
        with pytest.raises(CommandError, match="Unknown implementation"):
            call_command("bench", "--only", "django-rocket", "--database-url", "postgres://h/x")

    def test_runs_the_cells_it_is_given(self) -> None:
        assert _scenarios("50:50:10, 0:4:1000,50:50:10") == [
            runner.Scenario(50, 50, 10), runner.Scenario(0, 4, 1000),
        ]  # fmt: skip

    @pytest.mark.parametrize("text", ["50:50", "a:1:1", "0:0:10", "-1:1:10", ""])
    def test_refuses_a_cell_that_is_not_l_c_orders(self, text) -> None:
        with pytest.raises(CommandError, match="--scenarios"):
            _scenarios(text)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
@pytest.mark.django_db(transaction=True)
class TestQuickRun:
    """One real run on the test database, twice round: about 3 min (17 servers, 2 x 2 s each)."""

    @pytest.fixture(scope="class")
    def document(self, tmp_path_factory, django_db_setup, django_db_blocker) -> dict:
        output = tmp_path_factory.mktemp("bench") / "quick.json"
        with django_db_blocker.unblock():
            call_command(
                "bench", "--quick", "--repeat", "2", "--duration", "1", "--warmup", "1",
                "--database-url", configured_database_url(), "--output", output,
            )  # fmt: skip
        document = json.loads(output.read_text())
        document["_png"] = output.with_suffix(".png")
        document["_answer_png"] = output.with_name("quick-answer.png")
        return document

    def test_measures_every_implementation_without_errors(self, document) -> None:
        cells = {cell["implementation"]: cell for cell in document["results"]}
        assert set(cells) == set(servers.BY_NAME)
        for name, cell in cells.items():
            assert cell["failure"] is None, name
            assert cell["rps"] > 0, name
            assert (cell["errors"], cell["timeouts"]) == (0, 0), name
            assert cell["cpu_ms_per_request"] > 0, name
            assert cell["peak_rss_mb"] > 0, name
            assert [run["repetition"] for run in cell["runs"]] == [0, 1], name

    def test_every_implementation_answers_with_the_same_json(self, document) -> None:
        digests = document["response_digests"]
        assert set(digests) == set(servers.BY_NAME)
        assert len(set(digests.values())) == 1, digests
        assert document["responses_identical"]

    def test_names_each_implementations_tier_and_framework(self, document) -> None:
        for name, impl in servers.BY_NAME.items():
            assert document["implementations"][name] == {
                "label": impl.label, "tier": impl.tier, "framework": impl.framework,
                "django": impl.django,
            }  # fmt: skip
        for cell in document["results"]:
            impl = servers.BY_NAME[cell["implementation"]]
            assert (cell["tier"], cell["framework"]) == (impl.tier, impl.framework)

    def test_rotates_the_order_between_repetitions(self, document) -> None:
        first, second = document["config"]["run_order"]
        assert first == list(servers.BY_NAME)
        assert second == [*first[1:], first[0]]

    def test_reports_the_spread_beside_each_median(self, document) -> None:
        for cell in document["results"]:
            name = cell["implementation"]
            assert cell["rps_min"] <= cell["rps"] <= cell["rps_max"], name
            assert cell["cpu_min"] <= cell["cpu_ms_per_request"] <= cell["cpu_max"], name
            low, ratio, high = (cell[f"ratio_to_fastapi{s}"] for s in ("_min", "", "_max"))
            assert low <= ratio <= high, name
            low, ratio, high = (cell[f"ratio_to_sqla{s}"] for s in ("_min", "", "_max"))
            assert low <= ratio <= high, name

    def test_compares_each_cell_with_the_references_and_draws_the_charts(self, document) -> None:
        cells = {cell["implementation"]: cell for cell in document["results"]}
        assert cells[servers.REFERENCE]["ratio_to_fastapi"] == 1.0
        assert cells[servers.ORM_REFERENCE]["ratio_to_sqla"] == 1.0
        assert Path(document["_png"]).stat().st_size > 0
        assert Path(document["_answer_png"]).read_bytes().startswith(b"\x89PNG")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
class TestProfile:
    @pytest.mark.parametrize(
        ("name", "handler"),
        [
            ("fast-async", "user_orders_fast"),
            ("fast-hot", "user_orders_fast"),
            ("drf", "orders"),
        ],
    )
    def test_reports_cpu_per_request_and_the_handlers_functions(
        self, name, handler, capsys, django_db_blocker
    ) -> None:
        with django_db_blocker.unblock():
            call_command(
                "bench", "--profile", name, "--requests", "30",
                # Every function: in the top 40 alone the handler's rank varies with the timing.
                "--lines", "1000", "--database-url", configured_database_url(),
            )  # fmt: skip
        report = capsys.readouterr().out
        assert f"{name}: 30 requests of " in report
        assert re.search(r"CPU per request \d+\.\d{3} ms", report), report
        assert f"({handler})" in report, report

    def test_refuses_an_unknown_implementation(self) -> None:
        with pytest.raises(CommandError, match="Unknown implementation"):
            call_command("bench", "--profile", "rocket", "--database-url", "postgres://h/x")
