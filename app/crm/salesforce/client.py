"""The REST client of one Salesforce org: one requests.Session, limits, refresh-on-401.

Follows the Salesforce REST API Developer Guide: "Versions" (`GET /services/data/`),
"Status Codes and Error Responses" (a JSON list of `{"message", "errorCode"}`),
"Limit Info Header" (`Sforce-Limit-Info: api-usage=18/5000`) and "Call Options Header"
(`Sforce-Call-Options: client=…`).

Every failure leaves here as one of core's two kinds, with a sentence for the agent:
`CrmUnavailable` (SalesforceUnavailable with a back-off hint, or SignInRequired) when the
same request may work later, `CrmError` (SalesforceRefused, RecordNotFound) when it will
not. Nothing of requests leaks out.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from app.core.crm import CrmError, RecordNotFound
from app.crm.salesforce.auth import SalesforceAuth
from app.crm.salesforce.errors import SalesforceRefused, SalesforceUnavailable, SignInRequired

log = logging.getLogger(__name__)

API_FLOOR = "62.0"  # the oldest REST API version Switchboard is tested against
CALL_OPTIONS = "client=Switchboard"
LIMIT_BACKOFF = 1800.0  # the org's daily quota is used up: leave it alone for long
SERVER_BACKOFF = 60.0  # 5xx, maintenance pages, garbled answers
NETWORK_BACKOFF = 30.0  # no connection, timeouts
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def new_http_session() -> requests.Session:
    """The one Session of a Salesforce backend, without transparent retries.

    urllib3 must never resend a POST on its own: a create whose answer got lost is
    resolved by looking before retrying, not by blind resending.
    """
    http = requests.Session()
    adapter = HTTPAdapter(max_retries=0)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.lstrip("v").split("."))
    except ValueError:
        raise CrmError(f"{version!r} is not a Salesforce API version such as 62.0") from None


@dataclass(frozen=True)
class ApiUsage:
    """The org's daily API use, from the Sforce-Limit-Info header of the last answer."""

    used: int
    limit: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any  # the parsed JSON body; None for an empty body (204)


class SalesforceClient:
    """Sends REST requests to the signed-in org; thread-safe."""

    def __init__(self, auth: SalesforceAuth, http: requests.Session, *,
                 api_version: str = API_FLOOR, timeout: float = 10.0,
                 connect_timeout: float = 3.05, quota_warning_percent: float = 80.0,
                 on_usage: Callable[[ApiUsage], object] | None = None,
                 on_quota_warning: Callable[[ApiUsage], object] | None = None) -> None:
        if version_tuple(api_version) < version_tuple(API_FLOOR):
            raise CrmError(f"salesforce.api_version {api_version} is older than the oldest "
                           f"version Switchboard works with ({API_FLOOR}).")
        self.auth = auth
        self.api_version = api_version
        self.quota_warning_percent = quota_warning_percent
        self.usage: ApiUsage | None = None
        self._http = http
        self._timeout = (connect_timeout, timeout)
        self._on_usage = on_usage
        # Called (on the worker that saw the answer) when use crosses the warning line.
        self._on_quota_warning = on_quota_warning
        self._version_checked = False
        self._version_lock = threading.Lock()

    @property
    def base_path(self) -> str:
        return f"/services/data/v{self.api_version}"

    # -- public -------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                json: Any = None) -> Reply:
        """`path` below the versioned base (`/sobjects/Task`) or absolute (`/services/…`)."""
        self._ensure_version()
        return self._request(method, path, params=params, json=json)

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params).data

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).data

    def patch(self, path: str, body: Any) -> Reply:
        return self.request("PATCH", path, json=body)

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Records of a SOQL query (first batch; Switchboard's queries are LIMITed)."""
        data = self.get("/query", {"q": soql})
        records = data.get("records") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise SalesforceUnavailable("Salesforce answered a query without records.",
                                        SERVER_BACKOFF)
        return records

    def limits(self) -> dict[str, Any]:
        data = self.get("/limits")
        return data if isinstance(data, dict) else {}

    def check_version(self) -> list[str]:
        """The org's API versions; CrmError when it does not offer ours."""
        data = self._request("GET", "/services/data/").data
        versions = [str(v.get("version")) for v in data if isinstance(v, dict)] \
            if isinstance(data, list) else []
        if self.api_version not in versions:
            newest = max(versions, key=version_tuple, default="none")
            raise CrmError(f"This Salesforce org does not offer REST API v{self.api_version} "
                           f"(its newest is {newest}); Switchboard needs v{API_FLOOR} or "
                           "later.")
        return versions

    # -- internals ----------------------------------------------------------------------

    def _ensure_version(self) -> None:
        if self._version_checked:
            return
        with self._version_lock:
            if not self._version_checked:
                self.check_version()
                self._version_checked = True

    def _request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                 json: Any = None) -> Reply:
        if not path.startswith("/services/"):
            path = self.base_path + path
        session = self.auth.session()
        reply = self._send(method, session.instance_url + path, session.access_token,
                           params, json)
        if reply.status_code == 401:
            # Tokens carry no expiry: the org says when. Refresh once, retry once.
            session = self.auth.refresh(session.access_token)
            reply = self._send(method, session.instance_url + path, session.access_token,
                               params, json)
            if reply.status_code == 401:
                self.auth.forget_session()
                raise SignInRequired("Salesforce refused Switchboard's session right after "
                                     "renewing it. Sign in again (`switchboard crm login`).")
        return self._interpret(method, path, reply)

    def _send(self, method: str, url: str, token: str, params: Mapping[str, str] | None,
              json: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "Sforce-Call-Options": CALL_OPTIONS}
        try:
            return self._http.request(method, url, params=params, json=json, headers=headers,
                                      timeout=self._timeout)
        except requests.Timeout:
            raise SalesforceUnavailable(f"Salesforce did not answer within {self._timeout[1]:g} "
                                        "seconds; trying again later.", NETWORK_BACKOFF) \
                from None
        except requests.RequestException as exc:
            raise SalesforceUnavailable("Salesforce cannot be reached or the connection broke "
                                        f"({type(exc).__name__}); trying again later.",
                                        NETWORK_BACKOFF) from None

    def _interpret(self, method: str, path: str, reply: requests.Response) -> Reply:
        self._read_usage(reply.headers.get("Sforce-Limit-Info", ""))
        status = reply.status_code
        data: Any = None
        if reply.content:
            try:
                data = reply.json()
            except ValueError:
                kind = "a web page" if "html" in reply.headers.get("Content-Type", "") \
                    else "garbled data"
                # A 2xx here may still have been applied: the caller looks before retrying.
                raise SalesforceUnavailable(f"Salesforce answered {method} {_short(path)} with "
                                            f"{kind} (HTTP {status}) instead of JSON; a proxy "
                                            "or maintenance page? Trying again later.",
                                            SERVER_BACKOFF) from None
        if 200 <= status < 300:
            return Reply(status, data)
        codes, messages = _errors(data)
        if status == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
            raise SalesforceUnavailable("The Salesforce org has used up its daily API requests "
                                        "(REQUEST_LIMIT_EXCEEDED); call logs are kept and sent "
                                        "when the quota frees up.", LIMIT_BACKOFF)
        if status >= 500:
            raise SalesforceUnavailable(f"Salesforce is unavailable (HTTP {status}); trying "
                                        "again later.", _retry_after(reply) or SERVER_BACKOFF)
        text = "; ".join(messages) or f"HTTP {status}"
        if status == 404:
            raise RecordNotFound(f"Salesforce does not have that record ({text}).")
        raise SalesforceRefused(f"Salesforce refused the request: {text}", status, codes)

    def _read_usage(self, header: str) -> None:
        match = _USAGE.search(header)
        if match is None:
            return
        usage = ApiUsage(int(match.group(1)), int(match.group(2)))
        crossed = (usage.percent >= self.quota_warning_percent and
                   (self.usage is None or self.usage.percent < self.quota_warning_percent))
        self.usage = usage
        if crossed:
            log.warning("salesforce api usage %d/%d (%.0f%%)", usage.used, usage.limit,
                        usage.percent)
            if self._on_quota_warning is not None:
                self._on_quota_warning(usage)
        if self._on_usage is not None:
            self._on_usage(usage)


def _errors(data: Any) -> tuple[tuple[str, ...], list[str]]:
    """(errorCodes, messages) of Salesforce's `[{"message", "errorCode"}]` error body."""
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    codes = tuple(str(i.get("errorCode", "")) for i in items if isinstance(i, dict))
    messages = [f"{i.get('message', '')} ({i.get('errorCode', '')})".strip()
                for i in items if isinstance(i, dict)]
    return codes, messages


def _retry_after(reply: requests.Response) -> float | None:
    try:
        return max(1.0, float(reply.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _short(path: str) -> str:
    return path.split("?")[0][:80]
