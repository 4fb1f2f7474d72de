from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The request-path kit as an app, for what must run at start-up: the deployment checks."""

    name = "runtime"
    label = "orderdesk_config"

    def ready(self) -> None:
        from runtime.checks import recognise_subclasses  # noqa: PLC0415 (the checks' modules load late)

        recognise_subclasses()
