"""Where codemode-tui keeps its files.

Config, data and cache folders come from ``platformdirs``.  When the
``CODEMODE_TUI_HOME`` environment variable is set, all three live under that
one folder instead, so tests, CI and portable installs never touch the user's
real home.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "codemode-tui"
HOME_ENV = "CODEMODE_TUI_HOME"


def _home() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """The folder for settings and the servers file."""
    home = _home()
    return home / "config" if home else platformdirs.user_config_path(APP_NAME)


def data_dir() -> Path:
    """The folder for user data: snippets, run history, demo notes."""
    home = _home()
    return home / "data" if home else platformdirs.user_data_path(APP_NAME)


def cache_dir() -> Path:
    """The folder for regenerable files: generated bindings, kernels' scratch."""
    home = _home()
    return home / "cache" if home else platformdirs.user_cache_path(APP_NAME)


def servers_file() -> Path:
    """The saved server configuration, in the ``mcpServers`` JSON shape."""
    return config_dir() / "servers.json"


def settings_file() -> Path:
    """The playground's own settings (theme, layout)."""
    return config_dir() / "settings.json"
