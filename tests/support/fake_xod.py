"""A fake Xporter on Demand server for the feed tests: real HTTP on 127.0.0.1.

``FakeXod(responses)`` serves an export given as endpoint -> response body
(the shapes ``tests.builders.write_export`` writes, or a recorded sample),
paging each result set at the ``pageSize`` asked for, as XoD does: ``meta`` on
page 1 only, ``__pagination__`` on every page (``NextPage`` never null). It
answers the token POST, ``/api/v1/GDPRIDs`` and ``changedRows`` deltas, and
checks ``Authorization: Idaas <token>`` on every data call.

Faults are queued with ``fail(endpoint, page, fault, times=1)``; each answers
that request instead of the data, ``times`` times. ``requests`` records every
request as (method, endpoint-or-path, query dict). ``serving(server)`` runs a
server in a thread on an ephemeral port; the generic ``ScriptedServer`` is
what it is built on (other fake feeds can use it too).
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

RESULT_SETS = {"Groups": "Group"}
EXTRA_SETS = {"Groups": ("StaffMembers", "StudentMembers")}
ENVELOPE = {"Message": None, "ExceptionType": None, "ExceptionMessage": None, "InnerException": None}
# How long a "timeout" fault keeps the client waiting: longer than the tests'
# client timeout, short enough not to slow the suite.
HANG_SECONDS = 1.5


@dataclass
class Reply:
    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    # Send a Content-Length this much larger than the body, then close.
    short_by: int = 0
    delay: float = 0.0


class ScriptedServer:
    """Answers each request with ``handle(method, path, query, headers, body) -> Reply``."""

    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> Reply:
        raise NotImplementedError

    def http_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = server.handle(method, url.path, dict(parse_qsl(url.query)), dict(self.headers), body)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload) + reply.short_by))
                    if reply.short_by:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


@contextmanager
def serving(server: ScriptedServer):
    """Run the server on 127.0.0.1 (an ephemeral port); yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), server.http_handler())
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


FAULTS = {
    "500": lambda: Reply(500, {"Message": "An error has occurred."}),
    "429": lambda: Reply(429, {"Message": "slow down"}, {"Retry-After": "2"}),
    "timeout": lambda: Reply(200, {}, delay=HANG_SECONDS),
    "truncated": lambda: Reply(200, {"Students": [{"Id": "1"}]}, short_by=200),
    "envelope": lambda: Reply(200, ENVELOPE | {"ExceptionMessage": "Something went wrong"}),
    "expired": lambda: Reply(401, {"Message": "Authorization has been denied for this request."}),
}


class FakeXod(ScriptedServer):
    def __init__(self, responses: dict[str, dict], *, estab: str = "3281101", secret: str = "s3cret",
                 gdpr: dict | None = None):
        self.responses, self.estab, self.secret = responses, estab, secret
        self.gdpr = gdpr or {}
        self.paused = False
        self.tokens: list[str] = []
        # Delta tokens this server accepts, and per endpoint what a delta
        # request answers (the changed rows, the deleted ids).
        self.delta_tokens: set[str] = set()
        self.deltas: dict[str, tuple[list[dict], list[str]]] = {}
        self.faults: dict[tuple[str, int | None], list[Reply]] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.pages_skipped: set[tuple[str, int]] = set()
        self.lock = threading.Lock()

    # -- scripting -------------------------------------------------------
    def fail(self, endpoint: str, page: int | None, fault: str, times: int = 1) -> None:
        self.faults.setdefault((endpoint, page), []).extend(FAULTS[fault]() for _ in range(times))

    def skip_page(self, endpoint: str, page: int) -> None:
        """Answer this page with the next page's contents (a page missing from the sequence)."""
        self.pages_skipped.add((endpoint, page))

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (a token expiring mid-run)."""
        self.tokens.clear()

    def data_requests(self, endpoint: str) -> list[dict]:
        return [query for method, name, query in self.requests if name == endpoint]

    # -- answering -------------------------------------------------------
    def handle(self, method, path, query, headers, body) -> Reply:
        with self.lock:
            if method == "POST" and path == "/token":
                self.requests.append((method, "token", {}))
                return self._token(json.loads(body or b"{}"))
            name = path.rstrip("/").rsplit("/", 1)[-1]
            self.requests.append((method, name, query))
            if headers.get("Authorization", headers.get("authorization")) not in {f"Idaas {t}" for t in self.tokens}:
                return FAULTS["expired"]()
            page = int(query.get("page", 1))
            for key in ((name, page), (name, None)):
                if self.faults.get(key):
                    return self.faults[key].pop(0)
            if path == "/api/v1/GDPRIDs":
                return Reply(200, {"GDPR": [self._gdpr()]} | ENVELOPE)
            if not path.startswith(f"/api/v1/School/{self.estab}/") or name not in self.responses:
                return Reply(404, {"Message": "No HTTP resource was found"})
            return self._page(name, page, int(query.get("pageSize", 25)), query.get("changedRows"))

    def _token(self, request: dict) -> Reply:
        wanted = {"thirdPartyId": "XporterOnDemand", "estab": self.estab, "password": self.secret}
        if any(request.get(k) != v for k, v in wanted.items()) or not request.get("relyingParty"):
            return Reply(401, {"Message": "invalid credentials"})
        if self.paused:
            return Reply(200, ENVELOPE | {"ExceptionMessage": "authorisation_paused"})
        token = f"tok{len(self.requests)}"
        self.tokens.append(token)
        return Reply(200, {"token": token, "expires": "2030-01-01T00:00:00Z"})

    def _gdpr(self) -> dict:
        return {"IsOptIn": False, "Estab": self.estab, "RelyingParty": "mislink.test", "MIS": None,
                "StudentIds": [], "StaffIds": [], "ContactIds": [], "OtherIds": []} | self.gdpr

    def _page(self, name: str, page: int, size: int, changed_rows: str | None) -> Reply:
        result_set = RESULT_SETS.get(name, name)
        response = self.responses[name]
        records, deleted = response.get(result_set, []), []
        if changed_rows not in (None, "*"):
            if changed_rows not in self.delta_tokens:
                return Reply(200, ENVELOPE | {"ExceptionMessage": f"changedRows token {changed_rows} is not valid"})
            records, deleted = self.deltas.get(name, ([], []))
        served = page + 1 if (name, page) in self.pages_skipped else page
        count = max(1, -(-len(records) // size))
        body = {result_set: records[(served - 1) * size:served * size]}
        for extra in EXTRA_SETS.get(name, ()):
            body[extra] = response.get(extra, []) if served == 1 else []
        body["meta"] = response.get("meta", []) if served == 1 else []
        body["__pagination__"] = [{"PageSize": size, "PageNumber": served, "PageCount": count,
                                   "RowCount": len(records), "NextPage": f"?page={served + 1}&pageSize={size}"}]
        if changed_rows is not None:
            body[f"{result_set}_deleted"] = [{"Id": i} for i in deleted] if served == 1 else []
            next_token = f"delta-{name}-{len(self.delta_tokens) + 1}"
            self.delta_tokens.add(next_token)
            body["__changedRows__"] = [{"SnapshotDate": "2026-12-01T00:00:00Z", "PreviousChangedRows": changed_rows,
                                        "RequestedChangedRows": changed_rows, "NextChangedRows": next_token,
                                        "NextUrl": f"?changedRows={next_token}&page=1&pageSize={size}"}]
        return Reply(200, body)
