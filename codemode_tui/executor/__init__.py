"""Running Python that composes MCP tools, inside a sandbox."""
