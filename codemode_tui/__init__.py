"""codemode-tui: the MCP Code Mode engine and its Textual playground.

The engine (everything but :mod:`codemode_tui.tui`) never imports Textual::

    from codemode_tui import ToolRegistry, MCPServerConfig

    async with ToolRegistry([MCPServerConfig(name="time", command="mcp-server-time")]) as registry:
        await registry.discover_all()
        print(await registry.call_tool("time__get_current_time", {"timezone": "Asia/Tokyo"}))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names and the module each lives in.  They load on first use, so that
# `codemode-tui --help`, the demo server and the playground's first frame do not
# pay for importing the whole engine (the MCP SDK alone takes most of a second).
_EXPORTS = {
    "PythonCodeGenerator": ".codegen",
    "ConfigError": ".config",
    "MCPServerConfig": ".config",
    "CodeModeConfig": ".executor",
    "CodeModeExecutor": ".executor",
    "CodemodeToolset": ".pydantic_ai_toolset",
    "RunResult": ".executor",
    "MetaTools": ".meta_tools",
    "DiscoveryOutcome": ".tool_types",
    "ServerInfo": ".tool_types",
    "ToolDefinition": ".tool_types",
    "ToolRegistry": ".registry",
    "AudioResult": ".results",
    "ImageResult": ".results",
    "ResourceResult": ".results",
    "ToolError": ".results",
    "UnknownToolError": ".results",
    "SearchHit": ".search",
    "SearchIndex": ".search",
    "SearchResult": ".search",
    "Workspace": ".workspace",
}

if TYPE_CHECKING:
    from .codegen import PythonCodeGenerator
    from .config import ConfigError, MCPServerConfig
    from .executor import CodeModeConfig, CodeModeExecutor, RunResult
    from .meta_tools import MetaTools
    from .pydantic_ai_toolset import CodemodeToolset
    from .registry import ToolRegistry
    from .results import AudioResult, ImageResult, ResourceResult, ToolError, UnknownToolError
    from .search import SearchHit, SearchIndex, SearchResult
    from .tool_types import DiscoveryOutcome, ServerInfo, ToolDefinition
    from .workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codemode_tui' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "AudioResult",
    "CodeModeConfig",
    "CodeModeExecutor",
    "CodemodeToolset",
    "ConfigError",
    "DiscoveryOutcome",
    "ImageResult",
    "MCPServerConfig",
    "MetaTools",
    "PythonCodeGenerator",
    "ResourceResult",
    "RunResult",
    "SearchHit",
    "SearchIndex",
    "SearchResult",
    "ServerInfo",
    "ToolDefinition",
    "ToolError",
    "ToolRegistry",
    "UnknownToolError",
    "Workspace",
    "__version__",
]
