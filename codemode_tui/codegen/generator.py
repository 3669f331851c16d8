"""``PythonCodeGenerator``: writes the ``generated`` package of typed tool bindings.

Layout under ``output_path`` (the folder the executor puts on the sandbox path)::

    generated/__init__.py
    generated/client.py                 # the sandbox side of a call (executor/client_runtime.py)
    generated/_support.py               # argument merging and checking shared by every binding
    generated/servers/__init__.py
    generated/servers/<server>/__init__.py   # one async def per tool
    generated/_manifest.json            # which tool became which function (and marks the folder as ours)

Regeneration writes only the files whose content changed, each atomically
(temporary file + rename), then removes what an earlier generation left that
this one did not write (a dropped tool's server, old files).  A process that
imports the package meanwhile sees each module either old or new, never half
written.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_write_text
from ..names import NameConflict, assign_identifiers, sanitize_identifier
from ..tool_types import ToolDefinition
from .binding import build_bindings
from .literals import docstring_literal
from .render import HEADER, render_module

log = logging.getLogger(__name__)

PACKAGE = "generated"
MANIFEST = "_manifest.json"
_RUNTIME_SOURCES = {
    "client.py": Path(__file__).resolve().parent.parent / "executor" / "client_runtime.py",
    "_support.py": Path(__file__).resolve().parent / "support_runtime.py",
    "skills.py": Path(__file__).resolve().parent / "skills_runtime.py",
}


class CodegenError(RuntimeError):
    """The bindings could not be written (the message says what to do)."""


@dataclass
class GenerationResult:
    """What one generation did."""

    package_path: Path
    modules: dict[str, Path] = field(default_factory=dict)
    tool_count: int = 0
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    conflicts: list[NameConflict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _as_tool_list(tools: Iterable[ToolDefinition] | Mapping[str, ToolDefinition]) -> list[ToolDefinition]:
    items = list(tools.values()) if isinstance(tools, Mapping) else list(tools)
    for tool in items:
        if not isinstance(tool, ToolDefinition):
            raise TypeError(f"expected ToolDefinition objects, got {type(tool).__name__}")
    by_name: dict[str, ToolDefinition] = {}
    for tool in items:
        by_name[tool.qualified_name] = tool  # the same tool twice: the last one wins
    return list(by_name.values())


def _valid_name(name: str) -> bool:
    return bool(name) and sanitize_identifier(name) == name


def assign_names(tools: list[ToolDefinition]) -> list[NameConflict]:
    """Make module and function names distinct and safe, in place; return the collisions.

    Registry tools already are, and are left exactly as they are.  Raw
    definitions whose names collide (``get-file`` and ``get_file``) get the
    registry's rule: distinct, stable names, reported as conflicts; each
    ToolDefinition then says which Python name it got.
    """
    conflicts: list[NameConflict] = []
    servers: dict[str, set[str]] = {}
    for tool in tools:
        servers.setdefault(tool.server_module, set()).add(tool.server)
    if any(len(names) > 1 for names in servers.values()) or not all(_valid_name(m) for m in servers):
        mapping, server_conflicts = assign_identifiers({t.server for t in tools}, fallback="server")
        conflicts.extend(server_conflicts)
        for tool in tools:
            tool.server_module = mapping[tool.server]
    by_module: dict[str, list[ToolDefinition]] = {}
    for tool in tools:
        by_module.setdefault(tool.server_module, []).append(tool)
    for group in by_module.values():
        names = [tool.python_name for tool in group]
        if len(set(names)) == len(names) and all(_valid_name(n) for n in names):
            continue
        mapping, tool_conflicts = assign_identifiers(tool.name for tool in group)
        conflicts.extend(tool_conflicts)
        for tool in group:
            tool.python_name = mapping[tool.name]
    for conflict in conflicts:
        log.info("binding %s", conflict.describe())
    return conflicts


def group_by_module(tools: Iterable[ToolDefinition]) -> dict[str, list[ToolDefinition]]:
    """Tools per server module, modules and tools in a stable (sorted) order."""
    groups: dict[str, list[ToolDefinition]] = {}
    for tool in tools:
        groups.setdefault(tool.server_module, []).append(tool)
    return {module: sorted(groups[module], key=lambda t: t.python_name) for module in sorted(groups)}


def _fingerprint(tools: list[ToolDefinition]) -> str:
    return json.dumps([tool.to_dict() for tool in tools], sort_keys=True, default=repr)


def _package_init(modules: Mapping[str, list[ToolDefinition]]) -> str:
    lines = [
        "Typed bindings for MCP tools, generated by codemode-tui.",
        "",
        "Import a server's tools from its module, e.g. ``from generated.servers.<server> import <tool>``.",
    ]
    if modules:
        lines += ["", "Servers:"]
        lines += [f"    {module}: {len(tools)} tool(s) of {tools[0].server!r}" for module, tools in modules.items()]
    return f"{docstring_literal(chr(10).join(lines))}\n\n{HEADER}\n"


def _servers_init(modules: Mapping[str, list[ToolDefinition]]) -> str:
    names = ", ".join(modules) or "none yet"
    doc = docstring_literal(f"One module per MCP server: {names}.")
    return f"{doc}\n\n{HEADER}\n"


def _alias_init(module: str) -> str:
    """``generated.mcp.<server>``: the import path agent-codemode's prompts and skills use, same bindings."""
    doc = docstring_literal(f"Alias of generated.servers.{module} (the path agent-codemode uses).")
    return (
        f"{doc}\n\n{HEADER}\n"
        f"from ...servers.{module} import *  # noqa: F403\n"
        f"from ...servers.{module} import __all__ as __all__\n"
    )


def _manifest(modules: Mapping[str, list[ToolDefinition]]) -> str:
    data: dict[str, Any] = {
        "generator": "codemode-tui",
        "servers": {
            module: {
                "server": tools[0].server,
                "tools": {tool.python_name: tool.qualified_name for tool in tools},
            }
            for module, tools in modules.items()
        },
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


class PythonCodeGenerator:
    """Generates (and regenerates) the ``generated`` package under ``output_path``."""

    def __init__(self, output_path: str | Path) -> None:
        self.output_path = Path(output_path)
        # Rendered modules by server module, with a fingerprint of the tools they came from:
        # regenerating after one server changed re-renders only that server.
        self._module_cache: dict[str, tuple[str, str]] = {}

    @property
    def package_path(self) -> Path:
        return self.output_path / PACKAGE

    def render(self, tools: Iterable[ToolDefinition] | Mapping[str, ToolDefinition]) -> dict[str, str]:
        """Every file of the package as ``{relative path: text}``, without touching the disk."""
        files, _, _ = self._render(_as_tool_list(tools))
        return files

    def _render(
        self, tools: list[ToolDefinition]
    ) -> tuple[dict[str, str], dict[str, list[ToolDefinition]], list[NameConflict]]:
        conflicts = assign_names(tools)
        modules = group_by_module(tools)
        files: dict[str, str] = {
            "__init__.py": _package_init(modules),
            "py.typed": "",
            "servers/__init__.py": _servers_init(modules),
            "mcp/__init__.py": _servers_init(modules),
            MANIFEST: _manifest(modules),
        }
        for name, source in _RUNTIME_SOURCES.items():
            files[name] = source.read_text(encoding="utf-8")
        cache: dict[str, tuple[str, str]] = {}
        for module, group in modules.items():
            fingerprint = _fingerprint(group)
            cached = self._module_cache.get(module)
            if cached is not None and cached[0] == fingerprint:
                source = cached[1]
            else:
                bindings, namespace = build_bindings(group)
                source = render_module(group[0].server, bindings, namespace)
            cache[module] = (fingerprint, source)
            files[f"servers/{module}/__init__.py"] = source
            files[f"mcp/{module}/__init__.py"] = _alias_init(module)
        self._module_cache = cache
        return files, modules, conflicts

    def generate_from_tools(self, tools: Iterable[ToolDefinition] | Mapping[str, ToolDefinition]) -> GenerationResult:
        """Write the bindings of ``tools`` (a list, or ``{qualified_name: tool}``); remove stale files."""
        started = time.perf_counter()
        tool_list = _as_tool_list(tools)
        files, modules, conflicts = self._render(tool_list)
        package = self.package_path
        self._check_ours(package)
        result = GenerationResult(package_path=package, tool_count=len(tool_list), conflicts=conflicts)
        result.modules = {module: package / "servers" / module / "__init__.py" for module in modules}
        # The manifest goes first: it marks the folder as ours, even if this run is interrupted.
        for relative in sorted(files, key=lambda name: name != MANIFEST):
            target = package / relative
            data = files[relative]
            if self._unchanged(target, data):
                continue
            atomic_write_text(target, data)
            _drop_bytecode(target)
            result.written.append(target)
        result.removed = self._remove_stale(package, set(files))
        importlib.invalidate_caches()
        result.seconds = time.perf_counter() - started
        return result

    @staticmethod
    def _unchanged(target: Path, data: str) -> bool:
        try:
            return target.read_bytes() == data.encode("utf-8")
        except OSError:
            return False

    def _check_ours(self, package: Path) -> None:
        if package.is_symlink() or (package.exists() and not package.is_dir()):
            raise CodegenError(f"{package} exists and is not a folder; remove it or choose another output path")
        if package.is_dir() and any(package.iterdir()) and not (package / MANIFEST).is_file():
            raise CodegenError(
                f"{package} exists and was not written by codemode-tui (no {MANIFEST}); "
                "remove it or choose another output path"
            )

    @staticmethod
    def _remove_stale(package: Path, expected: set[str]) -> list[Path]:
        keep_dirs = {str(Path(rel).parent) for rel in expected}
        keep_dirs |= {str(parent) for rel in expected for parent in Path(rel).parents}
        removed: list[Path] = []
        for path in sorted(package.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            relative = path.relative_to(package)
            if "__pycache__" in relative.parts:
                continue
            rel = relative.as_posix()
            if path.is_dir() and not path.is_symlink():
                if rel not in keep_dirs:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
            elif rel not in expected:
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed


def _drop_bytecode(source: Path) -> None:
    """Remove cached bytecode of a rewritten module.

    The import system trusts a ``.pyc`` whose recorded mtime (whole seconds)
    and size match the source; a regeneration within the same second with the
    same size would otherwise run the old code.
    """
    cache = source.parent / "__pycache__"
    if cache.is_dir():
        for pyc in cache.glob(f"{source.stem}.*.pyc"):
            pyc.unlink(missing_ok=True)
