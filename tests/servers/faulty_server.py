"""A real MCP server (stdio) that misbehaves on purpose, for the bad cases.

Usage: python faulty_server.py [--start-delay SECONDS] [--exit-at-start CODE] [--hang]

Tools: ``ok`` answers, ``crash`` kills the process mid-call, ``grow`` adds a
tool and sends ``notifications/tools/list_changed``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start-delay", type=float, default=0.0)
    parser.add_argument("--exit-at-start", type=int, default=None)
    parser.add_argument("--hang", action="store_true", help="never answer anything")
    opts = parser.parse_args()

    print("faulty server starting", file=sys.stderr, flush=True)
    if opts.exit_at_start is not None:
        print("fatal: missing API key FAULTY_KEY", file=sys.stderr, flush=True)
        sys.exit(opts.exit_at_start)
    if opts.hang:
        time.sleep(3600)
    if opts.start_delay:
        time.sleep(opts.start_delay)

    server = MCPServer("faulty")

    @server.tool()
    def ok(text: str = "fine") -> str:
        """Answer with the text."""
        return text

    @server.tool()
    def crash() -> str:
        """Kill the server process in the middle of the call."""
        print("crashing now", file=sys.stderr, flush=True)
        os._exit(7)

    @server.tool()
    async def grow(name: str, ctx: Context) -> str:
        """Register a new tool called ``name`` and tell the client the list changed."""

        def added() -> str:
            return "new tool"

        server.add_tool(added, name=name, description="Added at run time.")
        await ctx.session.send_tool_list_changed()
        return f"added {name}"

    server.run("stdio")


if __name__ == "__main__":
    main()
