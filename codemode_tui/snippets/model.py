"""What a snippet is: code, a name, a description and typed parameters.

Snippet names follow the Agent Skills rule from the start (1 to 64 characters
of lowercase a-z, 0-9 and single hyphens), so that every saved snippet can be
exported as a skill under the same name without renaming.

A parameter that could never run is refused when it is made (and again when
the snippet is saved): a name that is a Python keyword or no identifier (the
run binds each parameter as ``name = value``), a ``nan``/``inf`` default (its
``repr`` is no Python literal and JSON cannot carry it), an int too long to
print, text that is no UTF-8, JSON that would not read back as it was, or a
default that does not match the declared type.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ParamType = Literal["str", "int", "float", "bool", "list", "dict", "json"]
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
_MISSING: Any = object()


class SnippetError(ValueError):
    """A snippet, a parameter or a value that cannot be used; says what to change."""


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid snippet/skill name, else raise with advice."""
    if not name:
        raise SnippetError("the name is empty; use lowercase letters, digits and hyphens, e.g. 'summarize-notes'")
    if len(name) > MAX_NAME:
        raise SnippetError(f"the name has {len(name)} characters; shorten it to at most {MAX_NAME}")
    if not NAME_RE.match(name):
        suggestion = suggest_name(name)
        hint = f", e.g. {suggestion!r}" if suggestion else ""
        raise SnippetError(
            f"the name {name!r} may only use lowercase a-z, 0-9 and single hyphens, "
            f"not starting or ending with a hyphen{hint}"
        )
    return name


def suggest_name(text: str) -> str:
    """A valid name close to ``text`` ("Summarize Notes!" -> "summarize-notes")."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return re.sub(r"-+", "-", slug)[:MAX_NAME].rstrip("-")


def check_description(description: str) -> str:
    """Return ``description`` if skills can carry it, else raise with advice."""
    if not description or not description.strip():
        raise SnippetError("the description is empty; say in one line what the snippet does")
    if len(description) > MAX_DESCRIPTION:
        raise SnippetError(f"the description has {len(description)} characters; shorten it to {MAX_DESCRIPTION}")
    if "\n" in description or "\r" in description:
        raise SnippetError("the description must be one line; remove the line breaks")
    if ": " in description:
        raise SnippetError(
            "the description contains ': ', which simple SKILL.md parsers split on; "
            "use ' - ' or rephrase (e.g. 'Notes - summary' instead of 'Notes: summary')"
        )
    return description


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise TypeError


class _Unrunnable(Exception):
    """A value of the right type that still cannot be bound in a run (the message says why)."""


MAX_INT_DIGITS = 4000  # below Python's int/str conversion limit, so ``repr`` always works


def _to_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Unrunnable("text that is not valid UTF-8 (a lone surrogate); remove it") from None
    return value


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    if isinstance(value, float) and not value.is_integer():
        raise TypeError
    if isinstance(value, str) and len(value.strip().lstrip("+-")) > MAX_INT_DIGITS:
        raise _Unrunnable(f"a number too large (more than {MAX_INT_DIGITS} digits)")
    number = int(value.strip()) if isinstance(value, str) else int(value)
    if abs(number) >= 10**MAX_INT_DIGITS:
        raise _Unrunnable(f"a number too large (more than {MAX_INT_DIGITS} digits)")
    return number


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise _Unrunnable(f"{number!r}; a run binds parameters as Python literals, so give a finite number")
    return number


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    return _finite(float(value))


def _json_value(value: Any, kind: type | None) -> Any:
    if isinstance(value, str) and kind is not None:
        value = json.loads(value)
    elif isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass  # free text is a fine JSON value
    if kind is not None and not isinstance(value, kind):
        raise TypeError
    _check_json(value)
    return value


def _check_json(value: Any) -> None:
    """Plain data only (it crosses into the sandbox and is saved as JSON), and it must read back."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        if "out of range float" in str(exc).lower():
            raise _Unrunnable("a nan or infinite number; a run cannot bind it, so give a finite number") from None
        raise _Unrunnable(f"data JSON cannot hold ({exc})") from None
    try:
        text.encode("utf-8")
        again = json.loads(text)
    except (UnicodeEncodeError, ValueError):
        raise _Unrunnable("text that is not valid UTF-8 (a lone surrogate); remove it") from None
    if again != value:
        raise _Unrunnable("data that would not read back the same from the saved file (keys must be text)")


_CONVERTERS: dict[str, Any] = {
    "str": _to_str,
    "bool": _to_bool,
    "int": _to_int,
    "float": _to_float,
    "list": lambda v: _json_value(v, list),
    "dict": lambda v: _json_value(v, dict),
    "json": lambda v: _json_value(v, None),
}
_EXAMPLES = {
    "str": "text",
    "int": "42",
    "float": "2.5",
    "bool": "true",
    "list": '["a", "b"]',
    "dict": '{"key": "value"}',
    "json": '{"any": ["json"]}',
}


def _identifier_hint(name: str) -> str:
    hint = re.sub(r"\W+", "_", name).strip("_") or "value"
    return f"p_{hint}" if hint[0].isdigit() else hint


@dataclass
class SnippetParam:
    """A parameter the snippet's code uses as a variable."""

    name: str
    type: ParamType = "str"
    default: Any = _MISSING
    description: str = ""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise :class:`SnippetError` unless this parameter can be bound in a run (and saved)."""
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name.startswith("_"):
            raise SnippetError(
                f"parameter name {self.name!r} must be a Python identifier (letters, digits, '_'; "
                f"not starting with a digit or '_'), e.g. {_identifier_hint(str(self.name))!r}"
            )
        if keyword.iskeyword(self.name):
            raise SnippetError(
                f"parameter name {self.name!r} is a Python keyword and cannot be assigned; "
                f"rename it, e.g. {self.name + '_'!r} or {'my_' + self.name!r}"
            )
        if self.type not in PARAM_TYPES:
            raise SnippetError(f"parameter {self.name!r} has type {self.type!r}; use one of {', '.join(PARAM_TYPES)}")
        if self.has_default:
            self.default = self.coerce(self.default)

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def required(self) -> bool:
        return not self.has_default

    def coerce(self, value: Any) -> Any:
        """Convert ``value`` (often text from a form or a flag) to this parameter's type."""
        try:
            return _CONVERTERS[self.type](value)
        except _Unrunnable as exc:
            raise SnippetError(f"parameter {self.name!r} ({self.type}) cannot take {exc}") from None
        except (TypeError, ValueError, RecursionError):
            raise SnippetError(
                f"parameter {self.name!r} expects {self.type} (for example {_EXAMPLES[self.type]}), got {value!r}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.has_default:
            data["default"] = self.default
        if self.description:
            data["description"] = self.description
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnippetParam:
        return cls(
            name=str(data["name"]),
            type=data.get("type", "str"),
            default=data.get("default", _MISSING),
            description=str(data.get("description", "")),
        )

    @classmethod
    def parse_spec(cls, spec: str) -> SnippetParam:
        """``NAME:TYPE[=DEFAULT]`` (the command line's ``--param``)."""
        head, eq, default = spec.partition("=")
        name, colon, kind = head.partition(":")
        if not name.strip():
            raise SnippetError(f"--param {spec!r} must look like NAME:TYPE[=DEFAULT], e.g. tag:str=work")
        kind = kind.strip() if colon else "str"
        return cls(name=name.strip(), type=kind, default=default if eq else _MISSING)  # type: ignore[arg-type]


@dataclass
class Snippet:
    """Saved code with its metadata; one readable ``.py`` file on disk."""

    name: str
    code: str
    description: str = ""
    parameters: list[SnippetParam] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    created: str = ""
    updated: str = ""

    def __post_init__(self) -> None:
        check_name(self.name)
        seen: set[str] = set()
        for param in self.parameters:
            if param.name in seen:
                raise SnippetError(f"parameter {param.name!r} is declared twice")
            seen.add(param.name)

    def check_parameters(self) -> None:
        """Check every parameter again (a default may have been changed since it was made)."""
        for param in self.parameters:
            param.check()

    def param(self, name: str) -> SnippetParam | None:
        return next((p for p in self.parameters if p.name == name), None)

    def bind(self, arguments: dict[str, Any] | None) -> dict[str, Any]:
        """Check and convert ``arguments``: every value typed, nothing missing, nothing unknown."""
        arguments = dict(arguments or {})
        unknown = [key for key in arguments if self.param(key) is None]
        if unknown:
            known = ", ".join(p.name for p in self.parameters) or "none"
            raise SnippetError(f"snippet {self.name!r} has no parameter {unknown[0]!r} (its parameters: {known})")
        values: dict[str, Any] = {}
        for param in self.parameters:
            if param.name in arguments:
                values[param.name] = param.coerce(arguments[param.name])
            elif param.has_default:
                values[param.name] = param.default
            else:
                raise SnippetError(f"snippet {self.name!r} needs a value for parameter {param.name!r} ({param.type})")
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [p.to_dict() for p in self.parameters],
            "tools": list(self.tools),
            "servers": list(self.servers),
            "created": self.created,
            "updated": self.updated,
            "code": self.code,
        }

    def listing(self) -> dict[str, Any]:
        """What a list of skills shows (``list_skills`` in serve, the toolset and sandbox code): no code."""
        return {k: v for k, v in self.to_dict().items() if k not in ("code", "created")}


def assignments(values: dict[str, Any]) -> str:
    """Python source binding each value to its name, from JSON-safe data only."""
    return "\n".join(f"{name} = {value!r}" for name, value in values.items())
