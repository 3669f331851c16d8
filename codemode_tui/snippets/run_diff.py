"""Compare two runs: their tool calls side by side and their outputs.

Calls are lined up by tool name (``difflib``'s longest matching blocks, so an
added call in the middle does not shift every later one), then each pair is
compared: same arguments and result, other arguments, or another result.  A
result is compared on the recording's full text when both runs have one,
else on the trace's preview.  The outputs are compared as a unified diff.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..executor.recording import Recording
from .history import RunRecord

ChangeKind = Literal["same", "added", "removed", "arguments", "result"]


@dataclass(frozen=True)
class CallChange:
    """One line of the calls' comparison."""

    kind: ChangeKind
    """``same``; ``added`` (only in the second run); ``removed`` (only in the first);
    ``arguments`` (same tool, other arguments); ``result`` (same call, another answer)."""
    left: dict[str, Any] | None
    right: dict[str, Any] | None

    @property
    def tool(self) -> str:
        side = self.left or self.right or {}
        return str(side.get("tool", ""))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunDiff:
    """What differs between run ``left`` and run ``right``."""

    left: str
    right: str
    calls: list[CallChange] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    """Unified diff of the two outputs (empty: same output)."""
    value: tuple[str | None, str | None] = (None, None)
    status: tuple[str, str] = ("", "")

    @property
    def identical(self) -> bool:
        return (
            all(change.kind == "same" for change in self.calls)
            and not self.output
            and self.value[0] == self.value[1]
            and self.status[0] == self.status[1]
        )

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for change in self.calls:
            found[change.kind] = found.get(change.kind, 0) + 1
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "identical": self.identical,
            "calls": [change.to_dict() for change in self.calls],
            "output": self.output,
            "value": list(self.value),
            "status": list(self.status),
        }

    def lines(self) -> list[str]:
        """A plain-text report (the CLI's ``runs diff``)."""
        out = [f"runs {self.left} -> {self.right}: " + ("identical" if self.identical else "different")]
        if self.status[0] != self.status[1]:
            out.append(f"status: {self.status[0]} -> {self.status[1]}")
        marks = {"same": " ", "added": "+", "removed": "-", "arguments": "~", "result": "≠"}
        for change in self.calls:
            left, right = change.left or {}, change.right or {}
            text = f"{marks[change.kind]} {change.tool}({_args(right or left)})"
            if change.kind == "arguments":
                text = f"~ {change.tool}: ({_args(left)}) -> ({_args(right)})"
            elif change.kind == "result":
                text += f": {_short(left.get('result'))} -> {_short(right.get('result'))}"
            out.append(text)
        if self.value[0] != self.value[1]:
            out.append(f"value: {self.value[0]} -> {self.value[1]}")
        out.extend(self.output)
        return out


def _args(call: dict[str, Any]) -> str:
    text = json.dumps(call.get("arguments") or {}, ensure_ascii=False, sort_keys=True)[1:-1]
    return text if len(text) <= 100 else text[:97] + "..."


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _calls(record: RunRecord, recording: Recording | None) -> list[dict[str, Any]]:
    recorded = list(recording.calls) if recording is not None else []
    calls = []
    for index, call in enumerate(record.trace):
        entry = {
            "tool": call.get("tool"),
            "arguments": call.get("arguments") or {},
            "ok": call.get("ok"),
            "result": call.get("error") if call.get("ok") is False else call.get("preview"),
            "line": call.get("line"),
        }
        if index < len(recorded) and recorded[index].tool == entry["tool"]:
            full = recorded[index]
            entry["result"] = (
                full.error if not full.ok else (full.result if full.result is not None else entry["result"])
            )
        calls.append(entry)
    return calls


def diff_runs(
    left: RunRecord,
    right: RunRecord,
    left_recording: Recording | None = None,
    right_recording: Recording | None = None,
) -> RunDiff:
    """Compare run ``left`` with run ``right`` (see the module docstring)."""
    a, b = _calls(left, left_recording), _calls(right, right_recording)
    changes: list[CallChange] = []
    matcher = difflib.SequenceMatcher(a=[c["tool"] for c in a], b=[c["tool"] for c in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                if x["arguments"] != y["arguments"]:
                    changes.append(CallChange("arguments", x, y))
                elif x["result"] != y["result"] or x["ok"] != y["ok"]:
                    changes.append(CallChange("result", x, y))
                else:
                    changes.append(CallChange("same", x, y))
            continue
        changes.extend(CallChange("removed", x, None) for x in a[i1:i2])
        changes.extend(CallChange("added", None, y) for y in b[j1:j2])
    output = list(
        difflib.unified_diff(
            left.output.splitlines(),
            right.output.splitlines(),
            fromfile=f"output of {left.id}",
            tofile=f"output of {right.id}",
            lineterm="",
        )
    )
    return RunDiff(
        left=left.id,
        right=right.id,
        calls=changes,
        output=output,
        value=(left.value, right.value),
        status=(left.status, right.status),
    )
