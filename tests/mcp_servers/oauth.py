#!/usr/bin/env python3
"""A small remote MCP server behind OAuth, over streamable HTTP, for the tests: it is its own
authorization server. It serves the protected-resource metadata (RFC 9728) and the
authorization-server metadata (RFC 8414), registers clients dynamically (RFC 7591), runs the
authorization code flow with PKCE (S256 only: a code is exchanged only with the verifier of its
challenge, for the redirect address it was issued to), and issues access tokens that expire
after the seconds given as the second argument, with refresh tokens that are rotated on use.
`/mcp` takes JSON-RPC (the initialize handshake; `server/discover` is "method not found") only
with a live access token, else 401 with a WWW-Authenticate header naming its metadata; its one
tool, `whoami`, says which token called it. Every grant, refresh, refusal and call is a line of
the events file (the first argument); the port it listens on is written to that file plus
".port". With a file named like the first argument plus ".deny", the authorization page
refuses (redirects with error=access_denied)."""
import base64
import hashlib
import json
import secrets
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENTS = sys.argv[1]
LIFETIME = int(sys.argv[2]) if len(sys.argv) > 2 else 3600
CLIENTS, CODES, ACCESS, REFRESH = {}, {}, {}, {}


def event(line):
    with open(EVENTS, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def issue(client_id):
    at, rt = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
    ACCESS[at] = time.time() + LIFETIME
    REFRESH[rt] = client_id
    return {"access_token": at, "token_type": "Bearer", "expires_in": LIFETIME,
            "refresh_token": rt, "scope": "mcp"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def send(self, status, body=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        base = self.base()
        if url.path.startswith("/.well-known/oauth-protected-resource"):
            return self.send(200, {"resource": base + "/mcp", "authorization_servers": [base],
                                   "scopes_supported": ["mcp"], "bearer_methods_supported": ["header"]})
        if url.path.startswith("/.well-known/oauth-authorization-server"):
            return self.send(200, {
                "issuer": base, "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token", "registration_endpoint": base + "/register",
                "response_types_supported": ["code"], "scopes_supported": ["mcp"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"]})
        if url.path == "/authorize":
            return self.authorize(dict(urllib.parse.parse_qsl(url.query)))
        self.send(405 if url.path == "/mcp" else 404)

    def authorize(self, q):
        redirect = q.get("redirect_uri", "")
        client = CLIENTS.get(q.get("client_id"))
        if client is None or redirect not in client["redirect_uris"]:
            event("authorize refused: unknown client or redirect")
            return self.send(400, {"error": "invalid_request"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            event("authorize refused: no S256 challenge")
            return self.send(400, {"error": "invalid_request"})
        try:
            open(EVENTS + ".deny").close()
            event("authorize denied")
            params = {"error": "access_denied", "error_description": "The user said no.",
                      "state": q.get("state", "")}
        except OSError:
            code = "code-" + secrets.token_hex(8)
            CODES[code] = (q["code_challenge"], redirect, q["client_id"])
            event("authorize ok")
            params = {"code": code, "state": q.get("state", "")}
        self.send(302, headers=[("Location", redirect + "?" + urllib.parse.urlencode(params))])

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        if path == "/register":
            meta = json.loads(self.body() or "{}")
            cid = "client-" + secrets.token_hex(4)
            CLIENTS[cid] = {"redirect_uris": meta.get("redirect_uris", [])}
            event("registered " + json.dumps(meta.get("client_name")))
            return self.send(201, dict(meta, client_id=cid, token_endpoint_auth_method="none"))
        if path == "/token":
            return self.token(dict(urllib.parse.parse_qsl(self.body())))
        if path == "/mcp":
            return self.mcp()
        self.send(404)

    def token(self, f):
        if f.get("grant_type") == "authorization_code":
            challenge, redirect, cid = CODES.pop(f.get("code"), (None, None, None))
            verifier = f.get("code_verifier", "").encode()
            want = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if challenge is None or want != challenge or f.get("redirect_uri") != redirect:
                event("token refused")
                return self.send(400, {"error": "invalid_grant"})
            event("token granted")
            return self.send(200, issue(cid))
        if f.get("grant_type") == "refresh_token":
            cid = REFRESH.pop(f.get("refresh_token"), None)
            if cid is None:
                event("refresh refused")
                return self.send(400, {"error": "invalid_grant"})
            event("refreshed")
            return self.send(200, issue(cid))
        self.send(400, {"error": "unsupported_grant_type"})

    def mcp(self):
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if ACCESS.get(token, 0) < time.time():
            event("mcp refused " + ("expired" if token in ACCESS else "no token"))
            self.body()
            meta = self.base() + "/.well-known/oauth-protected-resource/mcp"
            return self.send(401, {"error": "unauthorized"},
                             [("WWW-Authenticate", 'Bearer resource_metadata="%s"' % meta)])
        msg = json.loads(self.body() or "{}")
        mid, method = msg.get("id"), msg.get("method")
        if mid is None:
            return self.send(202)
        if method == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "guarded", "version": "1.0"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "whoami", "description": "Says who is calling.",
                                 "inputSchema": {"type": "object", "properties": {}}}]}
        elif method == "tools/call":
            event("called with " + token)
            result = {"content": [{"type": "text", "text": "signed in with " + token}]}
        elif method == "ping":
            result = {}
        else:
            return self.send(200, {"jsonrpc": "2.0", "id": mid,
                                   "error": {"code": -32601, "message": "Method not found"}})
        self.send(200, {"jsonrpc": "2.0", "id": mid, "result": result})

    def do_DELETE(self):
        self.send(405)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(EVENTS + ".port", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    print("oauth: listening on %d" % server.server_address[1], file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
