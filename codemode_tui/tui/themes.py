"""Themes from TOML files, and editor highlighting that follows the app theme.

Themes are plain files so that a user can add one without touching code: the
ones we ship live in ``themes/`` (inside the package when installed), and a
user's own go in ``<config dir>/themes``.  A file that does not load is
skipped and reported; the others still load.

A theme file holds the fields of :class:`textual.theme.Theme` at the top level,
an optional ``[variables]`` table of Textual CSS variables, and an optional
``[syntax]`` table mapping editor token names (``keyword``, ``string``, ...)
to Rich styles, for the code editor.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.errors import StyleSyntaxError
from rich.style import Style
from textual._text_area_theme import TextAreaTheme
from textual.color import Color, ColorParseError
from textual.theme import Theme

from .. import paths

EDITOR_THEME_NAME = "codemode"
_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN = {"name", "dark", "luminosity_spread", "text_alpha", "variables", "syntax", *_COLOR_FIELDS}


def shipped_themes_dir() -> Path:
    """``codemode_tui/themes`` in a wheel, the repository's ``themes/`` in an editable install."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "themes", package.parent / "themes"):
        if candidate.is_dir():
            return candidate
    return package / "themes"


def user_themes_dir() -> Path:
    """Where a user drops their own theme files."""
    return paths.config_dir() / "themes"


@dataclass
class ThemeFile:
    """One loaded theme and its editor syntax styles."""

    theme: Theme
    syntax: dict[str, Style] = field(default_factory=dict)
    path: Path | None = None


@dataclass
class ThemeCatalog:
    """Every theme that loaded, and one line per file that did not."""

    themes: list[ThemeFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def syntax_for(self, name: str) -> dict[str, Style]:
        for item in self.themes:
            if item.theme.name == name:
                return item.syntax
        return {}


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message says what to fix."""


def parse_theme(data: Mapping[str, Any], *, source: str = "theme") -> ThemeFile:
    """Build a theme from the parsed TOML of a theme file."""
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ThemeFileError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KNOWN))}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError("'name' is required (a short name such as \"my-dark\")")
    if "primary" not in data:
        raise ThemeFileError("'primary' is required (a colour such as \"#0178D4\")")
    kwargs: dict[str, Any] = {"name": name.strip()}
    for key in _COLOR_FIELDS:
        if key in data:
            value = data[key]
            try:
                Color.parse(value)
            except (ColorParseError, TypeError):
                raise ThemeFileError(f"{key} = {value!r} is not a colour") from None
            kwargs[key] = value
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise ThemeFileError("'dark' must be true or false")
        kwargs["dark"] = data["dark"]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], int | float):
                raise ThemeFileError(f"'{key}' must be a number")
            kwargs[key] = float(data[key])
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeFileError("[variables] must map variable names to strings")
    kwargs["variables"] = dict(variables)
    syntax_table = data.get("syntax", {})
    if not isinstance(syntax_table, dict):
        raise ThemeFileError("[syntax] must map token names to styles")
    syntax: dict[str, Style] = {}
    for token, style in syntax_table.items():
        try:
            syntax[str(token)] = Style.parse(str(style))
        except StyleSyntaxError as exc:
            raise ThemeFileError(f"[syntax] {token} = {style!r}: {exc}") from None
    return ThemeFile(theme=Theme(**kwargs), syntax=syntax)


def load_theme_file(path: Path) -> ThemeFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"cannot read it ({exc})") from None
    item = parse_theme(data, source=path.name)
    item.path = path
    return item


def load_themes(folders: Iterable[Path] | None = None) -> ThemeCatalog:
    """Load every ``*.toml`` theme in ``folders`` (shipped, then the user's); later files win."""
    if folders is None:
        folders = (shipped_themes_dir(), user_themes_dir())
    catalog = ThemeCatalog()
    by_name: dict[str, int] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                item = load_theme_file(path)
            except ThemeFileError as exc:
                catalog.errors.append(f"{path.name}: {exc}")
                continue
            if item.theme.name in by_name:
                catalog.themes[by_name[item.theme.name]] = item
            else:
                by_name[item.theme.name] = len(catalog.themes)
                catalog.themes.append(item)
    return catalog


def _style(
    variables: Mapping[str, str], key: str, *, bold: bool = False, italic: bool = False, dim: bool = False
) -> Style:
    """A Rich style in the colour of a theme variable (no colour if the theme lacks it)."""
    color: str | None = None
    value = variables.get(key)
    if value:
        try:
            color = Color.parse(value).hex
        except ColorParseError:
            color = None
    return Style(color=color, bold=bold or None, italic=italic or None, dim=dim or None)


def editor_theme(variables: Mapping[str, str], overrides: Mapping[str, Style] | None = None) -> TextAreaTheme:
    """A ``TextAreaTheme`` whose token colours come from the app theme's variables.

    The editor's background, gutter and cursor come from CSS (``base_style`` is
    left empty), so the whole editor changes with the app theme; a theme file's
    ``[syntax]`` table overrides single tokens.
    """
    keyword = _style(variables, "text-accent")
    control = _style(variables, "text-primary", bold=True)
    string = _style(variables, "text-success")
    number = _style(variables, "text-warning")
    function = _style(variables, "text-primary")
    kind = _style(variables, "text-secondary", bold=True)
    comment = _style(variables, "foreground", italic=True, dim=True)
    plain = _style(variables, "foreground")
    error = _style(variables, "text-error")
    syntax: dict[str, Style] = {
        "comment": comment,
        "string": string,
        "string.documentation": string + Style(italic=True),
        "keyword": keyword,
        "keyword.function": control,
        "keyword.return": control,
        "keyword.operator": control,
        "conditional": control,
        "repeat": control,
        "exception": control,
        "include": control,
        "number": number,
        "float": number,
        "boolean": number,
        "constant.builtin": number,
        "function": function,
        "function.call": function,
        "method": function,
        "method.call": function,
        "constructor": kind,
        "class": kind,
        "type": kind,
        "type.class": kind,
        "type.builtin": kind,
        "operator": plain,
        "punctuation.bracket": plain,
        "punctuation.delimiter": plain,
        "punctuation.special": plain,
        "json.label": keyword,
        "json.null": number,
        "error": error,
        # The type check's findings, drawn over the tokens (see CodeEditor.show_diagnostics).
        "diagnostic.error": error + Style(underline=True, bold=True),
        "diagnostic.warning": _style(variables, "text-warning") + Style(underline=True),
        "diagnostic.info": Style(underline=True),
    }
    syntax.update(overrides or {})
    return TextAreaTheme(name=EDITOR_THEME_NAME, syntax_styles=syntax)
