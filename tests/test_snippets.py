"""Snippet store, parameters, history and the skill format (no sandbox needed here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codemode_tui.config import MCPServerConfig
from codemode_tui.registry import ToolDefinition
from codemode_tui.snippets import (
    RunHistory,
    RunRecord,
    Snippet,
    SnippetError,
    SnippetParam,
    SnippetStore,
    check_description,
    check_name,
    export_skill,
    fileformat,
    import_skill,
    used_tools,
)

CODE = """\
from generated.servers.demo import list_notes, calculate
import generated.servers.demo as d
notes = await list_notes(tag=tag)
total = await calculate(a=len(notes), b=extra, op="add")
await d.search_notes(query="x")
print(f"{len(notes)} notes")
total
"""

TOOLS = [ToolDefinition(name=n, server="demo") for n in ("list_notes", "calculate", "search_notes", "read_file")]


def make(name: str = "count-notes", **kw: object) -> Snippet:
    params = [SnippetParam("tag", "str", "work", "Only notes with this tag"), SnippetParam("extra", "int", 0)]
    return Snippet(name=name, code=CODE, description="Count the notes with a tag", parameters=params, **kw)


def test_names_at_and_past_the_limits() -> None:
    assert check_name("a") == "a"
    assert check_name("a" * 64) == "a" * 64
    for bad, words in [
        ("a" * 65, "at most 64"),
        ("", "empty"),
        ("Summarize Notes", "e.g. 'summarize-notes'"),
        ("-lead", "hyphen"),
        ("trail-", "hyphen"),
        ("dou--ble", "single hyphens"),
        ("under_score", "e.g. 'under-score'"),
    ]:
        with pytest.raises(SnippetError, match=words):
            check_name(bad)


def test_descriptions_must_suit_simple_parsers() -> None:
    assert check_description("x" * 1024)
    with pytest.raises(SnippetError, match="1024"):
        check_description("x" * 1025)
    with pytest.raises(SnippetError, match="' - '"):
        check_description("Notes: a summary")
    with pytest.raises(SnippetError, match="one line"):
        check_description("two\nlines")
    assert check_description("ratio 3:1 is fine")


def test_tools_are_detected_from_imports_and_calls() -> None:
    uses = {(u.module, u.function) for u in used_tools(CODE)}
    assert uses == {("demo", "list_notes"), ("demo", "calculate"), ("demo", "search_notes")}
    assert used_tools("this is not python(") == []


def test_save_list_get_rename_delete(isolated_home: Path) -> None:
    store = SnippetStore()
    saved = store.save(make(), tools=TOOLS)
    assert saved.tools == ["demo__calculate", "demo__list_notes", "demo__search_notes"]
    assert saved.servers == ["demo"]
    assert saved.created and saved.updated
    path = isolated_home / "data" / "snippets" / "count-notes.py"
    text = path.read_text()
    assert text.startswith("# /// codemode-snippet\n") and CODE in text  # readable, runnable file
    again = store.get("count-notes")
    assert again.code == CODE and again.parameters[0].default == "work" and again.parameters[1].type == "int"
    with pytest.raises(SnippetError, match="already exists"):
        store.save(make(), overwrite=False)
    store.save(Snippet(name="other", code="print('hello')\n", description="Say hello"))
    assert [s.name for s in store.search("count notes")] == ["count-notes"]
    renamed = store.rename("count-notes", "tally-notes")
    assert renamed.created == saved.created
    assert [s.name for s in store.list()] == ["other", "tally-notes"]
    with pytest.raises(SnippetError, match="already exists"):
        store.rename("other", "tally-notes")
    store.delete("other")
    with pytest.raises(SnippetError, match="did you mean tally-notes"):
        store.get("tally-note")


def test_corrupt_files_are_reported_kept_and_skipped(isolated_home: Path) -> None:
    store = SnippetStore()
    store.save(make())
    folder = isolated_home / "data" / "snippets"
    (folder / "broken.py").write_text("# /// codemode-snippet\n# name = \n# ///\nprint(1)\n")
    (folder / "plain.py").write_text("print('no header')\n")
    (folder / "unclosed.py").write_text('# /// codemode-snippet\n# name = "unclosed"\nprint(1)\n')
    assert [s.name for s in store.list()] == ["count-notes"]
    assert {p.name for p in store.problems} == {"broken.py", "plain.py", "unclosed.py"}
    assert "not valid TOML" in store.problems[folder / "broken.py"]
    assert (folder / "broken.py").exists() and (folder / "plain.py").read_text() == "print('no header')\n"


def test_crash_during_save_keeps_the_old_version(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SnippetStore()
    store.save(make())
    before = store.path("count-notes").read_text()

    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)  # the crash lands between writing and renaming
    changed = make()
    changed.code = "print('new version')\n"
    with pytest.raises(OSError):
        store.save(changed)
    monkeypatch.undo()
    assert store.path("count-notes").read_text() == before
    assert [p.name for p in store.folder.iterdir()] == ["count-notes.py"]


def test_parameters_are_typed_and_checked_before_a_run() -> None:
    snippet = make()
    assert snippet.bind({"tag": "home", "extra": "3"}) == {"tag": "home", "extra": 3}
    assert snippet.bind({}) == {"tag": "work", "extra": 0}
    with pytest.raises(SnippetError, match="expects int"):
        snippet.bind({"extra": "three"})
    with pytest.raises(SnippetError, match="no parameter 'tga'"):
        snippet.bind({"tga": "x"})
    required = Snippet(name="r", code="x", parameters=[SnippetParam("count", "int")])
    with pytest.raises(SnippetError, match="needs a value for parameter 'count'"):
        required.bind({})
    spec = SnippetParam.parse_spec("ids:list=[1, 2]")
    assert spec.default == [1, 2]
    assert SnippetParam.parse_spec("flag:bool=yes").default is True
    with pytest.raises(SnippetError, match="use one of"):
        SnippetParam.parse_spec("x:number")


def test_file_format_round_trips_awkward_values() -> None:
    params = [
        SnippetParam("q", "str", 'quote " and \\ and\nnewline and ünïcode'),
        SnippetParam("cfg", "dict", {"a": [1, {"b": None}]}),
        SnippetParam("f", "float", 2.5),
        SnippetParam("items", "list", ["x", "y"]),
    ]
    snippet = Snippet(name="awkward", code="print(q)", description="d", parameters=params)
    again = fileformat.parse(fileformat.render(snippet))
    assert [p.to_dict() for p in again.parameters] == [p.to_dict() for p in params]


def test_history_keeps_the_last_runs(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.jsonl", limit=20)
    for i in range(45):
        history.add(RunRecord(code=f"print({i})", status="ok", duration=0.1, output="x" * 5000))
    runs = history.list()
    assert len(runs) == 20 and runs[0].code == "print(44)" and runs[-1].code == "print(25)"
    assert len(runs[0].output) == 2000
    assert history.get(runs[3].id) == runs[3]
    with (tmp_path / "history.jsonl").open("a") as handle:
        handle.write("{damaged\n")
    assert len(history.list()) == 20


SECRET = "sk-live-very-secret-value"


def export(tmp_path: Path, snippet: Snippet | None = None) -> Path:
    servers = {
        "demo": MCPServerConfig(
            name="demo", command="python", args=["-m", "codemode_tui", "demo-server"], env={"DEMO_TOKEN": SECRET}
        ),
    }
    saved = SnippetStore().save(snippet or make(), tools=TOOLS)
    return export_skill(saved, tmp_path / "skills", servers=servers, tools=TOOLS, license="MIT")


def test_export_layout_and_no_secrets(tmp_path: Path) -> None:
    folder = export(tmp_path)
    assert folder.name == "count-notes"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["SKILL.md", "references/tools.md", "scripts/count_notes.py", "scripts/servers.json"]
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text()
    servers = json.loads((folder / "scripts" / "servers.json").read_text())["mcpServers"]
    assert servers["demo"]["env"] == {"DEMO_TOKEN": "${DEMO_TOKEN}"}
    skill_md = (folder / "SKILL.md").read_text()
    assert "`DEMO_TOKEN`" in skill_md and "--tag" in skill_md
    assert "demo__list_notes" in (folder / "references" / "tools.md").read_text()


def test_export_loads_with_both_agent_skills_loaders(tmp_path: Path) -> None:
    agent_skills = pytest.importorskip("agent_skills")
    folder = export(tmp_path)
    skill = agent_skills.AgentSkill.from_skill_md(folder)
    assert skill.name == "count-notes"
    assert skill.description == "Count the notes with a tag"
    assert skill.allowed_tools == ["demo__calculate", "demo__list_notes", "demo__search_notes"]
    assert skill.get_required_env_vars() == ["DEMO_TOKEN"]
    manager = agent_skills.SkillsManager(str(tmp_path / "skills"))
    found = manager.discover()
    assert [s.metadata.name for s in found] == ["count-notes"]
    assert found[0].metadata.description == "Count the notes with a tag"
    assert found[0].metadata.allowed_tools == skill.allowed_tools


def test_export_refuses_bad_descriptions_and_existing_folders(tmp_path: Path) -> None:
    bad = make()
    bad.description = "Notes: counted"
    with pytest.raises(SnippetError, match="': '"):
        export_skill(bad, tmp_path, servers={}, tools=[])
    export(tmp_path)
    before = (tmp_path / "skills" / "count-notes" / "SKILL.md").read_text()
    with pytest.raises(SnippetError, match="already exists"):
        export(tmp_path)
    assert (tmp_path / "skills" / "count-notes" / "SKILL.md").read_text() == before
    assert sorted(p.name for p in (tmp_path / "skills").iterdir()) == ["count-notes"]


def test_import_round_trip(tmp_path: Path) -> None:
    folder = export(tmp_path)
    snippet = import_skill(folder)
    assert snippet.name == "count-notes" and snippet.code == CODE
    assert [p.to_dict() for p in snippet.parameters] == [p.to_dict() for p in make().parameters]
    assert snippet.servers == ["demo"]
    with pytest.raises(SnippetError, match=r"no SKILL\.md"):
        import_skill(tmp_path)


def test_history_records_how_a_run_ended(tmp_path: Path) -> None:
    from codemode_tui.executor.run_result import NOTE_INTERRUPTED, RunError, RunResult

    history = RunHistory(tmp_path / "history.jsonl")
    stopped = RunResult(run_id="a", error=RunError("KeyboardInterrupt", ""), notes=[NOTE_INTERRUPTED])
    timed_out = RunResult(run_id="b", error=RunError("TimeoutError", "timed out"), timed_out=True)
    failed = RunResult(run_id="c", error=RunError("ZeroDivisionError", "division by zero"))
    fine = RunResult(run_id="d", stdout="hi\n", duration=0.5)
    for result in (stopped, timed_out, failed, fine):
        history.add_run("code", result)
    assert [r.status for r in history.list()] == ["ok", "error", "timeout", "cancelled"]
    assert history.list()[1].error == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    ("make_param", "words"),
    [
        (lambda: SnippetParam("class", "str"), "Python keyword"),
        (lambda: SnippetParam("lambda", "int", 1), "Python keyword"),
        (lambda: SnippetParam("my-tag", "str"), "Python identifier"),
        (lambda: SnippetParam("2nd", "str"), "Python identifier"),
        (lambda: SnippetParam("ratio", "float", float("nan")), "finite number"),
        (lambda: SnippetParam("ratio", "float", "inf"), "finite number"),
        (lambda: SnippetParam("ratio", "float", "-Infinity"), "finite number"),
        (lambda: SnippetParam("cfg", "json", '{"x": NaN}'), "finite number"),
        (lambda: SnippetParam("items", "list", [1.0, float("inf")]), "finite number"),
        (lambda: SnippetParam("cfg", "dict", {1: "a"}), "read back"),
        (lambda: SnippetParam("count", "int", 10**5000), "too large"),
        (lambda: SnippetParam("count", "int", "12abc"), "expects int"),
        (lambda: SnippetParam("flag", "bool", "maybe"), "expects bool"),
        (lambda: SnippetParam("label", "str", 5), "expects str"),
        (lambda: SnippetParam("label", "str", "\ud800"), "UTF-8"),
    ],
)
def test_parameters_that_can_never_run_are_refused(make_param: object, words: str) -> None:
    with pytest.raises(SnippetError, match=words):
        make_param()  # type: ignore[operator]


def test_save_refuses_a_parameter_changed_after_it_was_made(isolated_home: Path) -> None:
    """The store checks again at save time: a default set later still has to run and read back."""
    store = SnippetStore()
    param = SnippetParam("ratio", "float", 0.5)
    param.default = float("nan")
    with pytest.raises(SnippetError, match="finite number"):
        store.save(Snippet(name="ratio", code="print(ratio)", parameters=[param]))
    assert not store.path("ratio").exists()


def test_saved_parameters_run_as_assigned(isolated_home: Path) -> None:
    """What passes the checks is valid Python once bound, and reads back unchanged."""
    params = [SnippetParam("match", "str", "soft keywords are fine"), SnippetParam("x", "float", -0.0)]
    saved = SnippetStore().save(Snippet(name="soft", code="print(match, x)", parameters=params))
    again = SnippetStore().get("soft")
    assert [p.to_dict() for p in again.parameters] == [p.to_dict() for p in saved.parameters]
    from codemode_tui.snippets.model import assignments

    namespace: dict[str, object] = {}
    exec(assignments(again.bind({})), namespace)  # the exact source a run starts with
    assert namespace["match"] == "soft keywords are fine"
