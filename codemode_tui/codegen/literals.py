"""Rendering untrusted text and JSON values as Python source, safely.

Everything a server sends (names, descriptions, enum values, defaults) is
untrusted.  It reaches generated source only through the functions here, each
of which produces a literal that evaluates back to exactly the input and can
neither end early nor smuggle in code: no ``\"\"\"`` can close a docstring, no
newline can end a comment, no NUL or bidi control reaches the file.
"""

from __future__ import annotations

import math
import re
from typing import Any

# A quote that a following quote or the end of the text would turn into part of a closing run.
_QUOTE_TO_ESCAPE = re.compile(r'"(?="|\Z)')
_LINE_START = re.compile(r"\n(?=[^\n])")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_line(line: str) -> str:
    return line if line.isprintable() else "".join(ch if ch.isprintable() else _escape_char(ch) for ch in line)


def docstring_literal(text: str, indent: str = "") -> str:
    """``text`` as a triple-quoted string literal whose value is exactly ``text``.

    Readable (newlines stay newlines, printable unicode stays as is) yet safe:
    backslashes are doubled, every non-printable character (NUL, controls,
    surrogates, bidi overrides, line separators) becomes an escape, and a quote
    is escaped whenever it is followed by another quote or ends the text, so no
    run of three quotes can close the literal early.

    With ``indent``, continuation lines get that prefix (inside the literal, so
    the value gains it too, as every indented docstring does; ``inspect.getdoc``
    removes it again).
    """
    body = text.replace("\\", "\\\\").replace("\r", "\\r").replace("\t", "\\t")
    if not body.replace("\n", "").isprintable():
        body = "\n".join(_escape_line(line) for line in body.split("\n"))
    body = _QUOTE_TO_ESCAPE.sub('\\\\"', body)
    if indent and "\n" in body:
        body = _LINE_START.sub("\n" + indent, body) + "\n" + indent
    return f'"""{body}"""'


def string_literal(text: str) -> str:
    """A one-line string literal for ``text`` (``repr`` escapes everything unsafe)."""
    return repr(str(text))


def is_literal_value(value: Any) -> bool:
    """Whether ``value`` may appear in ``typing.Literal[...]`` (str, int, bool, None)."""
    return value is None or isinstance(value, (str, bool, int))


def py_literal(value: Any, *, _depth: int = 0) -> str | None:
    """Python source for a JSON value, or ``None`` when it has no safe literal.

    Only JSON's own types are rendered (dict with str keys, list, str, int,
    finite float, bool, None), each through ``repr`` of a known type, so the
    result is always an expression ``ast.literal_eval`` accepts.
    """
    if _depth > 20:
        return None
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        try:
            return repr(int(value))
        except ValueError:  # more digits than int's str limit
            return None
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, list):
        items = [py_literal(item, _depth=_depth + 1) for item in value]
        if any(item is None for item in items):
            return None
        return "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        parts: list[str] = []
        for key, item in value.items():
            rendered = py_literal(item, _depth=_depth + 1)
            if not isinstance(key, str) or rendered is None:
                return None
            parts.append(f"{string_literal(key)}: {rendered}")
        return "{" + ", ".join(parts) + "}"
    return None


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so when it was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" ... [{len(text) - limit} more characters]"


def plain_line(text: str, limit: int = 120) -> str:
    """``text`` as one printable line (for comments): controls removed, cut to ``limit``.

    Used only for text we control that may carry a name; anything else goes
    through the literal renderers.
    """
    cleaned = "".join(ch if ch.isprintable() and ch.isascii() else "?" for ch in str(text))
    return shorten(cleaned, limit)
