"""Helpers for the binding generator's tests: catalogs, importing a generated package, mypy."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from codemode_tui.registry import ToolDefinition

TESTS = Path(__file__).parent
PROJECT = TESTS.parent
CATALOGS = TESTS / "catalogs"
REQUIRED_CATALOGS = ("everything", "filesystem", "time", "pydantic-models-demo")


def load_catalog(path: Path) -> list[ToolDefinition]:
    """The tools of a recorded ``tools/list`` catalog (``{"server"?, "tools": [...]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    server = data.get("server") or path.stem
    return [ToolDefinition.from_dict(server, entry) for entry in data["tools"]]


def catalog_paths() -> list[Path]:
    """Every recorded catalog with a tool list (the four required ones at least)."""
    paths = []
    for path in sorted(CATALOGS.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("tools"), list):
            paths.append(path)
    names = {p.stem for p in paths}
    missing = [name for name in REQUIRED_CATALOGS if name not in names]
    assert not missing, f"catalogs missing from tests/catalogs: {missing}"
    return paths


def purge_generated() -> None:
    for name in [n for n in sys.modules if n == "generated" or n.startswith("generated.")]:
        del sys.modules[name]


@contextmanager
def generated_on_path(output_path: Path) -> Iterator[None]:
    """Make ``import generated...`` load the package under ``output_path``, then forget it."""
    purge_generated()
    sys.path.insert(0, str(output_path))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(output_path))
        purge_generated()


def import_server(module: str) -> ModuleType:
    return importlib.import_module(f"generated.servers.{module}")


def mypy_output(output_path: Path, *extra_files: Path) -> tuple[int, str]:
    """Run ``mypy --strict`` on the generated package (and any extra files) under ``output_path``.

    The project root is on ``MYPYPATH`` as it is on the sandbox's path, so the
    runtime's ``codemode_tui`` import resolves; mypy does not descend into it
    (that would type-check mcp and pydantic too, seconds per run for nothing
    the generated code relies on).
    """
    (output_path / "mypy.ini").write_text("[mypy]\n\n[mypy-codemode_tui.*]\nfollow_imports = skip\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--follow-imports=silent",
        "--no-error-summary",
        "--show-error-codes",
        "--cache-dir",
        str(output_path / ".mypy_cache"),
        "--config-file",
        str(output_path / "mypy.ini"),
        "generated",
        *(str(path) for path in extra_files),
    ]
    env = {**os.environ, "MYPYPATH": str(PROJECT)}
    proc = subprocess.run(command, cwd=output_path, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def run_mypy(output_path: Path, *extra_files: Path) -> None:
    """``mypy --strict`` must pass; fail with its report otherwise."""
    code, output = mypy_output(output_path, *extra_files)
    assert code == 0, f"mypy --strict failed:\n{output}"
