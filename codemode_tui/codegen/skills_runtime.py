"""Saved skills, callable from sandbox code: copied verbatim as ``generated/skills.py``.

A skill composes tools; code composes skills::

    from generated.skills import list_skills, load_skill, run_skill
    total = await run_skill("sum-invoices", {"month": "2026-11"})

The skill's code and its checked parameter values come from the host (the
saved skills of the workspace), over the same bridge as tool calls, so the
call shows in the run's trace.  It then runs here, in this sandbox, in a
namespace of its own (its parameters are its variables; it does not see or
change the caller's), with top-level ``await`` like a run; its last
expression is the result.  Standard library only, like ``client.py``.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

try:
    from generated.client import call_tool
except ImportError:  # imported outside a generated package (import checks, docs): nothing to call

    async def call_tool(qualified_name: str, arguments: dict[str, Any]) -> Any:
        raise RuntimeError("generated.skills works inside a sandbox, beside its generated.client")


#: The host functions behind this module (not MCP tools: no server has a ``codemode`` prefix with a dot).
LIST = "codemode.skills.list"
LOAD = "codemode.skills.load"


async def list_skills() -> list[dict[str, Any]]:
    """The saved skills: name, description, parameters (name, type, default, required) and the tools they call."""
    found: Any = await call_tool(LIST, {})
    return list(found)


async def load_skill(name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """A skill's ``name``, ``description``, ``code`` and, checked and converted, its parameter ``values``.

    Wrong or missing arguments raise ``ToolError`` saying which, before anything runs.
    """
    found: Any = await call_tool(LOAD, {"name": name, "arguments": dict(arguments or {})})
    return dict(found)


async def run_skill(name: str, arguments: dict[str, Any] | None = None, /, **keywords: Any) -> Any:
    """Run the saved skill ``name`` here with ``arguments`` (a dict, keywords, or both); returns its last value."""
    skill = await load_skill(name, {**(arguments or {}), **keywords})
    namespace: dict[str, Any] = {"__name__": f"skill:{skill['name']}", **skill.get("values", {})}
    return await _run(str(skill["code"]), namespace, f"<skill {skill['name']}>")


async def _run(code: str, namespace: dict[str, Any], filename: str) -> Any:
    tree = ast.parse(code, filename)
    last: ast.expr | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        del tree.body[-1]
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    outcome = eval(compile(tree, filename, "exec", flags=flags), namespace)
    if inspect.iscoroutine(outcome):
        await outcome
    if last is None:
        return None
    value = eval(compile(ast.Expression(last), filename, "eval", flags=flags), namespace)
    return await value if inspect.iscoroutine(value) else value


__all__ = ["list_skills", "load_skill", "run_skill"]
