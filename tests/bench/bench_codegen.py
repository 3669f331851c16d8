"""Binding generation speed: generate and import bindings for many synthetic tools.

Goal (issue "Typed Python bindings"): 1,000 tools with varied schemas are
generated and imported well under a second.  The schemas mix what real servers
send: flat parameters, enums, nested objects, arrays of objects, ``anyOf``
with null, ``$defs``/``$ref`` (recursive too), wrapped and structured outputs.

Run:  python tests/bench/bench_codegen.py [--tools 1000] [--servers 10]
Prints a table; exits non-zero when the goal (generate + import < 1 s) is missed.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codemode_tui.codegen import PythonCodeGenerator, binding_source, example_call, signature
from codemode_tui.registry import ToolDefinition

GOAL_SECONDS = 1.0


def _param(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.randrange(9)
    description = f"Parameter number {i}: " + "words " * rng.randrange(1, 12)
    if kind == 0:
        return {"type": "string", "description": description}
    if kind == 1:
        return {"type": "integer", "minimum": 0, "description": description}
    if kind == 2:
        return {"type": "number", "default": 1.5}
    if kind == 3:
        return {"type": "boolean", "default": False}
    if kind == 4:
        return {"enum": ["asc", "desc", "none"], "type": "string", "description": description}
    if kind == 5:
        return {"type": "array", "items": {"type": "string"}}
    if kind == 6:
        return {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    if kind == 7:
        return {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": "string"}, "tags": {"type": "array"}},
            "required": ["street"],
        }
    return {"type": "array", "items": {"$ref": "#/$defs/Item"}}


def synthetic_tool(rng: random.Random, server: str, index: int) -> ToolDefinition:
    props = {f"{rng.choice(['name', 'path', 'limit', 'mode', 'filter', 'item'])}_{p}": _param(rng, p) for p in range(6)}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": [key for key in props if rng.random() < 0.4],
        "$defs": {
            "Item": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                },
                "required": ["sku"],
            }
        },
    }
    name = f"tool-{index}-{rng.choice(['get', 'list', 'create', 'delete'])}"
    output: dict[str, Any] | None
    choice = rng.randrange(3)
    if choice == 0:
        output = None
    elif choice == 1:
        output = {
            "type": "object",
            "title": f"{name}Output",
            "properties": {"result": {"type": "array", "items": {"type": "string"}}},
            "required": ["result"],
        }
    else:
        output = {
            "type": "object",
            "properties": {"id": {"type": "string"}, "count": {"type": "integer"}, "ok": {"type": "boolean"}},
            "required": ["id"],
        }
    return ToolDefinition(
        name=name,
        server=server,
        description=f'Synthetic tool {index} of {server}.\nIt does things with "quotes" and \\ backslashes.',
        input_schema=schema,
        output_schema=output,
        annotations={"readOnlyHint": rng.random() < 0.5},
    )


def purge(package: str = "generated") -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(7)
    tools = [synthetic_tool(rng, f"server-{i % args.servers}", i) for i in range(args.tools)]
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        generator = PythonCodeGenerator(tmp)
        started = time.perf_counter()
        result = generator.generate_from_tools(tools)
        generate = time.perf_counter() - started
        rows.append((f"generate {args.tools} tools (first time)", generate))

        sys.path.insert(0, tmp)
        sys.dont_write_bytecode = True  # measure a cold import: no .pyc from an earlier run
        try:
            purge()
            started = time.perf_counter()
            for module in result.modules:
                importlib.import_module(f"generated.servers.{module}")
            imported = time.perf_counter() - started
            rows.append((f"import {len(result.modules)} server modules (no bytecode cache)", imported))
        finally:
            sys.path.remove(tmp)
            purge()
        rows.append(("generate + import", generate + imported))

        started = time.perf_counter()
        again = generator.generate_from_tools(tools)
        rows.append((f"regenerate unchanged ({len(again.written)} files written)", time.perf_counter() - started))

        started = time.perf_counter()
        changed = generator.generate_from_tools(tools[: args.tools // 2])
        rows.append(
            (
                f"regenerate half the tools ({len(changed.written)} written, {len(changed.removed)} removed)",
                time.perf_counter() - started,
            )
        )
        size = sum(path.stat().st_size for path in result.modules.values())

    started = time.perf_counter()
    for tool in tools[:100]:
        binding_source(tool)
        signature(tool)
        example_call(tool)
    rows.append(("preview 100 tools (source, signature, example)", time.perf_counter() - started))

    width = max(len(label) for label, _ in rows)
    print(f"{'step'.ljust(width)}  seconds")
    for label, seconds in rows:
        print(f"{label.ljust(width)}  {seconds:8.3f}")
    print(f"{'generated source'.ljust(width)}  {size / 1e6:8.2f} MB")
    total = generate + imported
    verdict = "OK" if total < GOAL_SECONDS else "MISSED"
    print(f"goal: generate + import < {GOAL_SECONDS:.1f} s -> {verdict} ({total:.3f} s)")
    return 0 if total < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
