"""`manage.py bench`: the article's endpoint in every style, and FastAPI and Flask, under wrk.

See docs/benchmarks.md. The work is done in the `bench` package; this parses the options.
"""

import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import data, report, runner, servers
from bench.load import WrkMissing


def configured_database_url() -> str:
    """The configured default database as a URL; it must be PostgreSQL."""
    return database_url(settings.DATABASES["default"])


def database_url(db: Mapping[str, Any]) -> str:
    """A Django database setting as a postgres:// URL.

    Raises:
        CommandError: it is not PostgreSQL.
    """
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise CommandError(
            "The benchmark needs PostgreSQL: set DATABASE_URL to a postgres:// URL (for "
            "example `DATABASE_URL=$(scripts/pg start)`) or pass --database-url."
        )
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _scenarios(text: str) -> list[runner.Scenario]:
    """`L:C:orders` triples, comma-separated, as scenarios."""
    cells = []
    for part in text.split(","):
        try:
            wait_ms, connections, orders = (int(n) for n in part.strip().split(":"))
        except ValueError:
            raise CommandError(
                f"--scenarios: {part!r} is not L:C:orders (e.g. 50:50:10)."
            ) from None
        if wait_ms < 0 or connections < 1 or orders < 1:
            raise CommandError(f"--scenarios: {part!r} needs L >= 0, C >= 1, orders >= 1.")
        cells.append(runner.Scenario(wait_ms, connections, orders))
    return list(dict.fromkeys(cells))


class Command(BaseCommand):
    help = (
        "Benchmark GET users/{id}/orders in every API style and in FastAPI and Flask, with wrk, "
        "on a PostgreSQL database it prepares. Writes a table and the answer table (the best of "
        "each framework and tier), and with --output a JSON file, a PNG chart beside it and "
        "the answer chart as <stem>-answer.png."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database-url", help="PostgreSQL URL. Default: DATABASE_URL.")
        parser.add_argument("--quick", action="store_true", help="One scenario (L=0, C=8).")
        parser.add_argument(
            "--repeat", type=int, default=1, help="Repetitions, in rotating order; medians."
        )
        parser.add_argument("--duration", type=float, help="Seconds per cell (5; quick 2).")
        parser.add_argument("--warmup", type=float, help="Warm-up seconds (2; quick 1).")
        parser.add_argument(
            "--orders-per-customer", type=int, default=10, help="Orders in the base payload."
        )
        parser.add_argument(
            "--payloads", default="100,1000", help="Payload growth: orders per customer."
        )
        parser.add_argument(
            "--payload-connections", type=int, default=4, help="C for the payload scenarios."
        )
        parser.add_argument(
            "--timeout", type=float, default=2.0, help="wrk's timeout per request, seconds."
        )
        parser.add_argument("--pool-size", type=int, default=64, help="DB pool per server.")
        parser.add_argument(
            "--only", help=f"Comma-separated subset of: {', '.join(servers.BY_NAME)}."
        )
        parser.add_argument(
            "--scenarios",
            help="Comma-separated L:C:orders cells to run instead of the full grid, e.g. 50:50:10.",
        )
        parser.add_argument(
            "--output",
            type=Path,
            help="JSON results; the chart (.png) and the answer chart (-answer.png) go beside it.",
        )
        parser.add_argument(
            "--profile",
            metavar="NAME",
            help="Instead of measuring: profile one implementation in-process (cProfile).",
        )
        parser.add_argument(
            "--requests", type=int, default=2000, help="Requests to profile (--profile)."
        )
        parser.add_argument(
            "--sort",
            choices=["cumulative", "tottime", "ncalls"],
            default="cumulative",
            help="How --profile orders cProfile's functions.",
        )
        parser.add_argument(
            "--lines",
            type=int,
            default=40,
            help="How many of cProfile's functions --profile prints.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database_url = options["database_url"] or configured_database_url()
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise CommandError(f"--database-url must be a postgres:// URL, not {database_url!r}.")
        quick = options["quick"]
        orders = options["orders_per_customer"]
        if orders < 1 or options["repeat"] < 1:
            raise CommandError("--orders-per-customer and --repeat must be 1 or more.")
        if options["profile"]:
            self.stdout.write(self._profile(database_url, options))
            return
        names = options["only"].split(",") if options["only"] else list(servers.BY_NAME)
        unknown = [name for name in names if name not in servers.BY_NAME]
        if unknown:
            raise CommandError(f"Unknown implementation(s): {', '.join(unknown)}.")
        if options["scenarios"]:
            scenarios = _scenarios(options["scenarios"])
        elif quick:
            scenarios = runner.quick_scenarios(orders)
        else:
            scenarios = runner.full_scenarios(
                orders, _sizes(options["payloads"]), options["payload_connections"]
            )
        cfg = runner.Settings(
            database_url=database_url,
            scenarios=scenarios,
            implementations=[servers.BY_NAME[name] for name in names],
            duration=options["duration"] or (2.0 if quick else 5.0),
            warmup=options["warmup"] or (1.0 if quick else 2.0),
            repeat=options["repeat"],
            pool_size=options["pool_size"],
            timeout=options["timeout"],
        )
        try:
            document = runner.run(cfg, self.stderr.write)
        except WrkMissing as error:
            raise CommandError(str(error)) from None
        document["command"] = shlex.join(["manage.py", "bench", *sys.argv[2:]])
        self.stdout.write(report.table(document))
        if options["output"]:
            output: Path = options["output"]
            report.write_json(document, output)
            chart = output.with_suffix(".png")
            answer = output.with_name(f"{output.stem}-answer.png")
            report.write_chart(document, chart)
            report.answer_chart(document, answer)
            self.stdout.write(f"Wrote {output}, {chart} and {answer}.")
        for scenario in cfg.scenarios:
            self.stdout.write(f"\n{report.answer_caption(document, scenario.name)}:\n")
            self.stdout.write(report.answer_table(document, scenario.name))

    def _profile(self, database_url: str, options: dict[str, Any]) -> str:
        name = options["profile"]
        if name not in servers.BY_NAME:
            raise CommandError(
                f"Unknown implementation {name!r}: one of {', '.join(servers.BY_NAME)}."
            )
        self.stderr.write("Preparing the database (migrate, bench customers and tokens)...")
        data.migrate(database_url)
        customer = data.seed(database_url, [options["orders_per_customer"]])[
            options["orders_per_customer"]
        ]
        command = [
            *(sys.executable, "-m", "bench.profile", name, customer.path, customer.token),
            *(str(options["requests"]), str(options["lines"]), options["sort"]),
        ]
        result = subprocess.run(  # noqa: S603 (our interpreter, our module)
            command,
            env=servers.server_env(database_url, options["pool_size"]),
            cwd=data.PROJECT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"The profile run failed:\n{result.stderr[-3000:]}")
        return result.stdout
