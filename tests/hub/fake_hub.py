#!/usr/bin/env python3
"""A stand-in for a Hugging Face hub in the tests: the two requests Parley makes of a hub —
the tree listing of a repository's folder (`/api/models/OWNER/REPO/tree/main[/DIR]`, each file
with its size and LFS SHA-256) and the file itself (`/OWNER/REPO/resolve/main/PATH`, with range
requests) — for the files named on the command line, as `--file owner/repo:path=LOCALFILE`.

Faults, as the tests ask: --cut-once (the first download stops halfway and closes), --wrong
(the bytes served differ from the checksum given), --redirect URL|self (the file request is
redirected there, or to the hub's own /files/ path), --lie-size N (the listing gives size N),
--slow (the body trickles, 64 KB every 50 ms). Every request is logged, one JSON line each,
to --log FILE (method, path, its Range and Authorization headers). Prints "hub: listening on
PORT" once ready."""
import argparse
import hashlib
import http.server
import json
import os
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--file", action="append", default=[])
p.add_argument("--log", required=True)
p.add_argument("--cut-once", action="store_true")
p.add_argument("--wrong", action="store_true")
p.add_argument("--redirect")
p.add_argument("--lie-size", type=int)
p.add_argument("--slow", action="store_true")
args = p.parse_args()

FILES = {}
for spec in args.file:
    ref, local = spec.split("=", 1)
    repo, path = ref.split(":", 1)
    with open(local, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    if args.wrong:
        data = data[:-1] + bytes([data[-1] ^ 0xFF])
    FILES[(repo, path)] = (data, sha)
state = {"cut": args.cut_once}
lock = threading.Lock()


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self):
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "range": self.headers.get("Range"),
                                "authorization": self.headers.get("Authorization")}) + "\n")

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.note()
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["api", "models"] and parts[4:6] == ["tree", "main"]:
            return self.tree("/".join(parts[2:4]), "/".join(parts[6:]))
        if len(parts) >= 5 and parts[2:4] == ["resolve", "main"]:
            return self.resolve("/".join(parts[0:2]), "/".join(parts[4:]))
        if parts[0] == "files":
            return self.serve("/".join(parts[1:3]), "/".join(parts[3:]))
        self.send(404, b'{"error":"not found"}')

    def tree(self, repo, folder):
        out = []
        for (r, path), (data, sha) in FILES.items():
            if r == repo and os.path.dirname(path) == folder:
                size = args.lie_size or len(data)
                out.append({"type": "file", "path": path, "size": size,
                            "lfs": {"oid": sha, "size": size, "pointerSize": 134}})
        if not out and not any(r == repo for r, _ in FILES):
            return self.send(404, b'{"error":"Repository not found"}')
        self.send(200, json.dumps(out).encode(), [("Content-Type", "application/json")])

    def resolve(self, repo, path):
        if args.redirect:
            base = "" if args.redirect == "self" else args.redirect
            return self.send(302, b"", [("Location", f"{base}/files/{repo}/{path}")])
        self.serve(repo, path)

    def serve(self, repo, path):
        if (repo, path) not in FILES:
            return self.send(404, b"Entry not found")
        data, _ = FILES[(repo, path)]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start >= len(data) and start > 0:
            return self.send(416, b"", [("Content-Range", f"bytes */{len(data)}")])
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with lock:
            cut, state["cut"] = state["cut"], False
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        step = 64 * 1024
        for i in range(0, len(body), step):
            try:
                self.wfile.write(body[i:i + step])
            except (BrokenPipeError, ConnectionResetError):
                return
            if args.slow:
                time.sleep(0.05)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
server.daemon_threads = True
print(f"hub: listening on {server.server_address[1]}", flush=True)
server.serve_forever()
