"""Words the call card, the toast and Recent calls share: CRM names and refusal reasons.

`crm_title("local")` is what the agent calls the CRM a caller's name came from (crm.backend
names it); `refusal_text(reason)` says in the agent's words why a call was turned away
before it rang (the ring policy's reasons, app/core/availability.py and calls.py).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def _tr(text: str) -> str:
    return QCoreApplication.translate("CrmNames", text)


def crm_title(crm: str) -> str:
    """"Built-in CRM", "Salesforce", "Dynamics 365"; an unknown backend as it is named."""
    return {
        "local": _tr("Built-in CRM"),
        "salesforce": "Salesforce",
        "dynamics": "Dynamics 365",
    }.get(crm, crm)


def crm_line(crm: str, name: str, matches: int) -> str:
    """The card's line under the caller: where the name came from, or what was found."""
    if not crm:
        return ""
    title = crm_title(crm)
    if name:
        return _tr("From %s") % title
    if matches == 0:
        return _tr("Not in %s") % title
    return _tr("%d matches in %s") % (matches, title)  # never 1 here: one match has a name


def refusal_text(reason: str) -> str:
    """Why a call was refused before it rang, e.g. "Refused: in wrap-up"."""
    why = {
        "Wrap up": _tr("in wrap-up"),
        "Do not disturb": _tr("do not disturb"),
        "Off work": _tr("off work"),
        "Not receiving pool calls": _tr("not receiving pool calls"),
        "Too many calls": _tr("too many calls"),
        "Busy Here": _tr("on another call"),
    }.get(reason, reason)
    return _tr("Refused: %s") % why if why else _tr("Refused")


__all__ = ["crm_line", "crm_title", "refusal_text"]
