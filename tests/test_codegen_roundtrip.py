"""Round trip: bindings generated from the demo server's live tools call the live server."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from codemode_tui import PythonCodeGenerator, ToolError, ToolRegistry
from tests.codegen_helpers import generated_on_path, import_server, run_mypy
from tests.conftest import demo_stdio_config


async def test_generated_bindings_call_the_demo_server(tmp_path: Path, isolated_home: Path) -> None:
    # A stdio server only inherits a few variables: hand it the isolated home so its notes stay in the test.
    config = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(isolated_home)})
    async with ToolRegistry([config]) as registry:
        outcomes = await registry.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        tools = registry.list_tools("demo")
        result = PythonCodeGenerator(tmp_path).generate_from_tools(tools)
        assert result.tool_count == len(tools) == 10

        with generated_on_path(tmp_path):
            importlib.import_module("generated.client").set_caller(registry.call_tool)
            demo = import_server("demo")

            assert await demo.calculate(a=2, b=3, op="multiply") == 6.0
            assert await demo.calculate({"a": 2, "b": 3}) == 5.0
            assert await demo.calculate({"a": 10}, b=4, op="subtract") == 6.0

            quote = await demo.quote_order(
                customer={"name": "Ada", "email": "ada@example.com"},
                items=[{"sku": "A-1", "quantity": 2, "unit_price": 10.0}],
                ship_to={"street": "1 Main St", "city": "Springfield", "country": "US"},
            )
            assert quote["customer"] == "Ada" and quote["subtotal"] == 20.0 and quote["lines"] == 1
            assert quote["total"] == 24.95  # shipping below the free-shipping threshold

            note = await demo.add_note(title="from a binding", tags=["codegen"])
            assert note["title"] == "from a binding"
            assert [n["id"] for n in await demo.list_notes(tag="codegen")] == [note["id"]]
            assert await demo.write_file(path="x/y.txt", content="hi") == "wrote 2 characters to x/y.txt"
            assert await demo.read_file(path="x/y.txt") == "hi"

            with pytest.raises(ToolError, match="boom") as caught:
                await demo.always_fails(reason="boom")
            assert caught.value.server == "demo" and caught.value.tool == "always_fails"
            with pytest.raises(ToolError, match="cannot divide by zero"):
                await demo.calculate(a=1, b=0, op="divide")
            with pytest.raises(TypeError, match="missing required argument"):
                await demo.calculate(a=1)

    # What the live server sent types precisely: structured outputs are TypedDicts, wrapped ones the inner type.
    source = result.modules["demo"].read_text(encoding="utf-8")
    assert ") -> float:" in source and ") -> QuoteOrderOutput:" in source and ") -> list[Note]:" in source
    run_mypy(tmp_path)
