"""The type check against the bindings: real ty, real bindings generated from the real demo server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from codemode_tui.check.checker import CodeChecker
from codemode_tui.check.diagnostic import Diagnostic, has_errors
from codemode_tui.executor.bindings import Bindings
from tests.conftest import demo_stdio_config, in_memory_registry


@pytest.fixture(scope="module")
def bindings_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo server's bindings, generated as a sandbox gets them."""

    async def generate() -> Path:
        registry = in_memory_registry(demo_stdio_config())
        try:
            outcome = await registry.discover_all()
            assert not outcome["demo"].error, outcome["demo"].error
            root = tmp_path_factory.mktemp("bindings")
            Bindings(root).refresh(registry.list_tools())
            return root
        finally:
            await registry.close()

    return asyncio.run(generate())


async def check(root: Path, code: str, **kwargs: object) -> list[Diagnostic]:
    async with CodeChecker(root) as checker:
        return await checker.check(code, **kwargs)  # type: ignore[arg-type]


def by_code(found: list[Diagnostic]) -> dict[str, list[Diagnostic]]:
    grouped: dict[str, list[Diagnostic]] = {}
    for d in found:
        grouped.setdefault(d.code, []).append(d)
    return grouped


async def test_correct_code_with_top_level_await_and_gather_has_no_diagnostics(bindings_root: Path) -> None:
    code = (
        "import asyncio\n"
        "from generated.servers.demo import add_note, calculate, read_file\n"
        "note = await add_note(title='groceries', tags=['home'])\n"
        "print(note['id'], note['title'].upper())\n"
        "total, text = await asyncio.gather(calculate(a=1, b=2), read_file({'path': 'a.txt'}))\n"
        "text.upper()\n"
    )
    assert await check(bindings_root, code) == []


async def test_a_missing_required_argument_and_a_misspelt_one_name_the_real_signature(bindings_root: Path) -> None:
    code = "from generated.servers.demo import add_note\nnote = await add_note(titel='x')\n"
    found = by_code(await check(bindings_root, code))
    [missing] = found["missing-argument"]
    assert (missing.line, missing.column, missing.severity) == (2, 14, "error")
    assert "`title` (str)" in missing.message and "add_note(title: str, body: str = ..." in missing.message
    [unknown] = found["unknown-argument"]  # ty's own report of the same keyword is replaced, not repeated
    assert (unknown.line, unknown.column) == (2, 23)
    assert "did you mean `title`?" in unknown.message


async def test_a_result_used_as_the_wrong_type_says_its_shape(bindings_root: Path) -> None:
    code = "from generated.servers.demo import add_note\nnote = await add_note(title='x')\nnote.upper()\n"
    [found] = await check(bindings_root, code)
    assert found.line == 3 and found.source == "ty"
    assert "has no attribute `upper`" in found.message
    assert "AddNoteOutput is a dict with keys 'id', 'title', 'body', 'tags', 'created'" in found.message


async def test_wrong_argument_types_and_literals_are_errors(bindings_root: Path) -> None:
    code = "from generated.servers import demo\nawait demo.calculate(a=1, b='2', op='mod')\n"
    found = await check(bindings_root, code)
    assert [d.code for d in found] == ["invalid-argument-type", "invalid-argument-type"]
    assert "Expected `float`" in found[0].message and "'power'" not in found[0].message
    assert '"mod"' in found[1].message and has_errors(found)


async def test_unknown_modules_and_tools_list_what_exists(bindings_root: Path) -> None:
    code = "import generated.servers.nope\nfrom generated.servers.demo import missing_tool\n"
    found = await check(bindings_root, code)
    assert [d.line for d in found] == [1, 2]
    assert "the server modules are demo" in found[0].message and "info:" not in found[0].message
    assert "missing_tool" in found[1].message


async def test_names_from_earlier_runs_are_known_and_positions_stay_those_of_the_code(bindings_root: Path) -> None:
    code = "print(rows)\nprint(nowhere)\n"
    found = await check(bindings_root, code, defined=["rows", "not a name", "class"])
    assert [(d.line, d.column, d.code) for d in found] == [(2, 7, "unresolved-reference")]


async def test_a_dict_missing_a_required_key_is_left_to_the_checker_and_still_found(bindings_root: Path) -> None:
    code = "from generated.servers.demo import write_file\nawait write_file({'path': 'a.txt'})\n"
    found = await check(bindings_root, code)
    # ty says it twice (wrong argument type, missing key): only the precise one is kept
    [missing] = found
    assert missing.code == "missing-typed-dict-key" and "'content'" in missing.message and missing.line == 2


async def test_one_warm_checker_rechecks_edits(bindings_root: Path) -> None:
    async with CodeChecker(bindings_root) as checker:
        first = await checker.check("from generated.servers.demo import read_file\nawait read_file()\n")
        assert [d.code for d in first] == ["missing-argument"]
        assert await checker.check("from generated.servers.demo import read_file\nawait read_file(path='x')\n") == []
        syntax = await checker.check("x = (\n")
        assert syntax and syntax[0].code == "invalid-syntax"


# -- the check before a run (executor, eval sandbox: these tests are about the check, not the kernel) --


async def test_block_runs_nothing_warn_runs_and_reports_off_skips(tmp_path: Path) -> None:
    from codemode_tui.executor import CodeModeConfig, CodeModeExecutor

    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    bad = (
        "from generated.servers.demo import add_note, write_file\n"
        "await add_note(title='kept')\n"
        "await write_file(path='x')\n"
    )
    async with in_memory_registry(demo) as registry:
        await registry.discover_all()
        executor = CodeModeExecutor(registry, CodeModeConfig(sandbox="eval", timeout=30, check="block"))
        try:
            blocked = await executor.execute(bad)
            assert blocked.checked and not blocked.success and blocked.trace == []  # no tool was called
            assert blocked.error is not None and blocked.error.type == "CheckError"
            assert "line 3" in blocked.error.message and "`content` (str)" in blocked.error.message
            assert [d.code for d in blocked.diagnostics] == ["missing-argument"]
            notes = await registry.call_tool("demo__list_notes", {})
            assert "kept" not in str(notes)

            warned = await executor.execute(bad, check="warn")  # runs: the first call happens, the second fails
            assert warned.checked and [d.code for d in warned.diagnostics] == ["missing-argument"]
            assert [call.tool for call in warned.trace] == ["add_note"] and not warned.success

            skipped = await executor.execute(bad, check="off")
            assert not skipped.checked and skipped.diagnostics == []

            plain = await executor.execute("1 + 1")  # no bindings used: not checked, as fast as before
            assert plain.value == 2 and not plain.checked

            await executor.execute("rows = [1, 2]")
            later = await executor.execute(
                "from generated.servers.demo import calculate\nawait calculate(a=rows[0], b=2)"
            )
            assert later.success and later.value == 3 and later.diagnostics == []  # names of earlier runs are known
            assert blocked.to_dict()["diagnostics"][0]["line"] == 3
        finally:
            await executor.cleanup()


async def test_serve_execute_code_returns_diagnostics_and_block_calls_nothing(tmp_path: Path) -> None:
    import json

    from mcp.client import Client

    from codemode_tui.executor import CodeModeConfig
    from codemode_tui.server_mode import build_server

    demo = demo_stdio_config(env={"CODEMODE_TUI_HOME": str(tmp_path / "demo-home")})
    code = "from generated.servers.demo import add_note\nnote = await add_note(title='x')\nnote.upper()\n"
    async with in_memory_registry(demo) as registry:
        await registry.discover_all()
        server = build_server(registry=registry, executor_config=CodeModeConfig(sandbox="eval"))
        async with Client(server) as client:
            answer = await client.call_tool("execute_code", {"code": code, "check": "block"})
            blocked = json.loads(answer.content[0].text)
            assert blocked["success"] is False and blocked["error"]["type"] == "CheckError" and blocked["trace"] == []
            [finding] = blocked["diagnostics"]
            assert finding["line"] == 3 and "AddNoteOutput is a dict with keys" in finding["message"]

            warned = json.loads((await client.call_tool("execute_code", {"code": code})).content[0].text)
            assert warned["diagnostics"][0]["line"] == 3  # warn is the default: it ran, and says why it failed
            assert warned["error"]["type"] == "AttributeError" and [c["tool"] for c in warned["trace"]] == [
                "demo__add_note"
            ]
