"""Pages of the built-in CRM: records and disposition dialogs, as a pure render function.

`render(url_path, query, store) -> (mime, bytes)` is all the Qt scheme handler calls
(app/ui/screenpop.py). Every value that came from the CRM or a caller goes through
`esc` (html.escape with quotes) before it becomes HTML, and URLs we build are quoted
and then escaped. Pages carry a Content-Security-Policy that allows no script at all:
every button is a plain link or GET form to `switchboard://action/NAME?…`, which the
view turns into an intent signal instead of loading it.

Paths: /contact/ID /account/ID /lead/ID /case/ID, /dialog?kind=…&number=…&queue=…&call=…,
/looking-up?number=…, /error?message=…, /ringing?who=…, /idle, /style.css. Dialog kinds: case,
contact_account, contact_lead, phone_call (`chosen=contact/ID` preselects a contact).

Actions (switchboard://action/NAME, parameters as query; `call` is whatever the app put
in the dialog's `call` parameter):
    open            ref                      pop this record
    choose-case     case, contact?           the call is about this existing case
    new-case        contact?                 create a case (no contact: unidentified)
    attach-number   ref, number              "update phone": add the caller's number
    new-contact     number, first_name, last_name, email, company
    new-account     number, name, email
    new-lead        number, first_name, last_name, company, email
    regarding       ref                      log the call regarding this record
    dial            number, ref              click-to-dial from a record page
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import quote, urlencode, urlsplit

from app.core import numbers
from app.crm.base import (
    Account,
    Case,
    Contact,
    CrmError,
    CrmUnavailable,
    IdentifyResult,
    Lead,
    RecordNotFound,
    RecordRef,
    SearchResult,
)
from app.crm.local.store import LocalStore

TEMPLATES = Path(__file__).with_name("templates")
HTML = "text/html"
DIALOG_KINDS = {"case": "Case", "contact_account": "Contact & Account",
                "contact_lead": "Contact & Lead", "phone_call": "Phone call"}
_KEEP = ("kind", "number", "queue", "call", "direction")  # carried through the dialog's links
NOT_REACHABLE = "CRM not reachable — the call goes on"


def esc(value: object) -> str:
    """Text → HTML safe in element content and in double- or single-quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def page(title: str, body: str, body_class: str = "") -> bytes:
    """The whole document; `body` must already be HTML built from escaped parts."""
    return _template("base.html").substitute(title=esc(title), body=body,
                                             body_class=esc(body_class)).encode("utf-8")


def action_url(name: str, **params: str | None) -> str:
    """`switchboard://action/NAME?…` (not yet HTML-escaped)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"switchboard://action/{quote(name)}" + (f"?{query}" if query else "")


def crm_url(path: str, **params: str | None) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"switchboard://crm/{path}" + (f"?{query}" if query else "")


def link(url: str, text: str, cls: str = "") -> str:
    cls_attr = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{esc(url)}"{cls_attr}>{esc(text)}</a>'


def external_link(url: str) -> str:
    """A link out of the CRM (opened in the system browser), only for http(s) URLs."""
    scheme = urlsplit(url.strip()).scheme.lower() if url else ""
    if scheme not in ("http", "https"):
        return esc(url)
    return link(url.strip(), url.strip())


def status_page(heading: str, detail: str, state: str) -> tuple[str, bytes]:
    body = _template("status.html").substitute(heading=esc(heading), detail=esc(detail),
                                               state=esc(state))
    return HTML, page(heading, body, state)


# -- records ------------------------------------------------------------------------------


def _fields(pairs: Iterable[tuple[str, str]]) -> str:
    """(label, HTML) pairs → <dt>/<dd>; values are already HTML."""
    return "\n".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs if v)


def _phones(phones: Iterable[str], ref: RecordRef, region: str) -> str:
    return ", ".join(link(action_url("dial", number=p, ref=str(ref)),
                          numbers.display(p, region), "number") for p in phones)


def _email(email: str) -> str:
    return link(f"mailto:{quote(email, safe='@.+-_')}", email) if email else ""


def _section(title: str, items: list[str], empty: str) -> str:
    inner = ("<ul class=\"records\">" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
             if items else f'<p class="empty">{esc(empty)}</p>')
    return f"<section><h2>{esc(title)}</h2>{inner}</section>"


def _case_item(case: Case, url: str | None = None) -> str:
    target = url or crm_url(f"case/{case.id}")
    when = case.modified_at.strftime("%Y-%m-%d %H:%M") if case.modified_at else ""
    return (link(target, f"{case.number} {case.subject}", "name")
            + f' <span class="meta">{esc(case.status)} · {esc(when)}</span>')


def _record(kind: str, heading: str, sub: str, fields: str, sections: str) -> bytes:
    body = _template("record.html").substitute(kind=esc(kind), heading=esc(heading),
                                               sub=sub, fields=fields, sections=sections)
    return page(f"{heading} — {kind}", body, f"record {kind.lower()}")


def _activities(store: LocalStore, ref: RecordRef) -> str:
    items = [f'<span class="name">{esc(a.subject)}</span> <span class="meta">'
             f'{esc(a.ended_at.strftime("%Y-%m-%d %H:%M"))} · {esc(a.result)}</span>'
             + (f'<pre class="note">{esc(a.notes)}</pre>' if a.notes else "")
             for a in store.activities_for(ref)]
    return _section("Calls", items, "No calls logged yet.")


def contact_page(store: LocalStore, contact: Contact) -> bytes:
    account = (link(crm_url(f"account/{contact.account_id}"), contact.account_name)
               if contact.account_id else "")
    fields = _fields([("Title", esc(contact.title)), ("Account", account),
                      ("Email", _email(contact.email)),
                      ("Phone", _phones(contact.phones, contact.ref, store.region))])
    cases = [_case_item(c) for c in store.recent_cases(contact.id)]
    sections = (_section("Latest cases", cases, "No cases.")
                + _activities(store, contact.ref))
    return _record("Contact", contact.name, esc(contact.account_name), fields, sections)


def account_page(store: LocalStore, account: Account) -> bytes:
    fields = _fields([("Email", _email(account.email)),
                      ("Website", external_link(account.website)),
                      ("Phone", _phones(account.phones, account.ref, store.region))])
    people = [link(crm_url(f"contact/{c.id}"), c.name, "name")
              + f' <span class="meta">{esc(c.title)}</span>'
              for c in store.account_contacts(account.id)]
    cases = [_case_item(c) for c in store.account_cases(account.id)]
    sections = (_section("Contacts", people, "No contacts.")
                + _section("Cases", cases, "No cases.") + _activities(store, account.ref))
    return _record("Account", account.name, "", fields, sections)


def lead_page(store: LocalStore, lead: Lead) -> bytes:
    fields = _fields([("Company", esc(lead.company)), ("Status", esc(lead.status)),
                      ("Email", _email(lead.email)),
                      ("Phone", _phones(lead.phones, lead.ref, store.region))])
    return _record("Lead", lead.name, esc(lead.company), fields, _activities(store, lead.ref))


def case_page(store: LocalStore, case: Case) -> bytes:
    contact = ""
    if case.contact_id:
        try:
            found = store.get(RecordRef.parse(f"contact/{case.contact_id}"))
            contact = link(crm_url(f"contact/{case.contact_id}"), getattr(found, "name", ""))
        except RecordNotFound:
            contact = esc("(deleted contact)")
    fields = _fields([("Status", esc(case.status)), ("Contact", contact),
                      ("Description", esc(case.description))])
    notes = [f'<span class="meta">{esc(ts[:16].replace("T", " "))}</span>'
             f'<pre class="note">{esc(text)}</pre>' for ts, text in store.case_calls(case.id)]
    sections = _section("Calls on this case", notes, "No calls saved on this case.")
    return _record("Case", f"{case.number} {case.subject}", "", fields, sections)


# -- dialogs ------------------------------------------------------------------------------


def _person_item(rec: Contact | Lead | Account, kind: str, ctx: Mapping[str, str]) -> str:
    call, number = ctx.get("call"), ctx.get("number")
    name = rec.name
    meta = (rec.account_name if isinstance(rec, Contact) else
            rec.company if isinstance(rec, Lead) else rec.email)
    phones = ", ".join(numbers.display(p, "FI") if p.startswith("+") else p
                       for p in rec.phones)
    if kind == "case":
        choose = link(crm_url("dialog", **_keep(ctx), chosen=str(rec.ref)), "Choose",
                      "button primary")
    elif kind == "phone_call":
        choose = link(action_url("regarding", call=call, ref=str(rec.ref)), "Log call here",
                      "button primary")
    else:
        choose = link(action_url("open", call=call, ref=str(rec.ref)), "Open",
                      "button primary")
    parts = [f'<span class="name">{esc(name)}</span>',
             f'<span class="meta">{esc(meta)}</span>',
             f'<span class="meta number">{esc(phones)}</span>', choose]
    if number and kind != "case" and numbers.match_key(number) not in {
            numbers.match_key(p) for p in rec.phones}:
        parts.append(link(action_url("attach-number", call=call, ref=str(rec.ref),
                                     number=number), "Update phone", "button"))
    return " ".join(parts)


def _keep(ctx: Mapping[str, str]) -> dict[str, str]:
    return {k: ctx[k] for k in _KEEP if ctx.get(k)}


def _hidden(ctx: Mapping[str, str]) -> str:
    return "\n".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
                     for k, v in _keep(ctx).items())


def _new_form(name: str, title: str, inputs: Iterable[tuple[str, str]],
              ctx: Mapping[str, str]) -> str:
    fields = "".join(f'<input name="{esc(n)}" placeholder="{esc(p)}" maxlength="200">'
                     for n, p in inputs)
    hidden = "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(ctx[k])}">'
                     for k in ("call", "number") if ctx.get(k))
    return (f'<form class="new" method="get" action="{esc(action_url(name))}">'
            f"<h2>{esc(title)}</h2>{hidden}{fields}"
            f'<button type="submit">{esc(title)}</button></form>')


def _matches(kind: str, found: IdentifyResult | SearchResult) -> list[Contact | Account | Lead]:
    records: list[Contact | Account | Lead] = list(found.contacts)
    if kind in ("contact_account", "phone_call"):
        records += list(found.accounts)
    if kind in ("contact_lead", "phone_call"):
        records += list(found.leads)
    return records


def dialog_page(store: LocalStore, query: Mapping[str, str]) -> bytes:
    kind = query.get("kind", "case")
    if kind not in DIALOG_KINDS:
        kind = "case"
    ctx = {**query, "kind": kind}
    number, call = query.get("number", ""), query.get("call")
    matched = store.identify(number) if number else IdentifyResult(number)
    records = _matches(kind, matched)
    chosen = query.get("chosen")
    sections: list[str] = []
    if kind == "case":
        contact = None
        if chosen:
            found = store.get(RecordRef.parse(chosen))
            contact = found if isinstance(found, Contact) else None
        elif len(matched.contacts) == 1:
            contact = matched.contacts[0]
        if contact is not None:
            cases = [_case_item(c, action_url("choose-case", call=call, case=c.id,
                                              contact=contact.id))
                     for c in store.recent_cases(contact.id, 5)]
            sections.append(f'<section class="contact"><h2>{esc(contact.name)}</h2>'
                            f'<p class="meta">{esc(contact.account_name)}</p></section>')
            sections.append(_section("Choose a case", cases, "This contact has no cases."))
            sections.append('<div class="actions">' + link(
                action_url("new-case", call=call, contact=contact.id), "New case",
                "button primary") + link(action_url("new-case", call=call),
                                         "New case without identification", "button")
                + "</div>")
        else:
            if records:
                sections.append(_section("Who is calling?", [_person_item(r, kind, ctx)
                                                             for r in records], ""))
            sections.append('<div class="actions">' + link(
                action_url("new-case", call=call), "New case" if not records else
                "New case without identification", "button primary") + "</div>")
    else:
        title = "Who is calling?" if records else "No record has this number"
        sections.append(_section(title, [_person_item(r, kind, ctx) for r in records],
                                 "Search for the caller, or create a new record."))
        if kind != "phone_call":
            sections.append(_new_form("new-contact", "New contact", [
                ("first_name", "First name"), ("last_name", "Last name"),
                ("email", "Email"), ("company", "Company")], ctx))
            if kind == "contact_account":
                sections.append(_new_form("new-account", "New account", [
                    ("name", "Account name"), ("email", "Email")], ctx))
            else:
                sections.append(_new_form("new-lead", "New lead", [
                    ("first_name", "First name"), ("last_name", "Last name"),
                    ("company", "Company"), ("email", "Email")], ctx))
    results = ""
    q = query.get("q", "").strip()
    if q:
        searched = store.search(q)
        items = [_person_item(r, kind, ctx) for r in _matches(kind, searched)]
        if kind == "case":
            items += [_case_item(c, action_url("choose-case", call=call, case=c.id))
                      for c in searched.cases]
        results = _section(f"Results for “{q}”", items, "Nothing found.")
    heading = {0: "Unknown caller", 1: "Caller identified"}.get(len(records),
                                                                f"{len(records)} matches")
    body = _template("dialog.html").substitute(
        kind=esc(DIALOG_KINDS[kind]), heading=esc(heading),
        number=esc(numbers.display(number, store.region) if number else "Unknown number"),
        queue=esc(query.get("queue") or "Direct"), sections="\n".join(sections),
        hidden=_hidden(ctx), q=esc(q), results=results)
    return page(f"{DIALOG_KINDS[kind]} — {number or 'unknown'}", body, f"dialog {kind}")


# -- entry point --------------------------------------------------------------------------

_RECORD_PAGES = {"contact": contact_page, "account": account_page, "lead": lead_page,
                 "case": case_page}


def render(url_path: str, query: Mapping[str, str], store: LocalStore) -> tuple[str, bytes]:
    """The page at switchboard://crm/<url_path>?<query>; never raises for CRM trouble."""
    parts = [p for p in url_path.split("/") if p]
    try:
        if parts == ["style.css"]:
            return "text/css", (TEMPLATES / "style.css").read_bytes()
        if parts in ([], ["idle"]):
            return status_page("No call", "Records pop up here when a call rings.", "idle")
        if parts == ["looking-up"]:
            return status_page("Looking up…", query.get("number", ""), "looking")
        if parts == ["error"]:
            return status_page(NOT_REACHABLE, query.get("message", ""), "error")
        if parts == ["ringing"]:  # the Case workflow: nothing to pop until the answer
            return status_page(query.get("who") or "Incoming call",
                               "A case opens when you answer.", "looking")
        if parts == ["dialog"]:
            return HTML, dialog_page(store, query)
        if len(parts) == 2 and parts[0] in _RECORD_PAGES:
            record = store.get(RecordRef.parse("/".join(parts)))
            return HTML, _RECORD_PAGES[parts[0]](store, record)  # type: ignore[operator]
        return status_page("Page not found", f"There is no page {url_path!r}.", "error")
    except RecordNotFound as exc:
        return status_page("Record not found", str(exc), "error")
    except CrmUnavailable as exc:
        return status_page(NOT_REACHABLE, str(exc), "error")
    except CrmError as exc:
        return status_page("The CRM could not show this", str(exc), "error")
