"""Which tools a piece of code uses, read from its imports and calls.

Code Mode code reaches tools through ``generated.servers.<server>`` imports, so
the AST tells us, without running anything, which bindings it calls: that
becomes a snippet's ``tools`` and ``servers`` and a skill's ``allowed-tools``.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..check.calls import dotted_name

if TYPE_CHECKING:
    from ..tool_types import ToolDefinition


PREFIX = "generated.servers"


@dataclass(frozen=True, order=True)
class ToolUse:
    """A binding the code refers to: its server module and Python name."""

    module: str
    function: str


def used_tools(code: str) -> list[ToolUse]:
    """Bindings that ``code`` imports or calls; empty for code that does not parse."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found: set[ToolUse] = set()
    module_aliases: dict[str, str] = {}  # local name -> server module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX + "."):
                module = node.module[len(PREFIX) + 1 :].split(".")[0]
                found.update(ToolUse(module, alias.name) for alias in node.names if alias.name != "*")
            elif node.module == PREFIX:
                for alias in node.names:
                    module_aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX + ".") and alias.asname:
                    module_aliases[alias.asname] = alias.name[len(PREFIX) + 1 :].split(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in module_aliases:
            found.add(ToolUse(module_aliases[node.value.id], node.attr))
        elif isinstance(node, ast.Attribute):
            dotted = dotted_name(node)
            if dotted and dotted.startswith(PREFIX + "."):
                parts = dotted[len(PREFIX) + 1 :].split(".")
                if len(parts) == 2:
                    found.add(ToolUse(parts[0], parts[1]))
    return sorted(found)


def free_names(code: str) -> set[str]:
    """Names the code reads at top level without assigning them first (parameter candidates)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            assigned.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            assigned.add(node.name)
        elif isinstance(node, ast.arg):
            assigned.add(node.arg)
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return {name for name in loaded - assigned if not hasattr(builtins, name)}


def resolve(uses: Iterable[ToolUse], tools: Iterable[ToolDefinition]) -> tuple[list[str], list[str]]:
    """Qualified tool names and server names for ``uses``, given the registry's ToolDefinitions.

    A use that matches no known tool is kept as ``module.function`` so nothing is lost.
    """
    by_binding = {(t.server_module, t.python_name): t for t in tools}
    qualified: list[str] = []
    servers: list[str] = []
    for use in uses:
        tool = by_binding.get((use.module, use.function))
        if tool is not None:
            qualified.append(tool.qualified_name)
            server = tool.server
        else:
            qualified.append(f"{use.module}.{use.function}")
            server = use.module
        if server not in servers:
            servers.append(server)
    return qualified, servers
