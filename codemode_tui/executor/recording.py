"""Recordings: the tool traffic of a run, kept so the run can be replayed offline.

Every run keeps, per tool call, the arguments, the answer exactly as it was
sent to the sandbox (the bridge's one JSON encoding, so keeping it costs a
reference, not a copy) or the error, and the timing.  A run's recording is
bounded (:attr:`CodeModeConfig.max_recording_bytes`): a result past the budget
is not kept, and the call says so (``dropped``), so a replay that needs it
reports a divergence instead of inventing an answer.

Replay matches calls by tool, arguments and order (:meth:`Recording.match`):
the next unused recorded call when it is the same tool with the same
arguments, else the first unused one that is (``asyncio.gather`` may start
calls in another order), else nothing: a divergence.  The file format is plain
JSON (``{"format": 1, "calls": [...]}``), small enough to read and to keep in a
skill's ``tests/`` folder as a fixture.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_write_text, read_user_file
from ..tool_types import ToolDefinition

FORMAT = 1
#: Default bytes of results a run keeps (see ``CodeModeConfig.max_recording_bytes``).
DEFAULT_RECORDING_BYTES = 4 * 1024 * 1024


class RecordingError(ValueError):
    """A recording file that cannot be read (what is wrong, and where)."""


@dataclass
class RecordedCall:
    """One tool call as recorded: enough to answer it again without the server."""

    tool: str
    """Qualified name, ``server__tool``."""
    arguments: dict[str, Any]
    ok: bool
    result: str | None = None
    """The answer as JSON text, as sent to the sandbox (``None`` for an error or a dropped result)."""
    tagged: bool = False
    """Whether :attr:`result` holds tagged result objects (images, resources)."""
    error: str | None = None
    duration: float = 0.0
    dropped: bool = False
    """The result was over the run's recording budget and was not kept."""
    size: int = 0
    """Bytes of the result, kept or not."""

    def value(self) -> Any:
        """The recorded answer as the code received it (result objects rebuilt)."""
        from .client_runtime import decode_value

        if self.result is None:
            return None
        data = json.loads(self.result)
        return decode_value(data) if self.tagged else data


@dataclass
class Recording:
    """The recorded calls of one run, in the order they finished."""

    calls: list[RecordedCall] = field(default_factory=list)
    max_bytes: int = DEFAULT_RECORDING_BYTES
    kept_bytes: int = 0
    tools: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The tool definitions (``ToolDefinition.to_dict``) of each server the run called, so
    a replay can generate the bindings with the server stopped, or gone from the config."""
    code: str = ""
    """The code that made the calls (so an exported recording stands on its own)."""

    # -- while a run records -----------------------------------------------------

    def add(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        text: str | None,
        size: int,
        tagged: bool = False,
        error: str | None = None,
        duration: float = 0.0,
    ) -> RecordedCall:
        """Record one finished call; its result is kept while the run's budget lasts."""
        keep = text is not None and self.kept_bytes + size <= self.max_bytes
        call = RecordedCall(
            tool=tool,
            arguments=arguments,
            ok=error is None,
            result=text if keep else None,
            tagged=tagged and keep,
            error=error,
            duration=duration,
            dropped=text is not None and not keep,
            size=size,
        )
        if keep:
            self.kept_bytes += size
        self.calls.append(call)
        return call

    @property
    def dropped(self) -> int:
        """How many results were too large to keep."""
        return sum(1 for call in self.calls if call.dropped)

    # -- replay ------------------------------------------------------------------

    def matcher(self) -> Matcher:
        """A fresh cursor over the calls, for one replay."""
        return Matcher(self)

    def tool_definitions(self) -> dict[str, list[ToolDefinition]]:
        """The recorded catalogs as tool definitions, per server (an entry that does not read is left out)."""
        found: dict[str, list[ToolDefinition]] = {}
        for server, entries in self.tools.items():
            tools = found.setdefault(server, [])
            for entry in entries:
                try:
                    tools.append(ToolDefinition.from_dict(server, entry))
                except Exception:
                    continue
        return found

    # -- files -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "calls": [_call_dict(call) for call in self.calls]}
        if self.code:
            data["code"] = self.code
        if self.tools:
            data["tools"] = self.tools
        return data

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "recording") -> Recording:
        if not isinstance(data, dict) or not isinstance(data.get("calls"), list):
            raise RecordingError(f"{where}: not a recording (expected an object with a 'calls' list)")
        if data.get("format", FORMAT) != FORMAT:
            raise RecordingError(f"{where}: recording format {data.get('format')!r} is not {FORMAT}")
        calls = []
        for number, item in enumerate(data["calls"], 1):
            if not isinstance(item, dict) or not isinstance(item.get("tool"), str):
                raise RecordingError(f"{where}: call {number} has no tool name")
            arguments = item.get("arguments")
            if not isinstance(arguments, dict):
                raise RecordingError(f"{where}: call {number} ({item['tool']}) has no arguments object")
            result = item.get("result")
            calls.append(
                RecordedCall(
                    tool=item["tool"],
                    arguments=arguments,
                    ok=bool(item.get("ok", item.get("error") is None)),
                    result=result if isinstance(result, str) else None,
                    tagged=bool(item.get("tagged")),
                    error=item.get("error") if isinstance(item.get("error"), str) else None,
                    duration=float(item.get("duration") or 0.0),
                    dropped=bool(item.get("dropped")),
                    size=int(item.get("size") or 0),
                )
            )
        tools = data.get("tools") or {}
        if not isinstance(tools, dict) or not all(isinstance(v, list) for v in tools.values()):
            raise RecordingError(f"{where}: 'tools' must map server names to lists of tool definitions")
        code = data.get("code")
        recording = cls(calls=calls, tools=tools, code=code if isinstance(code, str) else "")
        recording.kept_bytes = sum(len(call.result or "") for call in calls)
        return recording

    def save(self, path: Path) -> None:
        """Write the recording as JSON (atomically: a reader never sees half a file).

        One call per line: readable and diffable as a test fixture, and written
        by the C encoder (an indented dump would take the slow pure-Python one).
        """
        data = self.to_dict()
        calls = data.pop("calls")
        head = json.dumps(data, ensure_ascii=False)[:-1]
        lines = ",\n".join(json.dumps(call, ensure_ascii=False) for call in calls)
        atomic_write_text(path, f'{head}{", " if data else ""}"calls": [\n{lines}\n]}}\n')

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a recording file; a damaged one raises :class:`RecordingError` naming the file."""
        try:
            data = json.loads(read_user_file(path, limit=512 * 1024 * 1024, what="recording"))
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{path}: cannot read the recording: {exc}") from None
        return cls.from_dict(data, where=str(path))


def _call_dict(call: RecordedCall) -> dict[str, Any]:
    """``asdict`` by hand: a recording of a thousand calls is saved after every run."""
    return {
        "tool": call.tool,
        "arguments": call.arguments,
        "ok": call.ok,
        "result": call.result,
        "tagged": call.tagged,
        "error": call.error,
        "duration": call.duration,
        "dropped": call.dropped,
        "size": call.size,
    }


@dataclass(frozen=True)
class Divergence:
    """Where a replay left its recording: a call not recorded, or a recorded call not made."""

    kind: str
    """``"not recorded"`` (the code made a call the recording has not got), ``"not kept"``
    (the recording has the call but not its result), or ``"not made"`` (recorded, not made)."""
    tool: str
    arguments: dict[str, Any]
    order: int
    """The call's place in the run (1-based): made for ``not recorded``, recorded otherwise."""
    detail: str = ""

    def describe(self) -> str:
        args = json.dumps(self.arguments, ensure_ascii=False, sort_keys=True)
        if len(args) > 120:
            args = args[:117] + "..."
        text = f"{self.kind}: call {self.order} {self.tool}({args})"
        return f"{text}: {self.detail}" if self.detail else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_divergence(data: dict[str, Any]) -> str:
    """A divergence kept as data (``Divergence.to_dict``, in the history) as :meth:`Divergence.describe` says it."""
    arguments = data.get("arguments")
    order = data.get("order")
    return Divergence(
        kind=str(data.get("kind", "?")),
        tool=str(data.get("tool", "?")),
        arguments=arguments if isinstance(arguments, dict) else {},
        order=order if isinstance(order, int) else 0,
        detail=str(data.get("detail") or ""),
    ).describe()


def _same(call: RecordedCall, tool: str, arguments: dict[str, Any]) -> bool:
    return call.tool == tool and call.arguments == arguments


class Matcher:
    """Answers calls from a recording, one replay long (see the module docstring)."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.used = [False] * len(recording.calls)
        self.cursor = 0
        self.made = 0

    def find(self, tool: str, arguments: dict[str, Any]) -> tuple[int, RecordedCall] | None:
        """The recorded call that answers this one (marked used), or ``None``."""
        self.made += 1
        calls = self.recording.calls
        while self.cursor < len(calls) and self.used[self.cursor]:
            self.cursor += 1
        if self.cursor < len(calls) and _same(calls[self.cursor], tool, arguments):
            index = self.cursor
        else:
            index = next(
                (i for i, call in enumerate(calls) if not self.used[i] and _same(call, tool, arguments)),
                -1,
            )
            if index < 0:
                return None
        self.used[index] = True
        return index, calls[index]

    def near_miss(self, tool: str) -> RecordedCall | None:
        """An unused recorded call of the same tool (to say what differs), if any."""
        return next(
            (c for i, c in enumerate(self.recording.calls) if not self.used[i] and c.tool == tool),
            None,
        )

    def unmade(self) -> list[Divergence]:
        """The recorded calls this replay never made."""
        return [
            Divergence("not made", call.tool, call.arguments, index + 1, "recorded but the code did not make it")
            for index, call in enumerate(self.recording.calls)
            if not self.used[index]
        ]
