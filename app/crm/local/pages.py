"""Pages of the built-in CRM: records and disposition dialogs, as a pure render function.

`render(url_path, query, store) -> (mime, bytes)` is all the Qt scheme handler calls
(app/ui/screenpop.py). `store` is any `CrmBackend`: the built-in CRM, or a network CRM
(Salesforce, Dynamics) whose dialog is then built from its API data. Sections only the
built-in CRM can fill (logged calls, open tasks, an account's contacts, calls saved on a
case) are left out for the others; their records open as their own web pages anyway.
Every value that came from the CRM or a caller goes through
`esc` (html.escape with quotes) before it becomes HTML, and URLs we build are quoted
and then escaped. Pages carry a Content-Security-Policy that allows no script at all:
every button is a plain link or GET form to `switchboard://action/NAME?…`, which the
view turns into an intent signal instead of loading it.

Paths: /contact/ID /account/ID /lead/ID /case/ID, /dialog?kind=…&number=…&queue=…&call=…,
/looking-up?number=…, /error?message=…, /ringing?who=…, /idle, /style.css. Dialog kinds: case,
contact_account, contact_lead, phone_call (`chosen=contact/ID` preselects a contact).

Language: `render(..., tr)` puts every user-visible string through `tr` (the Qt side
passes `QCoreApplication.translate` bound to TRANSLATION_CONTEXT; the default keeps the
English source text). Inside, the function is passed on as `_tr` and every translatable
string is a literal `_tr("…")` call: packaging/update_translations.py collects those under
TRANSLATION_CONTEXT (pyside6-lupdate itself would file a bare `tr("…")` under an empty
context). A translation is escaped like any other text. Dates stay ISO
(`2026-11-24 09:30`), the same in every language.

Actions (switchboard://action/NAME, parameters as query; `call` is whatever the app put
in the dialog's `call` parameter):
    open            ref                      pop this record
    choose-case     case, contact?           the call is about this existing case
    new-case        contact?                 create a case (no contact: unidentified)
    attach-number   ref, number              "update phone": add the caller's number
    new-contact     number, first_name, last_name, email, company, then? (case: back
                    to the case dialog with the new contact chosen)
    new-account     number, name, email
    new-lead        number, first_name, last_name, company, email
    regarding       ref                      log the call regarding this record
    dial            number, ref              click-to-dial from a record page
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import quote, urlencode, urlsplit

from app.core import numbers
from app.core.crm import (
    Account,
    Case,
    Contact,
    CrmBackend,
    CrmError,
    CrmUnavailable,
    IdentifyResult,
    Lead,
    RecordNotFound,
    RecordRef,
    SearchResult,
)

DEFAULT_REGION = "FI"  # numbers are shown in this region's national form when the CRM has none

TEMPLATES = Path(__file__).with_name("templates")
HTML = "text/html"
TRANSLATION_CONTEXT = "CrmPages"  # update_translations.py files _tr("…") literals here
DIALOG_KINDS = ("case", "contact_account", "contact_lead", "phone_call")
_KEEP = ("kind", "number", "queue", "call", "direction")  # carried through the dialog's links

Translate = Callable[[str], str]


def _region(store: CrmBackend) -> str:
    return str(getattr(store, "region", DEFAULT_REGION))


def identity(text: str) -> str:
    """The untranslated (English) text."""
    return text


def not_reachable(_tr: Translate = identity) -> str:
    return _tr("CRM not reachable — the call goes on")


NOT_REACHABLE = not_reachable()


def _kind_label(kind: str, _tr: Translate) -> str:
    """What a record or dialog kind is called on the page."""
    labels = {"contact": _tr("Contact"), "account": _tr("Account"), "lead": _tr("Lead"),
              "case": _tr("Case"), "contact_account": _tr("Contact & Account"),
              "contact_lead": _tr("Contact & Lead"), "phone_call": _tr("Phone call")}
    return labels.get(kind, kind)


def _word(value: str, _tr: Translate) -> str:
    """A machine value the app itself writes (call result, default status), in words."""
    words = {"answered": _tr("answered"), "missed": _tr("missed"), "declined": _tr("declined"),
             "failed": _tr("failed"), "busy": _tr("busy"), "no_answer": _tr("no answer"),
             "open": _tr("open"), "closed": _tr("closed")}
    return words.get(value, value)


def esc(value: object) -> str:
    """Text → HTML safe in element content and in double- or single-quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def page(title: str, body: str, body_class: str = "", lang: str = "en") -> bytes:
    """The whole document; `body` must already be HTML built from escaped parts."""
    return _template("base.html").substitute(title=esc(title), body=body, lang=esc(lang),
                                             body_class=esc(body_class)).encode("utf-8")


def _lang(_tr: Translate) -> str:
    # The catalogue's own language code (Qt's idiom: translators translate the marker),
    # so screen readers read the page in the right voice.
    return _tr("en")


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


def status_page(heading: str, detail: str, state: str,
                _tr: Translate = identity) -> tuple[str, bytes]:
    body = _template("status.html").substitute(heading=esc(heading), detail=esc(detail),
                                               state=esc(state))
    return HTML, page(heading, body, state, _lang(_tr))


# -- records ------------------------------------------------------------------------------


def _fields(pairs: Iterable[tuple[str, str]]) -> str:
    """(label, HTML) pairs → <dt>/<dd>; values are already HTML."""
    return "\n".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs if v)


def _phones(phones: Iterable[str], ref: RecordRef, region: str) -> str:
    return ", ".join(link(action_url("dial", number=p, ref=str(ref)),
                          numbers.display(p, region), "number") for p in phones)


def _email(email: str) -> str:
    return link(f"mailto:{quote(email, safe='@.+-_')}", email) if email else ""


def _section(title: str, items: list[str], empty: str, section_id: str = "") -> str:
    inner = ("<ul class=\"records\">" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
             if items else f'<p class="empty">{esc(empty)}</p>')
    ident = f' id="{esc(section_id)}"' if section_id else ""
    return f"<section{ident}><h2>{esc(title)}</h2>{inner}</section>"


def _case_item(case: Case, _tr: Translate, url: str | None = None) -> str:
    target = url or crm_url(f"case/{case.id}")
    when = case.modified_at.strftime("%Y-%m-%d %H:%M") if case.modified_at else ""
    return (link(target, f"{case.number} {case.subject}", "name")
            + f' <span class="meta">{esc(_word(case.status, _tr))} · {esc(when)}</span>')


def _record(kind: str, heading: str, sub: str, fields: str, sections: str,
            _tr: Translate) -> bytes:
    label = _kind_label(kind, _tr)
    body = _template("record.html").substitute(kind=esc(label), heading=esc(heading),
                                               sub=sub, fields=fields, sections=sections)
    return page(f"{heading} — {label}", body, f"record {kind}", _lang(_tr))


def _activities(store: CrmBackend, ref: RecordRef, _tr: Translate) -> str:
    if not hasattr(store, "activities_for"):  # only the built-in CRM lists logged calls
        return ""
    items = [f'<span class="name">{esc(a.subject)}</span> <span class="meta">'
             f'{esc(a.ended_at.strftime("%Y-%m-%d %H:%M"))} · {esc(_word(a.result, _tr))}'
             "</span>" + (f'<pre class="note">{esc(a.notes)}</pre>' if a.notes else "")
             for a in store.activities_for(ref)]
    return _section(_tr("Calls"), items, _tr("No calls logged yet."))


def _open_tasks(store: CrmBackend, contact: Contact, _tr: Translate) -> str:
    """The contact's open tasks: subject, when due, and what to do (the description)."""
    if not hasattr(store, "open_tasks"):
        return ""
    items = [f'<span class="name">{esc(_tr("Task"))}: {esc(t.subject)}</span> '
             f'<span class="meta">{esc(_tr("due"))} '
             f'{esc(f"{t.due_at.astimezone():%Y-%m-%d %H:%M}" if t.due_at else "—")}</span>'
             + (f'<pre class="note">{esc(t.description)}</pre>' if t.description else "")
             for t in store.open_tasks(contact.id)]
    return _section(_tr("Open tasks"), items, _tr("No open tasks."))


def contact_page(store: CrmBackend, contact: Contact, _tr: Translate = identity) -> bytes:
    account = (link(crm_url(f"account/{contact.account_id}"), contact.account_name)
               if contact.account_id else "")
    fields = _fields([(_tr("Title"), esc(contact.title)), (_tr("Account"), account),
                      (_tr("Email"), _email(contact.email)),
                      (_tr("Phone"), _phones(contact.phones, contact.ref, _region(store)))])
    cases = [_case_item(c, _tr) for c in store.recent_cases(contact.id)]
    sections = (_section(_tr("Latest cases"), cases, _tr("No cases."))
                + _open_tasks(store, contact, _tr) + _activities(store, contact.ref, _tr))
    return _record("contact", contact.name, esc(contact.account_name), fields, sections, _tr)


def account_page(store: CrmBackend, account: Account, _tr: Translate = identity) -> bytes:
    fields = _fields([(_tr("Email"), _email(account.email)),
                      (_tr("Website"), external_link(account.website)),
                      (_tr("Phone"), _phones(account.phones, account.ref, _region(store)))])
    sections = _activities(store, account.ref, _tr)
    if hasattr(store, "account_contacts") and hasattr(store, "account_cases"):
        people = [link(crm_url(f"contact/{c.id}"), c.name, "name")
                  + f' <span class="meta">{esc(c.title)}</span>'
                  for c in store.account_contacts(account.id)]
        cases = [_case_item(c, _tr) for c in store.account_cases(account.id)]
        sections = (_section(_tr("Contacts"), people, _tr("No contacts."))
                    + _section(_tr("Cases"), cases, _tr("No cases.")) + sections)
    return _record("account", account.name, "", fields, sections, _tr)


def lead_page(store: CrmBackend, lead: Lead, _tr: Translate = identity) -> bytes:
    fields = _fields([(_tr("Company"), esc(lead.company)),
                      (_tr("Status"), esc(_word(lead.status, _tr))),
                      (_tr("Email"), _email(lead.email)),
                      (_tr("Phone"), _phones(lead.phones, lead.ref, _region(store)))])
    return _record("lead", lead.name, esc(lead.company), fields,
                   _activities(store, lead.ref, _tr), _tr)


def case_page(store: CrmBackend, case: Case, _tr: Translate = identity) -> bytes:
    contact = ""
    if case.contact_id:
        try:
            found = store.get(RecordRef.parse(f"contact/{case.contact_id}"))
            contact = link(crm_url(f"contact/{case.contact_id}"), getattr(found, "name", ""))
        except RecordNotFound:
            contact = esc(_tr("(deleted contact)"))
    fields = _fields([(_tr("Status"), esc(_word(case.status, _tr))), (_tr("Contact"), contact),
                      (_tr("Description"), esc(case.description))])
    sections = ""
    if hasattr(store, "case_calls"):
        notes = [f'<span class="meta">{esc(ts[:16].replace("T", " "))}</span>'
                 f'<pre class="note">{esc(text)}</pre>'
                 for ts, text in store.case_calls(case.id)]
        sections = _section(_tr("Calls on this case"), notes,
                            _tr("No calls saved on this case."))
    return _record("case", f"{case.number} {case.subject}", "", fields, sections, _tr)


# -- dialogs ------------------------------------------------------------------------------


def _person_item(rec: Contact | Lead | Account, kind: str, ctx: Mapping[str, str],
                 _tr: Translate) -> str:
    """One row of the matches table: Type, Full name, Account, Title, Email, buttons."""
    call, number = ctx.get("call"), ctx.get("number")
    if isinstance(rec, Contact):
        cells = (_tr("Contact"), rec.name, rec.account_name, rec.title, rec.email)
    elif isinstance(rec, Lead):
        cells = (_tr("Lead"), rec.name, rec.company, "", rec.email)
    else:
        cells = (_tr("Account"), rec.name, "", "", rec.email)
    if kind == "case":
        choose = link(crm_url("dialog", **_keep(ctx), chosen=str(rec.ref)), _tr("Choose"),
                      "button primary")
    elif kind == "phone_call":
        choose = link(action_url("regarding", call=call, ref=str(rec.ref)),
                      _tr("Log call here"), "button primary")
    else:
        choose = link(action_url("open", call=call, ref=str(rec.ref)), _tr("Open"),
                      "button primary")
    buttons = [choose]
    if number:  # every match: the caller's number goes onto the record in one click
        if numbers.match_key(number) in {numbers.match_key(p) for p in rec.phones}:
            buttons.append(f'<span class="has-number">{esc(_tr("Has this number"))}</span>')
        else:
            buttons.append(link(action_url("attach-number", call=call, ref=str(rec.ref),
                                           number=number), _tr("Update phone"), "button"))
    row = "".join(f'<span class="{c}" role="cell">{esc(v)}</span>' for c, v in zip(
        ("type", "name", "account", "title", "email"), cells, strict=True))
    return row + f'<span class="choose" role="cell">{" ".join(buttons)}</span>'


def _matches_table(title: str, items: list[str], empty: str, _tr: Translate,
                   section_id: str = "") -> str:
    """Rows from `_person_item` under the table's column names (a grid: CSS lays it out)."""
    if not items:
        return _section(title, [], empty, section_id)
    head = "".join(f'<span role="columnheader">{esc(h)}</span>' for h in (
        _tr("Type"), _tr("Full name"), _tr("Account"), _tr("Title"), _tr("Email"), ""))
    rows = "".join(f'<li role="row">{i}</li>' for i in items)
    ident = f' id="{esc(section_id)}"' if section_id else ""
    return (f"<section{ident}><h2>{esc(title)}</h2>"
            f'<ul class="records matches" role="table"><li class="head" role="row">{head}'
            f"</li>{rows}</ul></section>")


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
                     for k in ("call", "number", "then") if ctx.get(k))
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


def _case_sections(store: CrmBackend, query: Mapping[str, str], matched: IdentifyResult,
                   records: list[Contact | Account | Lead], _tr: Translate) -> list[str]:
    """The Case dialog: the caller's recent cases, or who it might be."""
    ctx = {**query, "kind": "case"}
    call, chosen = query.get("call"), query.get("chosen")
    contact = None
    if chosen:
        found = store.get(RecordRef.parse(chosen))
        contact = found if isinstance(found, Contact) else None
    elif len(matched.contacts) == 1:
        contact = matched.contacts[0]
    # A CRM whose cases must have a customer (Dynamics 365's incident.customerid) gets no
    # "without identification" button: a contact is chosen, or created, first.
    needs_customer = bool(getattr(store, "case_needs_customer", False))
    sections: list[str] = []
    if contact is not None:
        cases = [_case_item(c, _tr, action_url("choose-case", call=call, case=c.id,
                                              contact=contact.id))
                 for c in store.recent_cases(contact.id, 5)]
        sections.append(f'<section class="contact"><h2>{esc(contact.name)}</h2>'
                        f'<p class="meta">{esc(contact.account_name)}</p></section>')
        sections.append(_section(_tr("Choose a case"), cases, _tr("This contact has no cases.")))
        anonymous = "" if needs_customer else link(
            action_url("new-case", call=call), _tr("New case without identification"),
            "button")
        sections.append('<div class="actions">' + link(
            action_url("new-case", call=call, contact=contact.id), _tr("New case"),
            "button primary") + anonymous + "</div>")
        return sections
    if records:
        sections.append(_matches_table(_tr("Who is calling?"),
                                       [_person_item(r, "case", ctx, _tr) for r in records],
                                       "", _tr))
    if needs_customer:
        sections.append('<p class="customer-needed">' + esc(_tr(
            "A case in this CRM needs a customer. Choose the caller, search for them, or "
            "add them as a new contact; then create the case.")) + "</p>")
        sections.append(_new_form("new-contact", _tr("New contact"), [
            ("first_name", _tr("First name")), ("last_name", _tr("Last name")),
            ("email", _tr("Email")), ("company", _tr("Company"))], {**ctx, "then": "case"}))
        return sections
    sections.append('<div class="actions">' + link(
        action_url("new-case", call=call), _tr("New case") if not records else
        _tr("New case without identification"), "button primary") + "</div>")
    # A caller not in the CRM yet: add them, then choose or create their case.
    sections.append(_new_form("new-contact", _tr("New contact"), [
        ("first_name", _tr("First name")), ("last_name", _tr("Last name")),
        ("email", _tr("Email")), ("company", _tr("Company"))], {**ctx, "then": "case"}))
    return sections


def _record_sections(kind: str, ctx: Mapping[str, str],
                     records: list[Contact | Account | Lead], _tr: Translate,
                     new_case: bool = True) -> list[str]:
    """The other dialogs: who it might be, and forms for a new record."""
    title = _tr("Who is calling?") if records else _tr("No record has this number")
    sections = [_matches_table(title, [_person_item(r, kind, ctx, _tr) for r in records],
                               _tr("Search for the caller, or create a new record."), _tr)]
    if kind != "phone_call" and new_case:  # a case straight away (needs no customer)
        sections.append('<div class="actions">' + link(
            action_url("new-case", call=ctx.get("call")), _tr("New case"), "button")
            + "</div>")
    if kind != "phone_call":
        sections.append(_new_form("new-contact", _tr("New contact"), [
            ("first_name", _tr("First name")), ("last_name", _tr("Last name")),
            ("email", _tr("Email")), ("company", _tr("Company"))], ctx))
        if kind == "contact_account":
            sections.append(_new_form("new-account", _tr("New account"), [
                ("name", _tr("Account name")), ("email", _tr("Email"))], ctx))
        else:
            sections.append(_new_form("new-lead", _tr("New lead"), [
                ("first_name", _tr("First name")), ("last_name", _tr("Last name")),
                ("company", _tr("Company")), ("email", _tr("Email"))], ctx))
    return sections


def _heading(matches: int, _tr: Translate) -> str:
    if matches == 0:
        return _tr("Unknown caller")
    if matches == 1:
        return _tr("Caller identified")
    return _tr("%d matches") % matches  # never 1: Finnish and English need no plural forms


def dialog_page(store: CrmBackend, query: Mapping[str, str],
                _tr: Translate = identity) -> bytes:
    kind = query.get("kind", "case")
    if kind not in DIALOG_KINDS:
        kind = "case"
    ctx = {**query, "kind": kind}
    number, call = query.get("number", ""), query.get("call")
    matched = store.identify(number) if number else IdentifyResult(number)
    records = _matches(kind, matched)
    sections = (_case_sections(store, query, matched, records, _tr) if kind == "case"
                else _record_sections(kind, ctx, records, _tr,
                                      new_case=not getattr(store, "case_needs_customer",
                                                           False)))
    results = ""
    q = query.get("q", "").strip()
    if q:
        searched = store.search(q)
        items = [_person_item(r, kind, ctx, _tr) for r in _matches(kind, searched)]
        results = _matches_table(_tr("Results for “%s”") % q, items, _tr("Nothing found."),
                                 _tr, "results")
        if kind == "case" and searched.cases:
            results += _section(_tr("Cases for “%s”") % q, [
                _case_item(c, _tr, action_url("choose-case", call=call, case=c.id))
                for c in searched.cases], "")
        elif not items:
            results = _section(_tr("Results for “%s”") % q, [], _tr("Nothing found."),
                               "results")
    shown_number = numbers.display(number, _region(store)) if number else _tr("Unknown number")
    label = _kind_label(kind, _tr)
    search = _template("dialog_search.html").substitute(
        hidden=_hidden(ctx), q=esc(q), results=results,
        search_title=esc(_tr("Search the CRM")), search_button=esc(_tr("Search")),
        search_hint=esc(_tr("Name, company, email or case number")))
    # After a search its results come first, under the caller's number and queue: the
    # page loads at the top, and results further down were out of sight.
    body = _template("dialog.html").substitute(
        kind=esc(label), heading=esc(_heading(len(records), _tr)), number=esc(shown_number),
        queue=esc(query.get("queue") or _tr("Direct")), sections="\n".join(sections),
        search_top=search if q else "", search_bottom="" if q else search,
        caller_label=esc(_tr("Caller")), queue_label=esc(_tr("Queue")))
    return page(f"{label} — {number or shown_number}", body, f"dialog {kind}", _lang(_tr))


# -- entry point --------------------------------------------------------------------------

_RECORD_PAGES = {"contact": contact_page, "account": account_page, "lead": lead_page,
                 "case": case_page}


def render(url_path: str, query: Mapping[str, str], store: CrmBackend,
           tr: Translate = identity) -> tuple[str, bytes]:
    """The page at switchboard://crm/<url_path>?<query>; never raises for CRM trouble.

    `tr` translates the page's own words (see the module docstring).
    """
    _tr = tr
    parts = [p for p in url_path.split("/") if p]
    try:
        if parts == ["style.css"]:
            return "text/css", (TEMPLATES / "style.css").read_bytes()
        if parts in ([], ["idle"]):
            return status_page(_tr("No call"), _tr("Records pop up here when a call rings."),
                               "idle", _tr)
        if parts == ["looking-up"]:
            return status_page(_tr("Looking up…"), query.get("number", ""), "looking", _tr)
        if parts == ["error"]:
            return status_page(not_reachable(_tr), query.get("message", ""), "error", _tr)
        if parts == ["ringing"]:  # the Case workflow: nothing to pop until the answer
            return status_page(query.get("who") or _tr("Incoming call"),
                               _tr("A case opens when you answer."), "looking", _tr)
        if parts == ["dialog"]:
            return HTML, dialog_page(store, query, _tr)
        if len(parts) == 2 and parts[0] in _RECORD_PAGES:
            record = store.get(RecordRef.parse("/".join(parts)))
            return HTML, _RECORD_PAGES[parts[0]](store, record, _tr)  # type: ignore[operator]
        return status_page(_tr("Page not found"), _tr("There is no page %s.") % repr(url_path),
                           "error", _tr)
    except RecordNotFound as exc:
        return status_page(_tr("Record not found"), str(exc), "error", _tr)
    except CrmUnavailable as exc:
        return status_page(not_reachable(_tr), str(exc), "error", _tr)
    except CrmError as exc:
        return status_page(_tr("The CRM could not show this"), str(exc), "error", _tr)
