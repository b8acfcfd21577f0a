"""HTTP to the Dataverse Web API: one Session, timeouts, throttling, sign-in and error words.

Every failure leaves this module as CrmError / CrmUnavailable with a sentence the agent can
act on (or pass to IT); no requests exception or raw JSON escapes. Throttling follows
"Service protection API limits": a 429 is retried only after its `Retry-After`, and while
one request waits no other request of this client is sent (Dataverse lengthens the wait for
a client that keeps sending). Tokens are never logged.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlparse

import requests

from app.core.crm import CrmAccessDenied, CrmError, CrmUnavailable, RecordNotFound
from app.crm.dynamics.auth import SignInRequired

log = logging.getLogger(__name__)

API_PATH = "/api/data/v9.2/"
SERVICE_PROTECTION_CODES = {
    "0x80072322": "too many requests",
    "0x80072321": "too much combined execution time",
    "0x80072326": "too many concurrent requests",
}


class TokenSource(Protocol):
    def access_token(self, *, force_refresh: bool = False) -> str:
        ...


class Throttled(CrmUnavailable):
    """Dynamics asked us to wait longer than we may block; `retry_after` is its wish (s)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after: float | None = retry_after  # the outbox waits this long


class AccessDenied(CrmAccessDenied):
    """403: a privilege or a tenant policy refuses us; retrying helps only after IT acts."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None for an empty answer


class DataverseClient:
    """Sends Web API requests for one environment. Thread-safe."""

    def __init__(self, org_url: str, tokens: TokenSource, *,
                 session: requests.Session | None = None, timeout: float = 20.0,
                 max_retry_wait: float = 120.0, verify: bool | str = True,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        parsed = urlparse(org_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname or parsed.path.strip(
                "/"):
            raise CrmError(f"dynamics.org_url {org_url!r} is not an environment address such "
                           "as https://contoso.crm4.dynamics.com")
        self.org_url = org_url.rstrip("/")
        self.tokens = tokens
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retry_wait = max_retry_wait
        self.verify = verify
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._not_before = 0.0  # clock() value before which nothing is sent (Retry-After)

    # -- convenience ---------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        answer = self.send("GET", path, params=params)
        if not isinstance(answer.body, dict):
            raise self._garbage(answer, "an empty answer")
        return answer.body

    def create(self, entity_set: str, body: Mapping[str, Any]) -> str:
        """POST; returns the new record's id from OData-EntityId."""
        answer = self.send("POST", entity_set, body=body, expect=(204, 201))
        entity = answer.headers.get("OData-EntityId", "")
        ident = entity.rsplit("(", 1)[-1].rstrip(")") if entity.endswith(")") else ""
        if not ident:
            raise self._garbage(answer, "no OData-EntityId header")
        return ident

    def update(self, path: str, body: Mapping[str, Any]) -> None:
        """PATCH an existing record (If-Match: * so it never creates); 404 → RecordNotFound."""
        self.send("PATCH", path, body=body, headers={"If-Match": "*"}, expect=(204,))

    def insert(self, path: str, body: Mapping[str, Any]) -> bool:
        """PATCH with If-None-Match: *; True if created, False if it already existed (412)."""
        answer = self.send("PATCH", path, body=body, headers={"If-None-Match": "*"},
                           expect=(204, 412))
        return answer.status == 204

    # -- the one way out -----------------------------------------------------------------------

    def send(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
             body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
             expect: tuple[int, ...] = (200,)) -> Answer:
        url = self.org_url + API_PATH + path
        if params:
            # Values percent-encoded in full: a raw `+` would arrive as a space, and quotes,
            # `&` or `#` in caller input must not end the parameter (filter-rows, "URL encode
            # special characters").
            url += "?" + "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}"
                                  for k, v in params.items())
        refreshed = force = False
        waited = 0.0
        while True:
            waited += self._wait_turn()
            token = self.tokens.access_token(force_refresh=force)
            force = False
            response = self._once(method, url, path, token, body, headers)
            if response.status_code == 401 and not refreshed:
                log.info("dynamics: 401 on %s %s; refreshing the token once", method, path)
                refreshed = force = True
                continue
            if response.status_code == 429:
                delay = _retry_after(response.headers.get("Retry-After"))
                reason = self._reason(response)
                if waited + delay > self.max_retry_wait:
                    raise Throttled(f"Dynamics 365 is busy ({reason}) and asks to wait "
                                    f"{delay:g} s; the request will be retried later.", delay)
                log.info("dynamics: throttled (%s); waiting %g s as Retry-After says",
                         reason, delay)
                with self._lock:
                    self._not_before = max(self._not_before, self._clock() + delay)
                continue
            return self._answer(method, path, response, expect)

    def _wait_turn(self) -> float:
        with self._lock:
            delay = self._not_before - self._clock()
        if delay > 0:
            self._sleep(delay)
            return delay
        return 0.0

    def _once(self, method: str, url: str, path: str, token: str,
              body: Mapping[str, Any] | None,
              headers: Mapping[str, str] | None) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                       "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        if method == "GET":  # lookups' names and entity types come as annotations
            all_headers["Prefer"] = 'odata.include-annotations="*"'
        if body is not None:
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        all_headers.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        started = self._clock()
        try:
            response = self.session.request(method, url, data=data, headers=all_headers,
                                            timeout=self.timeout, verify=self.verify,
                                            allow_redirects=False)
        except requests.Timeout as exc:
            raise CrmUnavailable(f"Dynamics 365 did not answer within {self.timeout:g} s.") \
                from exc
        except requests.RequestException as exc:
            raise CrmUnavailable(f"Cannot reach Dynamics 365 at {self.org_url} "
                                 f"({type(exc).__name__}); the answer may have been lost.") \
                from exc
        log.debug("dynamics: %s %s → %s in %.0f ms", method, path.split("?")[0],
                  response.status_code, (self._clock() - started) * 1000)
        return response

    def _answer(self, method: str, path: str, response: requests.Response,
                expect: tuple[int, ...]) -> Answer:
        status = response.status_code
        if status in expect:
            body = None
            if response.content:
                if "json" not in response.headers.get("Content-Type", ""):
                    raise self._garbage_response(response)
                try:
                    body = response.json()
                except ValueError:
                    raise self._garbage_response(response) from None
            return Answer(status, response.headers, body)
        reason = self._reason(response)
        if status == 401:
            raise SignInRequired("Dynamics 365 no longer accepts this sign-in (it expired or "
                                 "was revoked). Sign in to Dynamics 365 again; calls go on "
                                 "meanwhile.")
        if status == 403:
            raise AccessDenied(_forbidden_words(reason))
        if status == 404:
            raise RecordNotFound(f"Dynamics 365 has no such record ({reason}).")
        if status >= 500 or status in (408, 502, 503, 504):
            raise CrmUnavailable(f"Dynamics 365 is not working right now (HTTP {status}"
                                 f"{': ' + reason if reason else ''}).")
        if status in (301, 302, 303, 307, 308) or "json" not in response.headers.get(
                "Content-Type", ""):
            raise self._garbage_response(response)
        raise CrmError(f"Dynamics 365 refused the {method} request (HTTP {status}): {reason}")

    @staticmethod
    def _reason(response: requests.Response) -> str:
        try:
            error = response.json().get("error", {})
            code, message = str(error.get("code") or ""), str(error.get("message") or "")
        except (ValueError, AttributeError):
            return ""
        if code in SERVICE_PROTECTION_CODES:
            return f"service protection limit: {SERVICE_PROTECTION_CODES[code]}"
        return message

    def _garbage_response(self, response: requests.Response) -> CrmUnavailable:
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        return CrmUnavailable(
            f"Dynamics 365 at {self.org_url} answered with something that is not its Web API "
            f"(HTTP {response.status_code}, {kind}). Check dynamics.org_url; a proxy or a "
            "sign-in page may be in the way.")

    def _garbage(self, answer: Answer, what: str) -> CrmUnavailable:
        return CrmUnavailable(f"Dynamics 365 at {self.org_url} gave {what} (HTTP "
                              f"{answer.status}) where the Web API answers with data.")


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date); 5 when it is missing."""
    if not value:
        return 5.0  # the documented header is always there; this is only a floor
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


def _forbidden_words(reason: str) -> str:
    """A 403 in words an agent can forward to IT."""
    if "privilege" in reason.lower():
        missing = next((w for w in reason.split() if w.startswith("prv")), "")
        what = f"the privilege {missing}" if missing else "a privilege"
        return (f"Dynamics 365 refused this because your Dynamics user lacks {what}. "
                "Ask your Dynamics 365 administrator to give you a security role that "
                f"includes it. (Dynamics said: {reason})")
    said = reason or "403 Forbidden"
    return ("Dynamics 365 refused access for this app or this network: your organisation's "
            "tenant policy (for example Conditional Access or the environment's IP firewall) "
            "blocks it. Pass this message to your IT: the Switchboard app registration needs "
            f"to be allowed for this Dynamics 365 environment. (Dynamics said: {said})")
