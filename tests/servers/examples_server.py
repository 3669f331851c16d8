"""A real stdio MCP server whose tools carry example arguments in ``_meta``.

``translate`` gives ``inputExamples`` (the key Anthropic's Tool Search and
agent-codemode read); ``vendor_lookup`` a namespaced ``acme/inputExamples``;
``plain`` none at all.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer


def main() -> None:
    server = MCPServer("examples")

    @server.tool(meta={"inputExamples": [{"text": "hello", "target": "fr"}, {"text": "thanks", "target": "de"}]})
    def translate(text: str, target: str = "en") -> str:
        """Translate a short text into another language (pretend: it tags the text)."""
        return f"[{target}] {text}"

    @server.tool(meta={"acme/inputExamples": [{"sku": "A-100"}]})
    def vendor_lookup(sku: str) -> dict[str, str]:
        """Look up a product of the vendor catalogue by its SKU."""
        return {"sku": sku, "name": "widget"}

    @server.tool()
    def plain(value: int) -> int:
        """Return the value unchanged."""
        return value

    server.run("stdio")


if __name__ == "__main__":
    main()
