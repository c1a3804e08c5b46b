"""Groupcall Xporter on Demand: fetching a school into a snapshot folder.

``fetch_xod(config, previous, ...)`` fetches what the school's settings need
and nothing more, page by page into a new snapshot (engine.feeds.archive), and
returns a ``Fetched``: the snapshot folder, the delta state to store once the
run commits, and what it did. Facts it relies on are in
``../shared/feeds.md`` and ``../shared/xporter-endpoints.md``.

- Token: POSTed for at ``source.token_url`` with the relying party,
  ``thirdPartyId`` ``XporterOnDemand``, the establishment number and the
  secret (engine.feeds.secret); sent as ``Authorization: Idaas <token>``; asked
  for again once when a request is refused (the HTTP client's ``auth``).
  ``authorisation_paused`` anywhere in an answer is ``_AccessPaused``, naming
  the school.
- Endpoints: Students (with leavers; with pre-admissions when they are on),
  Staff when staff are on, the optional endpoints the data settings read
  (engine.optional_data.endpoints_read) and SchoolInfo.
- Paging: pages 1 to ``PageCount`` (``NextPage`` is never null); a page that
  answers with another page number, or changes the count, is an error.
- Errors: ``ExceptionMessage`` is an error even on HTTP 200. Every error is a
  ``FeedError`` naming the endpoint and page; the snapshot is discarded.
- Delta: people endpoints are asked with ``changedRows``: ``*`` on a full
  fetch (a baseline: all rows, and a token; the ``__changedRows__`` is left
  out of the saved pages so the snapshot reads as a full export), the stored
  token otherwise. The state to store (``Fetched.next_delta``, JSON: the date
  of the last full fetch and each endpoint's token) is recorded by the sync
  only when its run commits. A token the server refuses falls back to a full
  fetch; a full fetch happens at least every ``full_every_days``.
- GDPR: ``/api/v1/GDPRIDs`` (``IsOptIn`` false) names people excluded from
  this app; their records, and records about them (contacts, comms, photos,
  group memberships), are left out of the snapshot, and the answer itself is
  saved as ``GDPRIDs.json``, so that the sync removes what the library already
  holds about them (engine.export.gdpr reads it, here and in the folder
  reader). **Inference** (feeds.md): an opt-in list (``IsOptIn`` true) is not
  interpreted; it is a warning.
- Freshness: a page 1 whose ``meta[0].DateTime`` is older than
  ``max_age_hours`` stops the fetch with ``StaleFeed`` (a refusal, exit 3).
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from engine.config import Config
from engine.export.gdpr import ENDPOINT as GDPR_ENDPOINT, excluded_ids, without_excluded
from engine.feeds.archive import Snapshot, prune
from engine.feeds.fetched import Fetched, PageProgress, StaleFeed
from engine.feeds.http import DEFAULT_SETTINGS, FeedClient, FeedError, HttpSettings
from engine.feeds.secret import read_secret
from engine.models import SyncRun
from engine.optional_data import endpoints_read

DEFAULT_URL = "https://xporter.groupcall.com"
PEOPLE = ("Students", "Staff")
RESULT_SETS = {"Groups": "Group"}
PAUSED = "authorisation_paused"


class _AccessPaused(FeedError):
    """The school has paused mislink's access in Groupcall's portal."""


class _XporterError(FeedError):
    """An answer that is Xporter's error envelope (``ExceptionMessage``)."""


class _DeltaRefused(Exception):
    pass


def endpoint_names(config: Config) -> list[str]:
    """The endpoints the school's settings need, in fetching order."""
    data = config.data
    return ["Students", *(["Staff"] if data.staff else []), *(e.name for e in endpoints_read(data)), "SchoolInfo"]


def fetch_xod(config: Config, previous: str | None = None, *, pages: PageProgress | None = None,
              now: datetime | None = None, http: HttpSettings | None = None) -> Fetched:
    """Fetch into a new snapshot; ``previous`` is the last committed run's
    ``next_delta``. Raises ``FeedError`` (nothing kept) or ``StaleFeed``."""
    now = now or datetime.now()
    source = config.source
    secret = read_secret(config)
    archive = config.base_dir / source.archive
    with FeedClient(source.url or DEFAULT_URL, None, **vars(http or DEFAULT_SETTINGS)) as client:
        fetcher = _Fetcher(config, client, secret, now, pages or (lambda name, done, count: None))
        client.auth = fetcher.auth
        state = _delta_state(previous)
        delta = state if state and not _full_due(state, source.full_every_days, now) else None
        try:
            fetched = fetcher.fetch(archive, delta)
        except _DeltaRefused:
            fetched = fetcher.fetch(archive, None)
            fetched.warnings.append("Xporter refused the stored delta token, so everything was fetched")
    prune(archive, source.keep_days)
    return fetched


def _delta_state(previous: str | None) -> dict | None:
    try:
        state = json.loads(previous) if previous else None
    except ValueError:
        return None
    return state if isinstance(state, dict) and isinstance(state.get("tokens"), dict) else None


def _full_due(state: dict, every_days: int, now: datetime) -> bool:
    try:
        last_full = date.fromisoformat(state.get("full", ""))
    except (TypeError, ValueError):
        return True
    return (now.date() - last_full).days >= every_days


class _Fetcher:
    def __init__(self, config: Config, client: FeedClient, secret: str, now: datetime, pages: PageProgress):
        self.config, self.client, self.secret, self.now, self.pages = config, client, secret, now, pages
        self.estab = config.source.estab
        self.token: str | None = None

    # -- the token -----------------------------------------------------------
    def auth(self, refresh: bool) -> dict[str, str]:
        if self.token is None or refresh:
            self.token = self._new_token()
        return {"Authorization": f"Idaas {self.token}"}

    def _new_token(self) -> str:
        source = self.config.source
        body = {"relyingParty": source.relying_party, "thirdPartyId": "XporterOnDemand", "estab": self.estab,
                "password": self.secret}
        auth, self.client.auth = self.client.auth, None  # the token request carries no token
        try:
            answer = self.client.post_json(source.token_url, body, endpoint="token")
        except FeedError as exc:
            raise self._paused(exc.endpoint, None) if PAUSED in exc.detail else exc from None
        finally:
            self.client.auth = auth
        self._check_envelope(answer, "token", None)
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise FeedError("token", None, "the answer holds no token")
        return token

    def _paused(self, endpoint: str, page: int | None) -> _AccessPaused:
        return _AccessPaused(endpoint, page, f"school {self.estab} has paused mislink's access to its data in "
                                            "Groupcall's portal; nothing was fetched. Ask the school to resume it.")

    def _check_envelope(self, answer: object, endpoint: str, page: int | None) -> None:
        if not isinstance(answer, dict):
            raise FeedError(endpoint, page, "the answer is not a JSON object")
        error = answer.get("ExceptionMessage")
        if error:
            if PAUSED in str(error):
                raise self._paused(endpoint, page)
            raise _XporterError(endpoint, page, f"Xporter returned an error: {str(error)[:200]}")

    def _get(self, path: str, params: dict, endpoint: str, page: int | None) -> dict:
        try:
            answer = self.client.get_json(path, params, endpoint=endpoint, page=page)
        except FeedError as exc:
            if PAUSED in exc.detail:
                raise self._paused(endpoint, page) from None
            raise
        self._check_envelope(answer, endpoint, page)
        return answer

    # -- the fetch -------------------------------------------------------------
    def fetch(self, archive: Path, delta: dict | None) -> Fetched:
        snapshot = Snapshot(archive)
        try:
            excluded, warnings = self._excluded(snapshot)
            tokens = {}
            for name in endpoint_names(self.config):
                token = self._fetch_endpoint(snapshot, name, excluded, delta)
                if token:
                    tokens[name] = token
            folder = snapshot.complete()
        except BaseException:
            snapshot.discard()
            raise
        full_date = self.now.date().isoformat() if delta is None else delta.get("full")
        next_delta = json.dumps({"full": full_date, "tokens": tokens}) if tokens else None
        if next_delta and len(next_delta) > SyncRun.__table__.c.next_delta.type.length:
            next_delta = None  # tokens too long to store: the next run fetches everything
        count = sum(map(len, excluded.values()))
        if count:
            warnings.append(f"{count} {'person' if count == 1 else 'people'} the school excluded (GDPR) left out "
                            "of the fetch")
        return Fetched(folder, next_delta, delta is None, count, warnings)

    def _excluded(self, snapshot: Snapshot) -> tuple[dict[str, set[str]], list[str]]:
        """The people excluded, per kind; the answer is saved in the snapshot."""
        answer = self._get(f"/api/v1/{GDPR_ENDPOINT}", {}, GDPR_ENDPOINT, None)
        entries = answer.get("GDPR")
        answer["GDPR"] = entries = entries if isinstance(entries, list) else []
        file = snapshot.endpoint(GDPR_ENDPOINT)
        file.add(answer)
        file.close()
        return excluded_ids(entries)

    def _params(self, name: str, delta: dict | None) -> dict:
        params: dict = {"pageSize": self.config.source.page_size}
        if name == "Students":
            params["options"] = ",".join(["includeLeavers"] + (["includePreAdmissions"]
                                                               if self.config.data.pre_admissions else []))
        if name in PEOPLE:
            params["changedRows"] = delta["tokens"].get(name, "*") if delta else "*"
        return params

    def _fetch_endpoint(self, snapshot: Snapshot, name: str, excluded: dict[str, set[str]],
                        delta: dict | None) -> str | None:
        """Every page of one endpoint into the snapshot; its next delta token."""
        path = f"/api/v1/School/{self.estab}/{name}"
        params = self._params(name, delta)
        baseline = params.get("changedRows") == "*"
        file = snapshot.endpoint(name)
        page, count, token = 1, 1, None
        while page <= count:
            try:
                answer = self._get(path, params | {"page": page}, name, page)
            except FeedError as exc:
                refused = isinstance(exc, _XporterError) or exc.status is not None and exc.status != 401
                if page == 1 and name in PEOPLE and not baseline and refused and not isinstance(exc, _AccessPaused):
                    raise _DeltaRefused from exc
                raise
            count = self._check_page(answer, name, page, count)
            if page == 1:
                self._check_fresh(answer, name)
            changed = answer.pop("__changedRows__", None) if baseline else answer.get("__changedRows__")
            token = _next_token(changed) or token
            _leave_out(answer, name, excluded)
            file.add(answer)
            self.pages(name, page, count)
            page += 1
        file.close()
        return token

    def _check_page(self, answer: dict, name: str, page: int, count: int) -> int:
        """The page count this page confirms; an error for a page out of sequence."""
        result_set = RESULT_SETS.get(name, name)
        if not isinstance(_get(answer, result_set), list):
            raise FeedError(name, page, f"the answer has no '{result_set}' list of records")
        pagination = (_get(answer, "__pagination__") or [None])[0]
        if not isinstance(pagination, dict):
            if page > 1:
                raise FeedError(name, page, "the answer has no __pagination__")
            return 1
        number, pages = _whole(pagination.get("PageNumber")), _whole(pagination.get("PageCount"))
        if number != page:
            raise FeedError(name, page, f"page {page} is missing: the server answered with page {number}")
        if pages is None or pages < 1 or (page > 1 and pages != count):
            raise FeedError(name, page, f"the page count changed during the fetch (from {count} to {pages})")
        return pages

    def _check_fresh(self, answer: dict, name: str) -> None:
        meta = (_get(answer, "meta") or [None])[0]
        stamp = _get(meta, "DateTime") if isinstance(meta, dict) else None
        try:
            extracted = datetime.fromisoformat(str(stamp).strip()) if stamp else None
        except ValueError:
            return  # the folder reader reports an unreadable time
        if extracted is None:
            return
        if extracted.tzinfo:
            extracted = extracted.astimezone().replace(tzinfo=None)
        limit = self.config.source.max_age_hours
        if self.now - extracted > timedelta(hours=limit):
            raise StaleFeed(f"{name} page 1: the school's data was extracted at {extracted:%Y-%m-%d %H:%M}, more "
                            f"than {limit} hours ago (source.max_age_hours): the school's Xporter agent has "
                            f"stopped updating; nothing was synced")


def _get(record: dict, key: str):
    folded = key.casefold()
    return next((v for k, v in record.items() if k.casefold() == folded), None)


def _whole(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _next_token(changed: object) -> str | None:
    entry = changed[0] if isinstance(changed, list) and changed else None
    token = _get(entry, "NextChangedRows") if isinstance(entry, dict) else None
    return str(token) if token else None


def _leave_out(answer: dict, name: str, excluded: dict[str, set[str]]) -> None:
    """Drop, in place, every record naming an excluded person."""
    for key, records in answer.items():
        if isinstance(records, list):
            answer[key] = without_excluded(name, key, records, excluded)
