"""Strings for the playground's binding preview: the same source the generator writes.

Each function renders from the same bindings and renderer as
:class:`~codemode_tui.codegen.PythonCodeGenerator`, so what a user previews is
what the sandbox imports.  ``binding_source`` renders one tool on its own, so a
type shared with another tool of the server may carry a different numeric
suffix there than in the full module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..tool_types import ToolDefinition
from .binding import build_bindings, example_call_source
from .generator import PACKAGE, group_by_module
from .literals import py_literal
from .render import render_binding, render_module, render_signature


def binding_source(tool: ToolDefinition) -> str:
    """The source of one tool's binding: its types and its ``async def``."""
    bindings, namespace = build_bindings([tool])
    return render_binding(bindings[0], namespace)


def module_source(tools: Iterable[ToolDefinition] | Mapping[str, ToolDefinition]) -> str:
    """The full module of one server's tools, exactly as ``generated/servers/<server>/__init__.py``."""
    items = list(tools.values()) if isinstance(tools, Mapping) else list(tools)
    if not items:
        raise ValueError("module_source needs at least one tool")
    groups = group_by_module(items)
    if len(groups) > 1:
        raise ValueError(f"module_source renders one server's module; got tools of {', '.join(groups)}")
    (group,) = groups.values()
    bindings, namespace = build_bindings(group)
    return render_module(group[0].server, bindings, namespace)


def import_line(tool: ToolDefinition) -> str:
    """How user code imports the tool, e.g. ``from generated.servers.demo import calculate``."""
    return f"from {PACKAGE}.servers.{tool.server_module} import {tool.python_name}"


def example_call(tool: ToolDefinition) -> str:
    """An ``await`` of the tool with placeholders for its required parameters."""
    bindings, _ = build_bindings([tool])
    return example_call_source(bindings[0])


def signature(tool: ToolDefinition) -> str:
    """The binding's signature on one line (``...`` marks a keyword's "not given" default)."""
    bindings, _ = build_bindings([tool])
    return render_signature(bindings[0])


def call_signature(tool: ToolDefinition) -> str:
    """How to call the tool, as Python: required keywords bare, optional ones with their default.

    Unlike the binding's own signature (where ``...`` means "not given" for
    every keyword), a required parameter has no ``=`` at all and an optional
    one shows its schema default; ``= ...`` is left only on an optional
    parameter without one (as in a stub file: leaving it out sends nothing).
    """
    binding = build_bindings([tool])[0][0]
    params: list[str] = []
    for param in sorted(binding.params, key=lambda p: not p.required):
        if param.required:
            params.append(f"{param.kwarg}: {param.type.text}")
        else:
            default = py_literal(param.default) if param.has_default else None
            params.append(f"{param.kwarg}: {param.type.text} = {default if default is not None else '...'}")
    keywords = f"*, {', '.join(params)}" if params else ""
    return f"async def {binding.function}({keywords}) -> {binding.output_type.text}"


__all__ = ["binding_source", "call_signature", "example_call", "import_line", "module_source", "signature"]
