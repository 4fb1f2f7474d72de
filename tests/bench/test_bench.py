"""`manage.py bench`: the harness runs end to end, and every implementation answers alike."""

import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bench import load, runner, servers
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
    """One real run on the test database: about 45 s (eight servers, 3 s of load each)."""

    @pytest.fixture(scope="class")
    def document(self, tmp_path_factory, django_db_setup, django_db_blocker) -> dict:
        output = tmp_path_factory.mktemp("bench") / "quick.json"
        with django_db_blocker.unblock():
            call_command(
                "bench", "--quick", "--database-url", configured_database_url(), "--output", output
            )
        document = json.loads(output.read_text())
        document["_png"] = output.with_suffix(".png")
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

    def test_every_implementation_answers_with_the_same_json(self, document) -> None:
        digests = document["response_digests"]
        assert set(digests) == set(servers.BY_NAME)
        assert len(set(digests.values())) == 1, digests
        assert document["responses_identical"]

    def test_compares_each_cell_with_fastapi_and_draws_the_chart(self, document) -> None:
        fastapi = next(c for c in document["results"] if c["implementation"] == "fastapi")
        assert fastapi["ratio_to_fastapi"] == 1.0
        assert Path(document["_png"]).stat().st_size > 0


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
class TestProfile:
    @pytest.mark.parametrize(
        ("name", "handler"),
        [
            ("fast-async", "user_orders_fast"),
            ("fast-hot", "user_orders_fast"),
            ("drf-sync", "orders"),
        ],
    )
    def test_reports_cpu_per_request_and_the_handlers_functions(
        self, name, handler, capsys, django_db_blocker
    ) -> None:
        with django_db_blocker.unblock():
            call_command(
                "bench", "--profile", name, "--requests", "30",
                "--database-url", configured_database_url(),
            )  # fmt: skip
        report = capsys.readouterr().out
        assert f"{name}: 30 requests of " in report
        assert re.search(r"CPU per request \d+\.\d{3} ms", report), report
        assert f"({handler})" in report, report

    def test_refuses_an_unknown_implementation(self) -> None:
        with pytest.raises(CommandError, match="Unknown implementation"):
            call_command("bench", "--profile", "rocket", "--database-url", "postgres://h/x")
