"""The bundled demo MCP server: tools worth playing with, no set-up needed.

Run it with ``codemode-tui demo-server`` (stdio) or ``codemode-tui demo-server
--http PORT`` (streamable HTTP).  Notes live in the data folder; the file tools
are confined to a scratch folder beside them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError as ServerToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from . import paths
from .files import atomic_write_text

INSTRUCTIONS = (
    "A playground server: notes (add, list, search), a scratch folder of files, "
    "arithmetic, an order calculator with nested input, a slow tool and a tool that always fails."
)

READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


def demo_dir(folder: Path | None = None) -> Path:
    """The demo's notes and scratch folder: ``folder``, or ``demo/`` in the data folder (read at each call)."""
    return folder if folder is not None else paths.data_dir() / "demo"


def scratch_dir(folder: Path | None = None) -> Path:
    scratch = demo_dir(folder) / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def _notes_file(folder: Path | None) -> Path:
    return demo_dir(folder) / "notes.json"


def _load_notes(folder: Path | None) -> list[dict[str, object]]:
    try:
        data = json.loads(_notes_file(folder).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return data if isinstance(data, list) else []


def _confine(path: str, folder: Path | None) -> Path:
    root = scratch_dir(folder).resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise ServerToolError(f"path {path!r} is outside the scratch folder; use a relative path like 'notes/a.txt'")
    return target


class Note(TypedDict):
    id: str
    title: str
    body: str
    tags: list[str]
    created: str


class Customer(BaseModel):
    name: str = Field(description="Customer's full name")
    email: str = Field(description="Where the receipt goes")


class LineItem(BaseModel):
    sku: str = Field(description="Product code, e.g. 'TEA-01'")
    quantity: int = Field(ge=1, description="How many")
    unit_price: float = Field(ge=0, description="Price of one, in the order's currency")


class Address(BaseModel):
    street: str
    city: str
    country: str = "NL"


class OrderQuote(BaseModel):
    order_id: str
    customer: str
    currency: str
    subtotal: float
    shipping: float
    total: float
    lines: int


def build_server(folder: Path | None = None) -> MCPServer:
    """The demo server with its tools registered; its notes and files live in ``folder`` (see ``demo_dir``)."""
    server = MCPServer("codemode-demo", instructions=INSTRUCTIONS)

    @server.tool(annotations=ToolAnnotations(destructiveHint=False, idempotentHint=False, openWorldHint=False))
    def add_note(
        title: Annotated[str, Field(description="Short title of the note")],
        body: Annotated[str, Field(description="Text of the note")] = "",
        tags: Annotated[list[str] | None, Field(description="Labels to find the note by")] = None,
    ) -> Note:
        """Save a note in the demo notebook and return it with its id."""
        notes = _load_notes(folder)
        note: Note = {
            "id": uuid.uuid4().hex[:8],
            "title": title,
            "body": body,
            "tags": list(tags or []),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        notes.append(dict(note))
        atomic_write_text(_notes_file(folder), json.dumps(notes, indent=2))
        return note

    @server.tool(annotations=READ_ONLY)
    def list_notes(
        tag: Annotated[str | None, Field(description="Only notes with this tag")] = None,
    ) -> list[Note]:
        """List the saved notes, newest last, optionally only those with a tag."""
        notes = _load_notes(folder)
        return [n for n in notes if tag is None or tag in n.get("tags", [])]  # type: ignore[misc]

    @server.tool(annotations=READ_ONLY)
    def search_notes(
        query: Annotated[str, Field(description="Words to look for in titles and bodies")],
    ) -> list[Note]:
        """Find notes whose title or body contains every word of the query (case-insensitive)."""
        words = query.lower().split()
        found = []
        for note in _load_notes(folder):
            text = f"{note.get('title', '')} {note.get('body', '')}".lower()
            if all(word in text for word in words):
                found.append(note)
        return found  # type: ignore[return-value]

    @server.tool(annotations=READ_ONLY)
    def list_files(
        path: Annotated[str, Field(description="Folder inside the scratch folder")] = ".",
    ) -> list[str]:
        """List the files and folders in the scratch folder (folders end with '/')."""
        listed = _confine(path, folder)
        if not listed.is_dir():
            raise ServerToolError(f"{path!r} is not a folder in the scratch folder")
        return sorted(p.name + ("/" if p.is_dir() else "") for p in listed.iterdir())

    @server.tool(annotations=READ_ONLY)
    def read_file(path: Annotated[str, Field(description="File inside the scratch folder")]) -> str:
        """Read a text file from the scratch folder."""
        target = _confine(path, folder)
        if not target.is_file():
            raise ServerToolError(f"no file {path!r} in the scratch folder; list_files shows what is there")
        return target.read_text(encoding="utf-8", errors="replace")

    @server.tool(annotations=ToolAnnotations(destructiveHint=True, idempotentHint=True, openWorldHint=False))
    def write_file(
        path: Annotated[str, Field(description="File inside the scratch folder")],
        content: Annotated[str, Field(description="Text to write (replaces the file)")],
    ) -> str:
        """Write a text file in the scratch folder, creating folders as needed."""
        target = _confine(path, folder)
        atomic_write_text(target, content)
        return f"wrote {len(content)} characters to {path}"

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False))
    def calculate(
        a: Annotated[float, Field(description="Left operand")],
        b: Annotated[float, Field(description="Right operand")],
        op: Annotated[
            Literal["add", "subtract", "multiply", "divide", "power"], Field(description="Operation")
        ] = "add",
    ) -> float:
        """Arithmetic on two numbers: add, subtract, multiply, divide or power."""
        if op == "add":
            return a + b
        if op == "subtract":
            return a - b
        if op == "multiply":
            return a * b
        if op == "divide":
            if b == 0:
                raise ServerToolError("cannot divide by zero")
            return a / b
        return float(a**b)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    def quote_order(
        customer: Annotated[Customer, Field(description="Who orders")],
        items: Annotated[list[LineItem], Field(description="What is ordered", min_length=1)],
        ship_to: Annotated[Address | None, Field(description="Delivery address; pick-up when omitted")] = None,
        currency: Annotated[Literal["EUR", "USD", "GBP"], Field(description="Currency of the prices")] = "EUR",
    ) -> OrderQuote:
        """Price an order: nested customer, line items and address in, a structured quote out."""
        subtotal = round(sum(item.quantity * item.unit_price for item in items), 2)
        shipping = 0.0 if ship_to is None or subtotal >= 50 else 4.95
        return OrderQuote(
            order_id=uuid.uuid4().hex[:10],
            customer=customer.name,
            currency=currency,
            subtotal=subtotal,
            shipping=shipping,
            total=round(subtotal + shipping, 2),
            lines=len(items),
        )

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False))
    async def slow_echo(
        seconds: Annotated[float, Field(ge=0, le=600, description="How long to wait before answering")] = 1.0,
        message: Annotated[str, Field(description="What to send back")] = "done",
    ) -> str:
        """Wait the given number of seconds, then echo the message (for timeouts and concurrency)."""
        await asyncio.sleep(seconds)
        return message

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    def always_fails(
        reason: Annotated[str, Field(description="Error message to raise")] = "this tool always fails",
    ) -> str:
        """Raise an error every time: shows how tool errors look and how try/except catches them."""
        raise ServerToolError(reason)

    return server


def main(http_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve the demo over stdio, or streamable HTTP when a port is given."""
    server = build_server()
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=http_port)
