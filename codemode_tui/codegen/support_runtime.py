"""Argument handling shared by every generated binding: copied verbatim as ``generated/_support.py``.

Standard library only: it runs wherever the sandbox runs.  Each binding
accepts its arguments as one dict, as keywords, or both; this module merges
them (never mutating the caller's dict) and checks them against the tool's
schema keys before anything is sent, so a typo fails fast with ``TypeError``
instead of a round trip to the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final


class _Missing:
    """The default of every keyword parameter: "not given", distinct from ``None``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final[Any] = _Missing()


def _describe(key: str, renamed: Mapping[str, str]) -> str:
    kwarg = renamed.get(key)
    return f"{key!r} (keyword {kwarg})" if kwarg else repr(key)


def merge_arguments(
    function: str,
    arguments: Mapping[str, Any] | None,
    keywords: Mapping[str, Any],
    required: tuple[str, ...] = (),
    *,
    closed: bool = True,
    renamed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One new dict of arguments from the dict form and the keyword form.

    ``keywords`` maps schema keys to keyword values (``MISSING`` when not
    given).  Raises ``TypeError`` when ``arguments`` is not a mapping, a key is
    given both ways, a required key is missing, or (for a ``closed`` schema) a
    key is not one of the tool's parameters.
    """
    renamed = renamed or {}
    if arguments is None:
        merged: dict[str, Any] = {}
    elif isinstance(arguments, Mapping):
        merged = dict(arguments)
    else:
        raise TypeError(f"{function}() takes its arguments as a dict or as keywords, not {type(arguments).__name__}")
    bad_keys = [key for key in merged if not isinstance(key, str)]
    if bad_keys:
        raise TypeError(f"{function}() argument names must be strings, got {bad_keys[0]!r}")
    for key, value in keywords.items():
        if value is MISSING:
            continue
        if key in merged:
            raise TypeError(f"{function}() got {_describe(key, renamed)} both in the dict and as a keyword")
        merged[key] = value
    if closed:
        unknown = [key for key in merged if key not in keywords]
        if unknown:
            known = ", ".join(repr(key) for key in keywords) or "none"
            raise TypeError(
                f"{function}() got unexpected argument(s) {', '.join(repr(key) for key in unknown)}; it takes: {known}"
            )
    missing = [key for key in required if key not in merged]
    if missing:
        raise TypeError(
            f"{function}() is missing required argument(s): {', '.join(_describe(k, renamed) for k in missing)}"
        )
    return merged


__all__ = ["MISSING", "merge_arguments"]
