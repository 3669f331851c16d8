"""Other clients' config files import as users have them (samples under tests/client_configs/)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from codemode_tui import paths
from codemode_tui.config import (
    ConfigError,
    InputSpec,
    MCPServerConfig,
    dump_servers,
    load_servers,
    parse_client_config,
    parse_input_values,
    read_client_config,
    strip_jsonc,
)
from codemode_tui.registry import ToolRegistry
from codemode_tui.workspace import Workspace

SAMPLES = Path(__file__).parent / "client_configs"


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    """A copy of the samples: ``${workspaceFolder}`` then points at a folder the test owns."""
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target)
    return target


def test_claude_desktop(samples: Path) -> None:
    client = read_client_config(samples / "claude_desktop" / "claude_desktop_config.json")
    assert client.failed == {}
    servers = client.servers
    assert set(servers) == {"filesystem", "github", "remote"}
    assert servers["filesystem"].transport == "stdio" and servers["filesystem"].args[-1] == "/Users/me/Downloads"
    assert servers["github"].env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "<YOUR_TOKEN>"}


def test_claude_code_keeps_placeholders_and_fills_them_at_connect_time(samples: Path) -> None:
    client = read_client_config(samples / "claude_code" / ".mcp.json")
    assert client.failed == {}
    api = client.servers["api-server"]
    assert api.transport == "http"
    assert api.url == "${API_BASE_URL:-https://api.example.com}/mcp"
    assert api.headers == {"Authorization": "Bearer ${API_KEY}"}  # the secret stays a placeholder
    assert client.servers["events"].transport == "sse"
    assert api.unresolved({}) == ["API_KEY"]  # the one with a default is not needed
    filled = api.resolved({"API_KEY": "s3cret"})
    assert filled.url == "https://api.example.com/mcp"
    assert filled.headers == {"Authorization": "Bearer s3cret"}
    assert api.resolved({"API_KEY": "k", "API_BASE_URL": "http://localhost:9"}).url == "http://localhost:9/mcp"
    with pytest.raises(ConfigError, match="API_KEY") as err:
        api.resolved({})
    assert err.value.server == "api-server" and err.value.field == "headers.Authorization"


def test_cursor_env_and_workspace_folder_and_env_file(samples: Path) -> None:
    client = read_client_config(samples / "cursor" / ".cursor" / "mcp.json")
    assert client.failed == {}
    notes = client.servers["notes"]
    folder = (samples / "cursor").resolve()
    assert notes.args[-1] == f"{folder}/notes"  # the folder holding .cursor/, filled at import
    assert notes.env == {"NOTES_TOKEN": "${NOTES_TOKEN}"}  # ${env:VAR} is kept, in our one form
    assert notes.env_file == str(folder / ".env")
    assert client.servers["linear"].transport == "sse"  # a URL ending in /sse
    assert client.servers["context7"].transport == "http"
    filled = notes.resolved({"NOTES_TOKEN": "t"})
    assert filled.env == {"NOTES_LOG_LEVEL": "debug", "NOTES_REGION": "eu-west", "NOTES_TOKEN": "t"}
    entry = json.loads(dump_servers([notes]))["mcpServers"]["notes"]
    assert entry["envFile"] == str(folder / ".env")
    assert "debug" not in json.dumps(entry)  # the env file's values are read at connect time only


def test_vscode_mcp_json_with_comments_and_inputs(samples: Path) -> None:
    path = samples / "vscode" / ".vscode" / "mcp.json"
    client = read_client_config(path)
    key = InputSpec(id="perplexity-key", description="Perplexity API Key", password=True)
    assert client.missing_inputs == [key]
    assert client.failed == {"Perplexity": "needs a value for the input 'perplexity-key' (Perplexity API Key)"}
    assert set(client.servers) == {"github", "notes-demo"}  # the others are imported all the same
    assert client.servers["github"].url == "https://api.githubcopilot.com/mcp/"
    demo = client.servers["notes-demo"]
    assert demo.command == "${CODEMODE_PYTHON}"
    assert demo.env == {"CODEMODE_TUI_HOME": f"{path.parent.parent.resolve()}/.demo-home"}

    client = read_client_config(path, inputs={"perplexity-key": "pplx-123"})
    assert client.failed == {} and client.missing_inputs == []
    perplexity = client.servers["Perplexity"]
    assert perplexity.env == {"PERPLEXITY_API_KEY": "${PERPLEXITY_KEY}"}
    assert "pplx-123" not in dump_servers(client.servers.values())
    assert perplexity.resolved({}).env == {"PERPLEXITY_API_KEY": "pplx-123"}  # this session only

    saved = read_client_config(path, inputs={"perplexity-key": "pplx-123"}, save_inputs=True)
    assert saved.servers["Perplexity"].env == {"PERPLEXITY_API_KEY": "pplx-123"}  # the user chose so


def test_vscode_settings_json(samples: Path) -> None:
    client = read_client_config(samples / "vscode" / ".vscode" / "settings.json")
    assert client.failed == {}
    assert list(client.servers) == ["time"]
    assert client.servers["time"].args == ["mcp-server-time", "--local-timezone=Europe/Paris"]


def test_windsurf_server_url(samples: Path) -> None:
    client = read_client_config(samples / "windsurf" / "mcp_config.json")
    assert client.failed == {}
    assert client.servers["figma"].transport == "http" and client.servers["figma"].url == "https://mcp.figma.com/mcp"
    assert client.servers["figma"].headers == {"Authorization": "Bearer ${FIGMA_TOKEN}"}
    assert client.servers["local-sse"].transport == "sse"
    assert client.servers["github"].env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN}"}


def test_workspace_import_never_writes_secrets_and_reports_missing_inputs(samples: Path) -> None:
    workspace = Workspace()
    path = samples / "vscode" / ".vscode" / "mcp.json"
    report = workspace.import_servers(path)
    assert sorted(report.added) == ["github", "notes-demo"]
    assert list(report.failed) == ["Perplexity"] and report.missing_inputs[0].id == "perplexity-key"
    assert report.needs_env == {"notes-demo": ["CODEMODE_PYTHON"]}
    report = workspace.import_servers(path, inputs={"perplexity-key": "pplx-123"})
    assert report.added == ["Perplexity"] and report.failed == {}
    text = paths.servers_file().read_text()
    assert "pplx-123" not in text and "${PERPLEXITY_KEY}" in text
    assert workspace.servers["Perplexity"].resolved({}).env["PERPLEXITY_API_KEY"] == "pplx-123"
    again = workspace.import_servers(path, inputs={"perplexity-key": "pplx-123"})
    assert again.conflicts == []  # the same server again is no clash
    assert load_servers(paths.servers_file())["notes-demo"].env_file == str((samples / "vscode" / ".env").resolve())


async def test_a_server_from_a_vscode_file_connects_with_its_variables_filled(
    samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEMODE_PYTHON", sys.executable)
    config = read_client_config(samples / "vscode" / ".vscode" / "mcp.json").servers["notes-demo"]
    resolved = config.resolved()
    assert resolved.command == sys.executable and resolved.env["DEMO_MODE"] == "on"
    registry = ToolRegistry()
    registry.add_server(resolved)
    try:
        outcome = await registry.discover_all()
        assert outcome["notes-demo"].error is None, outcome["notes-demo"]
        await registry.call_tool("notes-demo__write_file", {"path": "hello.txt", "content": "hi"})
    finally:
        await registry.close()
    home = samples / "vscode" / ".demo-home"  # ${workspaceFolder}/.demo-home reached the server's env
    assert (home / "data" / "demo" / "scratch" / "hello.txt").read_text() == "hi"


async def test_the_registry_fills_placeholders_when_it_connects_and_names_a_missing_variable(
    samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = read_client_config(samples / "vscode" / ".vscode" / "mcp.json").servers["notes-demo"]
    assert "${" in (config.command or "")  # the config as saved: placeholders, no values
    registry = ToolRegistry()
    registry.add_server(config)
    try:
        monkeypatch.delenv("CODEMODE_PYTHON", raising=False)
        missing = await registry.discover_all()
        error = missing["notes-demo"].error or ""
        assert "CODEMODE_PYTHON" in error and "Traceback" not in error
        monkeypatch.setenv("CODEMODE_PYTHON", sys.executable)
        outcome = await registry.discover_all()
        assert outcome["notes-demo"].error is None, outcome["notes-demo"]
        assert outcome["notes-demo"].tools
    finally:
        await registry.close()


def test_a_claude_code_server_connects_with_defaults_and_environment(
    samples: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = read_client_config(samples / "claude_code" / ".mcp.json").servers["demo"]
    monkeypatch.setenv("DEMO_HOME", str(tmp_path / "from-env"))
    assert config.resolved().command == "python3"  # ${PYTHON:-python3}
    monkeypatch.setenv("PYTHON", sys.executable)
    resolved = config.resolved()
    assert resolved.command == sys.executable
    assert resolved.env == {"CODEMODE_TUI_HOME": str(tmp_path / "from-env")}
    assert config.command == "${PYTHON:-python3}"  # the config itself keeps the placeholder


def test_one_bad_entry_never_aborts_the_import() -> None:
    text = """{
      "mcpServers": {
        "good": {"command": "uvx", "args": ["mcp-server-time"]},
        "no-command": {"args": ["x"]},
        "bad-args": {"command": "x", "args": "not a list"},
        "bad-url": {"url": "ftp://example.com"},
        "weird": {"command": "x", "args": ["${command:pickFile}"]},
        "a-b": {"command": "x"},
        "a_b": {"command": "y"},
        "number": 5,
      }
    }"""
    client = parse_client_config(text)
    assert list(client.servers) == ["good", "a-b"]
    assert set(client.failed) == {"no-command", "bad-args", "bad-url", "weird", "a_b", "number"}
    assert "'command'" in client.failed["no-command"]
    assert client.failed["bad-args"].startswith("field 'args'")
    assert "http://" in client.failed["bad-url"]
    assert "${command:pickFile}" in client.failed["weird"]
    assert "'a_b'" in client.failed["a_b"] or "'a-b'" in client.failed["a_b"]
    assert "expected an object" in client.failed["number"]


def test_workspace_import_reports_failed_entries_and_keeps_the_others(tmp_path: Path) -> None:
    source = tmp_path / "mcp.json"
    source.write_text('{"servers": {"ok": {"command": "x"}, "broken": {"type": "stdio"}}}')
    workspace = Workspace()
    report = workspace.import_servers(source)
    assert report.added == ["ok"]
    assert list(report.failed) == ["broken"] and "command" in report.failed["broken"]
    assert any(line.startswith("not imported: broken:") for line in report.lines())
    assert report.as_dict()["failed"] == report.failed
    assert set(load_servers(paths.servers_file())) == {"demo", "ok"}


def test_jsonc_comments_and_trailing_commas_respect_strings() -> None:
    text = '{"a": "http://x//y /* not a comment */", // c\n "b": [1, 2,], /* multi\nline */ "c": "\\"//",}'
    assert json.loads(strip_jsonc(text)) == {"a": "http://x//y /* not a comment */", "b": [1, 2], "c": '"//'}
    with pytest.raises(ConfigError, match="line 2"):
        parse_client_config('{"mcpServers": {}}\n/* open')
    with pytest.raises(ConfigError, match=r"line 3"):  # errors still point at the right line
        parse_client_config('{// one\n"mcpServers": {\n  "a": {"command": "x"} "b": {}}}')


def test_transport_spellings_and_sse_inference_round_trip() -> None:
    text = json.dumps(
        {
            "mcpServers": {
                "s1": {"type": "streamable-http", "url": "https://h/mcp"},
                "s2": {"type": "http", "url": "https://h/api/sse"},  # says http: stays http
                "s3": {"url": "https://h/sse/"},
                "s4": {"type": "stdio", "command": "x"},
                "s5": {"type": "sse", "url": "https://h/events"},
            }
        }
    )
    servers = parse_client_config(text).servers
    assert [s.transport for s in servers.values()] == ["http", "http", "sse", "stdio", "sse"]
    assert MCPServerConfig(name="x", url="https://h/sse").transport == "sse"
    again = parse_client_config(dump_servers(servers.values())).servers
    assert again == servers


def test_keys_we_do_not_use_are_left_alone_and_a_relative_env_file_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    (folder / ".vscode").mkdir(parents=True)
    (folder / "secrets.env").write_text("TOKEN='a b' # not a comment inside quotes\nPLAIN=x # a comment\n")
    path = folder / ".vscode" / "mcp.json"
    path.write_text(
        '{"servers": {"dev": {"command": "node", "args": ["${workspaceFolder}/server.js"], '
        '"envFile": "secrets.env", "dev": {"watch": "${command:pickFile}"}}}}'
    )
    client = read_client_config(path)
    assert client.failed == {}
    server = client.servers["dev"]
    assert server.args == [f"{folder.resolve()}/server.js"]
    assert server.env_file == str(folder.resolve() / "secrets.env")
    assert server.resolved({}).env == {"TOKEN": "a b", "PLAIN": "x"}
    (folder / "secrets.env").unlink()
    with pytest.raises(ConfigError, match=r"envFile .* not found") as err:
        server.resolved({})
    assert err.value.server == "dev"


def test_input_values_from_the_command_line_shape(samples: Path) -> None:
    values = parse_input_values(["perplexity-key=pp=x", " other = y"])
    assert values == {"perplexity-key": "pp=x", "other": " y"}
    with pytest.raises(ConfigError, match="id=value"):
        parse_input_values(["novalue"])
    client = read_client_config(samples / "vscode" / ".vscode" / "mcp.json", inputs=values)
    assert client.missing_inputs == [] and "Perplexity" in client.servers


def test_a_name_that_clashes_with_a_server_we_have_is_reported_not_fatal(tmp_path: Path) -> None:
    workspace = Workspace()
    workspace.add_server(MCPServerConfig(name="my_tools", command="x"))
    source = tmp_path / "mcp.json"
    source.write_text('{"mcpServers": {"my-tools": {"command": "y"}, "fresh": {"command": "z"}}}')
    report = workspace.import_servers(source)
    assert report.added == ["fresh"]
    assert "'my_tools'" in report.failed["my-tools"]
    assert set(load_servers(paths.servers_file())) == {"demo", "my_tools", "fresh"}
