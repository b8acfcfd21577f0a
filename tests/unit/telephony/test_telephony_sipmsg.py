"""Reading INVITEs: caller identity, queue header, auto-answer requests, dial targets."""

from __future__ import annotations

import pytest

from app.core.numbers import InvalidNumber
from app.telephony.sipmsg import (
    auto_answer_after,
    headers,
    parse_name_addr,
    read_invite,
    requested_auto_answer,
    target_uri,
    uri_user,
)


def invite(*extra: str) -> str:
    lines = [
        "INVITE sip:agent@10.0.0.1 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1",
        'From: "Front Desk" <sip:0401234567@pbx.example>;tag=1',
        "To: <sip:+358201111111@pbx.example>",
        "Call-ID: abc@pbx",
        "CSeq: 1 INVITE",
        *extra,
        "Content-Length: 0",
        "",
        "",
    ]
    return "\r\n".join(lines)


def test_from_is_used_and_normalised() -> None:
    facts = read_invite(invite(), queue_header="X-Queue-Name", region="FI")
    assert facts.remote_number == "+358401234567"
    assert facts.display_name == "Front Desk"
    assert facts.call_id == "abc@pbx"
    assert facts.queue is None
    assert facts.local_number == "+358201111111"
    assert facts.requested_auto_answer is None


def test_p_asserted_identity_wins() -> None:
    msg = invite('P-Asserted-Identity: "Alice A" <tel:+46701234567>', "X-Queue-Name: Sales")
    facts = read_invite(msg, queue_header="x-queue-name", region="FI")
    assert facts.remote_number == "+46701234567"
    assert facts.display_name == "Alice A"
    assert facts.remote_uri == "tel:+46701234567"
    assert facts.queue == "Sales"


def test_unparseable_user_is_kept_raw() -> None:
    msg = invite().replace("sip:0401234567@pbx.example", "sip:anonymous@anonymous.invalid")
    assert read_invite(msg, queue_header="", region="FI").remote_number == "anonymous"


def test_compact_and_folded_headers() -> None:
    msg = "INVITE sip:a@b SIP/2.0\r\nf: <sip:1@x>;tag=2\r\nX-Long: one\r\n two\r\n\r\nbody: no"
    hdrs = headers(msg)
    assert hdrs["from"] == ["<sip:1@x>;tag=2"]
    assert hdrs["x-long"] == ["one two"]
    assert "body" not in hdrs


@pytest.mark.parametrize(("value", "name", "uri"), [
    ('"A \\"B\\"" <sip:x@y>;tag=1', 'A "B"', "sip:x@y"),
    ("Bob <sip:bob@h>", "Bob", "sip:bob@h"),
    ("sip:carol@h;tag=3", "", "sip:carol@h"),
])
def test_parse_name_addr(value: str, name: str, uri: str) -> None:
    parsed = parse_name_addr(value)
    assert (parsed.display_name, parsed.uri) == (name, uri)


def test_uri_user() -> None:
    assert uri_user("sip:+35840;isub=1@h;user=phone") == "+35840"
    assert uri_user("tel:+35840;phone-context=x") == "+35840"
    assert uri_user("sip:pass:word@h") == "pass"
    assert uri_user("sip:h") == ""


@pytest.mark.parametrize(("header", "expected"), [
    ("Call-Info: <sip:pbx>;answer-after=0", 0.0),
    ("Call-Info: <http://x>;purpose=info, <sip:pbx>;Answer-After=2.5", 2.5),
    ("Alert-Info: <http://127.0.0.1/Bellcore-dr4>;info=alert-autoanswer", 0.0),
    ("Alert-Info: Ring Answer; auto answer", 0.0),
    ("Alert-Info: <http://x/ring.wav>", None),
])
def test_requested_auto_answer(header: str, expected: float | None) -> None:
    assert requested_auto_answer(invite(header)) == expected


def test_auto_answer_settings() -> None:
    kw = {"delay": 3.0}
    assert auto_answer_after(enabled=False, only_when_requested=False, requested=0.0,
                             **kw) is None
    assert auto_answer_after(enabled=True, only_when_requested=False, requested=None,
                             **kw) == 3.0
    assert auto_answer_after(enabled=True, only_when_requested=False, requested=1.0,
                             **kw) == 1.0
    assert auto_answer_after(enabled=True, only_when_requested=True, requested=None,
                             **kw) is None
    assert auto_answer_after(enabled=True, only_when_requested=True, requested=5.0,
                             **kw) == 5.0


def test_target_uri() -> None:
    assert target_uri("040 123 4567", domain="pbx.example", transport="udp",
                      region="FI") == ("sip:+358401234567@pbx.example", "+358401234567")
    assert target_uri("tel:+358401234567", domain="pbx", transport="tls", region="FI") == (
        "sip:+358401234567@pbx;transport=tls", "+358401234567")
    assert target_uri("sip:bob@host:5070", domain="", transport="udp", region="FI") == (
        "sip:bob@host:5070", "bob")
    assert target_uri("201", domain="pbx", transport="udp", region="FI") == (
        "sip:201@pbx", "201")
    with pytest.raises(InvalidNumber):
        target_uri("hello", domain="pbx", transport="udp", region="FI")
    with pytest.raises(ValueError, match="domain"):
        target_uri("0401234567", domain="", transport="udp", region="FI")


def test_sip_log_redacts_credentials() -> None:
    pytest.importorskip("pjsua2")
    from app.telephony.siplog import redact

    msg = ('REGISTER sip:pbx SIP/2.0\r\nAuthorization: Digest username="a", '
           'response="abc123"\r\nproxy-authorization: Digest nonce="n", response="x"\r\n'
           "Via: SIP/2.0/UDP h\r\n")
    out = redact(msg)
    assert "abc123" not in out and 'response="x"' not in out
    assert "Authorization: Digest <redacted>" in out
    assert "Via: SIP/2.0/UDP h" in out


def test_raw_read_then_normalised_gives_the_same_facts() -> None:
    from app.telephony.sipmsg import normalised, read_invite

    msg = ("INVITE sip:agent@127.0.0.1 SIP/2.0\r\n"
           "From: \"Aino\" <sip:040-123%204567@127.0.0.1>;tag=1\r\n"
           "To: <sip:0201234567@127.0.0.1>\r\nCall-ID: x\r\nX-Queue-Name: Sales\r\n\r\n")
    raw = read_invite(msg, queue_header="X-Queue-Name", region=None)
    assert raw.remote_number == "040-123%204567"  # untouched before the 180
    assert raw.queue == "Sales" and raw.display_name == "Aino"
    done = normalised(raw, "FI")
    assert done == read_invite(msg, queue_header="X-Queue-Name", region="FI")
