"""Callback requests in Dynamics 365: an open phone call titled "Callback Request", in a queue.

What the modelled product does for Dynamics: a caller's callback request (from the phone
system, app/core/callbacks.py) becomes a phone call activity the agents work from the
configured queue (`dynamics.callback_queue`): subject "Callback Request", the caller's
number, outbound (the agent will call), due at the request time, regarding the one
matching contact or account and with them as the To party, the agent's user as From. It
stays open for the agent who calls back to complete.

Exactly once: its activityid is uuid5 of the request (its subject and description, which
hold the queue, number and time) and it is created with `PATCH` + `If-None-Match: *`, so
a round that saw its answer lost finds it instead of making another. A queue item for it
is added with the queue's bound `AddToQueue` action; an activity is in at most one queue,
so adding it again keeps the one queue item.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from app.core.crm import Case, CrmError, IdentifyResult, NewCase, NewTask, Task
from app.crm.dynamics import records as rec
from app.crm.dynamics.backend import DynamicsBackend

SUBJECT = "Callback Request"
CALLBACK_NAMESPACE = uuid.UUID("0c4d1f6e-2b7a-5e39-8d41-7f3a9c2e6b58")
_NUMBER = re.compile(r"^Callback request from (\+\d{4,15})$", re.M)  # callbacks._description


class DynamicsCallbacks:
    """The CallbackCrm of app/core/callbacks.py for Dynamics 365. Blocking: network lane."""

    # Whatever `contactcenter.callback_target` says, the request becomes a phone call (an
    # activity, so the phone system's close note says "Task <id> created in CRM").
    callback_target = "task"

    def __init__(self, backend: DynamicsBackend, queue: str = "") -> None:
        self.backend = backend
        self.queue = queue.strip()
        self._queue_id: str | None = None

    def identify(self, number: str) -> IdentifyResult:
        return self.backend.identify(number)

    def create_case(self, new: NewCase) -> Case:
        task = self._callback(new.subject, new.description, new.contact_id, new.account_id,
                              None)
        return Case(id=task.id, number="", subject=task.subject,
                    description=task.description, contact_id=new.contact_id,
                    account_id=new.account_id)

    def create_task(self, new: NewTask) -> Task:
        return self._callback(new.subject, new.description, new.contact_id, new.account_id,
                              new.due_at)

    def _callback(self, title: str, description: str, contact_id: str | None,
                  account_id: str | None, due: Any) -> Task:
        client = self.backend.client
        aid = str(uuid.uuid5(CALLBACK_NAMESPACE, f"{title}\n{description}"))
        number = _NUMBER.search(description or "")
        body: dict[str, Any] = {
            "subject": SUBJECT,
            "description": f"{title}\n{description}"[: rec.DESCRIPTION_MAX],
            "directioncode": True,
            "phonenumber": number.group(1) if number else None,
        }
        if due is not None:
            body["scheduledend"] = rec.iso(due)
        who = (("contact", "contacts", contact_id) if contact_id
               else ("account", "accounts", account_id) if account_id else None)
        parties: list[dict[str, Any]] = [{
            "partyid_systemuser@odata.bind":
                f"/systemusers({rec.guid(self.backend.agent_user_id())})",
            "participationtypemask": 1}]
        if who is not None:
            logical, entity_set, rid = who
            bind = f"/{entity_set}({rec.guid(str(rid), logical)})"
            body[f"regardingobjectid_{logical}_phonecall@odata.bind"] = bind
            parties.append({f"partyid_{logical}@odata.bind": bind,
                            "participationtypemask": 2})
        body["phonecall_activity_parties"] = parties
        client.insert(f"phonecalls({aid})", body)  # False: made by an earlier round
        if self.queue:
            client.send("POST", f"queues({self._queue()})/Microsoft.Dynamics.CRM.AddToQueue",
                        body={"Target": {"activityid": aid,
                                         "@odata.type": "Microsoft.Dynamics.CRM.phonecall"}},
                        expect=(200, 204))
        return Task(id=aid, subject=SUBJECT, description=body["description"], due_at=due,
                    contact_id=contact_id, account_id=None if contact_id else account_id)

    def _queue(self) -> str:
        if self._queue_id is None:
            found = self.backend.client.get("queues", {
                "$select": "queueid,name", "$filter": "name eq " + rec.literal(self.queue),
                "$top": "2"}).get("value") or []
            if len(found) != 1:
                raise CrmError(f"Dynamics 365 has {'no' if not found else 'more than one'} "
                               f"queue named {self.queue!r} (dynamics.callback_queue); ask "
                               "your Dynamics 365 administrator for the queue's exact name.")
            self._queue_id = rec.guid(str(found[0]["queueid"]), "queue")
        return self._queue_id


__all__ = ["DynamicsCallbacks"]
