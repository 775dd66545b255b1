#!/usr/bin/env python3
"""The built-in engine against the same llama-server started by hand: time to the first token
(from nothing running: the program started, the model loaded, the answer begun) and the decode
rate (tokens a second while the answer streams), over RUNS runs each, the same prompt.

    python3 tests/bench/engine_perf.py target/release/parley LLAMA_SERVER MODEL.gguf [RUNS]

Parley: `parley ask --json` with the model added to a fresh data folder (the output tokens from
the turn's usage; its text deltas are batched per frame, so they are not counted). By hand: llama-server started with the arguments Parley gives it, its
/v1/chat/completions streamed. Prints a table (medians); docs/PERFORMANCE.md records one."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PROMPT = "Write a short story about a lighthouse keeper and a storm."


def parley_run(parley, data):
    start = time.monotonic()
    p = subprocess.Popen([parley, "--data-dir", data, "ask", "--json", PROMPT],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = last = None
    tokens = 0
    for line in p.stdout:
        msg = json.loads(line).get("msg", {})
        if msg.get("type") == "text_delta":
            now = time.monotonic()
            first = first or now
            last = now
        elif msg.get("type") == "turn_completed":
            # Deltas are batched per frame on their way out (the event hub): the tokens are
            # counted by the engine's usage, not by the events.
            tokens = (msg.get("usage") or {}).get("output_tokens", 0)
    err = p.stderr.read()
    if p.wait() != 0:
        sys.exit(f"parley ask failed:\n{err}")
    return first - start, (tokens - 1) / (last - first)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hand_run(server, model):
    port = free_port()
    start = time.monotonic()
    log = tempfile.TemporaryFile()
    p = subprocess.Popen([server, "--model", model, "--alias", "m", "--host", "127.0.0.1",
                          "--port", str(port), "--ctx-size", "4096", "--parallel", "1",
                          "--jinja", "--no-webui", "--offline"], stdout=log, stderr=log)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                if p.poll() is not None:
                    log.seek(0)
                    sys.exit("llama-server exited:\n" + log.read().decode(errors="replace")[-3000:])
                # As often as Parley polls at first (models/engine.rs `poll_after`): the
                # difference between the rows is then Parley's own work, not the polling.
                time.sleep(0.015)
        body = json.dumps({"model": "m", "stream": True, "stream_options": {"include_usage": True},
                           "messages": [{"role": "user", "content": PROMPT}]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
        first = last = None
        tokens = 0
        with urllib.request.urlopen(req) as r:
            for raw in r:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    # The server's own count, as Parley's side takes it.
                    tokens = chunk["usage"]["completion_tokens"]
                delta = chunk["choices"][0]["delta"] if chunk.get("choices") else {}
                if delta.get("content"):
                    now = time.monotonic()
                    first = first or now
                    last = now
        return first - start, (tokens - 1) / (last - first)
    finally:
        p.terminate()
        p.wait()


def main():
    parley, server, model = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    data = tempfile.mkdtemp()
    env = dict(os.environ, PARLEY_ENGINE=server)
    os.environ.update(env)
    subprocess.run([parley, "--data-dir", data, "models", "add", model, "--name", "m"], check=True,
                   stdout=subprocess.DEVNULL)
    rows = {"built in (parley ask)": [], "by hand (llama-server)": []}
    for _ in range(runs):
        rows["built in (parley ask)"].append(parley_run(parley, data))
        rows["by hand (llama-server)"].append(hand_run(server, model))
    print(f"| engine | first token, cold (median of {runs}) | decode (tokens/s, median) |")
    print("|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {statistics.median(x[0] for x in r) * 1000:.0f} ms | {statistics.median(x[1] for x in r):.1f} |")


main()
