"""Call gates: what stands between a tool call and its server.

Every call of a run passes the run's gates in order before the bridge calls
a server.  A gate may let it through (return ``None``), answer it itself
(return a :class:`GateAnswer`: from a recording, or a placeholder), or refuse
it (raise ``ToolError``, which the code can catch).  Three gates cover
debugging agent code:

- :class:`ReplayGate`: answers from a recording; a call the recording has not
  got raises ``ToolError("not recorded: ...")`` and is kept as a divergence.
  With ``reads_only`` only read-only calls are answered from the recording
  and the others go on (to the policy, then live).
- :class:`DryRunGate`: every call that is not read-only is answered from a
  recording when one matches, else with a placeholder built from the tool's
  output schema, and listed in the effect plan.  Read-only calls go on.
- :class:`PolicyGate`: ``allow`` / ``ask`` / ``deny`` (see :mod:`.policy`);
  ``ask`` waits for a person (the run's timeout paused meanwhile).

The decision is written on the call's trace record (``decision``, ``answered``)
so a trace says who decided what.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..results import ToolError
from ..tool_types import ToolDefinition
from .policy import Approval, ApprovalRequest, Approver, ToolPolicy, is_read_only
from .recording import Divergence, Matcher, Recording
from .run_result import ToolCallRecord


@dataclass
class GateCall:
    """One call as a gate sees it."""

    record: ToolCallRecord
    tool: ToolDefinition | None
    pause: Callable[[], AbstractContextManager[None]]
    """``with call.pause():`` stops the run's clock (waiting for a person is not the code's time)."""


@dataclass(frozen=True)
class GateAnswer:
    """An answer given without calling the server: JSON text as the bridge sends it."""

    text: str
    tagged: bool = False
    source: str = "recording"
    """``"recording"`` or ``"placeholder"`` (kept as the call's ``answered``)."""

    def value(self) -> Any:
        from .client_runtime import decode_value

        data = json.loads(self.text)
        return decode_value(data) if self.tagged else data


class CallGate(Protocol):
    async def __call__(self, call: GateCall) -> GateAnswer | None: ...


def _error(call: GateCall, message: str) -> ToolError:
    record = call.record
    return ToolError(message, server=record.server, tool=record.tool or record.name)


class ReplayGate:
    """Answers calls from a recording (see the module docstring)."""

    def __init__(self, recording: Recording, *, reads_only: bool = False) -> None:
        self.matcher: Matcher = recording.matcher()
        self.reads_only = reads_only
        self.divergences: list[Divergence] = []

    async def __call__(self, call: GateCall) -> GateAnswer | None:
        record = call.record
        if self.reads_only and not is_read_only(call.tool):
            return None
        found = self.matcher.find(record.name, record.arguments)
        if found is None:
            near = self.matcher.near_miss(record.name)
            detail = (
                "the recording has this tool with other arguments: "
                + json.dumps(near.arguments, ensure_ascii=False, sort_keys=True)[:200]
                if near is not None
                else "the recording has no call of this tool left"
            )
            self.divergences.append(Divergence("not recorded", record.name, record.arguments, record.order, detail))
            record.decision = "replay: not recorded"
            raise _error(call, f"not recorded: {record.name} with these arguments ({detail})")
        index, recorded = found
        record.answered = "recording"
        record.decision = f"replayed from recorded call {index + 1}"
        if not recorded.ok:
            raise _error(call, recorded.error or "the tool call failed (recorded)")
        if recorded.result is None:
            self.divergences.append(
                Divergence("not kept", record.name, record.arguments, index + 1, "its result was too large to keep")
            )
            raise _error(call, f"not recorded: the result of {record.name} was too large to keep in the recording")
        return GateAnswer(recorded.result, recorded.tagged, "recording")

    def finish(self) -> list[Divergence]:
        """Every divergence of the replay, with the recorded calls it never made."""
        return [*self.divergences, *self.matcher.unmade()] if not self.reads_only else list(self.divergences)


@dataclass
class PlannedCall:
    """One effect a dry run held back: what would have been called, and where."""

    order: int
    tool: str
    server: str | None
    arguments: dict[str, Any]
    line: int | None
    answered: str
    """``"recording"`` or ``"placeholder"``: what the code got instead."""
    kind: str = ""
    """The tool's kind (destructive, open-world, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def placeholder_for(schema: dict[str, Any] | None, name: str, tool: str | None = None) -> Any:
    """A value of the shape the tool's output schema describes, so code after the call keeps going.

    The shape the code receives: a schema that only wraps a plain value
    (``{"result": ...}``) gives that value, as a live call's result is unwrapped;
    ``tool`` is the tool's own (unqualified) name, which such a wrapper's title carries.
    """
    from ..codegen.binding import sample_value
    from ..results import wrapped_result_schema

    if not schema:
        return f"(dry run: {name} was not called)"
    inner = wrapped_result_schema(schema, tool or name.partition("__")[2] or name)
    return sample_value(inner if inner is not None else schema, schema)


class DryRunGate:
    """Holds back every call that is not read-only and lists it (see the module docstring)."""

    def __init__(self, recording: Recording | None = None) -> None:
        self.matcher = recording.matcher() if recording is not None else None
        self.plan: list[PlannedCall] = []

    async def __call__(self, call: GateCall) -> GateAnswer | None:
        from .bridge import encode_value
        from .policy import tool_kind

        tool, record = call.tool, call.record
        if is_read_only(tool):
            return None
        answer: GateAnswer | None = None
        if self.matcher is not None:
            found = self.matcher.find(record.name, record.arguments)
            if found is not None and found[1].ok and found[1].result is not None:
                answer = GateAnswer(found[1].result, found[1].tagged, "recording")
        if answer is None:
            schema = tool.output_schema if tool is not None else None
            text, tagged = encode_value(placeholder_for(schema, record.name, record.tool))
            answer = GateAnswer(text, tagged, "placeholder")
        record.answered = answer.source
        record.decision = f"dry run: not called, answered from the {answer.source}"
        self.plan.append(
            PlannedCall(
                order=record.order,
                tool=record.name,
                server=record.server,
                arguments=record.arguments,
                line=record.line,
                answered=answer.source,
                kind=tool_kind(tool).replace("_", "-"),
            )
        )
        return answer


@dataclass
class PolicyGate:
    """Applies a :class:`ToolPolicy`; ``ask`` goes to ``approver`` (none: a denial)."""

    policy: ToolPolicy
    approver: Approver | None = None
    code: str = ""
    session: str | None = None
    source: str = ""
    on_always: Callable[[str], None] | None = None
    """Called with the tool's name when a person answers "always allow" (to save the policy)."""
    approved_for_run: set[str] = field(default_factory=set)

    async def __call__(self, call: GateCall) -> GateAnswer | None:
        record, tool = call.record, call.tool
        decision, why = self.policy.decide(record.name, tool)
        if decision == "ask" and record.name in self.approved_for_run:
            record.decision = "approved for this run by a person"
            return None
        if decision == "allow":
            record.decision = f"allowed by {why}"
            return None
        if decision == "deny":
            record.decision = f"denied by {why}"
            raise _error(call, f"denied by policy: {record.name} is refused by {why}")
        if self.approver is None:
            record.decision = f"denied: {why} is ask and nobody is attached to approve"
            raise _error(
                call,
                f"denied by policy: {record.name} needs approval ({why} is 'ask') and nobody is "
                "attached to approve it; allow it in the policy to run it unattended",
            )
        request = ApprovalRequest(
            run_id=record.run_id,
            tool=record.name,
            server=record.server,
            arguments=record.arguments,
            annotations=dict(tool.annotations) if tool is not None else {},
            input_schema=dict(tool.input_schema) if tool is not None else {},
            reason=f"{why} is 'ask'",
            line=record.line,
            code_line=_line(self.code, record.line),
            session=self.session,
            source=self.source,
        )
        with call.pause():
            try:
                approval = await self.approver(request)
            except ToolError:
                raise
            except Exception as exc:  # an approver that fails is a denial, never a silent allow
                approval = Approval("deny", by="the approver", note=f"{type(exc).__name__}: {exc}")
        if approval.answer == "deny":
            record.decision = f"denied by {approval.by}" + (f" ({approval.note})" if approval.note else "")
            reason = f": {approval.note}" if approval.note else ""
            raise _error(call, f"denied by policy: {approval.by} refused {record.name}{reason}")
        if approval.answer == "run":
            self.approved_for_run.add(record.name)
        elif approval.answer == "always":
            self.policy.set_tool(record.name, "allow")
            if self.on_always is not None:
                self.on_always(record.name)
        record.decision = {
            "once": f"approved once by {approval.by}",
            "run": f"approved for this run by {approval.by}",
            "always": f"always allowed by {approval.by}",
        }[approval.answer]
        return None


def _line(code: str, line: int | None) -> str:
    if not code or not line:
        return ""
    lines = code.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def effects_of(gates: Iterable[Any]) -> list[PlannedCall]:
    return [planned for gate in gates if isinstance(gate, DryRunGate) for planned in gate.plan]


def divergences_of(gates: Iterable[Any]) -> list[Divergence]:
    return [d for gate in gates if isinstance(gate, ReplayGate) for d in gate.finish()]
