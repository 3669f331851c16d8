"""PythonCodeGenerator: the package layout, call shapes, regeneration, collisions and the preview API."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from codemode_tui import PythonCodeGenerator, ToolRegistry
from codemode_tui.codegen import (
    CodegenError,
    binding_source,
    example_call,
    import_line,
    module_source,
    signature,
)
from codemode_tui.codegen.binding import build_bindings, example_arguments
from codemode_tui.registry import ToolDefinition
from tests.codegen_helpers import (
    CATALOGS,
    PROJECT,
    catalog_paths,
    generated_on_path,
    import_server,
    load_catalog,
    mypy_output,
    run_mypy,
)
from tests.conftest import demo_stdio_config

CALCULATE = ToolDefinition(
    name="calculate",
    server="demo",
    description="Arithmetic on two numbers.",
    input_schema={
        "type": "object",
        "properties": {
            "a": {"type": "number", "description": "Left operand"},
            "b": {"type": "number", "description": "Right operand"},
            "op": {"enum": ["add", "multiply"], "type": "string", "default": "add"},
        },
        "required": ["a", "b"],
    },
    output_schema={
        "type": "object",
        "title": "calculateOutput",
        "properties": {"result": {"type": "number"}},
        "required": ["result"],
    },
    annotations={"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False},
)


def tool(name: str, server: str = "svc", **schema: Any) -> ToolDefinition:
    return ToolDefinition(name=name, server=server, input_schema=schema or {"type": "object", "properties": {}})


class Recorder:
    """The in-process caller generated.client routes to: records calls, answers with a canned value."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer

    async def __call__(self, name: str, arguments: dict[str, Any]) -> Any:
        self.calls.append((name, arguments))
        return self.answer


def all_catalog_tools() -> list[ToolDefinition]:
    return [t for path in catalog_paths() for t in load_catalog(path)]


USAGE = """\
from generated.servers.everything import get_annotated_message
from generated.servers.filesystem import edit_file, read_file
from generated.servers.pydantic_models_demo import Order, add, place_order
from generated.servers.time import convert_time, get_current_time


async def good() -> None:
    now = await get_current_time(timezone="UTC")
    day: str = now["day_of_week"]
    dst: bool = now["is_dst"]
    both = await convert_time({"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"})
    source_zone: str = both["source"]["timezone"]
    total: int = await add(a=1, b=2)
    order: Order = {"customer": "x", "items": [{"sku": "a", "qty": 1}], "priority": "high"}
    skus: list[str] = (await place_order(order=order))["skus"]
    text: str = (await read_file(path="/tmp/x", head=3))["content"]
    await edit_file(path="p", edits=[{"oldText": "a", "newText": "b"}], dryRun=True)
    await get_annotated_message(messageType="error")
    print(day, dst, source_zone, total, skus, text)


async def bad() -> None:
    await add(a="one", b=2)  # E
    await get_current_time(timezone=3)  # E
    wrong: int = (await get_current_time(timezone="UTC"))["datetime"]  # E
    await place_order(order={"customer": "x", "items": [], "priority": "urgent"})  # E
    await get_annotated_message(messageType="fatal")  # E
    await add(a=1, b=2, c=3)  # E
    await read_file({"path": 1})  # E
    print(wrong)
"""


def test_real_catalogs_generate_import_and_type_check(tmp_path: Path) -> None:
    tools = all_catalog_tools()
    result = PythonCodeGenerator(tmp_path).generate_from_tools(tools)
    assert result.conflicts == []
    assert {"everything", "filesystem", "time", "pydantic_models_demo"} <= set(result.modules)
    for path in (tmp_path / "generated").rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    with generated_on_path(tmp_path):
        for t in tools:
            function = getattr(import_server(t.server_module), t.python_name)
            assert inspect.iscoroutinefunction(function)
            assert (t.description.strip().splitlines() or [""])[0] in (function.__doc__ or "")
    # Precise types: the wrapped output is the inner type, $defs are named, enums are Literals.
    time_src = result.modules["time"].read_text(encoding="utf-8")
    assert ") -> ConvertTimeOutput:" in time_src and "    source: TimeResult" in time_src
    demo_src = result.modules["pydantic_models_demo"].read_text(encoding="utf-8")
    assert ") -> int:" in demo_src  # add's {"result": int} wrapper is stripped
    assert "Priority: TypeAlias = Literal['low', 'high']" in demo_src
    assert "channel: NotRequired[Literal['web', 'phone'] | None]" in demo_src

    usage = tmp_path / "usage.py"
    usage.write_text(USAGE, encoding="utf-8")
    code, output = mypy_output(tmp_path, usage)
    errors = {int(m.group(1)) for m in re.finditer(r"^usage\.py:(\d+): error", output, re.M)}
    expected = {n for n, line in enumerate(USAGE.splitlines(), 1) if line.endswith("# E")}
    assert not re.search(r"^generated/.*: error", output, re.M), output
    assert errors == expected, output
    assert code == 1


def test_layout_client_copy_and_imports(tmp_path: Path) -> None:
    tools = load_catalog(CATALOGS / "filesystem.json")
    PythonCodeGenerator(tmp_path).generate_from_tools(tools)
    package = tmp_path / "generated"
    runtime = PROJECT / "codemode_tui" / "executor" / "client_runtime.py"
    assert (package / "client.py").read_bytes() == runtime.read_bytes()
    for name in ("__init__.py", "_support.py", "py.typed", "servers/__init__.py", "servers/filesystem/__init__.py"):
        assert (package / name).is_file(), name
    with generated_on_path(tmp_path):
        namespace: dict[str, Any] = {}
        exec("from generated.servers.filesystem import read_file, write_file", namespace)
        assert namespace["read_file"].__name__ == "read_file"
        for t in tools:
            exec(import_line(t), namespace)
            assert namespace[t.python_name] is getattr(import_server("filesystem"), t.python_name)


def test_call_shapes_merge_check_and_call(tmp_path: Path) -> None:
    odd = tool(
        "odd",
        type="object",
        properties={"a.b": {"type": "string"}, "class": {"type": "integer"}, "arguments": {"type": "string"}},
        required=["a.b"],
    )
    open_tool = tool("open", type="object", properties={"x": {"type": "string"}}, additionalProperties=True)
    PythonCodeGenerator(tmp_path).generate_from_tools([CALCULATE, odd, open_tool])

    async def scenario() -> None:
        demo = import_server("demo")
        svc = import_server("svc")
        client = importlib.import_module("generated.client")
        recorder = Recorder(answer=6.0)
        client.set_caller(recorder)
        try:
            assert await demo.calculate(a=2, b=3, op="multiply") == 6.0
            assert recorder.calls[-1] == ("demo__calculate", {"a": 2, "b": 3, "op": "multiply"})
            await demo.calculate({"a": 1, "b": 2})
            assert recorder.calls[-1] == ("demo__calculate", {"a": 1, "b": 2})
            mine = {"a": 1}
            await demo.calculate(mine, b=5)
            assert recorder.calls[-1][1] == {"a": 1, "b": 5} and mine == {"a": 1}
            before = len(recorder.calls)
            for bad_call, message in [
                (lambda: demo.calculate(a=1), "missing required argument(s): 'b'"),
                (lambda: demo.calculate({"a": 1, "b": 2, "c": 3}), "unexpected argument(s) 'c'"),
                (lambda: demo.calculate({"a": 1}, a=2, b=3), "'a' both in the dict and as a keyword"),
                (lambda: demo.calculate(["a"]), "as a dict or as keywords, not list"),
                (lambda: demo.calculate(a=1, b=2, c=3), "unexpected keyword argument 'c'"),
            ]:
                with pytest.raises(TypeError, match=re.escape(message)):
                    await bad_call()
            assert len(recorder.calls) == before  # nothing was sent

            await svc.odd({"a.b": "x", "class": 1, "arguments": "y"})
            assert recorder.calls[-1] == ("svc__odd", {"a.b": "x", "class": 1, "arguments": "y"})
            await svc.odd(a_b="x", class_=2, arguments_="z")
            assert recorder.calls[-1] == ("svc__odd", {"a.b": "x", "class": 2, "arguments": "z"})
            with pytest.raises(TypeError, match=re.escape("'a.b' (keyword a_b)")):
                await svc.odd(class_=2)
            await svc.open({"x": "1", "anything": 2})
            assert recorder.calls[-1] == ("svc__open", {"x": "1", "anything": 2})
        finally:
            client.set_caller(None)
        with pytest.raises(client.ToolError, match="no tool-call bridge"):
            await demo.calculate(a=1, b=2)

    with generated_on_path(tmp_path):
        asyncio.run(scenario())


def test_docstring_has_description_params_annotations_and_example(tmp_path: Path) -> None:
    PythonCodeGenerator(tmp_path).generate_from_tools([CALCULATE])
    with generated_on_path(tmp_path):
        doc = inspect.getdoc(import_server("demo").calculate) or ""
    assert doc.startswith("Arithmetic on two numbers.")
    assert "Annotations: read-only, idempotent, closed-world." in doc
    assert "a (float, required): Left operand" in doc
    assert "op (Literal['add', 'multiply'], default 'add')" in doc
    assert "Returns:\n    float" in doc
    assert "Example:\n    await calculate(a=0.0, b=0.0)" in doc


def test_regeneration_removes_stale_servers_and_tools(tmp_path: Path) -> None:
    generator = PythonCodeGenerator(tmp_path)
    time_tools = load_catalog(CATALOGS / "time.json")
    first = generator.generate_from_tools([CALCULATE, *time_tools])
    assert set(first.modules) == {"demo", "time"}
    (tmp_path / "generated" / "servers" / "old_leftover.py").write_text("raise SystemExit('stale')\n")

    again = generator.generate_from_tools([CALCULATE, *time_tools])
    assert again.written == [] and again.removed == [tmp_path / "generated" / "servers" / "old_leftover.py"]

    dropped = generator.generate_from_tools([CALCULATE, time_tools[0]])  # the server dropped a tool
    assert dropped.modules["time"] in dropped.written and dropped.modules["demo"] not in dropped.written
    with generated_on_path(tmp_path):
        remaining = import_server("time")
        assert hasattr(remaining, time_tools[0].python_name)
        assert not hasattr(remaining, time_tools[1].python_name)

    gone = generator.generate_from_tools([CALCULATE])  # the time server was removed
    assert not (tmp_path / "generated" / "servers" / "time").exists()
    assert tmp_path / "generated" / "servers" / "time" in gone.removed
    manifest = json.loads((tmp_path / "generated" / "_manifest.json").read_text())
    assert manifest["servers"] == {"demo": {"server": "demo", "tools": {"calculate": "demo__calculate"}}}
    with generated_on_path(tmp_path), pytest.raises(ModuleNotFoundError):
        import_server("time")


def test_regeneration_in_the_same_second_is_not_hidden_by_bytecode(tmp_path: Path) -> None:
    generator = PythonCodeGenerator(tmp_path)
    generator.generate_from_tools([tool("aaa")])
    with generated_on_path(tmp_path):
        assert hasattr(import_server("svc"), "aaa")
    generator.generate_from_tools([tool("bbb")])  # same size, same second
    with generated_on_path(tmp_path):
        module = import_server("svc")
        assert hasattr(module, "bbb") and not hasattr(module, "aaa")


def test_collisions_get_distinct_stable_names_and_are_reported(tmp_path: Path) -> None:
    def make() -> list[ToolDefinition]:
        return [tool("get-file"), tool("get_file"), tool("x", server="my-server"), tool("y", server="my_server")]

    forward, backward = make(), list(reversed(make()))
    result = PythonCodeGenerator(tmp_path / "a").generate_from_tools(forward)
    PythonCodeGenerator(tmp_path / "b").generate_from_tools(backward)
    names = {t.name: t.python_name for t in forward if t.server == "svc"}
    assert names == {"get_file": "get_file", "get-file": "get_file_2"}
    assert {t.name: t.python_name for t in backward if t.server == "svc"} == names
    modules = {t.server: t.server_module for t in forward if t.server != "svc"}
    assert modules == {"my-server": "my_server_2", "my_server": "my_server"}
    described = " ".join(conflict.describe() for conflict in result.conflicts)
    assert "'get-file' -> get_file_2" in described and "'my-server' -> my_server_2" in described
    a_files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.py"))
    assert a_files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.py"))

    async def scenario() -> None:
        recorder = Recorder()
        importlib.import_module("generated.client").set_caller(recorder)
        svc = import_server("svc")
        await svc.get_file()
        await svc.get_file_2()
        await import_server("my_server_2").x()
        assert [name for name, _ in recorder.calls] == ["svc__get_file", "svc__get-file", "my-server__x"]

    with generated_on_path(tmp_path / "a"):
        asyncio.run(scenario())


async def test_registry_names_are_kept_and_dict_input_accepted(tmp_path: Path) -> None:
    registry = ToolRegistry([demo_stdio_config("svc")])  # never connected: tools loaded from a catalog
    registry.load_tools("svc", [tool("get-file"), tool("get_file"), tool("class")])
    tools = {t.qualified_name: t for t in registry.list_tools()}
    before = {q: (t.python_name, t.server_module) for q, t in tools.items()}
    result = PythonCodeGenerator(tmp_path).generate_from_tools(tools)
    assert result.conflicts == [] and result.tool_count == 3
    assert {q: (t.python_name, t.server_module) for q, t in tools.items()} == before
    source = result.modules["svc"].read_text(encoding="utf-8")
    assert all(f"async def {name}(" in source for name, _ in before.values())
    await registry.close()


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path) -> None:
    foreign = tmp_path / "generated"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("mine")
    with pytest.raises(CodegenError, match="not written by codemode-tui"):
        PythonCodeGenerator(tmp_path).generate_from_tools([CALCULATE])
    assert (foreign / "precious.txt").read_text() == "mine"


def test_preview_api_matches_the_written_module(tmp_path: Path) -> None:
    result = PythonCodeGenerator(tmp_path).generate_from_tools([CALCULATE])
    assert module_source([CALCULATE]) == result.modules["demo"].read_text(encoding="utf-8")
    assert module_source({CALCULATE.qualified_name: CALCULATE}) == module_source([CALCULATE])
    assert import_line(CALCULATE) == "from generated.servers.demo import calculate"
    assert example_call(CALCULATE) == "await calculate(a=0.0, b=0.0)"
    assert signature(CALCULATE) == (
        "async def calculate(arguments: CalculateInput | None = None, /, *, a: float = ..., b: float = ..., "
        "op: Literal['add', 'multiply'] = ...) -> float"
    )
    source = binding_source(CALCULATE)
    assert "class CalculateInput(TypedDict):" in source and "async def calculate(" in source
    compile(source, "preview", "exec")
    assert example_call(tool("ping")) == "await ping()"
    odd = tool("odd", type="object", properties={"a.b": {"type": "string"}}, required=["a.b"])
    assert example_call(odd) == "await odd({'a.b': '...'})"
    with pytest.raises(ValueError, match="one server"):
        module_source([CALCULATE, tool("other")])


def test_example_calls_respect_the_bounds_of_their_schema() -> None:
    """The inserted example is often run as is: a placeholder the server refuses fails that run for nothing."""
    bounded = tool(
        "bounded",
        type="object",
        properties={
            "count": {"type": "integer", "minimum": 1},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "below": {"type": "integer", "maximum": -3},
            "step": {"type": "integer", "minimum": 3, "multipleOf": 5},
            "legacy": {"type": "integer", "minimum": 2, "exclusiveMinimum": True},
            "code": {"type": "string", "minLength": 6},
            "flag": {"type": "string", "maxLength": 1},
            "pair": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2},
        },
        required=["count", "ratio", "below", "step", "legacy", "code", "flag", "pair"],
    )
    assert example_call(bounded) == (
        "await bounded(count=1, ratio=0.5, below=-3, step=5, legacy=3, code='......', flag='.', pair=[1, 1])"
    )


@pytest.mark.parametrize("path", catalog_paths(), ids=lambda path: path.stem)
def test_every_example_call_of_a_real_catalog_passes_its_schema(path: Path) -> None:
    import jsonschema

    for definition in load_catalog(path):
        (binding,), _ = build_bindings([definition])
        arguments = example_arguments(binding)
        problems = [
            error.message for error in jsonschema.Draft202012Validator(definition.input_schema).iter_errors(arguments)
        ]
        assert not problems, f"{definition.qualified_name}: {arguments} fails its schema: {problems}"


async def test_the_demo_servers_example_order_is_priced_by_the_real_server() -> None:
    async with ToolRegistry([demo_stdio_config()]) as registry:
        await registry.discover_all()
        definition = registry.get_tool("demo__quote_order")
        assert definition is not None
        (binding,), _ = build_bindings([definition])
        quote = await registry.call_tool("demo__quote_order", example_arguments(binding))
        assert quote["lines"] == 1 and quote["total"] == 0.0


def test_definitions_that_are_only_null_are_inlined(tmp_path: Path) -> None:
    """Found by hypothesis: ``$defs`` that are just ``null`` used to become ``B = None`` aliases,
    and ``B | None`` then failed at import (``None | None``)."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "additionalProperties": {"$ref": "#/$defs/B", "nullable": True}},
            "c": {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}, {"$ref": "#/$defs/C"}]},
        },
        "$defs": {"A": {"enum": [None]}, "B": {"enum": [None]}, "C": {"$ref": "#/$defs/A"}},
    }
    tool = ToolDefinition(name="nulls", server="fuzz", input_schema=schema)
    PythonCodeGenerator(tmp_path).generate_from_tools([tool])
    with generated_on_path(tmp_path):
        module = import_server("fuzz")
        assert callable(module.nulls)
    run_mypy(tmp_path)
