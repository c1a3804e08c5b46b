"""The feeds' HTTP client: JSON over httpx, with bounded retries (tenacity).

Interface (the XoD and Wonde feeds build on it; keep it stable):

    client = FeedClient(base_url, auth, timeout=30, retries=4, max_wait=120)
    body = client.get_json(path, params, endpoint="Students", page=3)
    body = client.post_json(url, json_body, endpoint="token")
    client.close()          # or: with FeedClient(...) as client:

- ``auth`` is None or a callable ``auth(refresh: bool) -> dict`` of headers to
  send. It is called with False before each request; when the server refuses
  the request (401), with True once, and the request is sent again with the
  new headers (a token that expired mid-run). A second refusal is an error.
- Transient failures are retried with exponential backoff: a timeout or broken
  connection, a body cut short or not JSON, HTTP 429 (waiting what its
  ``Retry-After`` says) and 5xx. At most ``retries`` retries, and at most
  ``max_wait`` seconds spent waiting in all; a ``Retry-After`` longer than what
  is left fails at once rather than being ignored.
- Anything else, and a transient failure that outlasts the bounds, raises
  ``FeedError`` naming the endpoint and page and saying what happened. A
  ``FeedError`` is an ``ExportError``: the sync reports it and writes nothing.
- The body must be JSON; ``get_json`` returns it parsed (a dict or a list).
  Nothing here looks inside it (an API's error envelope is the feed's to read).
- Headers, tokens and request bodies are never put in a message or a log.
- ``sleep`` (default ``time.sleep``) is how it waits: tests pass one that
  does not really sleep. ``HttpSettings`` holds a feed's production bounds
  (``FeedClient(url, auth, **vars(HttpSettings()))``).
"""
from __future__ import annotations

import email.utils
import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping

# httpx's own command line (httpx._main) would load rich and click: the
# engine never loads a UI library, so that optional part is left out.
sys.modules.setdefault("httpx._main", None)
import httpx  # noqa: E402
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from engine.export.files import ExportError
from engine.safe_text import QUOTED_LIMIT, one_line

Auth = Callable[[bool], Mapping[str, str]]
# Bounds on retrying one request: a night's run may wait out a few minutes of
# trouble, never hours.
TIMEOUT, RETRIES, MAX_WAIT = 60.0, 5, 300.0
# The backoff between retries without a Retry-After: 1, 2, 4 … seconds, at
# most this many seconds each.
BACKOFF_CAP = 30.0


@dataclass(frozen=True)
class HttpSettings:
    """A feed's ``FeedClient`` keywords: ``FeedClient(url, auth, **vars(settings))``
    (tests make the waits tiny)."""
    timeout: float = TIMEOUT
    retries: int = RETRIES
    max_wait: float = MAX_WAIT
    sleep: Callable[[float], None] = time.sleep


# What a feed uses unless told otherwise; the tests put tiny waits here.
DEFAULT_SETTINGS = HttpSettings()


class FeedError(ExportError):
    """A feed request failed for good; the message names endpoint and page.
    ``status`` is the HTTP status of a refused request (else None) and
    ``detail`` the start of its body on one line, for the feed to interpret
    (an API's error text, e.g. a paused authorisation)."""

    def __init__(self, endpoint: str, page: int | None, problem: str, *, status: int | None = None,
                 detail: str = ""):
        self.endpoint, self.page, self.problem = endpoint, page, problem
        self.status, self.detail = status, detail
        where = endpoint if page is None else f"{endpoint} page {page}"
        super().__init__(f"{where}: {problem}")


class _Transient(Exception):
    """A failure worth retrying; ``wait`` is the server's Retry-After, if any."""

    def __init__(self, problem: str, wait: float | None = None):
        super().__init__(problem)
        self.problem, self.wait = problem, wait


class _Refused(Exception):
    """HTTP 401: the credentials were refused."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class _Permanent(Exception):
    """An HTTP 4xx not worth retrying."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


class FeedClient:
    def __init__(self, base_url: str, auth: Auth | None = None, *, timeout: float = 30.0, retries: int = 4,
                 max_wait: float = 120.0, sleep: Callable[[float], None] = time.sleep):
        self.auth, self.retries, self.max_wait, self.sleep = auth, retries, max_wait, sleep
        self._http = httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False,
                                  headers={"Accept": "application/json"})

    def __enter__(self) -> FeedClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get_json(self, path: str, params: Mapping[str, object] | None = None, *, endpoint: str,
                 page: int | None = None) -> dict | list:
        return self._request("GET", path, endpoint, page, params=dict(params or {}))

    def post_json(self, url: str, body: Mapping[str, object], *, endpoint: str) -> dict | list:
        """POST a JSON body (a token request): retried like a GET."""
        return self._request("POST", url, endpoint, None, json=dict(body))

    def _request(self, method: str, url: str, endpoint: str, page: int | None, **kwargs) -> dict | list:
        refreshed = False
        while True:
            try:
                return self._retrying(lambda: self._once(method, url, refreshed, **kwargs))
            except _Refused as exc:
                if refreshed or self.auth is None:
                    raise FeedError(endpoint, page, _with_detail("the server refused the credentials (HTTP 401)",
                                                                 exc.detail), status=401, detail=exc.detail) from None
                refreshed = True
            except _Permanent as exc:
                raise FeedError(endpoint, page, _with_detail(f"the server refused the request (HTTP {exc.status})",
                                                             exc.detail), status=exc.status, detail=exc.detail) from None
            except _Transient as exc:
                raise FeedError(endpoint, page, f"{exc.problem}; gave up after retrying") from None

    def _retrying(self, attempt: Callable[[], dict | list]) -> dict | list:
        retrying = Retrying(retry=retry_if_exception_type(_Transient), wait=_wait,
                            stop=stop_after_attempt(self.retries + 1) | self._out_of_time,
                            sleep=self.sleep, reraise=True)
        return retrying(attempt)

    def _out_of_time(self, state: RetryCallState) -> bool:
        return state.idle_for + state.upcoming_sleep > self.max_wait

    def _once(self, method: str, url: str, refresh: bool, **kwargs) -> dict | list:
        headers = dict(self.auth(refresh)) if self.auth else {}
        try:
            response = self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise _Transient("no answer in time") from None
        except httpx.RemoteProtocolError:  # the connection closed before the whole body came
            raise _Transient("the answer was cut short") from None
        except httpx.TransportError as exc:
            raise _Transient(f"the connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if status == 401:
            raise _Refused(_detail(response))
        if status == 429:
            raise _Transient("too many requests (HTTP 429)", _retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            raise _Transient(f"server error (HTTP {status})")
        if status >= 400:
            raise _Permanent(status, _detail(response))
        try:
            return json.loads(response.content)
        except ValueError:
            raise _Transient("the answer is not valid JSON") from None


def _detail(response: httpx.Response) -> str:
    """The start of a refusal's body on one line: an API's error text."""
    return one_line(response.content[:QUOTED_LIMIT * 2].decode("utf-8", "replace"), QUOTED_LIMIT)


def _with_detail(problem: str, detail: str) -> str:
    return f"{problem}: {detail}" if detail else problem


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Transient) and exc.wait is not None:
        return exc.wait
    return wait_exponential(multiplier=1, max=BACKOFF_CAP)(state)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
