"""`skills export` leaves no secret in the exported folder, and the script puts them back at run time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codemode_tui.config import MCPServerConfig, load_servers
from codemode_tui.snippets import Snippet, SnippetError, export_skill
from codemode_tui.snippets.skills import expand_server, looks_like_key, redact_server

ROOT = Path(__file__).resolve().parent.parent
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
HIGH_ENTROPY = "q8ZrX2mLk4vT9wBn7cYhP3sJd6fGa1Ue"

SECRETS = {
    "flag-space": "flag-space-secret-1",
    "flag-equals": "flag-equals-secret-2",
    "api-key-equals": "api-key-secret-3",
    "short-flag": "sk-proj-shortflagsecret4xyz",
    "bare-github": "ghp_barearg5abcdefghijklmnopqrstuvwxyz",
    "bare-jwt": JWT,
    "bare-entropy": HIGH_ENTROPY,
    "header-arg": "headerarg6secret",
    "arg-url-password": "argurlpassword7",
    "arg-url-query": "argurlquery8",
    "env": "envvalue9secret",
    "url-query-api-key": "urlquery10secret",
    "url-query-token": "urlquery11secret",
    "url-user-token": "urlusertoken12secret",
    "header": "headervalue13secret",
    "name-equals": "nameequals14secret",
}


def stdio_server() -> MCPServerConfig:
    return MCPServerConfig(
        name="local-tools",
        command=sys.executable,
        args=[
            "-m",
            "some_server",
            "--verbose",
            "--token",
            SECRETS["flag-space"],
            f"--password={SECRETS['flag-equals']}",
            f"--api-key={SECRETS['api-key-equals']}",
            "-k",
            SECRETS["short-flag"],
            SECRETS["bare-github"],
            SECRETS["bare-jwt"],
            SECRETS["bare-entropy"],
            "--header",
            f"Authorization: Bearer {SECRETS['header-arg']}",
            f"https://me:{SECRETS['arg-url-password']}@db.example.com/x?sslmode=require&apikey={SECRETS['arg-url-query']}",
            f"client_secret={SECRETS['name-equals']}",
            "--port",
            "8080",
            "/home/user/projects/my-notes-2024",
            "@modelcontextprotocol/server-filesystem",
        ],
        env={"SERVICE_TOKEN": SECRETS["env"]},
    )


def http_server() -> MCPServerConfig:
    return MCPServerConfig(
        name="remote",
        url=f"https://{SECRETS['url-user-token']}@mcp.example.com/mcp"
        f"?api_key={SECRETS['url-query-api-key']}&token={SECRETS['url-query-token']}&region=eu",
        headers={"Authorization": f"Bearer {SECRETS['header']}"},
    )


@pytest.mark.parametrize("config", [stdio_server(), http_server()], ids=["stdio", "http"])
def test_every_secret_shape_is_redacted_and_expands_back(config: MCPServerConfig) -> None:
    redacted, needed = redact_server(config)
    text = redacted.model_dump_json()
    assert not [name for name, secret in SECRETS.items() if secret in text]
    assert len(needed) == len(set(needed)) and needed
    # What is not a secret is kept as is.
    if config.transport == "stdio":
        kept = [
            "-m",
            "some_server",
            "--verbose",
            "--token",
            "-k",
            "--port",
            "8080",
            "/home/user/projects/my-notes-2024",
        ]
        assert all(arg in redacted.args for arg in kept)
        assert "@modelcontextprotocol/server-filesystem" in redacted.args
        assert "--token=" not in text and "--password=${LOCAL_TOOLS_PASSWORD}" in redacted.args
        assert any(a.startswith("https://me:${") and "sslmode=require&apikey=${" in a for a in redacted.args)
    else:
        assert redacted.url is not None and redacted.url.startswith("https://${REMOTE_URL_TOKEN}@mcp.example.com/mcp?")
        assert redacted.url.endswith("&region=eu")
    # Each placeholder is one variable a user sets to the value it stood for.
    original = config.model_dump()
    environ = {}
    for var in needed:
        for value in _placeholder_values(original, redacted.model_dump(), var):
            environ[var] = value
    expanded = expand_server(redacted, environ)
    assert expanded.args == config.args and expanded.url == config.url
    assert expanded.env == config.env and expanded.headers == config.headers
    with pytest.raises(SnippetError, match=f"needs the environment variable ({'|'.join(needed)})"):
        expand_server(redacted, {})


def _placeholder_values(original: dict, redacted: dict, var: str) -> list[str]:
    """The original text each ``${var}`` stands for (found by aligning the two dumps)."""
    import re

    found = []
    for key in ("args", "env", "headers", "url"):
        pairs = []
        a, b = original[key], redacted[key]
        if isinstance(a, list):
            pairs = list(zip(a, b, strict=True))
        elif isinstance(a, dict):
            pairs = [(a[k], b[k]) for k in a]
        elif a is not None:
            pairs = [(a, b)]
        for before, after in pairs:
            if f"${{{var}}}" not in after:
                continue
            parts = re.split(r"(\$\{[A-Z0-9_]+\})", after)
            pattern = "".join(
                f"(?P<{p[2:-1]}>.*?)" if p == f"${{{var}}}" else ("(?:.*?)" if p.startswith("${") else re.escape(p))
                for p in parts
            )
            found.append(re.fullmatch(pattern, before).group(var))  # type: ignore[union-attr]
    return found


def test_values_that_are_not_keys_are_kept() -> None:
    for plain in ["demo-server", "2025.7.1", "/tmp/some/very/long/path/name/1234", "codemode_tui", "${TOKEN}", "8080"]:
        assert not looks_like_key(plain), plain
    for key in [
        "sk-abcdefghijklmnop1234",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        JWT,
        HIGH_ENTROPY,
        "AKIAIOSFODNN7EXAMPLE",
    ]:
        assert looks_like_key(key), key


def test_no_exported_file_holds_a_secret_and_the_script_fills_them_in(tmp_path: Path, demo_http_url: str) -> None:
    secret = "querytoken-run-secret-77"
    demo = MCPServerConfig(name="demo", url=f"{demo_http_url}?token={secret}")
    snippet = Snippet(
        name="calc-remote",
        description="Multiply on the demo server",
        code=(
            "from generated.servers.demo import calculate\n"
            "print('\\x1b]52;c;aGk=\\x07ok')\n"  # an OSC 52 clipboard write: stripped on the way out
            "print(await calculate(a=6, b=7, op='multiply'))\n"
        ),
        servers=["demo", "local-tools", "remote"],
    )
    servers = {"demo": demo, "local-tools": stdio_server(), "remote": http_server()}
    folder = export_skill(snippet, tmp_path / "skills", servers=servers)
    contents = {p: p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}
    assert {p.name for p in contents} >= {"SKILL.md", "calc_remote.py", "servers.json", "tools.md"}
    leaks = [
        (p.name, name) for p, text in contents.items() for name, s in {**SECRETS, "run": secret}.items() if s in text
    ]
    assert not leaks
    assert "DEMO_URL_TOKEN" in contents[folder / "SKILL.md"]  # listed under the variables to set
    # The exported script runs with the secret from the environment (only the demo server is needed to run it).
    saved = load_servers(folder / "scripts" / "servers.json")
    assert saved["demo"].url == f"{demo_http_url}?token=${{DEMO_URL_TOKEN}}"
    only_demo = json.loads((folder / "scripts" / "servers.json").read_text())
    only_demo["mcpServers"] = {"demo": only_demo["mcpServers"]["demo"]}
    (folder / "scripts" / "servers.json").write_text(json.dumps(only_demo))
    script = folder / "scripts" / "calc_remote.py"
    env = {**os.environ, "CODEMODE_TUI_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("DEMO_URL_TOKEN", None)
    missing = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert missing.returncode == 2 and "needs the environment variable DEMO_URL_TOKEN" in missing.stderr
    ran = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "DEMO_URL_TOKEN": secret},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "ok\n42.0\n"


def test_values_that_are_already_placeholders_stay_and_their_variables_are_listed() -> None:
    config = MCPServerConfig(
        name="gh",
        url="https://api.example.com/mcp?token=${GH_QUERY_TOKEN}",
        headers={"Authorization": "Bearer ${GITHUB_TOKEN}", "X-Api-Key": "${KEY:-fallback-secret-123}"},
    )
    redacted, needed = redact_server(config)
    assert redacted.headers["Authorization"] == "Bearer ${GITHUB_TOKEN}"
    assert redacted.headers["X-Api-Key"] == "${GH_X_API_KEY}"  # a default may be a secret: replaced
    assert redacted.url == config.url
    assert needed == ["GITHUB_TOKEN", "GH_X_API_KEY", "GH_QUERY_TOKEN"]
    stdio = MCPServerConfig(name="s", command="srv", args=["--token", "${S_TOKEN}"], env={"API_KEY": "${MY_KEY}"})
    redacted, needed = redact_server(stdio)
    assert redacted.env == {"API_KEY": "${MY_KEY}"} and redacted.args == ["--token", "${S_TOKEN}"]
    assert needed == ["MY_KEY", "S_TOKEN"]
