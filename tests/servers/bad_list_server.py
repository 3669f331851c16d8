"""A raw stdio MCP server whose ``tools/list`` answer does not validate.

It speaks JSON-RPC by hand (no SDK) so that it can send what the SDK never
would: a tool without an input schema and with a number for a name.  Clients
must report this one server as failed, with the reason, and carry on.
"""

from __future__ import annotations

import json
import sys


def answer(request_id: object, result: dict[str, object]) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}) + "\n")
    sys.stdout.flush()


def main() -> None:
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        method, request_id = message.get("method"), message.get("id")
        if request_id is None:
            continue  # a notification
        if method == "initialize":
            version = message.get("params", {}).get("protocolVersion", "2025-06-18")
            answer(
                request_id,
                {
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": False}},
                    "serverInfo": {"name": "bad-list", "version": "1.0"},
                },
            )
        elif method == "tools/list":
            answer(request_id, {"tools": [{"name": 42, "description": ["not", "text"]}]})
        else:
            answer(request_id, {})


if __name__ == "__main__":
    main()
