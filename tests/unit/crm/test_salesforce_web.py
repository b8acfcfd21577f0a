"""Which URLs are the org's own pages, and which record a Lightning URL shows."""

from __future__ import annotations

import pytest

from app.crm.salesforce.auth import OrgSession
from app.crm.salesforce.web import DIRTY_SCRIPT, OrgWeb

SESSION = OrgSession("token", "https://acme.my.salesforce.com")


def org(session: OrgSession | None = SESSION) -> OrgWeb:
    return OrgWeb("https://acme.my.salesforce.com", lambda: session)


@pytest.mark.parametrize("url", [
    "https://acme.my.salesforce.com/lightning/r/Contact/003000000000001AAA/view",
    "https://acme.lightning.force.com/lightning/r/Case/500000000000001AAA/view",
    "https://acme--c.vf.force.com/apex/Page",
    "https://acme.file.force.com/sfc/servlet",
    "https://login.salesforce.com/?un=agent",
])
def test_the_orgs_own_hosts_are_inside(url: str) -> None:
    assert org().inside(url)


@pytest.mark.parametrize("url", [
    "https://example.com/",
    "https://other.lightning.force.com/lightning/page/home",  # another org
    "https://acme.my.salesforce.com.evil.example/",
    "http://acme.lightning.force.com/",  # not https
    "https://acmeevil.lightning.force.com/",
    "javascript:alert(1)",
    "file:///etc/passwd",
])
def test_everything_else_is_outside(url: str) -> None:
    assert not org().inside(url)


def test_a_local_org_is_its_exact_origin() -> None:
    local = OrgWeb("http://127.0.0.1:4000", lambda: OrgSession("t", "http://127.0.0.1:4001"))
    assert local.inside("http://127.0.0.1:4001/lightning/r/Lead/00Q000000000001AAA/view")
    assert local.inside("http://127.0.0.1:4000/services/oauth2/authorize")
    assert not local.inside("http://127.0.0.1:4002/")


def test_before_sign_in_only_the_login_host_is_known() -> None:
    web = OrgWeb("https://acme.my.salesforce.com", lambda: None)
    assert web.inside("https://acme.lightning.force.com/lightning/page/home")
    assert not web.inside("https://example.com/")


def test_records_are_read_from_lightning_urls_only() -> None:
    assert OrgWeb.record_of("https://acme.lightning.force.com/lightning/r/Contact/"
                            "003000000000001AAA/view") == "contact/003000000000001AAA"
    assert OrgWeb.record_of("https://x/lightning/r/Account/001000000000001/view") == \
        "account/001000000000001"
    assert OrgWeb.record_of("https://x/lightning/r/Opportunity/006000000000001AAA/view") == ""
    assert OrgWeb.record_of("https://x/lightning/o/Contact/list") == ""
    assert OrgWeb.record_of("https://x/lightning/r/Contact/003'%3E/view") == ""


def test_the_unsaved_edits_probe_names_its_markers() -> None:
    assert "slds-is-edited" in DIRTY_SCRIPT and "MARKERS" not in DIRTY_SCRIPT


def test_the_web_session_is_bridged_once_per_access_token_in_a_post_body() -> None:
    current: list[OrgSession | None] = [None]
    web = OrgWeb("https://acme.my.salesforce.com", lambda: current[0])
    record = "https://acme.my.salesforce.com/lightning/r/Contact/003000000000001AAA/view"
    assert web.sign_in_request(record) is None  # no session yet: the page loads as it is

    current[0] = SESSION
    assert web.sign_in_request(record) == (
        "https://acme.my.salesforce.com/secur/frontdoor.jsp",
        {"sid": "token", "retURL": "/lightning/r/Contact/003000000000001AAA/view"})
    assert web.sign_in_request(record) is None  # bridged already
    assert web.sign_in_request(record + "?tab=1") is None

    current[0] = OrgSession("renewed", "https://acme.my.salesforce.com")
    assert web.sign_in_request(record + "?tab=1") == (
        "https://acme.my.salesforce.com/secur/frontdoor.jsp",
        {"sid": "renewed", "retURL": "/lightning/r/Contact/003000000000001AAA/view?tab=1"})


def test_no_session_goes_to_a_page_off_the_instance() -> None:
    web = org()
    assert web.sign_in_request("https://example.com/lightning/r/Contact/003/view") is None
    assert web.sign_in_request("http://acme.my.salesforce.com/lightning/r/x/view") is None
    # ...and the next page of the instance is still bridged.
    assert web.sign_in_request("https://acme.my.salesforce.com/lightning/page/home") \
        is not None
