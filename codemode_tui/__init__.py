"""codemode-tui: the MCP Code Mode engine and its Textual playground.

The engine (everything but :mod:`codemode_tui.tui`) never imports Textual::

    from codemode_tui import ToolRegistry, MCPServerConfig

    async with ToolRegistry([MCPServerConfig(name="time", command="mcp-server-time")]) as registry:
        await registry.discover_all()
        print(await registry.call_tool("time__get_current_time", {"timezone": "Asia/Tokyo"}))
"""

from __future__ import annotations

from .codegen import PythonCodeGenerator
from .config import ConfigError, MCPServerConfig
from .executor import CodeModeConfig, CodeModeExecutor, RunResult
from .meta_tools import MetaTools
from .registry import DiscoveryOutcome, ServerInfo, ToolDefinition, ToolRegistry
from .results import AudioResult, ImageResult, ResourceResult, ToolError, UnknownToolError
from .search import SearchHit, SearchIndex, SearchResult
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "AudioResult",
    "CodeModeConfig",
    "CodeModeExecutor",
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
