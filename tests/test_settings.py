"""Settings as an operator gives them: every bad value and every misspelt name is named.

``server.settings`` is the one place that reads ``KLEUR_*``; these tests feed
it environments (plain dicts, no process) and read the sentences it refuses
with.  ``tests/test_cli_refusals.py`` runs ``kleur serve`` with some of them.
"""

from __future__ import annotations

import dataclasses

import pytest

from server.settings import (
    LOG_LEVELS,
    SettingError,
    Settings,
    check_names,
    check_public_url,
    env_name,
)

NUMBERS = [f for f in dataclasses.fields(Settings) if type(f.default) in (int, float)]
YES_NO = [f for f in dataclasses.fields(Settings) if type(f.default) is bool]


@pytest.mark.parametrize("setting", NUMBERS, ids=lambda f: f.name)
@pytest.mark.parametrize("raw", ["abc", "", "-1", "nan", "inf", "2,5"])
def test_a_bad_number_names_its_variable_and_what_it_takes(
    setting: dataclasses.Field[object], raw: str
) -> None:
    name = env_name(setting.name)
    whole = type(setting.default) is int
    with pytest.raises(SettingError) as refused:
        Settings.from_env({name: raw})
    message = str(refused.value)
    assert message.startswith(f"{name}={raw!r}: use a "), message
    assert ("a whole number" if whole else "a number") in message
    assert f"(default {setting.default})" in message


@pytest.mark.parametrize("setting", NUMBERS, ids=lambda f: f.name)
def test_a_good_number_is_read_as_its_type(setting: dataclasses.Field[object]) -> None:
    settings = Settings.from_env({env_name(setting.name): " 7 "})
    value = getattr(settings, setting.name)
    assert value == 7 and type(value) is type(setting.default)


def test_a_whole_number_setting_refuses_a_fraction() -> None:
    with pytest.raises(SettingError, match=r"KLEUR_ROOM_TTL_SECONDS='1\.5': use a whole number"):
        Settings.from_env({"KLEUR_ROOM_TTL_SECONDS": "1.5"})
    assert Settings.from_env({"KLEUR_HEADER_TIMEOUT_SECONDS": "2.5"}).header_timeout_seconds == 2.5


@pytest.mark.parametrize("setting", YES_NO, ids=lambda f: f.name)
def test_a_bad_yes_no_names_its_variable(setting: dataclasses.Field[object]) -> None:
    name = env_name(setting.name)
    with pytest.raises(SettingError, match=f"^{name}='ja': use 1/true/yes or 0/false/no$"):
        Settings.from_env({name: "ja"})


@pytest.mark.parametrize(
    "url",
    [
        "kleur.example.org",  # no scheme: the operator's walkthrough
        "kleur.example.org/j",
        "//kleur.example.org",
        "ftp://kleur.example.org",
        "https://",
        "https://kleur.example.org/?lang=nl",
        "https://kleur.example.org/?",
        "https://kleur.example.org/#top",
        "https://user:secret@kleur.example.org",
        "https://kleur.example.org:99999",
        "https://kleur.example.org:0",
        " https://kleur.example.org",
    ],
)
def test_public_url_must_be_an_absolute_http_address(url: str) -> None:
    expected = f"KLEUR_PUBLIC_URL={url!r}: use an absolute http(s) address without ?query"
    with pytest.raises(SettingError) as refused:
        Settings.from_env({"KLEUR_PUBLIC_URL": url})
    assert str(refused.value).startswith(expected)


@pytest.mark.parametrize(
    "url",
    [
        "https://kleur.example.org",
        "https://kleur.example.org/",
        "http://10.0.0.5:8000",
        "https://example.org/kleur/",
        "https://[2001:db8::1]:8443",
    ],
)
def test_a_good_public_url_is_kept(url: str) -> None:
    check_public_url(url)
    assert Settings.from_env({"KLEUR_PUBLIC_URL": url}).public_url == url
    assert Settings.from_env({"KLEUR_PUBLIC_URL": ""}).public_url == ""  # empty: none


def test_log_level_comes_from_the_environment_too() -> None:
    assert Settings.from_env({}).log_level == "info"
    assert Settings.from_env({"KLEUR_LOG_LEVEL": " Warning "}).log_level == "warning"
    with pytest.raises(SettingError, match=r"^KLEUR_LOG_LEVEL='loud': use one of critical, "):
        Settings.from_env({"KLEUR_LOG_LEVEL": "loud"})
    assert set(LOG_LEVELS) == {"critical", "error", "warning", "info", "debug", "trace"}


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("KLEUR_TRUSTED_PROXY", "KLEUR_TRUSTED_PROXIES"),
        ("KLEUR_PUBLIC_URI", "KLEUR_PUBLIC_URL"),
        ("KLEUR_REDISURL", "KLEUR_REDIS_URL"),
        ("KLEUR_LOGLEVEL", "KLEUR_LOG_LEVEL"),
        ("KLEUR_ROOMS_TTL_SECONDS", "KLEUR_ROOM_TTL_SECONDS"),
    ],
)
def test_a_name_close_to_a_setting_is_refused_naming_the_setting(typo: str, meant: str) -> None:
    with pytest.raises(SettingError, match=f"^{typo} is not a setting; did you mean {meant}\\?"):
        check_names({typo: "1", "KLEUR_ROOM_TTL_SECONDS": "60", "PATH": "/bin"})


def test_another_unknown_name_is_a_warning_with_a_hint_where_one_fits() -> None:
    environ = {
        "KLEUR_PORT": "9000",
        "KLEUR_DATA_DIR": "/srv",
        "KLEUR_ROOM_TTL": "60",
        "KLEUR_UPDATE_GOLDEN": "1",  # the tests' own switch: not a typo of anything
        "KLEUR_TEST_PARTITION_SECONDS": "5",
        "KLEUR_REDIS_MAXMEMORY": "1gb",  # deploy/.env's, for compose
        "KLEUR_ROOM_TTL_SECONDS": "60",
        "KLEURIG": "ja",
    }
    assert check_names(environ) == [
        "KLEUR_DATA_DIR is not a kleur setting and is ignored; use kleur serve --data-dir",
        "KLEUR_PORT is not a kleur setting and is ignored; use kleur serve --port",
        "KLEUR_REDIS_MAXMEMORY is not a kleur setting and is ignored",
        "KLEUR_ROOM_TTL is not a kleur setting and is ignored"
        " (did you mean KLEUR_ROOM_TTL_SECONDS?)",
        "KLEUR_TEST_PARTITION_SECONDS is not a kleur setting and is ignored"
        " (did you mean KLEUR_LOST_ROOM_SECONDS?)",
        "KLEUR_UPDATE_GOLDEN is not a kleur setting and is ignored",
    ]


def test_every_setting_name_is_known() -> None:
    assert check_names({env_name(f.name): "x" for f in dataclasses.fields(Settings)}) == []
