"""A snippet on disk: a plain ``.py`` file with a TOML metadata block on top.

The block follows the shape of PEP 723 inline script metadata, so the file
stays a readable, runnable Python file and its header is obvious to a person::

    # /// codemode-snippet
    # name = "summarize-notes"
    # description = "Summarize the notes that carry a tag"
    # tools = ["demo__list_notes"]
    #
    # [[parameters]]
    # name = "tag"
    # type = "str"
    # default = "work"
    # ///
    notes = await list_notes(tag=tag)
"""

from __future__ import annotations

import json
import math
import tomllib
from typing import Any

from .model import Snippet, SnippetError, SnippetParam

START = "# /// codemode-snippet"
END = "# ///"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {True: "inf", False: "-inf"}[value > 0] if math.isinf(value) else "nan"
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


def render(snippet: Snippet) -> str:
    """The file text for ``snippet``."""
    lines = [START]
    for key in ("name", "description", "created", "updated"):
        lines.append(f"# {key} = {_toml_value(getattr(snippet, key))}")
    lines.append(f"# tools = {_toml_value(snippet.tools)}")
    lines.append(f"# servers = {_toml_value(snippet.servers)}")
    for param in snippet.parameters:
        lines += ["#", "# [[parameters]]", f"# name = {_toml_value(param.name)}", f"# type = {_toml_value(param.type)}"]
        if param.has_default:
            try:
                lines.append(f"# default = {_toml_value(param.default)}")
            except TypeError:
                lines.append(f"# default_json = {_toml_value(json.dumps(param.default, ensure_ascii=False))}")
        if param.description:
            lines.append(f"# description = {_toml_value(param.description)}")
    lines.append(END)
    code = snippet.code if snippet.code.endswith("\n") or not snippet.code else snippet.code + "\n"
    return "\n".join(lines) + "\n" + code


def parse(text: str, *, source: str = "<snippet>") -> Snippet:
    """Read a snippet file; raises :class:`SnippetError` saying what is wrong where."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != START:
        raise SnippetError(f"{source}: the first line must be {START!r}")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.rstrip() == END)
    except StopIteration:
        raise SnippetError(f"{source}: the metadata block is not closed with {END!r}") from None
    header = []
    for number, line in enumerate(lines[1:end], 2):
        if not line.startswith("#"):
            raise SnippetError(f"{source}, line {number}: metadata lines must start with '#'")
        header.append(line[2:] if line.startswith("# ") else line[1:])
    try:
        meta = tomllib.loads("".join(header))
    except tomllib.TOMLDecodeError as exc:
        raise SnippetError(f"{source}: the metadata block is not valid TOML ({exc})") from None
    try:
        params = []
        for raw in meta.get("parameters", []):
            raw = dict(raw)
            if "default_json" in raw:
                raw["default"] = json.loads(raw.pop("default_json"))
            params.append(SnippetParam.from_dict(raw))
        return Snippet(
            name=str(meta.get("name", "")),
            description=str(meta.get("description", "")),
            code="".join(lines[end + 1 :]),
            parameters=params,
            tools=[str(t) for t in meta.get("tools", [])],
            servers=[str(s) for s in meta.get("servers", [])],
            created=str(meta.get("created", "")),
            updated=str(meta.get("updated", "")),
        )
    except (SnippetError, KeyError, TypeError, ValueError) as exc:
        raise SnippetError(f"{source}: {exc}") from None
