"""The feeds' HTTP client: retries within bounds, then a FeedError naming endpoint and page."""
import pytest

from engine.feeds.http import FeedClient, FeedError
from tests.support.fake_xod import FakeXod, serving

STUDENTS = {"Students": [{"Id": str(n)} for n in range(1, 6)], "meta": [{"MIS": "simsnet"}]}
PATH = "/api/v1/School/3281101/Students"


class Sleeps(list):
    """An injected sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake():
    server = FakeXod({"Students": STUDENTS})
    server.tokens.append("t1")
    with serving(server) as url:
        server.url = url
        yield server


def client(fake, sleeps, auth=lambda refresh: {"Authorization": "Idaas t1"}, **settings):
    return FeedClient(fake.url, auth, timeout=settings.pop("timeout", 5), sleep=sleeps, **settings)


def test_500_then_success_is_retried_with_backoff(fake):
    fake.fail("Students", 1, "500", times=2)
    sleeps = Sleeps()
    with client(fake, sleeps) as http:
        body = http.get_json(PATH, {"page": 1, "pageSize": 5}, endpoint="Students", page=1)
    assert len(body["Students"]) == 5
    assert sleeps == [1, 2]


def test_429_waits_what_retry_after_says(fake):
    fake.fail("Students", 1, "429")
    sleeps = Sleeps()
    with client(fake, sleeps) as http:
        http.get_json(PATH, {"page": 1}, endpoint="Students", page=1)
    assert sleeps == [2.0]


def test_retries_are_bounded_in_count_then_name_endpoint_and_page(fake):
    fake.fail("Students", 3, "500", times=10)
    sleeps = Sleeps()
    with client(fake, sleeps, retries=2) as http, pytest.raises(FeedError) as caught:
        http.get_json(PATH, {"page": 3}, endpoint="Students", page=3)
    assert str(caught.value) == "Students page 3: server error (HTTP 500); gave up after retrying"
    assert len(sleeps) == 2


def test_retries_are_bounded_in_total_wait(fake):
    fake.fail("Students", 1, "429", times=10)  # each asks for 2 seconds
    sleeps = Sleeps()
    with client(fake, sleeps, retries=10, max_wait=5) as http, pytest.raises(FeedError, match="HTTP 429"):
        http.get_json(PATH, {"page": 1}, endpoint="Students", page=1)
    assert sum(sleeps) <= 5 and len(sleeps) == 2


def test_a_timeout_is_retried(fake):
    fake.fail("Students", 1, "timeout")
    sleeps = Sleeps()
    with client(fake, sleeps, timeout=0.05) as http:
        assert http.get_json(PATH, {"page": 1}, endpoint="Students", page=1)["Students"]
    assert len(sleeps) == 1


def test_a_page_cut_short_is_retried_then_an_error(fake):
    fake.fail("Students", 2, "truncated", times=3)
    with client(fake, Sleeps(), retries=2) as http, pytest.raises(FeedError) as caught:
        http.get_json(PATH, {"page": 2}, endpoint="Students", page=2)
    assert str(caught.value) == "Students page 2: the answer was cut short; gave up after retrying"


def test_a_refused_token_is_refreshed_once(fake):
    asked = []

    def auth(refresh):
        asked.append(refresh)
        return {"Authorization": "Idaas t2" if refresh else "Idaas gone"}

    fake.tokens.append("t2")
    with client(fake, Sleeps(), auth=auth) as http:
        assert http.get_json(PATH, {}, endpoint="Students", page=1)["Students"]
    assert asked == [False, True]


def test_a_token_refused_after_refreshing_is_an_error_without_the_token(fake):
    with client(fake, Sleeps(), auth=lambda refresh: {"Authorization": "Idaas secret-token"}) as http, \
            pytest.raises(FeedError) as caught:
        http.get_json(PATH, {}, endpoint="Students", page=4)
    assert caught.value.status == 401
    assert "Students page 4: the server refused the credentials (HTTP 401)" in str(caught.value)
    assert "secret-token" not in str(caught.value)


def test_a_client_error_is_not_retried(fake):
    sleeps = Sleeps()
    with client(fake, sleeps) as http, pytest.raises(FeedError, match="HTTP 404") as caught:
        http.get_json("/api/v1/School/3281101/Nothing", {}, endpoint="Nothing")
    assert sleeps == [] and caught.value.status == 404
