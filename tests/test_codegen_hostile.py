"""Hostile schemas: no name, description or value from a server can break or hijack the bindings."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import io
import keyword
import tokenize
from pathlib import Path
from typing import Any

from codemode_tui.codegen import PythonCodeGenerator, binding_source, example_call, signature
from codemode_tui.registry import ToolDefinition
from tests.codegen_helpers import generated_on_path, import_server, run_mypy

MARK = "PWNED"


def payloads(marker_file: Path) -> list[str]:
    """Texts that would run code (create ``marker_file``) if pasted into source."""
    code = f"__import__('pathlib').Path({str(marker_file)!r}).write_text({MARK!r})"
    return [
        f'"""\n{code}\n"""',
        f"'''\n{code}\n'''",
        f'\\"""; {code}; """',
        f'"\n{code}\n#',
        f"\\\n{code}",
        f'{code}"""',
        f"{MARK}\x00\r\n{code}\u2028{code}\u202e\ud800\U0001f600 end\\",
        f"\n# comment\n{code}  # {MARK}",
        f'"""{code}"""' * 3,
    ]


def hostile_tools(marker_file: Path) -> list[ToolDefinition]:
    texts = payloads(marker_file)
    evil = texts[0]
    props: dict[str, Any] = {
        key: {"type": "string", "description": text, "title": text, "default": text}
        for key, text in zip(
            [
                "a.b",
                "class",
                "1st",
                "__import__",
                "arguments",
                "str",
                "_cm_client",
                "x\"y'z",
                "ﬁle",
                "file",
                "Any",
                "",
                "__debug__",
                "None",
                "with space",
                "é",
            ],
            texts * 2,
            strict=False,
        )
    }
    props["choice"] = {"enum": [*texts, 1, True, None], "description": evil}
    props["nested"] = {"$ref": f"#/$defs/{evil}"}
    props["weird_ref"] = {"$ref": "#/$defs/" + texts[3].replace("/", "~1")}
    defs = {
        evil: {"type": "object", "properties": {t: {"const": t} for t in texts}, "description": evil},
        texts[3]: {"type": "array", "items": {"$ref": "#"}},
    }
    schema = {"type": "object", "properties": props, "required": ["a.b", "class", evil], "$defs": defs}
    huge = (evil + "A" * 1000) * 1000
    servers = ["my server!", evil, "__init__", "", "../../etc", "a.b", "server"]
    tools = [
        ToolDefinition(
            name=name,
            server=servers[i % len(servers)],
            description=texts[i % len(texts)],
            title=evil,
            input_schema=schema,
            annotations={"readOnlyHint": True, "title": evil},
        )
        for i, name in enumerate(["__import__", "class", "1st", "a.b", "get-file", "get_file", evil, "", "import"])
    ]
    output = {"type": "object", "title": evil, "properties": {evil: {"type": "string"}}, "required": [evil]}
    tools.append(
        ToolDefinition(name="huge", server="my server!", description=huge, input_schema=schema, output_schema=output)
    )
    return tools


def test_hostile_schemas_neither_break_nor_hijack_the_package(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    tools = hostile_tools(marker)
    out = tmp_path / "out"
    result = PythonCodeGenerator(out).generate_from_tools(tools)
    files = list((out / "generated").rglob("*.py"))
    assert len(result.modules) == 7

    for path in files:
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        # The payload text appears only inside string literals, never as code or a comment.
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if MARK in token.string or "write_text" in token.string:
                assert token.type == tokenize.STRING, (path, token)
        assert "\x00" not in source and "\u202e" not in source and "\u2028" not in source
    huge_module = result.modules[next(t.server_module for t in tools if t.name == "huge")]
    assert huge_module.stat().st_size < 400_000  # a 1 MB description is cut, not pasted

    async def call_everything() -> None:
        calls: list[tuple[str, dict[str, Any]]] = []

        async def caller(name: str, arguments: dict[str, Any]) -> Any:
            calls.append((name, arguments))
            return None

        importlib.import_module("generated.client").set_caller(caller)
        for t in tools:
            module = import_server(t.server_module)
            function = getattr(module, t.python_name)
            doc = inspect.getdoc(function) or ""
            assert t.description.strip().splitlines()[0][:100] in doc or t.name == "huge"
            await function({"a.b": "1", "class": "2", tools[0].input_schema["required"][2]: {}})
            assert calls[-1][0] == t.qualified_name
            assert calls[-1][1]["a.b"] == "1"

    with generated_on_path(out):
        asyncio.run(call_everything())
    assert not marker.exists(), "a description ran code"

    for t in tools:
        assert t.python_name.isidentifier() and not keyword.iskeyword(t.python_name)
        assert t.server_module.isidentifier() and not keyword.iskeyword(t.server_module)
        compile(binding_source(t), "preview", "exec")
        compile(signature(t) + ": pass", "signature", "exec")
        compile(f"async def f():\n    {example_call(t)}", "example", "exec")
    assert len({(t.server_module, t.python_name) for t in tools}) == len(tools)

    run_mypy(out)
    assert not marker.exists()


def test_keyword_names_for_hostile_keys(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {key: {"type": "integer"} for key in ["a.b", "a_b", "class", "1st", "arguments", "str", "ﬁle"]},
        "required": ["a.b"],
    }
    t = ToolDefinition(name="t", server="s", input_schema=schema)
    assert signature(t) == (
        "async def t(arguments: TInput | None = None, /, *, a_b_2: int = ..., a_b: int = ..., class_: int = ..., "
        "_1st: int = ..., arguments_: int = ..., str_: int = ..., file: int = ...) -> Any"
    )
    PythonCodeGenerator(tmp_path).generate_from_tools([t])

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def caller(name: str, arguments: dict[str, Any]) -> None:
            seen.update(arguments)

        importlib.import_module("generated.client").set_caller(caller)
        await import_server("s").t(a_b_2=1, a_b=2, class_=3, _1st=4, arguments_=5, str_=6, file=7)
        return seen

    with generated_on_path(tmp_path):
        sent = asyncio.run(scenario())
    assert sent == {"a.b": 1, "a_b": 2, "class": 3, "1st": 4, "arguments": 5, "str": 6, "ﬁle": 7}
