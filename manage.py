#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Beside the web workers, run the task worker, which sends the order emails (README, "Background
tasks"); more than one may share the queue:

    .venv/bin/python manage.py db_worker --no-reload
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
