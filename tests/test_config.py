"""Server configuration: the mcpServers file, validation, import and safe writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codemode_tui import paths
from codemode_tui.config import ConfigError, MCPServerConfig, dump_servers, load_servers, parse_servers, save_servers
from codemode_tui.workspace import Workspace

CLAUDE_DESKTOP = {
    "mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
            "env": {"DEBUG": "1"},
        },
        "api": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}},
        "legacy": {"type": "sse", "url": "http://localhost:8000/sse"},
        "vscode": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"], "disabled": True},
    }
}


def test_mcp_codemode_form_and_transport_inference() -> None:
    fs = MCPServerConfig(name="fs", transport="stdio", command="npx", args=["-y", "x"])
    assert fs.transport == "stdio"
    assert MCPServerConfig(name="t", command="mcp-server-time").transport == "stdio"
    assert MCPServerConfig(name="w", url="http://localhost:1/mcp").transport == "http"
    assert MCPServerConfig(name="s", transport="streamable-http", url="http://h/mcp").transport == "http"
    with pytest.raises(ValueError, match="command"):
        MCPServerConfig(name="x", transport="stdio")
    with pytest.raises(ValueError, match="url"):
        MCPServerConfig(name="x", transport="sse")
    with pytest.raises(ValueError, match="http://"):
        MCPServerConfig(name="x", url="ftp://nope")


def test_claude_desktop_file_round_trips() -> None:
    servers = parse_servers(json.dumps(CLAUDE_DESKTOP))
    assert servers["filesystem"].transport == "stdio"
    assert servers["filesystem"].env == {"DEBUG": "1"}
    assert servers["api"].transport == "http" and servers["api"].headers["Authorization"] == "Bearer x"
    assert servers["legacy"].transport == "sse"
    assert servers["vscode"].enabled is False
    again = parse_servers(dump_servers(servers.values()))
    assert again == servers
    dumped = json.loads(dump_servers(servers.values()))["mcpServers"]
    assert dumped["filesystem"] == CLAUDE_DESKTOP["mcpServers"]["filesystem"]  # copied out as users wrote it


@pytest.mark.parametrize(
    ("text", "server", "field", "words"),
    [
        ("{not json", None, None, "not valid JSON (line 1"),
        ('{"mcpServers": []}', None, "mcpServers", "must be an object"),
        ('{"mcpServers": {"a": {"args": ["x"]}}}', "a", None, "'command'"),
        ('{"mcpServers": {"a": {"command": "x", "args": "notalist"}}}', "a", "args", "valid list"),
        ('{"mcpServers": {"a": {"url": "http://h", "timeout": -1}}}', "a", "timeout", "greater than 0"),
        ('{"mcpServers": {"a": 5}}', "a", None, "expected an object"),
    ],
)
def test_invalid_file_names_file_server_and_field_and_is_untouched(
    tmp_path: Path, text: str, server: str | None, field: str | None, words: str
) -> None:
    path = tmp_path / "servers.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_servers(path)
    assert err.value.file == path and str(path) in str(err.value)
    assert err.value.server == server
    assert err.value.field == field
    assert words in str(err.value)
    assert path.read_text() == text


def test_workspace_keeps_a_broken_file_and_refuses_to_overwrite_it() -> None:
    path = paths.servers_file()
    path.parent.mkdir(parents=True)
    path.write_text('{"mcpServers": {"a": {"command": 1}}}')
    workspace = Workspace()
    assert workspace.load_error is not None and workspace.load_error.server == "a"
    with pytest.raises(ConfigError, match="not overwritten"):
        workspace.add_server(MCPServerConfig(name="b", command="x"))
    assert path.read_text() == '{"mcpServers": {"a": {"command": 1}}}'
    assert workspace.registry.server_names == []


def test_first_start_creates_the_demo_configuration(isolated_home: Path) -> None:
    workspace = Workspace()
    assert paths.servers_file() == isolated_home / "config" / "servers.json"
    saved = load_servers(paths.servers_file())
    assert list(saved) == ["demo"]
    assert saved["demo"].args[-1] == "demo-server"
    assert workspace.registry.server_names == ["demo"]


def test_home_variable_roots_all_folders(isolated_home: Path) -> None:
    assert paths.config_dir() == isolated_home / "config"
    assert paths.data_dir() == isolated_home / "data"
    assert paths.cache_dir() == isolated_home / "cache"


def test_import_merges_and_reports_conflicts(tmp_path: Path) -> None:
    workspace = Workspace()
    other = tmp_path / "claude_desktop_config.json"
    clash = {"mcpServers": {**CLAUDE_DESKTOP["mcpServers"], "demo": {"command": "something-else"}}}
    other.write_text(json.dumps(clash))
    report = workspace.import_servers(other)
    assert sorted(report.added) == ["api", "filesystem", "legacy", "vscode"]
    assert report.conflicts == ["demo"]
    saved = load_servers(paths.servers_file())
    assert saved["demo"].command != "something-else"  # the user's own entry survives
    assert set(saved) == {"demo", "api", "filesystem", "legacy", "vscode"}
    report = workspace.import_servers(other, replace=True)
    assert "demo" in report.replaced
    assert load_servers(paths.servers_file())["demo"].command == "something-else"


def test_export_writes_a_file_other_clients_read(tmp_path: Path) -> None:
    workspace = Workspace()
    out = tmp_path / "export.json"
    workspace.export_servers(out)
    assert set(json.loads(out.read_text())["mcpServers"]) == {"demo"}


def test_crash_during_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "servers.json"
    save_servers(path, [MCPServerConfig(name="old", command="x")])
    before = path.read_text()

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)  # simulates a crash between write and rename
    with pytest.raises(OSError):
        save_servers(path, [MCPServerConfig(name="new", command="y")])
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["servers.json"]  # no temp file left


def test_config_path_is_used_as_is_and_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"mcpServers": {"t": {"command": "mcp-server-time"}}}))
    before = path.read_text()
    workspace = Workspace(path)
    workspace.add_server(MCPServerConfig(name="x", command="y"))
    assert path.read_text() == before
    assert not paths.servers_file().exists()


def test_defer_loading_is_read_from_the_entry_and_written_back_only_when_true() -> None:
    text = json.dumps({"mcpServers": {"big": {"command": "x", "deferLoading": True}, "small": {"command": "y"}}})
    servers = parse_servers(text)
    assert servers["big"].defer_loading is True
    assert servers["small"].defer_loading is False
    dumped = json.loads(dump_servers(servers.values()))["mcpServers"]
    assert dumped["big"]["deferLoading"] is True
    assert "deferLoading" not in dumped["small"]
    assert parse_servers(dump_servers(servers.values())) == servers
