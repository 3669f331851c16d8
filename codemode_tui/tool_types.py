"""The engine's shared data types: a leaf module every layer may import.

Tool definitions, server summaries and discovery outcomes travel from the
registry to search, codegen, the executor's bindings, the snippets and every
front end.  Keeping them here (importing nothing of ours but ``names``) means
those layers depend on the data, not on the registry that produces it, and no
two engine modules need each other.  ``ToolSource`` is the small view of a
registry that the search index follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import mcp_types as types

from .names import qualified_name, sanitize_identifier

Status = Literal["disabled", "disconnected", "connecting", "connected", "failed"]
"""A server connection's state, as every front end shows it."""

# Where servers put example arguments: ``_meta`` keys (optionally namespaced, ``vendor/inputExamples``)
# or a non-standard annotation of the same name.
_EXAMPLE_KEYS = ("inputExamples", "input_examples", "examples")


def _examples_from(source: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Example argument objects found under one of :data:`_EXAMPLE_KEYS` of ``source``."""
    if not source:
        return []
    for key, value in source.items():
        if key.rpartition("/")[2] in _EXAMPLE_KEYS and isinstance(value, list):
            return [dict(example) for example in value if isinstance(example, Mapping)]
    return []


@dataclass
class ToolDefinition:
    """One tool of one server, with the names it is known by."""

    name: str
    server: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    output_schema: dict[str, Any] | None = None
    title: str | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    python_name: str = ""
    server_module: str = ""
    input_examples: list[dict[str, Any]] = field(default_factory=list)
    """Example argument objects (from the server's ``_meta`` or annotations, or set by the user)."""
    defer_loading: bool = False
    """The tool's server is deferred: kept out of name listings and the context budget, still searchable."""

    def __post_init__(self) -> None:
        if not self.python_name:
            self.python_name = sanitize_identifier(self.name)
        if not self.server_module:
            self.server_module = sanitize_identifier(self.server, fallback="server")

    @property
    def qualified_name(self) -> str:
        """``server__tool``: unique across the registry."""
        return qualified_name(self.server, self.name)

    @property
    def server_name(self) -> str:
        """The server's name: the name MCP Codemode and agent-codemode give :attr:`server`."""
        return self.server

    @classmethod
    def from_mcp(cls, server: str, tool: types.Tool) -> ToolDefinition:
        annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        return cls(
            name=tool.name,
            server=server,
            title=tool.title or annotations.get("title"),
            description=tool.description or "",
            input_schema=dict(tool.input_schema or {"type": "object", "properties": {}}),
            output_schema=dict(tool.output_schema) if tool.output_schema else None,
            annotations=annotations,
            input_examples=_examples_from(tool.meta),
        )

    @classmethod
    def from_dict(cls, server: str, data: Mapping[str, Any]) -> ToolDefinition:
        """From a ``tools/list`` entry as JSON (camelCase keys), e.g. a saved catalog.

        Also reads what :meth:`to_dict` adds (``inputExamples``), and examples a
        server put in its annotations, which the MCP model would drop.
        """
        tool = cls.from_mcp(server, types.Tool.model_validate(dict(data)))
        raw_annotations = data.get("annotations")
        examples = _examples_from(data) or (
            _examples_from(raw_annotations) if isinstance(raw_annotations, Mapping) else []
        )
        if examples and not tool.input_examples:
            tool.input_examples = examples
        return tool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, in MCP's own key names."""
        data: dict[str, Any] = {
            "qualifiedName": self.qualified_name,
            "name": self.name,
            "server": self.server,
            "pythonName": self.python_name,
            "module": f"generated.servers.{self.server_module}",
            "description": self.description,
            "inputSchema": self.input_schema,
        }
        if self.title:
            data["title"] = self.title
        if self.output_schema is not None:
            data["outputSchema"] = self.output_schema
        if self.annotations:
            data["annotations"] = self.annotations
        if self.input_examples:
            data["inputExamples"] = self.input_examples
        if self.defer_loading:
            data["deferLoading"] = True
        return data


@dataclass(frozen=True)
class ServerInfo:
    """What a front end shows for one server."""

    name: str
    transport: str
    status: Status
    tool_count: int
    error: str | None
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "transport": self.transport,
            "status": self.status,
            "tool_count": self.tool_count,
            "error": self.error,
            "enabled": self.enabled,
        }


@dataclass
class DiscoveryOutcome:
    """The result of discovering one server: its tools, or why it failed."""

    server: str
    tools: list[ToolDefinition] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ToolSource(Protocol):
    """What the search index needs of a registry: its tools, per server, and word of changes."""

    @property
    def server_names(self) -> list[str]: ...

    def list_tools(self, server: str | None = None) -> list[ToolDefinition]: ...

    def add_listener(self, listener: Callable[[str], None]) -> None: ...

    def remove_listener(self, listener: Callable[[str], None]) -> None: ...
