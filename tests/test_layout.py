"""The layout's rules, read from the imports (README, "Layout").

- `config/` is configuration: settings, URLconfs, the ASGI and WSGI entry points.
- The domain (the apps' models, services, selectors, events, errors, contract) imports no
  interface and no `config` module.
- No interface imports another: each style under `api/` imports only the shared modules at
  the top of `api/` (credentials, throttle), never another style's package.
- `runtime/` (the request-path kit) imports no interface.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STYLES = ["drf", "ninja", "plain"]
DOMAIN = [
    "orders/models.py",
    "orders/services.py",
    "orders/selectors.py",
    "orders/events.py",
    "orders/exceptions.py",
    "orders/contract.py",
    "orders/sql.py",
    "orders/tasks.py",
    "users/models.py",
    "users/services.py",
    "users/selectors.py",
]
CONFIG_MODULES = {
    "__init__.py",
    "settings.py",
    "settings_hot.py",
    "urls.py",
    "urls_hot.py",
    "asgi.py",
    "asgi_hot.py",
    "wsgi.py",
}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, absolute (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def modules_under(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def starts(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)


def test_config_holds_configuration_only():
    assert {path.name for path in (ROOT / "config").glob("*.py")} <= CONFIG_MODULES


@pytest.mark.parametrize("module", DOMAIN)
def test_the_domain_imports_no_interface_and_no_config(module):
    back_edges = {
        name
        for name in imported(ROOT / module)
        if starts(name, "api", "config", "orders.views", "orders.admin", "orders.consumers")
    }
    assert back_edges == set()


@pytest.mark.parametrize("style", STYLES)
def test_no_interface_imports_another(style):
    others = [f"api.{other}" for other in STYLES if other != style]
    crossing = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in modules_under(f"api/{style}")
        for name in imported(path)
        if starts(name, *others)
    }
    assert crossing == set()


def test_the_shared_api_modules_import_no_style():
    shared = list((ROOT / "api").glob("*.py"))
    assert shared, "api/ has its shared modules"
    crossing = {
        (path.name, name)
        for path in shared
        for name in imported(path)
        if starts(name, *(f"api.{style}" for style in STYLES))
    }
    assert crossing == set()


def test_the_runtime_kit_imports_no_interface():
    crossing = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in modules_under("runtime")
        for name in imported(path)
        if starts(name, "api", "orders.views", "orders.consumers", "orders.admin")
    }
    assert crossing == set()
