"""The Wonde feed: fetching a school from Wonde into an export-folder snapshot.

``fetch_wonde(config, previous, ...)`` is a feed as ``engine.feeds.fetched``
describes (the shape of ``fetch_xod``): it fetches what the school's settings
need into a new snapshot (engine.feeds.archive) and returns a ``Fetched``.
Wonde answers ``{"data": [...], "meta": {"pagination": {"next": <url or
null>, "more": ...}}}`` per page, to a ``Bearer`` token (the school's secret,
engine.feeds.secret; see ``../shared/feeds.md``). Each page is written, as it
arrives, as a page of the Xporter endpoint file the folder reader already
reads: Wonde records become Xporter-shaped records here (one table per record
kind below), and everything else (validation, rejections by record and field,
optional data, leavers) is the reader's.

What is fetched (``include=`` is one request per page, not one per person):

- ``schools/{id}``: the establishment number (``la_code`` + ``establishment_number``,
  as Xporter's ``EstabId``) and the MIS name -> ``SchoolInfo.json``;
- ``students`` with ``extended_details,contact_details,groups`` (and ``photo``,
  ``contacts`` when photos or guardians are on) -> ``Students.json``, and from
  the included photo and contacts ``Photos.json``, ``Contacts.json`` and
  ``StudentContacts.json`` (so the separate ``photos`` and ``contacts``
  endpoints are never needed);
- ``students-pre-admission`` when pre-admissions are on -> more pages of
  ``Students.json`` with ``StudentStatus`` ``PreAdmission``;
- ``employees`` when staff are on -> ``Staff.json`` (their registration groups
  as ``RegGroup``, from which the reader finds their year);
- on a delta (``updated_after``), ``deletions`` -> ``Students_deleted`` and
  ``Staff_deleted`` pages, and a ``__changedRows__`` marker: the reader takes
  a delta's absentees as unchanged and its deletions as leavers. A full fetch
  needs no deletions: whoever is absent from it has left.

Ids: Wonde's ``mis_id`` is the MIS id (Xporter's ``Id``, what borrowers are
linked by); Wonde's own ``id`` is kept as ``ExternalId``, a second stable id
that is Wonde's, never as ``IdaasId`` (that is Groupcall's ``PL-``/``PWT-``
form). A school moving between Xporter and Wonde keeps its MIS ids, which
carry the links; the ExternalId then changes with the feed.

Only the includes feeds.md lists are asked for (``education_details`` is not:
a server that does not know it would refuse the page with a 422), but UPN,
admission number and dates are read from ``education_details`` too when a
server sends it. ``updated_after`` and the delta state are UTC.
**Inference** (not in feeds.md, kept in the tables below to be corrected by a
live school): the group types (``REGISTRATION``, ``YEAR``, ``HOUSE``), the
detail keys, a contact's ``relationship`` object, a deletion's ``mis_id``, and
the establishment number as ``la_code`` + ``establishment_number``.

A malformed record is written as it came, field by field: the reader rejects
it naming the record and the field, and the rest goes on. A malformed *page*
(no ``data`` list, an error body) or a refused request raises ``FeedError``
naming the Wonde endpoint and page; nothing is written to the library.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timezone
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from engine.config import Config, DataSettings
from engine.feeds.archive import EndpointFile, Snapshot, prune
from engine.feeds.fetched import Fetched, PageProgress
from engine.feeds.http import FeedClient, FeedError, HttpSettings
from engine.feeds.secret import read_secret
from engine.safe_text import QUOTED_LIMIT, one_line

DEFAULT_URL = "https://api.wonde.com/v1.0"
UPDATED_AFTER_FORMAT = "%Y-%m-%d %H:%M:%S"

Record = Mapping[str, object]


# --- Mapping: Wonde records -> Xporter-shaped records -------------------------
# Each Xporter field is read off a Wonde record by one entry in these tables,
# so a live school's responses can correct the mapping in one place (feeds.md
# marks where the detail objects and group types are an inference).

def _related(record: Record, name: str) -> object:
    """An included relation's payload: ``{"data": ...}`` unwrapped; a bare
    payload is taken as it is; absent -> None."""
    value = record.get(name)
    if isinstance(value, dict) and "data" in value:
        return value["data"]
    return value


# The included objects that may carry a person's UPN, admission number and
# dates (feeds.md: "education_details or extended_details, by include=").
_DETAILS = ("extended_details", "education_details", "employment_details")


def _detail(key: str) -> Callable[[Record], object]:
    def read(record: Record) -> object:
        for name in _DETAILS:
            details = _related(record, name)
            if isinstance(details, dict) and details.get(key) is not None:
                return details[key]
        return None
    return read


def _own(key: str) -> Callable[[Record], object]:
    return lambda record: record.get(key)


def _date(key: str) -> Callable[[Record], object]:
    """Wonde's date object ``{"date": "2012-03-04 00:00:00.000000", ...}``;
    a plain value is passed on for the reader to accept or reject."""
    def read(record: Record) -> object:
        value = record.get(key)
        return value.get("date") if isinstance(value, dict) else value
    return read


def _detail_date(key: str) -> Callable[[Record], object]:
    detail = _detail(key)

    def read(record: Record) -> object:
        value = detail(record)
        return value.get("date") if isinstance(value, dict) else value
    return read


# Wonde group ``type`` (case ignored) -> the Xporter field it fills.
GROUP_TYPES = {"registration": "RegGroup", "year": "YearGroup", "house": "HouseGroup"}


def _groups(record: Record) -> dict[str, object]:
    """RegGroup, YearGroup and HouseGroup from the included groups; several of
    one type (a tutor of two forms) are joined with commas, as Xporter does. A
    groups payload that is not a list is passed on as each field, for the
    reader to reject."""
    groups = _related(record, "groups")
    if groups is None:
        return {}
    if not isinstance(groups, list):
        return {field_name: groups for field_name in GROUP_TYPES.values()}
    names: dict[str, list[str]] = {}
    for group in groups:
        if not isinstance(group, dict):
            continue
        field_name = GROUP_TYPES.get(str(group.get("type") or "").casefold())
        name = group.get("name") if group.get("name") is not None else group.get("code")
        if field_name and name is not None:
            names.setdefault(field_name, []).append(name if isinstance(name, str) else json.dumps(name))
    return {f: ",".join(dict.fromkeys(n)) for f, n in names.items()}


PERSON_FIELDS: dict[str, Callable[[Record], object]] = {
    "Id": _own("mis_id"),
    "ExternalId": _own("id"),
    "Title": _own("title"),
    "Forename": _own("forename"),
    "Surname": _own("surname"),
    "LegalForename": _own("legal_forename"),
    "LegalSurname": _own("legal_surname"),
    "MiddleName": _own("middle_names"),
    "Gender": _own("gender"),
}
STUDENT_FIELDS: dict[str, Callable[[Record], object]] = {
    **PERSON_FIELDS,
    "DateofBirth": _date("date_of_birth"),
    "UPN": _detail("upn"),
    "FormerUPN": _detail("former_upn"),
    "AdmissionNo": _detail("admission_number"),
    "EntryDate": _detail_date("admission_date"),
    "LeavingDate": _detail_date("leaving_date"),
}
STAFF_FIELDS: dict[str, Callable[[Record], object]] = {
    **PERSON_FIELDS,
    "DateOfBirth": _date("date_of_birth"),
    "StaffCode": _detail("staff_code"),
    "EmploymentStart": _detail_date("employment_start_date"),
    "EmploymentEnd": _detail_date("employment_end_date"),
}
# contact_details: (Wonde section, its keys in order of preference) per Xporter field.
CONTACT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "HomeEmail": ("emails", ("home", "email", "primary")),
    "WorkEmail": ("emails", ("work",)),
    "MobilePhone": ("telephones", ("mobile",)),
    "HomePhone": ("telephones", ("home", "phone")),
    "WorkPhone": ("telephones", ("work",)),
}
# contact_details.addresses.home key -> Xporter address field.
ADDRESS_FIELDS = {"apartment": "Apartment", "house_name": "HouseName", "house_number": "HouseNo",
                  "street": "Street", "district": "District", "town": "TownOrCity", "county": "County",
                  "postcode": "PostCode"}
# The photo's base64 content in an included ``photo``.
PHOTO_CONTENT = "content"


def _contact_details(record: Record) -> dict[str, object]:
    details = _related(record, "contact_details")
    if not isinstance(details, dict):
        return {}
    values: dict[str, object] = {}
    for field_name, (section, keys) in CONTACT_FIELDS.items():
        part = details.get(section)
        if isinstance(part, dict):
            values[field_name] = next((part[k] for k in keys if part.get(k) not in (None, "")), None)
    addresses = details.get("addresses")
    home = addresses.get("home") if isinstance(addresses, dict) else None
    if isinstance(home, dict):
        values.update({field_name: home.get(key) for key, field_name in ADDRESS_FIELDS.items()})
    return values


def _person(record: Record, fields: Mapping[str, Callable[[Record], object]]) -> dict:
    person = {name: read(record) for name, read in fields.items()}
    person.update(_groups(record))
    person.update(_contact_details(record))
    return person


def student_record(record: Record, *, pre_admission: bool = False) -> dict:
    """A Wonde student (or pre-admission) as an Xporter ``Students`` record."""
    student = _person(record, STUDENT_FIELDS)
    student["StudentStatus"] = "PreAdmission" if pre_admission else None
    return student


def staff_record(record: Record) -> dict:
    """A Wonde employee as an Xporter ``Staff`` record."""
    return _person(record, STAFF_FIELDS)


def photo_record(record: Record, person_type: str) -> dict | None:
    """The included photo as an Xporter ``Photos`` record, or None if none."""
    photo = _related(record, "photo")
    if photo is None:
        return None
    content = photo.get(PHOTO_CONTENT) if isinstance(photo, dict) else photo
    return {"PersonId": record.get("mis_id"), "PersonType": person_type, "Photo": content}


def contact_records(student: Record) -> Iterator[tuple[dict, dict]]:
    """Each included contact of a student as (Xporter ``Contacts`` record,
    ``StudentContacts`` link). The link's details are in the contact's
    ``relationship`` object (or a bare relationship name)."""
    contacts = _related(student, "contacts")
    if not isinstance(contacts, list):
        return
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        relation = contact.get("relationship")
        about = relation if isinstance(relation, dict) else {"relationship": relation}
        person = {"Id": contact.get("mis_id"), "ExternalId": contact.get("id"), "Title": contact.get("title"),
                  "Forename": contact.get("forename"), "Surname": contact.get("surname"),
                  **_contact_details(contact)}
        link = {"StudentId": student.get("mis_id"), "ContactId": contact.get("mis_id"),
                "Relationship": about.get("relationship"), "Priority": about.get("priority"),
                "ParResp": about.get("parental_responsibility")}
        yield person, link


def school_record(school: Record) -> dict:
    """Wonde's school as an Xporter ``SchoolInfo`` record: the establishment
    number is the LA code and the school's number run together (3281101)."""
    la_code, number = school.get("la_code"), school.get("establishment_number")
    estab = f"{la_code}{number}" if la_code not in (None, "") and number not in (None, "") else number
    return {"EstabId": estab, "Name": school.get("name"), "URN": school.get("urn")}


# Wonde deletion ``type`` (case ignored) -> the Xporter result set it removes from.
DELETION_TYPES = {"student": "Students", "employee": "Staff"}


def deleted_entry(deletion: Record) -> tuple[str, dict] | None:
    """A Wonde deletion as (result set, ``{"Id": mis id}``) for its
    ``<ResultSet>_deleted`` list; None for a kind of record mislink does not
    keep, or one without a MIS id (Wonde's own id names nobody in the export)."""
    result_set = DELETION_TYPES.get(str(deletion.get("type") or "").casefold())
    if result_set is None or deletion.get("mis_id") in (None, ""):
        return None
    return result_set, {"Id": deletion["mis_id"]}


# --- Fetching --------------------------------------------------------------

class _EndpointPages:
    """One endpoint file of the snapshot, written page by page as the pages
    arrive (never the whole endpoint in memory): the first page carries the
    ``meta`` (the MIS name), and an endpoint with no pages gets one empty page."""

    def __init__(self, file: EndpointFile, result_set: str, meta: list[dict]):
        self.file, self.result_set, self.meta = file, result_set, meta

    def page(self, records: list[dict], **extra: object) -> None:
        body: dict = {self.result_set: records, **extra}
        if self.file.pages == 0:
            body["meta"] = self.meta
        self.file.add(body)

    def finish(self) -> None:
        if self.file.pages == 0:
            self.page([])


def bearer(secret: str) -> Callable[[bool], dict[str, str]]:
    """The ``auth`` for FeedClient. A Wonde token does not expire: asked again
    after a refusal it is the same token, so a 401 is final."""
    return lambda refresh: {"Authorization": f"Bearer {secret}"}


def fetch_wonde(config: Config, previous: str | None = None, *, pages: PageProgress | None = None,
                now: datetime | None = None, http: HttpSettings = HttpSettings()) -> Fetched:
    """Fetch into a new snapshot (engine.feeds.archive); ``previous`` is the
    last committed run's ``next_delta``. The delta state (JSON: the date of
    the last full fetch, and ``since``, the UTC time this fetch started, asked
    for as ``updated_after`` next time: a change made while it ran is fetched
    again, never missed) is stored by the sync only when its run commits. A
    full fetch happens at least every ``full_every_days``: only a full fetch
    proves who has left; so does a delta Wonde refuses (422). Raises
    ``FeedError`` (nothing kept)."""
    # UTC throughout: the snapshot's name, the pruning and updated_after agree.
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    source = config.source
    state = _delta_state(previous)
    since = state["since"] if state and not _full_due(state, source.full_every_days, now) else None
    base_url = source.url or DEFAULT_URL
    archive = config.base_dir / source.archive
    warnings = []
    with FeedClient(base_url.rstrip("/") + "/", bearer(read_secret(config)), **vars(http)) as client:
        while True:
            snapshot = Snapshot(archive, now)
            try:
                warnings += fetch_school(client, base_url, source.school_id, config.data, snapshot,
                                      updated_after=since, page_size=source.page_size, progress=pages)
                folder = snapshot.complete()
                break
            except FeedError as error:
                snapshot.discard()
                if since is None or error.status != 422:
                    raise
                # A refused updated_after: everything, which is always safe.
                since = None
                warnings.append(f"{error}; so everything was fetched instead of the changes since the last sync")
            except BaseException:
                snapshot.discard()
                raise
    prune(archive, source.keep_days, now)
    full_date = now.date().isoformat() if since is None else state["full"]
    next_delta = json.dumps({"full": full_date, "since": now.strftime(UPDATED_AFTER_FORMAT)})
    return Fetched(snapshot=folder, next_delta=next_delta, full=since is None, warnings=warnings)


def _delta_state(previous: str | None) -> dict | None:
    try:
        state = json.loads(previous) if previous else None
    except ValueError:
        return None
    ok = isinstance(state, dict) and isinstance(state.get("since"), str) and isinstance(state.get("full"), str)
    return state if ok else None


def _full_due(state: dict, every_days: int, now: datetime) -> bool:
    try:
        last_full = date.fromisoformat(state["full"])
    except ValueError:
        return True
    return (now.date() - last_full).days >= every_days


def fetch_school(client: FeedClient, base_url: str, school_id: str, data: DataSettings, snapshot: Snapshot, *,
                 updated_after: str | None = None, page_size: int = 500,
                 progress: PageProgress | None = None) -> list[str]:
    """Fetch the school into ``snapshot``'s endpoint files, over ``client``
    (for ``base_url``: next-page links are followed only on that server).
    ``updated_after`` (``YYYY-MM-DD HH:MM:SS``) fetches only what changed since,
    with the deletions since. Raises ``FeedError`` naming the Wonde endpoint
    and page; the caller discards the snapshot. Returns the fetch's warnings."""
    fetch = _Fetch(client, base_url, school_id, data, snapshot, updated_after, page_size, progress)
    fetch.run()
    return fetch.warnings


class _Fetch:
    def __init__(self, client: FeedClient, base_url: str, school_id: str, data: DataSettings, snapshot: Snapshot,
                 updated_after: str | None, page_size: int, progress: PageProgress | None):
        self.client, self.data, self.snapshot = client, data, snapshot
        self.server = urlsplit(base_url)
        self.base = f"schools/{school_id}"
        self.updated_after, self.page_size = updated_after, page_size
        self.progress = progress or (lambda endpoint, done, count: None)
        self.delta = updated_after is not None
        self.warnings: list[str] = []
        self.files: dict[str, _EndpointPages] = {}
        self.contacts_seen: set[str] = set()

    def run(self) -> None:
        school = self._school()
        self._open([{"MIS": school.get("mis") if isinstance(school.get("mis"), str) else None}])
        self.files["SchoolInfo"].page([school_record(school)])
        self._students()
        if self.data.staff:
            self._people("employees", "Staff", "Staff", staff_record)
        if self.delta:
            self._deletions()
        for file in self.files.values():
            file.finish()

    def _open(self, meta: list[dict]) -> None:
        wanted = ["SchoolInfo", "Students"]
        if self.data.staff:
            wanted.append("Staff")
        if self.data.photos:
            wanted.append("Photos")
        if self.data.guardians:
            wanted += ["Contacts", "StudentContacts"]
        for name in wanted:
            self.files[name] = _EndpointPages(self.snapshot.endpoint(name), name, meta)

    def _school(self) -> dict:
        body = self._request(self.base, None, "school", None)
        school = body.get("data") if isinstance(body, dict) else None
        if not isinstance(school, dict):
            raise FeedError("school", None, _problem(body, "the answer holds no school"))
        return school

    def _includes(self, person_type: str) -> str:
        includes = ["extended_details", "contact_details", "groups"]
        if self.data.photos:
            includes.append("photo")
        if self.data.guardians and person_type == "Student":
            includes.append("contacts")
        return ",".join(includes)

    def _students(self) -> None:
        self._people("students", "Students", "Student", student_record)
        if self.data.pre_admissions:
            self._people("students-pre-admission", "Students", "Student",
                         lambda record: student_record(record, pre_admission=True))

    def _people(self, endpoint: str, file_name: str, person_type: str,
                to_xporter: Callable[[Record], dict]) -> None:
        people = self.files[file_name]
        params = {"include": self._includes(person_type)}
        for page, extra in self._pages(endpoint, params):
            # A record that is not an object is written empty: the reader rejects it by position.
            records = [r if isinstance(r, dict) else {} for r in page]
            people.page([to_xporter(r) for r in records], **extra)
            if "Photos" in self.files:
                photos = [p for p in (photo_record(r, person_type) for r in records) if p is not None]
                if photos:
                    self.files["Photos"].page(photos)
            if "Contacts" in self.files and person_type == "Student":
                self._contacts(records)

    def _contacts(self, students: list[Record]) -> None:
        """Each contact once (a parent of siblings is included with each
        child: only their ids are remembered), and every link."""
        contacts, links = [], []
        for student in students:
            for contact, link in contact_records(student):
                key = json.dumps(contact["Id"])
                if key not in self.contacts_seen:
                    self.contacts_seen.add(key)
                    contacts.append(contact)
                links.append(link)
        if contacts:
            self.files["Contacts"].page(contacts)
        if links:
            self.files["StudentContacts"].page(links)

    def _deletions(self) -> None:
        deleted: dict[str, list[dict]] = {name: [] for name in self.files if name in ("Students", "Staff")}
        skipped = 0
        for records, _ in self._pages("deletions", {}):
            for record in (r for r in records if isinstance(r, dict)):
                kept = DELETION_TYPES.get(str(record.get("type") or "").casefold()) in deleted
                entry = deleted_entry(record) if kept else None
                if entry is not None:
                    deleted[entry[0]].append(entry[1])
                skipped += kept and entry is None
        for result_set, ids in deleted.items():
            self.files[result_set].page([], **{f"{result_set}_deleted": ids})
        if skipped:
            self.warnings.append(f"deletions: {skipped} without a MIS id; those people are not taken "
                                        "as leavers until a full fetch")

    def _pages(self, endpoint: str, params: dict[str, object]) -> Iterator[tuple[list[Record], dict]]:
        """Each page's records, following ``meta.pagination.next`` until it
        is null (or ``more`` is false). The first page of a delta carries the
        ``__changedRows__`` marker the reader takes a delta by."""
        query: dict[str, object] = {**params, "per_page": self.page_size}
        if self.updated_after is not None:
            query["updated_after"] = self.updated_after
        url: str = f"{self.base}/{endpoint}"
        seen_urls: set[str] = set()
        number = 0
        while True:
            number += 1
            body = self._get(url, query, endpoint, number)
            records = body["data"]
            # The reader takes a file with __changedRows__ as a delta (absentees unchanged).
            extra = {"__changedRows__": [{"NextChangedRows": None}]} \
                if number == 1 and self.delta and endpoint != "deletions" else {}
            yield records, extra
            next_url = _next(body)
            # Wonde never says how many pages: the count is the least there can be.
            self.progress(endpoint, number, number + (next_url is not None))
            if next_url is None:
                return
            if next_url in seen_urls:
                raise FeedError(endpoint, number, "the next page's link repeats an earlier page's; stopped")
            seen_urls.add(next_url)
            url, query = self._same_server(next_url, endpoint, number)

    def _get(self, url: str, query: dict | None, endpoint: str, number: int) -> dict:
        """One page, which must hold a list of records."""
        body = self._request(url, query, endpoint, number)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise FeedError(endpoint, number, _problem(body, "the answer holds no list of records ('data')"))
        return body

    def _request(self, url: str, query: dict | None, endpoint: str, number: int | None) -> object:
        """The answer; a refusal Wonde explains (422, 403) is said in its terms."""
        try:
            return self.client.get_json(url, query, endpoint=endpoint, page=number)
        except FeedError as error:
            meaning = _REFUSALS.get(error.status)
            if meaning is None:
                raise
            raise FeedError(endpoint, number, _with(meaning, _message(error.detail)), status=error.status,
                            detail=error.detail) from None

    def _same_server(self, next_url: str, endpoint: str, number: int) -> tuple[str, dict[str, str]]:
        """The next link as (URL without its query, the query's parameters):
        given apart, as FeedClient sends parameters. The token goes only to the
        server it was configured for: a link elsewhere is refused, not followed."""
        target = urlsplit(next_url)
        if target.scheme and (target.scheme, target.netloc) != (self.server.scheme, self.server.netloc):
            raise FeedError(endpoint, number, f"the next page's link points to another server "
                                              f"({one_line(target.netloc, QUOTED_LIMIT)}); not followed")
        return urlunsplit(target._replace(query="", fragment="")), dict(parse_qsl(target.query))


# What Wonde means by a refusal (feeds.md); any other is said as FeedClient says it.
_REFUSALS = {
    422: "Wonde did not accept the request (HTTP 422)",
    403: "Wonde refused access (HTTP 403: the school has not approved this app, or a permission is missing)",
}


def _next(body: dict) -> str | None:
    meta = body.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(pagination, dict) or pagination.get("more") is False:
        return None
    next_url = pagination.get("next")
    return next_url if isinstance(next_url, str) and next_url else None


def _message(detail: str) -> str:
    """An error body's own words: Wonde's ``message``/``error`` and, for a 422,
    its field errors; else the body's start as it is."""
    try:
        body = json.loads(detail)
    except ValueError:
        return detail
    return _body_message(body) or detail


def _body_message(body: object) -> str:
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("message", "error", "error_description") if isinstance(body.get(k), str)]
    errors = body.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in errors.items()]
    return one_line(" - ".join(parts), QUOTED_LIMIT) if parts else ""


def _problem(body: object, fallback: str) -> str:
    message = _body_message(body)
    return f"Wonde returned an error instead of data: {message}" if message else fallback


def _with(problem: str, detail: str) -> str:
    return f"{problem}: {detail}" if detail else problem
