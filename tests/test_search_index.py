"""SearchIndex behaviour a user notices: what ranks first, what matches, what stays current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemode_tui import MCPServerConfig, ToolDefinition, ToolRegistry
from codemode_tui.search import SearchIndex, SearchResult, split_words, stem, terms

CATALOGS = Path(__file__).parent / "catalogs"


def catalog(name: str, server: str | None = None) -> list[ToolDefinition]:
    data = json.loads((CATALOGS / f"{name}.json").read_text(encoding="utf-8"))
    return [ToolDefinition.from_dict(server or data.get("server", name), entry) for entry in data["tools"]]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(catalog("filesystem") + catalog("git") + catalog("time") + catalog("demo") + catalog("memory"))


def tool(name: str, server: str = "s", description: str = "", **schema: object) -> ToolDefinition:
    input_schema = {"type": "object", "properties": schema}
    return ToolDefinition(name=name, server=server, description=description, input_schema=input_schema)


# -- tokenizing -------------------------------------------------------------------


def test_names_split_in_every_convention() -> None:
    assert split_words("readFile") == ["read", "file"]
    assert split_words("read_file") == ["read", "file"]
    assert split_words("read-file") == ["read", "file"]
    assert split_words("fs.readFile") == ["fs", "read", "file"]
    assert split_words("getHTTPResponse2") == ["get", "http", "response", "2"]
    assert split_words("überprüfe_Datei") == ["überprüfe", "datei"]


def test_stems_meet_across_word_forms_and_stop_words_vanish() -> None:
    assert stem("files") == stem("file")
    assert stem("directories") == stem("directory")
    assert stem("creating") == stem("created") == stem("create")
    assert stem("running") == "run"
    assert stem("ls") == "ls" and stem("git") == "git"
    assert terms("Show me all of the files") == ["show", stem("files")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_tokenizes_to_lowercase_words(text: str) -> None:
    for word in split_words(text):
        assert word and word == word.lower() and "_" not in word and " " not in word


# -- ranking --------------------------------------------------------------------------


def test_exact_name_and_qualified_name_rank_first(index: SearchIndex) -> None:
    result = index.search("git_log")
    assert result.names[0] == "git__git_log" and result.hits[0].exact
    assert index.search("time__convert_time").names[0] == "time__convert_time"
    assert index.search("filesystem.read_file").names[0] == "filesystem__read_file"
    # a bare name two servers share: both first, the rest after
    assert set(index.search("read_file").names[:2]) == {"filesystem__read_file", "demo__read_file"}


def test_results_are_ranked_with_scores_total_and_truncation(index: SearchIndex) -> None:
    result = index.search("read a file", limit=3)
    assert isinstance(result, SearchResult)
    assert len(result.hits) == 3 and result.total > 3 and result.truncated
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert result.query == "read a file"
    assert result.to_dict()["returned"] == 3


def test_stop_words_alone_match_nothing(index: SearchIndex) -> None:
    for query in ("a", "the", "what is it", "all of them", "  ", ""):
        assert index.search(query).total == 0, query


def test_shell_words_and_synonyms_find_tools(index: SearchIndex) -> None:
    assert "filesystem__list_directory" in index.search("ls", limit=5).names
    assert "filesystem__create_directory" in index.search("mkdir", limit=3).names
    assert "filesystem__move_file" in index.search("rename a file", limit=3).names


def test_typos_in_names_are_forgiven(index: SearchIndex) -> None:
    assert set(index.search("reed_file", limit=5).names) >= {"filesystem__read_file", "demo__read_file"}
    assert index.search("git comit", limit=1).names == ["git__git_commit"]
    assert index.search("calculte", limit=1).names == ["demo__calculate"]


def test_search_as_you_type_matches_prefixes(index: SearchIndex) -> None:
    seen = [index.search(prefix, limit=5).names for prefix in ("cal", "calc", "calcu")]
    assert all(names and names[0] == "demo__calculate" for names in seen)
    assert "git__git_checkout" in index.search("git check", limit=3).names
    # while typing, "add" may still become "address"; once the word is finished (a space follows), it may not
    idx = SearchIndex([tool("add_numbers", description="Sum numbers"), tool("lookup_address", description="Geocode")])
    assert idx.search("add").names == ["s__add_numbers", "s__lookup_address"]
    assert idx.search("add ").names == ["s__add_numbers"]


def test_description_and_parameter_words_count(index: SearchIndex) -> None:
    assert index.search("timezone", limit=2).names[0].startswith("time__")
    assert "time__convert_time" in index.search("target timezone", limit=2).names


def test_server_filter_and_server_name_as_a_word(index: SearchIndex) -> None:
    only_git = index.search("show changes", server="git", limit=20)
    assert only_git.names and all(name.startswith("git__") for name in only_git.names)
    assert index.search("read", server="nope").total == 0
    assert index.search("memory graph", limit=1).names[0].startswith("memory__")


def test_match_all_keeps_tools_with_every_word(index: SearchIndex) -> None:
    result = index.search("delete relations", limit=None, match_all=True)
    assert result.names == ["memory__delete_relations"] or result.names[0] == "memory__delete_relations"
    assert all("delet" in " ".join(terms(hit.tool.description + " " + hit.tool.name)) for hit in result.hits)


def test_unicode_and_odd_names_are_searchable() -> None:
    idx = SearchIndex([tool("überprüfe_Datei", description="Prüft eine Datei"), tool("x", description="")])
    assert idx.search("datei").names == ["s__überprüfe_Datei"]
    assert idx.search("x").names == ["s__x"]


# -- keeping current ------------------------------------------------------------------


def test_update_and_remove_server_are_incremental() -> None:
    idx = SearchIndex([tool("send_mail", "mail", "Send an email"), tool("get_weather", "weather", "Forecast")])
    assert idx.search("email").names == ["mail__send_mail"]
    idx.update_server("mail", [tool("send_sms", "mail", "Send a text message")])
    assert idx.search("email").total == 0
    assert idx.search("text message").names == ["mail__send_sms"]
    idx.remove_server("weather")
    assert idx.search("forecast").total == 0 and len(idx) == 1


def test_incremental_updates_rank_like_a_fresh_build() -> None:
    tools = catalog("filesystem") + catalog("git") + catalog("memory")
    grown = SearchIndex(catalog("filesystem"))
    grown.update_server("git", catalog("git"))
    grown.update_server("memory", catalog("memory"))
    fresh = SearchIndex(tools)
    for query in ("read a file", "commit history", "delete entities", "list branches", "create"):
        assert grown.search(query).names[:3] == fresh.search(query).names[:3], query


async def test_registry_search_follows_servers_added_loaded_and_removed() -> None:
    async with ToolRegistry() as registry:
        registry.add_server(MCPServerConfig(name="fs", command="unused"))
        assert (await registry.search_tools("read")).total == 0
        registry.load_tools("fs", catalog("filesystem", server="fs"))
        result = await registry.search_tools("read a file", limit=3)
        assert result.names[0].startswith("fs__read")
        registry.add_server(MCPServerConfig(name="git", command="unused"))
        registry.load_tools("git", catalog("git"))
        assert (await registry.search_tools("commit history", limit=1)).names == ["git__git_log"]
        assert (await registry.search_tools("read", server="git")).total == 0
        registry.remove_server("fs")
        assert (await registry.search_tools("read a file")).names[:1] != ["fs__read_file"]
        assert all(not name.startswith("fs__") for name in (await registry.search_tools("file", limit=50)).names)
        with pytest.raises(KeyError, match="did you mean git"):
            await registry.search_tools("x", server="gti")
