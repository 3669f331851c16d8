"""Tool policy: which calls run, which wait for a person, which are refused.

A decision is ``allow``, ``ask`` or ``deny``, found in this order: the tool's
own entry (``server__tool``, ``server.tool`` or a glob such as ``fs__write_*``),
its server's entry, then the default for the tool's kind, read from its MCP
annotations:

- ``read_only`` (``readOnlyHint``): allow;
- ``destructive`` (``destructiveHint`` true, not read-only): ask;
- ``open_world`` (``openWorldHint`` true, not read-only): ask;
- ``unannotated`` (a tool that says nothing of itself): allow, so servers that
  do not annotate keep working; set it to ``ask`` for the MCP reading, in
  which such a tool may be destructive.

``ask`` needs a person: the playground shows a dialog, ``serve`` asks the MCP
client by elicitation when the client supports it.  With nobody to ask it is a
denial, which is exactly "destructive tools ask when a person is attached and
are denied headless".  The policy file is JSON::

    {"defaults": {"destructive": "deny"},
     "servers": {"git": "ask"},
     "tools": {"filesystem__write_file": "allow", "filesystem__read_*": "allow"}}
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from ..files import atomic_write_text, read_user_file
from ..tool_types import ToolDefinition

Decision = Literal["allow", "ask", "deny"]
DECISIONS: tuple[Decision, ...] = get_args(Decision)
ToolKind = Literal["read_only", "destructive", "open_world", "unannotated", "other"]
KINDS: tuple[ToolKind, ...] = get_args(ToolKind)
DEFAULTS: dict[ToolKind, Decision] = {
    "read_only": "allow",
    "destructive": "ask",
    "open_world": "ask",
    "unannotated": "allow",
    "other": "allow",
}
"""``other``: annotated, not read-only, and neither destructive nor open-world (adds, never overwrites)."""

#: How a person answered an approval: this call, every call of the tool in this run,
#: always (the policy is changed to ``allow`` and saved), or no.
Answer = Literal["once", "run", "always", "deny"]


class PolicyError(ValueError):
    """A policy that cannot be used (what is wrong, where, and what is allowed)."""


def tool_kind(tool: ToolDefinition | None) -> ToolKind:
    """What a tool's annotations say it is (see the module docstring)."""
    hints = tool.annotations if tool is not None else {}
    if not any(key in hints for key in ("readOnlyHint", "destructiveHint", "openWorldHint", "idempotentHint")):
        return "unannotated"
    if hints.get("readOnlyHint") is True:
        return "read_only"
    if hints.get("destructiveHint", True) is True:  # MCP: true unless said otherwise
        return "destructive"
    if hints.get("openWorldHint", True) is True:
        return "open_world"
    return "other"


def is_read_only(tool: ToolDefinition | None) -> bool:
    return tool_kind(tool) == "read_only"


def _decision(value: Any, where: str) -> Decision:
    if value not in DECISIONS:
        raise PolicyError(f"{where}: {value!r} is not a decision; use 'allow', 'ask' or 'deny'")
    return value  # type: ignore[no-any-return]


@dataclass
class ToolPolicy:
    """Decisions per tool, per server and per kind of tool (see the module docstring)."""

    tools: dict[str, Decision] = field(default_factory=dict)
    servers: dict[str, Decision] = field(default_factory=dict)
    defaults: dict[ToolKind, Decision] = field(default_factory=lambda: dict(DEFAULTS))

    def decide(self, name: str, tool: ToolDefinition | None) -> tuple[Decision, str]:
        """``(decision, why)`` for a call of ``name`` (qualified) whose definition is ``tool``."""
        server = tool.server if tool is not None else name.partition("__")[0]
        plain = tool.name if tool is not None else name.partition("__")[2]
        names = (name, f"{server}.{plain}")
        for key, decision in self.tools.items():
            if key in names:
                return decision, f"the policy for {key}"
        for key, decision in self.tools.items():
            if any(fnmatch.fnmatchcase(candidate, key) for candidate in names):
                return decision, f"the policy for {key}"
        if server in self.servers:
            return self.servers[server], f"the policy for server {server}"
        kind = tool_kind(tool)
        return self.defaults.get(kind, DEFAULTS[kind]), f"the default for {kind.replace('_', '-')} tools"

    def set_tool(self, name: str, decision: Decision) -> None:
        self.tools[name] = _decision(decision, name)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        changed = {kind: value for kind, value in self.defaults.items() if DEFAULTS.get(kind) != value}
        if changed:
            data["defaults"] = changed
        if self.servers:
            data["servers"] = dict(self.servers)
        if self.tools:
            data["tools"] = dict(self.tools)
        return data

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "policy") -> ToolPolicy:
        if not isinstance(data, Mapping):
            raise PolicyError(f"{where}: a policy is a JSON object with 'defaults', 'servers' and 'tools'")
        unknown = set(data) - {"defaults", "servers", "tools"}
        if unknown:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use defaults, servers, tools")
        policy = cls()
        for section in ("defaults", "servers", "tools"):
            entries = data.get(section, {})
            if not isinstance(entries, Mapping):
                raise PolicyError(f"{where}: {section!r} must be an object of name: decision")
            for key, value in entries.items():
                if section == "defaults" and key not in KINDS:
                    raise PolicyError(f"{where}: defaults.{key} is not a kind; use {', '.join(KINDS)}")
                getattr(policy, section)[str(key)] = _decision(value, f"{where}: {section}.{key}")
        return policy

    @classmethod
    def load(cls, path: Path) -> ToolPolicy:
        """Read a policy file; a missing file is the default policy, a bad one a :class:`PolicyError`."""
        try:
            raw = read_user_file(path, limit=1024 * 1024, what="policy file")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise PolicyError(f"{path}: {exc}") from None
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise PolicyError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_dict(data, where=str(path))

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")


@dataclass(frozen=True)
class ApprovalRequest:
    """A call waiting for a person: everything the dialog (or the elicitation) shows."""

    run_id: str
    tool: str
    """Qualified name."""
    server: str | None
    arguments: dict[str, Any]
    annotations: dict[str, Any]
    input_schema: dict[str, Any]
    reason: str
    """Why it asks (e.g. "the default for destructive tools")."""
    line: int | None = None
    code_line: str = ""
    """The line of the code that made the call, when known."""
    session: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Approval:
    """A person's answer, and who gave it (kept in the trace)."""

    answer: Answer
    by: str = "a person"
    note: str = ""


#: Asks a person; returns their answer.  May take as long as they need: the run's timeout is paused.
Approver = Callable[[ApprovalRequest], Awaitable[Approval]]
