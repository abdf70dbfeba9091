"""Media settings: where the SFU gathers and announces candidates, ICE servers, CLI flags."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from media import MediaSettings
from server.cli import parser
from server.media_signalling import media_settings, sending_mlines
from server.settings import Settings


def make(**fields: Any) -> Settings:
    """Settings from keyword values (as the CLI and the environment give them)."""
    return Settings(**fields)


def test_gather_address_defaults_to_the_listen_host() -> None:
    assert make().media_gather_address == "127.0.0.1"
    assert make(host="::1").media_gather_address == "::1"
    assert make(host="localhost").media_gather_address == "127.0.0.1"
    assert make(host="0.0.0.0", media_address="10.1.2.3").media_gather_address == "10.1.2.3"


@pytest.mark.parametrize(
    "fields",
    [
        {"host": "0.0.0.0"},  # which interface? the operator must say
        {"media_address": "eth0"},
        {"media_announced_address": "sabaq.school.kz"},
        {"ice_servers": '[{"urls": "http://stun.example"}]'},
        {"ice_servers": '[{"urls": "stun:x", "password": "p"}]'},
    ],
)
def test_bad_media_settings_stop_start_up(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        make(**fields)


def test_ice_servers_from_a_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    turn = '[{"urls": "turn:turn.school.kz:3478", "username": "u", "credential": "p"}]'
    monkeypatch.setenv("SABAQ_ICE_SERVERS", turn)
    from_env = make()
    monkeypatch.delenv("SABAQ_ICE_SERVERS")
    from_flag = make(ice_servers=turn, media_announced_address="203.0.113.7")
    assert from_env.ice_servers == from_flag.ice_servers
    media = media_settings(from_flag)
    assert media.ice_servers[0].urls == "turn:turn.school.kz:3478"
    assert media.ice_servers[0].credential == "p"
    assert (media.gather_address, media.announced_address) == ("127.0.0.1", "203.0.113.7")
    assert media_settings(make()).ice_servers == ()  # host candidates only


def test_serve_flags_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--help"])
    text = capsys.readouterr().out
    for flag in ("--media-address", "--media-announced-address", "--ice-servers"):
        assert flag in text
    assert "SABAQ_ICE_SERVERS" in text


def test_sending_mlines_reads_only_what_the_offerer_sends() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "a=mid:0",
            "a=sendonly",
            "a=rtpmap:111 opus/48000/2",
            "m=video 9 UDP/TLS/RTP/SAVPF 96",
            "a=mid:1",
            "a=inactive",
            "a=rtpmap:96 VP8/90000",
            "",
        ]
    )
    assert sending_mlines(sdp) == {"0": "audio"}
    with pytest.raises(ValueError):
        sending_mlines("hello")


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_an_offer_timeout_must_be_positive(seconds: float) -> None:
    assert MediaSettings().offer_timeout_s == 10.0
    with pytest.raises(ValueError, match="offer_timeout_s"):
        MediaSettings(offer_timeout_s=seconds)
