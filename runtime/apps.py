from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project package as an app, for what must run at start-up: system checks."""

    name = "config"
    label = "orderdesk_config"

    def ready(self) -> None:
        from runtime import middleware  # noqa: F401, PLC0415 (registers its deployment check)
