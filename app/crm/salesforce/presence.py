"""The agent's Omni-Channel presence, read-only, mapped to Switchboard's availability.

Follows the Object Reference for UserServicePresence (UserId, IsCurrentState,
StatusStartDate, ServicePresenceStatusId) and ServicePresenceStatus (DeveloperName,
MasterLabel). The REST API cannot set Omni-Channel presence (only the Omni-Channel widget
or its console toolkit can), so this module only reads. Read at sign-in and when the agent
asks, never polled per agent: the org's API quota is shared by everybody.

The mapping table comes from `salesforce.omni_status_map`, entries `OmniStatus=Target`,
where OmniStatus is the status's API name (DeveloperName) or label and Target is either a
Switchboard status name from `availability.statuses` or one of the four types
(`available`, `busy`, `dnd`, `offwork`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.core.availability import Status, StatusType
from app.crm.salesforce import records
from app.crm.salesforce.client import SalesforceClient


@dataclass(frozen=True)
class OmniPresence:
    """The agent's current Omni-Channel status and what it means for Switchboard."""

    developer_name: str
    label: str
    since: datetime | None
    status: Status | None  # None: the Omni status is not in the mapping table


def parse_status_map(entries: Iterable[str], statuses: Iterable[Status]) -> dict[str, Status]:
    """`OmniStatus=Target` lines → {omni name folded: Status}; unknown targets are skipped."""
    by_name = {s.name.casefold(): s for s in statuses}
    table: dict[str, Status] = {}
    for entry in entries:
        omni, sep, target = entry.partition("=")
        omni, target = omni.strip(), target.strip()
        if not (sep and omni and target):
            continue
        status = by_name.get(target.casefold())
        if status is None:
            try:
                status = Status(omni, StatusType(target.lower()))
            except ValueError:
                continue
        table[omni.casefold()] = status
    return table


class OmniPresenceReader:
    """Reads the signed-in agent's current UserServicePresence (one query per read)."""

    def __init__(self, client: SalesforceClient, status_map: Mapping[str, Status]) -> None:
        self.client = client
        self.status_map = dict(status_map)

    def current(self) -> OmniPresence | None:
        """The current Omni status; None when the agent is offline in Omni-Channel."""
        user_id = records.check_id(self.client.auth.session().user_id, "user")
        rows = self.client.query(
            "SELECT Id, StatusStartDate, ServicePresenceStatus.DeveloperName, "
            "ServicePresenceStatus.MasterLabel FROM UserServicePresence "
            f"WHERE UserId = {records.soql_string(user_id)} AND IsCurrentState = true "
            "ORDER BY StatusStartDate DESC LIMIT 1")
        if not rows:
            return None
        status = rows[0].get("ServicePresenceStatus")
        status = status if isinstance(status, dict) else {}
        name = str(status.get("DeveloperName") or "")
        label = str(status.get("MasterLabel") or "")
        mapped = self.status_map.get(name.casefold()) or self.status_map.get(label.casefold())
        return OmniPresence(name, label, records.sf_datetime(rows[0].get("StatusStartDate")),
                            mapped)
