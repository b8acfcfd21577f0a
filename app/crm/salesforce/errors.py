"""The Salesforce-specific failures; the two "try later" ones are kinds of CrmUnavailable.

Both are "try again later" for the outbox: a rate-limited org and a lost sign-in must
keep every call log queued, never mark it failed.
"""

from __future__ import annotations

from app.core.crm import CrmError, CrmSignInRequired, CrmUnavailable


class SalesforceUnavailable(CrmUnavailable):
    """Salesforce cannot take requests now; `retry_after` says how long to leave it alone.

    The hint is seconds: long (half an hour) for a used-up daily API quota, short for a
    503 or a network error. Callers that do not know the attribute still back off on the
    plain CrmUnavailable.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignInRequired(CrmSignInRequired):
    """There is no usable Salesforce sign-in: the agent must sign in (again).

    Core's CrmSignInRequired (a CrmUnavailable): writes wait in the outbox until the agent
    has signed in, instead of being marked failed, and the app shows its sign-in bar again.
    """


class SalesforceRefused(CrmError):
    """The org refused the request (a 4xx with Salesforce's error list); will stay refused.

    `codes` holds the errorCode values (`REQUIRED_FIELD_MISSING`, `DUPLICATE_VALUE`, …) so
    the adapter can tell an expected refusal from a real one.
    """

    def __init__(self, message: str, status: int, codes: tuple[str, ...]) -> None:
        super().__init__(message)
        self.status, self.codes = status, codes
