"""The [source] keys of the live feeds."""
import pytest

from engine.config import ConfigError, config_from_dict


def test_the_feed_keys_and_their_defaults():
    source = config_from_dict({"source": {"kind": "xod", "estab": "3281101", "relying_party": "rp"}}).source
    assert (source.url, source.page_size, source.archive, source.keep_days, source.full_every_days,
            source.max_age_hours) == ("", 500, "snapshots", 30, 7, 36)
    assert source.token_url == "https://login.groupcall.com/idaas/sts/STS/GetToken"


@pytest.mark.parametrize("source, keys", [
    ({"kind": "xod"}, ["source.estab", "source.relying_party"]),
    ({"kind": "wonde"}, ["source.school_id"]),
    ({"kind": "xod", "estab": "1", "relying_party": "rp", "token_url": " "}, ["source.token_url"]),
])
def test_a_feed_missing_what_it_needs_is_refused_by_key(source, keys):
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"source": source})
    assert caught.value.keys == keys
