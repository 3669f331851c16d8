"""Record a real server's ``tools/list`` answer as a catalog under ``tests/catalogs/``.

The search quality test ranks over catalogs recorded from real servers, so
that its queries meet the names and descriptions users actually see.  This
script connects through :class:`~codemode_tui.registry.ToolRegistry` (the same
path the product uses) and writes ``{"server", "package", "serverInfo",
"tools": [...]}`` with the tools exactly as the server listed them (camelCase
MCP keys).  Run it by hand when a catalog should be refreshed, e.g.::

    python -m tests.record_catalog git "mcp-server-git (PyPI)" -- python -m mcp_server_git
    python -m tests.record_catalog --env MEMORY_FILE_PATH=/tmp/memory.json \
        memory "@modelcontextprotocol/server-memory (npm)" -- npx -y @modelcontextprotocol/server-memory

It is not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from codemode_tui.config import MCPServerConfig
from codemode_tui.registry import ToolRegistry

CATALOGS = Path(__file__).parent / "catalogs"


async def record(name: str, package: str, command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Connect to one server and return its catalog as JSON-ready data."""
    config = MCPServerConfig(name=name, command=command[0], args=command[1:], env=env, timeout=120)
    async with ToolRegistry([config]) as registry:
        await registry.discover_server(name)
        conn = registry.connection(name)
        tools = await conn.list_tools()
        info = conn.server_info.model_dump(by_alias=True, exclude_none=True, mode="json") if conn.server_info else {}
        return {
            "server": name,
            "package": package,
            "serverInfo": {key: info[key] for key in ("name", "version") if key in info},
            "tools": [tool.model_dump(by_alias=True, exclude_none=True, mode="json") for tool in tools],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="the server name to record under (also the file name)")
    parser.add_argument("package", help="where the server comes from, kept in the catalog for readers")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command that starts the server")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="environment for the server")
    args = parser.parse_args(argv)
    command = [part for part in args.command if part != "--"]
    if not command:
        parser.error("give the command that starts the server after --")
    env = dict(item.split("=", 1) for item in args.env)
    catalog = asyncio.run(record(args.server, args.package, command, env))
    target = CATALOGS / f"{args.server}.json"
    target.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{target}: {len(catalog['tools'])} tools", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
