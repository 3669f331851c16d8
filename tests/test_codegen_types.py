"""JSON Schema -> Python types: each construct maps to the most precise type it allows."""

from __future__ import annotations

import ast
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codemode_tui.codegen.literals import docstring_literal, py_literal
from codemode_tui.codegen.schema_types import SchemaConverter, TypedDictDef, TypeNamespace


def convert(schema: object, name: str = "ToolOutput") -> tuple[str, TypeNamespace]:
    ns = TypeNamespace()
    expr = SchemaConverter(ns).convert_root(schema, name)
    ns.finish()
    return expr.text, ns


def fields(ns: TypeNamespace, name: str) -> dict[str, tuple[str, bool]]:
    definition = ns.definitions[name]
    assert isinstance(definition, TypedDictDef)
    return {f.key: (f.type.text, f.required) for f in definition.fields}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "str"),
        ({"type": "integer"}, "int"),
        ({"type": "number"}, "float"),
        ({"type": "boolean"}, "bool"),
        ({"type": "null"}, "None"),
        ({"type": "array", "items": {"type": "integer"}}, "list[int]"),
        ({"type": "array"}, "list[Any]"),
        ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}, "list[str | int]"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, "dict[str, float]"),
        ({"type": "object"}, "dict[str, Any]"),
        (
            {"type": "object", "patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
            "dict[str, str]",
        ),
        ({"enum": ["a", "b"]}, "Literal['a', 'b']"),
        ({"enum": ["a", None]}, "Literal['a'] | None"),
        ({"enum": [1, True, "x"]}, "Literal[1, True, 'x']"),
        ({"enum": [1.5, 2.5]}, "float"),
        ({"const": "fixed"}, "Literal['fixed']"),
        ({"type": ["string", "null"]}, "str | None"),
        ({"type": ["string", "integer"]}, "str | int"),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "str | int"),
        ({"oneOf": [{"type": "string"}, {"type": "null"}]}, "str | None"),
        ({"type": "string", "nullable": True}, "str | None"),
        ({"allOf": [{"type": "integer"}]}, "int"),
        ({}, "Any"),
        (True, "Any"),
        ({"type": "string", "anyOf": [{"minLength": 1}, {"pattern": "x"}]}, "str"),
    ],
)
def test_json_schema_constructs(schema: object, expected: str) -> None:
    assert convert(schema)[0] == expected


def test_object_becomes_typed_dict_with_required_and_not_required() -> None:
    text, ns = convert(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "array", "items": {"type": "object", "properties": {"x": {}}}},
            },
            "required": ["a"],
        }
    )
    assert text == "ToolOutput"
    assert fields(ns, "ToolOutput") == {"a": ("str", True), "b": ("list[ToolOutputBItem]", False)}
    assert fields(ns, "ToolOutputBItem") == {"x": ("Any", False)}


def test_defs_and_refs_become_named_types_shared_by_refs() -> None:
    schema = {
        "type": "object",
        "properties": {"source": {"$ref": "#/$defs/TimeResult"}, "target": {"$ref": "#/$defs/TimeResult"}},
        "required": ["source", "target"],
        "$defs": {
            "TimeResult": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
            "Unused": {"type": "string"},
        },
    }
    _, ns = convert(schema)
    assert fields(ns, "ToolOutput") == {"source": ("TimeResult", True), "target": ("TimeResult", True)}
    assert "Unused" not in ns.definitions


def test_recursive_refs() -> None:
    schema = {
        "$ref": "#/definitions/Node",
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                    "value": {"$ref": "#/definitions/Json"},
                },
            },
            "Json": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"$ref": "#/definitions/Json"}},
                    {"type": "null"},
                ]
            },
        },
    }
    text, ns = convert(schema)
    assert text == "Node"
    assert fields(ns, "Node") == {"children": ("list[Node]", False), "value": ("Json", False)}
    assert ns.definitions["Json"].type.text == "str | list[Json] | None"  # type: ignore[union-attr]


def test_self_reference_to_the_root() -> None:
    text, ns = convert({"type": "object", "properties": {"parent": {"$ref": "#"}}}, "TreeInput")
    assert text == "TreeInput"
    assert fields(ns, "TreeInput") == {"parent": ("TreeInput", False)}


def test_alias_that_only_refers_to_itself_becomes_any() -> None:
    schema = {
        "type": "object",
        "properties": {"loop": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]}, "B": {"$ref": "#/$defs/A"}},
    }
    _, ns = convert(schema)
    aliases = {name: d.type for name, d in ns.definitions.items() if not isinstance(d, TypedDictDef)}
    assert fields(ns, "ToolOutput")["loop"][0] in aliases
    # The cycle is cut where it closes: one alias in it is Any, the others may name it.
    assert any(expr.is_any and expr.notes for expr in aliases.values())
    for name, expr in aliases.items():
        assert name not in expr.bare_refs


def test_all_of_merges_objects_and_refs() -> None:
    schema = {
        "allOf": [
            {"$ref": "#/$defs/Base"},
            {"type": "object", "properties": {"extra": {"type": "integer"}}, "required": ["extra"]},
        ],
        "$defs": {"Base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
    }
    text, ns = convert(schema)
    assert fields(ns, text) == {"id": ("str", True), "extra": ("int", True)}


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/remote.json"},
        {"$ref": "#/$defs/missing"},
        {"type": "no-such-type"},
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        {"type": "object", "properties": {"x": 42}},
        {"enum": list(range(1000))},
        {"$ref": 5},
        False,
        "not a schema",
    ],
)
def test_what_it_cannot_understand_falls_back_to_any_with_a_note(schema: object) -> None:
    ns = TypeNamespace()
    expr = SchemaConverter(ns).convert(schema, schema, "T", 0)
    assert "Any" in expr.text or expr.text in {"int", "dict[str, Any]"} or expr.text.startswith("T")
    notes = list(expr.notes)
    for definition in ns.definitions.values():
        notes += [note for f in getattr(definition, "fields", []) for note in f.type.notes]
    if schema not in ({"enum": list(range(1000))},):
        assert notes, f"no note explains the fallback for {schema!r}"


def test_deeply_nested_schema_does_not_crash() -> None:
    schema: dict[str, object] = {"type": "string"}
    for _ in range(500):
        schema = {"type": "array", "items": schema}
    text, _ = convert(schema)
    assert text.startswith("list[list[") and "Any" in text


@given(st.text())
def test_docstring_literal_round_trips_any_text(text: str) -> None:
    literal = docstring_literal(text)
    assert ast.literal_eval(literal) == text
    tree = ast.parse(f"def f():\n    {docstring_literal(text, indent='    ')}\n")
    assert len(tree.body) == 1 and len(tree.body[0].body) == 1  # type: ignore[attr-defined]


def test_indented_docstring_reads_back_clean() -> None:
    text = 'Line one\n\nLine "two" \\ with """ quotes""'
    namespace: dict[str, object] = {}
    exec(compile(f"def f():\n    {docstring_literal(text, indent='    ')}\n", "t", "exec"), namespace)
    assert inspect.getdoc(namespace["f"]) == text


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_py_literal_round_trips_json_values(value: object) -> None:
    source = py_literal(value)
    assert source is not None
    assert ast.literal_eval(source) == value


def test_py_literal_refuses_what_has_no_literal() -> None:
    assert py_literal(float("nan")) is None
    assert py_literal({1: "x"}) is None
    assert py_literal(object()) is None
