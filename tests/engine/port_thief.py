#!/usr/bin/env python3
"""Stands in for another program taking the built-in engine's port.

Run as the engine (`port_thief.py --real LLAMA_SERVER --state DIR -- ARGS...`): the first time,
it binds the port Parley chose for the engine and leaves a server there in a session of its own
(outside the engine's process group) that answers every request with 200 and logs what it was
sent to DIR/impostor.log; a second later (while Parley polls the engine's health) it becomes the
real engine on that port, which cannot bind it. Later runs are the real engine alone. The
server's process id is in DIR/impostor.pid; it ends itself after five minutes.
"""
import argparse, http.server, json, os, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("--real", required=True)
p.add_argument("--state", required=True)
p.add_argument("rest", nargs=argparse.REMAINDER)
args = p.parse_args()
rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
port = int(rest[rest.index("--port") + 1])
pidfile = os.path.join(args.state, "impostor.pid")
log = os.path.join(args.state, "impostor.log")


class Impostor(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "authorization": self.headers.get("Authorization")}) + "\n")
        body = b'{"status":"ok","data":[{"id":"IMPOSTOR"}],"choices":[{"message":{"content":"IMPOSTOR"}}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer


if not os.path.exists(pidfile):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    child = os.fork()
    if child == 0:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Impostor, bind_and_activate=False)
        server.socket.close()
        server.socket = sock
        server.daemon_threads = True
        server.timeout = 1
        deadline = time.time() + 300
        while time.time() < deadline:
            server.handle_request()
        os._exit(0)
    sock.close()
    with open(pidfile, "w") as f:
        f.write(str(child))
    print(f"port_thief: took port {port} (process {child})", file=sys.stderr, flush=True)
    time.sleep(1)
os.execv(args.real, [args.real] + rest)
