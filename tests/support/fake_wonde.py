"""A fake Wonde API for the tests: real HTTP on 127.0.0.1, in a thread.

Built from the shapes ``../shared/feeds.md`` records: ``/v1.0/schools/{id}``
and its ``students``, ``students-pre-admission``, ``employees`` and
``deletions``; ``Authorization: Bearer <token>`` (401 otherwise); ``include=``
adds the related objects as ``{"data": ...}`` (an unknown one is a 422 with a
JSON body, as Wonde's validation errors are); ``per_page``/``page`` paging
with ``meta.pagination.next`` an absolute URL, null on the last page;
``updated_after`` keeps records whose ``updated_at`` is later.

The school is given in Xporter's shape (the project's builders and demo
school), and ``wonde_student`` / ``wonde_employee`` turn each record into
Wonde's, written here from feeds.md independently of ``engine.feeds.wonde``.
``faults`` answers one (endpoint, page) with a given status and body instead.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "wonde-test-token"
SCHOOL_ID = "A1930499544"
INCLUDES = {"contact_details", "extended_details", "education_details", "contacts", "groups", "photo"}
UPDATED_AT = "2024-02-01 08:00:00"


def _date(value: str | None) -> dict | None:
    if not value:
        return None
    return {"date": f"{value[:10]} 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/London"}


def _contact_details(x: dict) -> dict:
    return {"emails": {"email": x.get("HomeEmail"), "work": x.get("WorkEmail")},
            "telephones": {"phone": x.get("HomePhone"), "mobile": x.get("MobilePhone"), "work": x.get("WorkPhone")},
            "addresses": {"home": {"house_number": x.get("HouseNo"), "house_name": x.get("HouseName"),
                                   "apartment": x.get("Apartment"), "street": x.get("Street"),
                                   "district": x.get("District"), "town": x.get("TownOrCity"),
                                   "county": x.get("County"), "postcode": x.get("PostCode")}}}


def _person(x: dict, wonde_id: str) -> dict:
    return {"id": wonde_id, "mis_id": x.get("Id"), "upi": f"upi{x.get('Id')}", "initials": (x.get("Forename") or "?")[0],
            "title": x.get("Title"), "surname": x.get("Surname"), "forename": x.get("Forename"),
            "middle_names": x.get("MiddleName"), "legal_surname": x.get("LegalSurname"),
            "legal_forename": x.get("LegalForename"), "gender": x.get("Gender"),
            "created_at": _date("2020-09-01"), "updated_at": _date(UPDATED_AT)}


def wonde_student(x: dict, *, wonde_id: str | None = None, photo: str | None = None,
                  contacts: list[dict] | None = None) -> dict:
    """An Xporter Students record as a Wonde student with every include
    (the server leaves out those not asked for). ``contacts``: each
    ``{"contact": <Xporter Contacts record>, "Relationship", "Priority", "ParResp"}``."""
    student = _person(x, wonde_id or x.get("ExternalId") or f"W{x.get('Id')}")
    student["date_of_birth"] = _date(x.get("DateofBirth"))
    groups = [{"id": f"G{t}{n}", "name": n, "code": n, "type": t}
              for t, n in (("REGISTRATION", x.get("RegGroup")), ("YEAR", x.get("YearGroup")),
                           ("HOUSE", x.get("HouseGroup"))) if n]
    student["_include"] = {
        "extended_details": {"upn": x.get("UPN"), "former_upn": x.get("FormerUPN"),
                             "admission_number": x.get("AdmissionNo"), "admission_date": _date(x.get("EntryDate")),
                             "leaving_date": _date(x.get("LeavingDate"))},
        "contact_details": _contact_details(x),
        "groups": groups,
        "photo": {"id": f"P{x.get('Id')}", "content": photo, "hash": "h"} if photo else None,
        "contacts": [{**_person(c["contact"], f"C{c['contact']['Id']}"),
                      "relationship": {"relationship": c.get("Relationship"), "priority": c.get("Priority"),
                                       "parental_responsibility": bool(c.get("ParResp"))},
                      "contact_details": {"data": _contact_details(c["contact"])}} for c in contacts or []],
    }
    return student


def wonde_employee(x: dict, *, wonde_id: str | None = None, photo: str | None = None,
                   tutors: list[str] = ()) -> dict:
    """An Xporter Staff record as a Wonde employee; ``tutors``: the
    registration groups they tutor (besides their own RegGroup)."""
    employee = _person(x, wonde_id or x.get("ExternalId") or f"E{x.get('Id')}")
    employee["date_of_birth"] = _date(x.get("DateOfBirth"))
    names = dict.fromkeys([*tutors, *(g.strip() for g in (x.get("RegGroup") or "").split(",") if g.strip())])
    employee["_include"] = {"extended_details": {"staff_code": x.get("StaffCode")},
                            "contact_details": _contact_details(x),
                            "groups": [{"id": f"GR{g}", "name": g, "type": "REGISTRATION"} for g in names],
                            "photo": {"id": f"P{x.get('Id')}", "content": photo, "hash": "h"} if photo else None,
                            "contacts": []}
    return employee


def from_demo(school) -> FakeWonde:
    """The demo school (demo.school.School) as Wonde would serve it: each
    pupil with their photo and guardians, each employee with their photo and
    the registration groups they tutor."""
    photos = {(p["PersonType"], p["PersonId"]): p["Photo"] for p in school.rows("Photos")}
    contacts = {c["Id"]: c for c in school.rows("Contacts")}
    guardians: dict[str, list[dict]] = {}
    for link in school.rows("StudentContacts"):
        guardians.setdefault(link["StudentId"], []).append({"contact": contacts[link["ContactId"]], **link})
    tutors: dict[str, list[str]] = {}
    for group in school.rows("Groups"):
        if group.get("Type") == "RegGrp" and group.get("PrimaryStaffId"):
            tutors.setdefault(group["PrimaryStaffId"], []).append(group["Code"])
    return FakeWonde(
        students=[wonde_student(x, photo=photos.get(("Student", x["Id"])), contacts=guardians.get(x["Id"]))
                  for x in school.rows("Students")],
        employees=[wonde_employee(x, photo=photos.get(("Staff", x["Id"])), tutors=tutors.get(x["Id"], []))
                   for x in school.rows("Staff")],
        school={**FakeWonde().school, "la_code": school.rows("SchoolInfo")[0]["EstabId"][:3],
                "establishment_number": school.rows("SchoolInfo")[0]["EstabId"][3:]})


@dataclass
class FakeWonde:
    """The school the server answers with; change it between fetches."""
    students: list[dict] = field(default_factory=list)
    employees: list[dict] = field(default_factory=list)
    pre_admissions: list[dict] = field(default_factory=list)
    deletions: list[dict] = field(default_factory=list)
    school: dict = field(default_factory=lambda: {
        "id": SCHOOL_ID, "name": "Test School", "establishment_number": "1101", "la_code": "328", "urn": 100001,
        "mis": "SIMS"})
    per_page_limit: int = 200
    # (endpoint, page) -> (status, body): answered instead of the page (once only, with faults_once).
    faults: dict[tuple[str, int], tuple[int, object]] = field(default_factory=dict)
    faults_once: bool = False
    # Every request's (endpoint, query), in order.
    requests: list[tuple[str, dict]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        fake = self.server.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        endpoint = parts[3] if len(parts) > 3 else "school"
        fake.requests.append((endpoint, query))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"error": "invalid_token", "error_description": "The access token is invalid"})
        if parts[:2] != ["v1.0", "schools"] or len(parts) < 3 or parts[2] != SCHOOL_ID:
            return self._send(404, {"error": "not_found"})
        page = int(query.get("page", "1"))
        if (endpoint, page) in fake.faults:
            fault = fake.faults.pop((endpoint, page)) if fake.faults_once else fake.faults[(endpoint, page)]
            return self._send(*fault)
        if endpoint == "school":
            return self._send(200, {"data": fake.school})
        records = {"students": fake.students, "employees": fake.employees,
                   "students-pre-admission": fake.pre_admissions, "deletions": fake.deletions}.get(endpoint)
        if records is None:
            return self._send(404, {"error": "not_found"})
        includes = [i for i in query.get("include", "").split(",") if i]
        unknown = sorted(set(includes) - INCLUDES)
        if unknown:
            return self._send(422, {"message": "The given data was invalid.",
                                    "errors": {"include": [f"Unknown include: {', '.join(unknown)}"]}})
        if "updated_after" in query and endpoint != "deletions":
            records = [r for r in records
                       if isinstance(r, dict) and (r.get("updated_at") or {}).get("date", "") > query["updated_after"]]
        per_page = min(int(query.get("per_page", "50")), fake.per_page_limit)
        chunk = records[(page - 1) * per_page:page * per_page]
        more = page * per_page < len(records)
        following = f"http://{self.headers['Host']}{url.path}?{urlencode({**query, 'page': page + 1})}"
        self._send(200, {"data": [self._shape(r, includes) for r in chunk],
                         "meta": {"pagination": {"next": following if more else None,
                                                 "previous": None, "more": more, "per_page": per_page,
                                                 "current_page": page}}})

    @staticmethod
    def _shape(record: object, includes: list[str]) -> object:
        if not isinstance(record, dict):  # a malformed record goes out as it is
            return record
        shaped = {k: v for k, v in record.items() if k != "_include"}
        for name in includes:
            if name in record.get("_include", {}):
                shaped[name] = {"data": record["_include"][name]}
        return shaped

    def _send(self, status: int, body: object) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeWonde


class WondeServer:
    """``with WondeServer(fake) as url:`` serves ``fake`` at ``url`` (…/v1.0)."""

    def __init__(self, fake: FakeWonde):
        self.fake = fake

    def __enter__(self) -> str:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self.fake
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_port}/v1.0"

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
