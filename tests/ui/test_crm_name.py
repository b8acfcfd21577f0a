"""The name a transfer context gives a backend's ids (app/wiring/crm.py's crm_name)."""

from __future__ import annotations

from pathlib import Path

from app.core.transfer_context import TransferContext, decode, encode
from app.crm.dynamics.backend import DynamicsBackend
from app.crm.local.store import LocalStore
from app.crm.salesforce.backend import SalesforceBackend
from app.wiring.crm import crm_name
from tests.fakes.memory_crm import MemoryCrm


def test_each_backend_names_its_ids_so_the_header_can_carry_them(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "crm.sqlite3") as store:
        assert crm_name(store) == "local"
    # The adapters' classes, not built: only their module says whose ids they are.
    assert crm_name(SalesforceBackend.__new__(SalesforceBackend)) == "salesforce"
    assert crm_name(DynamicsBackend.__new__(DynamicsBackend)) == "dynamics"
    assert crm_name(MemoryCrm()) == "memorycrm"
    for name in ("local", "salesforce", "dynamics", "memorycrm"):
        ctx = TransferContext(name, None, "1")
        assert decode(encode(ctx)) == ctx
