"""Who the CRM says a caller is: the one name shown on the call card, toast and history.

A lookup that found one caller gives that caller's name. One contact is one caller even
when the contact's own account matched too (a company switchboard number on both); any
other mix, or nothing, gives "" and the card keeps the SIP display name or the number.
"""

from __future__ import annotations

from app.core.crm import IdentifyResult


def caller_name(result: IdentifyResult) -> str:
    """The name of the one record `result` points at, else ""."""
    if result.truncated:
        return ""
    contacts, accounts, leads = result.contacts, result.accounts, result.leads
    if len(contacts) == 1 and not leads and all(
            a.id == contacts[0].account_id for a in accounts):
        return contacts[0].name
    if result.count != 1:
        return ""
    if leads:
        return leads[0].name
    return accounts[0].name.strip() if accounts else ""


__all__ = ["caller_name"]
