"""The one way a tool call result becomes a Python value.

Used everywhere a result crosses into user code or a front end:

* ``isError`` raises :class:`ToolError` naming the server and the tool;
* ``structuredContent`` is preferred when present;
* text that parses as JSON is returned parsed, several text blocks are joined;
* images, audio and embedded resources are kept as typed objects, not dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the sandbox's client imports this module, and
    # mcp_types builds ~200 pydantic models (half a second of every kernel start).
    import mcp_types as types


class ToolError(Exception):
    """A tool reported an error (``isError``), or could not be called."""

    def __init__(self, message: str, *, server: str | None = None, tool: str | None = None) -> None:
        self.server = server
        self.tool = tool
        self.message = message
        where = f"{server}.{tool}" if server and tool else (tool or server or "tool")
        super().__init__(f"{where}: {message}")


class UnknownToolError(ToolError, LookupError):
    """No tool of that name; carries the closest names for a "did you mean"."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no tool named {name!r}{hint}", tool=name)


@dataclass(frozen=True)
class ImageResult:
    """An image returned by a tool: base64 ``data`` and its MIME type."""

    data: str
    mime_type: str


@dataclass(frozen=True)
class AudioResult:
    """Audio returned by a tool: base64 ``data`` and its MIME type."""

    data: str
    mime_type: str


@dataclass(frozen=True)
class ResourceResult:
    """An embedded resource or resource link returned by a tool."""

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: str | None = None
    name: str | None = None


def _parse_text(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null") or _looks_numeric(stripped):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def _looks_numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or (text[0] == "-" and text[1:2].isdigit()))


def _convert_block(block: Any) -> Any:
    import mcp_types as types

    if isinstance(block, types.ImageContent):
        return ImageResult(data=block.data, mime_type=block.mime_type)
    if isinstance(block, types.AudioContent):
        return AudioResult(data=block.data, mime_type=block.mime_type)
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        text = getattr(res, "text", None)
        blob = getattr(res, "blob", None)
        return ResourceResult(uri=str(res.uri), mime_type=res.mime_type, text=text, blob=blob)
    if isinstance(block, types.ResourceLink):
        return ResourceResult(uri=str(block.uri), mime_type=block.mime_type, name=block.name)
    if isinstance(block, types.TextContent):
        return _parse_text(block.text)
    return block


def error_text(result: types.CallToolResult) -> str:
    """The human-readable message of an error result."""
    import mcp_types as types

    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    return "\n".join(texts).strip() or "the tool reported an error without a message"


def wrapped_result_schema(output_schema: Mapping[str, Any] | None, tool: str | None) -> dict[str, Any] | None:
    """The inner schema when ``output_schema`` only wraps a plain value.

    Python MCP servers (the SDK's ``MCPServer``, FastMCP) return a function's
    ``str``/``int``/``list`` result as ``{"result": value}`` under a generated
    schema titled ``<tool>Output`` (FastMCP also marks it
    ``x-fastmcp-wrap-result``).  That wrapper is transport detail: user code
    should get ``value``.  Returns ``None`` for every other schema.
    """
    if not isinstance(output_schema, Mapping):
        return None
    props = output_schema.get("properties")
    if not isinstance(props, Mapping) or list(props) != ["result"]:
        return None
    marked = output_schema.get("x-fastmcp-wrap-result") is True
    titled = tool is not None and output_schema.get("title") == f"{tool}Output"
    if not (marked or titled) or list(output_schema.get("required", [])) != ["result"]:
        return None
    inner = props["result"]
    return dict(inner) if isinstance(inner, Mapping) else {}


def unwrap_result(
    result: types.CallToolResult,
    *,
    server: str | None = None,
    tool: str | None = None,
    output_schema: Mapping[str, Any] | None = None,
) -> Any:
    """Turn a ``CallToolResult`` into the value user code receives."""
    if result.is_error:
        raise ToolError(error_text(result), server=server, tool=tool)
    if result.structured_content is not None:
        structured = result.structured_content
        if (
            isinstance(structured, dict)
            and list(structured) == ["result"]
            and wrapped_result_schema(output_schema, tool) is not None
        ):
            return structured["result"]
        return structured
    blocks = list(result.content)
    if not blocks:
        return None
    import mcp_types as types

    if all(isinstance(block, types.TextContent) for block in blocks):
        return _parse_text("\n".join(block.text for block in blocks))  # type: ignore[union-attr]
    converted = [_convert_block(block) for block in blocks]
    return converted[0] if len(converted) == 1 else converted
