"""Generated bindings for arbitrary schemas: always compile, import, call correctly and pass mypy --strict."""

from __future__ import annotations

import asyncio
import importlib
import io
import tempfile
import tokenize
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codemode_tui.codegen import PythonCodeGenerator
from codemode_tui.registry import ToolDefinition
from tests.codegen_helpers import generated_on_path, import_server, run_mypy

HOSTILE_WORDS = ["class", "a.b", "1st", "__import__", "arguments", "str", "Any", 'x"""', "NotRequired", "_cm_x", ""]
names = st.text(max_size=10) | st.sampled_from(HOSTILE_WORDS)
texts = st.text(max_size=30) | st.sampled_from(['"""', "'''", "\\", "\x00", "\u202e", "\ud800", "\n# x\n"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
leaves = st.one_of(
    st.sampled_from(["string", "integer", "number", "boolean", "null"]).map(lambda t: {"type": t}),
    st.lists(scalars, min_size=1, max_size=5).map(lambda values: {"enum": values}),
    scalars.map(lambda value: {"const": value}),
    st.just({}),
    st.just(True),
    texts.map(lambda text: {"type": "string", "description": text, "title": text}),
    st.sampled_from([{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}, {"$ref": "#"}, {"$ref": "#/$defs/nope"}]),
)


@st.composite
def objects(draw: st.DrawFn, inner: st.SearchStrategy[Any]) -> dict[str, Any]:
    props = draw(st.dictionaries(names, inner, max_size=4))
    required = [key for key in props if draw(st.booleans())]
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
    if draw(st.booleans()):
        schema["additionalProperties"] = draw(st.booleans() | inner)
    return schema


schemas = st.recursive(
    leaves,
    lambda inner: st.one_of(
        inner.map(lambda items: {"type": "array", "items": items}),
        objects(inner),
        st.lists(inner, min_size=1, max_size=3).map(lambda variants: {"anyOf": variants}),
        st.lists(inner, min_size=1, max_size=3).map(lambda variants: {"oneOf": variants}),
        st.lists(inner, min_size=1, max_size=2).map(lambda parts: {"allOf": parts}),
        inner.map(lambda values: {"type": "object", "additionalProperties": values}),
        inner.map(lambda schema: {**schema, "nullable": True} if isinstance(schema, dict) else schema),
    ),
    max_leaves=10,
)


@st.composite
def tools(draw: st.DrawFn, server: str = "fuzz") -> ToolDefinition:
    top = draw(objects(schemas))
    top["$defs"] = {"A": draw(schemas), "B": draw(schemas)}
    output = draw(
        st.none()
        | schemas
        | schemas.map(
            lambda s: {"type": "object", "title": "toolOutput", "properties": {"result": s}, "required": ["result"]}
        )
    )
    return ToolDefinition(
        name=draw(st.text(max_size=12) | st.sampled_from(HOSTILE_WORDS)),
        server=server,
        description=draw(texts),
        input_schema=top,
        output_schema=output if isinstance(output, dict) else None,
    )


def _only_strings_carry_text(source: str) -> None:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            assert token.string.isascii() and "\\" not in token.string, token


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tools())
def test_any_schema_compiles_imports_and_calls(tool: ToolDefinition) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = PythonCodeGenerator(tmp).generate_from_tools([tool])
        source = result.modules["fuzz"].read_text(encoding="utf-8")
        compile(source, "fuzz", "exec")
        _only_strings_carry_text(source)
        required = [k for k in tool.input_schema["required"] if isinstance(k, str)]
        arguments = {key: None for key in required}

        async def call() -> list[tuple[str, dict[str, Any]]]:
            calls: list[tuple[str, dict[str, Any]]] = []

            async def caller(name: str, args: dict[str, Any]) -> Any:
                calls.append((name, args))

            importlib.import_module("generated.client").set_caller(caller)
            function = getattr(import_server("fuzz"), tool.python_name)
            await function(dict(arguments))
            return calls

        with generated_on_path(Path(tmp)):
            calls = asyncio.run(call())
        assert calls == [(tool.qualified_name, arguments)]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(tools("fuzz_a"), min_size=10, max_size=10), st.lists(tools("fuzz_b"), min_size=10, max_size=10))
def test_any_schema_passes_mypy_strict(first: list[ToolDefinition], second: list[ToolDefinition]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        PythonCodeGenerator(tmp).generate_from_tools([*first, *second])
        run_mypy(Path(tmp))
