"""A real stdio MCP server that floods its client with ``tools/list_changed``.

``flood(count)`` sends ``count`` notifications back to back; ``list_requests``
says how many ``tools/list`` requests the server has answered, so a test can
see how many rediscoveries a burst really caused.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer


class CountingServer(MCPServer):
    """Counts the ``tools/list`` requests it answers."""

    list_count = 0

    async def list_tools(self) -> list[Any]:
        CountingServer.list_count += 1
        return await super().list_tools()


def main() -> None:
    server = CountingServer("flood")

    @server.tool()
    async def flood(count: int, ctx: Context) -> str:
        """Send ``count`` tools/list_changed notifications in one burst."""
        for _ in range(count):
            await ctx.session.send_tool_list_changed()
        return f"sent {count}"

    @server.tool()
    def list_requests() -> int:
        """How many tools/list requests this server has answered so far."""
        return CountingServer.list_count

    server.run("stdio")


if __name__ == "__main__":
    main()
