"""Identifier sanitizing and the one result unwrapper."""

from __future__ import annotations

import keyword

import mcp_types as types
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codemode_tui.names import assign_identifiers, sanitize_identifier
from codemode_tui.results import ImageResult, ResourceResult, ToolError, unwrap_result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("get-file", "get_file"),
        ("readFile", "read_file"),
        ("a.b", "a_b"),
        ("class", "class_"),
        ("1st", "_1st"),
        ("__import__", "import_"),
        ("", "tool"),
        ("---", "tool"),
        ("HTTPServer", "http_server"),
        ("café-menu", "cafe_menu"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize_identifier(raw) == expected


@given(st.text())
def test_sanitize_always_gives_a_safe_identifier(raw: str) -> None:
    name = sanitize_identifier(raw)
    assert name.isidentifier() and not keyword.iskeyword(name)
    assert not (name.startswith("__") and name.endswith("__"))


@given(st.lists(st.text(min_size=1), max_size=20))
def test_assigned_identifiers_are_distinct_and_order_independent(names: list[str]) -> None:
    first, _ = assign_identifiers(names)
    second, _ = assign_identifiers(list(reversed(names)))
    assert first == second
    assert len(set(first.values())) == len(set(names))


def _result(*blocks: object, structured: dict | None = None, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=list(blocks), structured_content=structured, is_error=error)


def test_unwrap_rules() -> None:
    text = types.TextContent(type="text", text='{"a": 1}')
    assert unwrap_result(_result(text)) == {"a": 1}
    assert unwrap_result(_result(types.TextContent(type="text", text="plain"))) == "plain"
    assert unwrap_result(_result(text, structured={"b": 2})) == {"b": 2}
    joined = unwrap_result(_result(types.TextContent(type="text", text="x"), types.TextContent(type="text", text="y")))
    assert joined == "x\ny"
    assert unwrap_result(_result()) is None
    image = types.ImageContent(type="image", data="aGk=", mime_type="image/png")
    mixed = unwrap_result(_result(types.TextContent(type="text", text="look"), image))
    assert mixed == ["look", ImageResult(data="aGk=", mime_type="image/png")]
    resource = types.EmbeddedResource(
        type="resource", resource=types.TextResourceContents(uri="file:///a.txt", text="hi", mime_type="text/plain")
    )
    assert unwrap_result(_result(resource)) == ResourceResult(uri="file:///a.txt", mime_type="text/plain", text="hi")
    with pytest.raises(ToolError, match="boom") as err:
        unwrap_result(_result(types.TextContent(type="text", text="boom"), error=True), server="s", tool="t")
    assert (err.value.server, err.value.tool) == ("s", "t")


def test_sdk_result_wrapper_is_removed_only_for_its_own_schema() -> None:
    wrapped = {
        "type": "object",
        "title": "addOutput",
        "properties": {"result": {"type": "number"}},
        "required": ["result"],
    }
    assert unwrap_result(_result(structured={"result": 3}), tool="add", output_schema=wrapped) == 3
    assert unwrap_result(_result(structured={"result": 3}), tool="other", output_schema=wrapped) == {"result": 3}
    assert unwrap_result(_result(structured={"result": 3})) == {"result": 3}
