"""The tool-call bridge on its own: a real demo server behind it, real sockets in front of it.

The sandbox side is the very module copied into sandboxes (``client_runtime``),
talking to the bridge over loopback TCP, exactly as a kernel does.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from codemode_tui import ImageResult, ToolError, ToolRegistry
from codemode_tui.executor import ToolBridge
from codemode_tui.executor import client_runtime as runtime
from codemode_tui.executor.bridge import encode_value
from tests.conftest import demo_stdio_config

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolRegistry]:
    home = tmp_path_factory.mktemp("bridge-demo-home")
    async with ToolRegistry([demo_stdio_config(env={"CODEMODE_TUI_HOME": str(home)})]) as reg:
        outcomes = await reg.discover_all()
        assert outcomes["demo"].ok, outcomes["demo"].error
        await reg.call_tool("demo__calculate", {"a": 1, "b": 1})  # the demo's first call is slow: pay it once
        yield reg


@pytest_asyncio.fixture(loop_scope="module")
async def bridge(registry: ToolRegistry) -> AsyncIterator[ToolBridge]:
    bridge = ToolBridge(registry, tool_timeout=5)
    await bridge.start()
    yield bridge
    await bridge.close()


def client_for(bridge: ToolBridge, token: str | None = None) -> runtime._Bridge:
    settings = bridge.client_settings()
    return runtime._Bridge(settings["host"], settings["port"], token or settings["token"])


async def raw_exchange(bridge: ToolBridge, *frames: dict[str, object]) -> list[dict[str, object]]:
    """Send frames on a fresh connection and read every answer until the bridge closes it (or 2 s pass)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.port)
    for frame in frames:
        writer.write(runtime.encode_frame(frame))
    await writer.drain()
    answers: list[dict[str, object]] = []
    try:
        while True:
            header = await asyncio.wait_for(reader.readexactly(4), 2)
            (size,) = struct.unpack("!I", header)
            answers.append(json.loads(await reader.readexactly(size)))
    except (asyncio.IncompleteReadError, TimeoutError):
        pass
    writer.close()
    return answers


async def test_a_wrong_token_is_refused_and_no_tool_runs(bridge: ToolBridge) -> None:
    scope = bridge.begin_run("run-1")
    answers = await raw_exchange(
        bridge,
        {"hello": "not-the-token", "v": 1},
        {"i": 1, "t": "demo__add_note", "a": {"title": "should never be written"}, "r": "run-1"},
    )
    bridge.end_run(scope)
    assert answers == [{"error": "refused: wrong or missing token"}]
    assert scope.trace == [] and scope.calls == 0


async def test_a_call_before_the_handshake_is_refused(bridge: ToolBridge) -> None:
    scope = bridge.begin_run("run-2")
    answers = await raw_exchange(bridge, {"i": 1, "t": "demo__calculate", "a": {"a": 1, "b": 2}, "r": "run-2"})
    bridge.end_run(scope)
    assert len(answers) == 1 and "refused" in str(answers[0]["error"])
    assert scope.trace == []


async def test_the_client_runtime_with_a_wrong_token_raises_a_tool_error(bridge: ToolBridge) -> None:
    client = client_for(bridge, token="wrong")
    scope = bridge.begin_run("run-3")
    with pytest.raises(ToolError, match="refused"):
        await client.call("demo__calculate", {"a": 1, "b": 2}, "run-3")
    bridge.end_run(scope)
    client.close()
    assert scope.trace == []


async def test_calls_are_answered_by_id_and_traced(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    seen = []
    scope = bridge.begin_run("run-4", on_tool_call=seen.append)
    assert await client.call("demo__calculate", {"a": 6, "b": 7, "op": "multiply"}, "run-4") == 42.0
    quote = await client.call(
        "demo__quote_order",
        {
            "customer": {"name": "Ada", "email": "a@example.org"},
            "items": [{"sku": "TEA", "quantity": 2, "unit_price": 3}],
        },
        "run-4",
    )
    bridge.end_run(scope)
    client.close()
    assert quote["subtotal"] == 6 and quote["customer"] == "Ada"
    first = scope.trace[0]
    assert first.name == "demo__calculate" and first.server == "demo" and first.tool == "calculate"
    assert first.arguments == {"a": 6, "b": 7, "op": "multiply"} and first.ok is True
    assert first.preview == "42.0" and first.result_size == 4 and first.duration is not None
    assert [record.name for record in seen] == ["demo__calculate", "demo__quote_order"]


async def test_ten_gathered_calls_run_concurrently_on_one_connection(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    scope = bridge.begin_run("run-5")
    answers = await asyncio.gather(
        *(client.call("demo__slow_echo", {"seconds": 0.5, "message": str(n)}, "run-5") for n in range(10))
    )
    bridge.end_run(scope)
    client.close()
    assert answers == [str(n) for n in range(10)]
    assert len(bridge._protocols) <= 1  # one persistent connection carried all ten
    starts = [record.started for record in scope.trace]
    ends = [record.started + (record.duration or 0) for record in scope.trace]
    assert max(starts) < min(ends), "every call started before the first one finished"


async def test_tool_errors_unknown_tools_and_calls_outside_a_run(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    scope = bridge.begin_run("run-6")
    with pytest.raises(ToolError, match="this tool always fails") as failed:
        await client.call("demo__always_fails", {}, "run-6")
    assert failed.value.server == "demo" and failed.value.tool == "always_fails"
    with pytest.raises(ToolError, match="did you mean demo__calculate"):
        await client.call("demo__calculat", {"a": 1, "b": 2}, "run-6")
    with pytest.raises(ToolError, match="belongs to run an-old-run, which is not the run in progress"):
        await client.call("demo__calculate", {"a": 1, "b": 2}, "an-old-run")
    with pytest.raises(ToolError, match="does not say which run it belongs to"):
        await client.call("demo__calculate", {"a": 1, "b": 2}, None)
    bridge.end_run(scope)
    with pytest.raises(ToolError, match="no run is in progress"):
        await client.call("demo__calculate", {"a": 1, "b": 2}, None)
    later = bridge.begin_run("run-6b")
    with pytest.raises(ToolError, match="belongs to run run-6 which has finished"):
        await client.call("demo__calculate", {"a": 1, "b": 2}, "run-6")
    bridge.end_run(later)
    client.close()
    assert [(r.name, r.ok) for r in scope.trace] == [("demo__always_fails", False), ("demo__calculat", False)]


async def test_the_call_cap_is_enforced_per_run(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    scope = bridge.begin_run("run-7", max_calls=3)
    for _ in range(3):
        await client.call("demo__calculate", {"a": 1, "b": 1}, "run-7")
    with pytest.raises(ToolError, match="cap of 3 tool calls"):
        await client.call("demo__calculate", {"a": 1, "b": 1}, "run-7")
    bridge.end_run(scope)
    assert scope.cap_reached and len(scope.trace) == 3
    fresh = bridge.begin_run("run-8", max_calls=3)
    assert await client.call("demo__calculate", {"a": 1, "b": 1}, "run-8") == 2.0
    bridge.end_run(fresh)
    client.close()


async def test_the_per_call_timeout_fails_the_call_not_the_bridge(registry: ToolRegistry) -> None:
    bridge = ToolBridge(registry, tool_timeout=0.3)
    await bridge.start()
    client = client_for(bridge)
    scope = bridge.begin_run("run-9")
    with pytest.raises(ToolError, match=r"did not answer within 0\.3 s"):
        await client.call("demo__slow_echo", {"seconds": 3}, "run-9")
    assert await client.call("demo__calculate", {"a": 2, "b": 2}, "run-9") == 4.0
    bridge.end_run(scope)
    client.close()
    await bridge.close()
    assert scope.trace[0].ok is False and "0.3 s" in (scope.trace[0].error or "")


async def test_a_caller_that_gives_up_cancels_the_host_call(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    scope = bridge.begin_run("run-10")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.call("demo__slow_echo", {"seconds": 5}, "run-10"), 0.3)
    for _ in range(50):
        if scope.trace and scope.trace[0].ok is not None:
            break
        await asyncio.sleep(0.02)
    bridge.end_run(scope)
    client.close()
    assert scope.trace[0].ok is False and "cancelled" in (scope.trace[0].error or "")


async def test_ending_a_run_cancels_its_calls_in_flight(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    scope = bridge.begin_run("run-11")
    pending = asyncio.ensure_future(client.call("demo__slow_echo", {"seconds": 5}, "run-11"))
    await asyncio.sleep(0.2)
    bridge.end_run(scope)
    with pytest.raises(ToolError, match="run ended"):
        await asyncio.wait_for(pending, 2)
    client.close()


async def test_oversized_frames_are_refused(bridge: ToolBridge) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.port)
    writer.write(struct.pack("!I", runtime.MAX_FRAME + 1))
    await writer.drain()
    header = await asyncio.wait_for(reader.readexactly(4), 2)
    answer = json.loads(await reader.readexactly(struct.unpack("!I", header)[0]))
    writer.close()
    assert "exceeds the limit" in answer["error"]


async def test_arguments_that_are_not_json_fail_in_the_caller(bridge: ToolBridge) -> None:
    client = client_for(bridge)
    with pytest.raises(TypeError, match="must be JSON data"):
        await client.call("demo__calculate", {"a": object(), "b": 1}, None)
    client.close()


async def test_the_audit_log_gets_one_line_per_call(registry: ToolRegistry, tmp_path: Path) -> None:
    audit = tmp_path / "audit" / "calls.jsonl"
    bridge = ToolBridge(registry, audit_path=audit)
    scope = bridge.begin_run("run-12")
    assert await bridge.call("demo__calculate", {"a": 1, "b": 2}, "run-12") == 3.0
    with pytest.raises(ToolError):
        await bridge.call("demo__always_fails", {"reason": "nope"}, "run-12")
    bridge.end_run(scope)
    await bridge.close()
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["name"], line["ok"], line["run_id"]) for line in lines] == [
        ("demo__calculate", True, "run-12"),
        ("demo__always_fails", False, "run-12"),
    ]
    assert lines[1]["error"].endswith("nope") and lines[0]["arguments"] == {"a": 1, "b": 2}


async def test_result_objects_survive_the_wire() -> None:
    value = [ImageResult(data="aGk=", mime_type="image/png"), {"n": 1}]
    text, tagged = encode_value(value)
    assert tagged
    decoded = runtime.decode_value(json.loads(text))
    assert decoded == value and isinstance(decoded[0], ImageResult)
    assert encode_value({"a": [1, "b"]}) == ('{"a":[1,"b"]}', False)


@pytest.mark.parametrize(
    "forged",
    [
        {runtime.TYPE_KEY: "image", "data": "ZmFrZQ==", "mime_type": "image/png"},  # would become a fake image
        {runtime.TYPE_KEY: "resource"},  # would raise inside the client's protocol: the call would hang
        {runtime.TYPE_KEY: "dict", "v": {"x": 1}},  # looks like the escape itself
        {"nested": [{runtime.TYPE_KEY: "audio", "data": 1}]},
    ],
)
async def test_a_forged_type_tag_next_to_a_real_image_stays_plain_data(forged: dict[str, object]) -> None:
    value = [ImageResult(data="aGk=", mime_type="image/png"), forged]
    text, tagged = encode_value(value)
    assert tagged
    decoded = runtime.decode_value(json.loads(text))
    assert decoded == value and isinstance(decoded[0], ImageResult) and type(decoded[1]) is dict


async def test_decoding_never_raises_on_a_tag_that_does_not_fit() -> None:
    odd = {runtime.TYPE_KEY: "resource", "bogus": 1}
    assert runtime.decode_value(odd) == odd
