#!/usr/bin/env python3
"""A small MCP server of the stateless 2026-07-28 revision, over stdio, for the tests: no
initialize (it answers "method not found", as a server of this revision only may), discovery by
`server/discover`, and every request checked to carry the revision in its `_meta`. Two tools:
`echo`, and `confirm`, which needs the user's input: its first call answers `input_required`
with an elicitation and an opaque `requestState`; the retry must carry that state byte for byte
(and an answer to the elicitation), else the call fails."""
import json
import sys

VERSION = "2026-07-28"
STATE = "st8+/==\u00e9\u2028opaque"  # characters a client might normalise or escape


def reply(mid, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": mid}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def version_of(params):
    return ((params or {}).get("_meta") or {}).get("io.modelcontextprotocol/protocolVersion")


TOOLS = [
    {"name": "echo", "description": "Says the text back.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}},
    {"name": "confirm", "description": "Asks the user first.",
     "inputSchema": {"type": "object", "properties": {}}},
]


def call(mid, params):
    name = params.get("name")
    if name == "echo":
        text = (params.get("arguments") or {}).get("text", "")
        return reply(mid, {"resultType": "complete", "content": [{"type": "text", "text": "echo: " + text}]})
    if name != "confirm":
        return reply(mid, {"resultType": "complete", "isError": True, "content": [{"type": "text", "text": "no such tool"}]})
    responses = params.get("inputResponses")
    if responses is None:
        return reply(mid, {
            "resultType": "input_required",
            "inputRequests": {"go": {"method": "elicitation/create", "params": {
                "mode": "form", "message": "Proceed?",
                "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}},
            "requestState": STATE,
        })
    exact = params.get("requestState") == STATE
    got = (responses or {}).get("go") or {}
    action = got.get("action", "?")
    if got.get("content") is not None:
        action += " " + json.dumps(got["content"], sort_keys=True)
    text = "state echoed exactly; the user's answer: " + action if exact else "the request state was changed"
    reply(mid, {"resultType": "complete", "isError": not exact, "content": [{"type": "text", "text": text}]})


def main():
    print("stateless: ready", file=sys.stderr, flush=True)
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        mid, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
        if mid is None:
            continue
        if method == "server/discover":
            reply(mid, {"resultType": "complete", "supportedVersions": [VERSION],
                        "capabilities": {"tools": {}}, "ttlMs": 0, "cacheScope": "private",
                        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "stateless", "version": "1.0"}}})
        elif version_of(params) != VERSION:
            reply(mid, error={"code": -32022, "message": "Unsupported protocol version",
                              "data": {"supported": [VERSION], "requested": version_of(params)}})
        elif method == "tools/list":
            reply(mid, {"resultType": "complete", "tools": TOOLS})
        elif method == "tools/call":
            call(mid, params)
        else:
            reply(mid, error={"code": -32601, "message": "Method not found"})


if __name__ == "__main__":
    main()
