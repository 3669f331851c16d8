"""Completion and signature help against the bindings, and attributes of values the sandbox holds."""

from __future__ import annotations

import pytest

from codemode_tui import ToolRegistry
from codemode_tui.codegen.completion import complete, signature_help
from codemode_tui.executor import CodeModeConfig
from codemode_tui.workspace import Workspace
from tests.codegen_helpers import CATALOGS, load_catalog
from tests.conftest import demo_stdio_config


@pytest.fixture(scope="module")
def tools():
    registry = ToolRegistry()
    from codemode_tui.config import MCPServerConfig

    for name in ("demo", "filesystem"):
        registry.add_server(MCPServerConfig(name=name, command="true"))
        registry.load_tools(name, load_catalog(CATALOGS / f"{name}.json"))
    return registry.list_tools()


def at_end(code: str, tools) -> tuple[str, list[str]]:
    lines = code.split("\n")
    found = complete(code, len(lines), len(lines[-1]), tools)
    return found.prefix, [item.label for item in found.items]


def test_modules_after_the_package(tools) -> None:
    assert at_end("from generated.servers.", tools) == ("", ["demo", "filesystem"])
    assert at_end("from generated.servers.fi", tools) == ("fi", ["filesystem"])
    assert at_end("import generated.mcp.", tools) == ("", ["demo", "filesystem"])
    assert at_end("x = generated.servers.de", tools) == ("de", ["demo"])


def test_tools_after_import_skip_those_already_imported(tools) -> None:
    prefix, labels = at_end("from generated.servers.demo import ", tools)
    assert prefix == "" and {"read_file", "write_file", "calculate"} <= set(labels)
    assert at_end("from generated.servers.demo import read_file, wr", tools) == ("wr", ["write_file"])
    found = complete("from generated.servers.demo import wr", 1, 37, tools)
    (item,) = found.items
    assert item.kind == "tool" and item.detail == "write_file(*, path: str, content: str) -> str"
    assert item.description.startswith("Write a text file")
    assert at_end("from generated.servers import demo\nawait demo.ca", tools) == ("ca", ["calculate"])


def test_parameters_inside_a_call_not_yet_given(tools) -> None:
    head = "from generated.servers.demo import write_file as save\n"
    assert at_end(head + "await save(", tools) == ("", ["path=", "content="])
    assert at_end(head + "await save(path='a.txt', ", tools) == ("", ["content="])
    assert at_end(head + "await save(path='a.txt',\n    co", tools) == ("co", ["content="])
    assert at_end(head + "await save(path=", tools) == ("", [])  # typing a value, not a keyword
    item = complete(head + "await save(", 2, 11, tools).items[0]
    assert item.detail == "str" and item.description == "File inside the scratch folder"
    # A call of something that is not a tool proposes nothing (the bindings know nothing of it).
    assert at_end("print(", tools) == ("", [])


def test_signature_help_names_the_tool_and_the_parameter_being_typed(tools) -> None:
    code = "from generated.servers.demo import write_file\nawait write_file(path='x', content=str(len('ab'"
    help_ = signature_help(code, 2, len(code.split("\n")[1]), tools)
    assert help_ is not None and help_.tool == "demo__write_file"
    assert help_.signature == "write_file(*, path: str, content: str) -> str"
    assert signature_help("x = 1", 1, 5, tools) is None


def test_after_a_value_the_sandbox_is_asked(tools) -> None:
    found = complete("result = 1\nresult.", 2, 7, tools)
    assert found.items == [] and found.attribute_of == "result"


@pytest.mark.parametrize("sandbox", ["eval", "local"])
async def test_workspace_completes_attributes_of_values_the_sandbox_holds(sandbox: str) -> None:
    workspace = Workspace(registry=ToolRegistry([demo_stdio_config()]))
    workspace.executor_config = CodeModeConfig(sandbox=sandbox)
    async with workspace:
        await workspace.start()
        # Before any run nothing is started just to complete.
        assert (await workspace.complete("text.up", 1, 7)).items == []
        ran = await workspace.run("text = 'abc'\nnotes = {'a': 1}")
        assert ran.success
        found = await workspace.complete("text.up", 1, 7)
        assert found.prefix == "up" and [item.label for item in found.items] == ["upper"]
        labels = [item.label for item in (await workspace.complete("notes.", 1, 6)).items]
        assert {"items", "keys", "get"} <= set(labels) and not any(label.startswith("_") for label in labels)
        # The bindings' names still come from the registry, sandbox or not.
        module = await workspace.complete("from generated.servers.demo import rea", 1, 38)
        assert [item.label for item in module.items] == ["read_file"]
