"""The built-in CRM's SQLite schema, versioned with PRAGMA user_version.

Phone numbers live in their own WITHOUT ROWID table clustered by match key (see
app/core/numbers.match_key), so identifying a caller is one B-tree seek however many
contacts there are. Text columns people search by are COLLATE NOCASE and indexed so a
prefix search is an index range scan, not a table scan.
"""

from __future__ import annotations

import sqlite3

from app.core import sqlite_schema
from app.core.sqlite_schema import NewerSchema

SCHEMA_VERSION = 3

# Each entry moves the database from version N-1 to N. Never edit a released step: add one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL COLLATE NOCASE,
        email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        website TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE INDEX accounts_name ON accounts(name);
    CREATE INDEX accounts_email ON accounts(email);

    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        first_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        last_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        title TEXT NOT NULL DEFAULT '',
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE INDEX contacts_first ON contacts(first_name);
    CREATE INDEX contacts_last ON contacts(last_name);
    CREATE INDEX contacts_email ON contacts(email);
    CREATE INDEX contacts_account ON contacts(account_id);

    CREATE TABLE leads (
        id INTEGER PRIMARY KEY,
        first_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        last_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        company TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
        status TEXT NOT NULL DEFAULT 'open',
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE INDEX leads_first ON leads(first_name);
    CREATE INDEX leads_last ON leads(last_name);
    CREATE INDEX leads_company ON leads(company);
    CREATE INDEX leads_email ON leads(email);

    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL UNIQUE COLLATE NOCASE,
        subject TEXT NOT NULL COLLATE NOCASE,
        status TEXT NOT NULL DEFAULT 'open',
        description TEXT NOT NULL DEFAULT '',
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE INDEX cases_contact ON cases(contact_id, modified_at DESC);
    CREATE INDEX cases_account ON cases(account_id, modified_at DESC);
    CREATE INDEX cases_subject ON cases(subject);

    CREATE TABLE phones (
        key TEXT NOT NULL,          -- numbers.match_key(): E.164 or bare digits
        kind TEXT NOT NULL,         -- contact / account / lead
        record_id INTEGER NOT NULL,
        number TEXT NOT NULL,       -- as shown: E.164 when it parsed, else as written
        PRIMARY KEY (key, kind, record_id)
    ) WITHOUT ROWID;
    CREATE INDEX phones_record ON phones(kind, record_id);

    CREATE TABLE activities (
        id INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        direction TEXT NOT NULL,
        result TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        duration_seconds INTEGER NOT NULL,
        caller_number TEXT NOT NULL,
        display_number TEXT NOT NULL DEFAULT '',
        queue TEXT NOT NULL DEFAULT '',
        queue_wait_seconds INTEGER NOT NULL DEFAULT 0,
        notes TEXT NOT NULL DEFAULT '',
        recording_url TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE TABLE activity_links (
        activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        record_id TEXT NOT NULL,
        PRIMARY KEY (activity_id, kind, record_id)
    ) WITHOUT ROWID;
    CREATE INDEX activity_links_record ON activity_links(kind, record_id);

    CREATE TABLE case_calls (
        case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        call_id TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (case_id, call_id)
    ) WITHOUT ROWID;
    """,
    # 2: tasks (callback requests can become tasks instead of cases).
    """
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL COLLATE NOCASE,
        description TEXT NOT NULL DEFAULT '',
        due_at TEXT,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
    );
    CREATE INDEX tasks_contact ON tasks(contact_id, status, due_at);
    CREATE INDEX tasks_account ON tasks(account_id, status, due_at);
    """,
    # 3: a transferred call's activity says to whom, how (blind/consulted) and when.
    """
    ALTER TABLE activities ADD COLUMN transferred_to TEXT NOT NULL DEFAULT '';
    ALTER TABLE activities ADD COLUMN transfer_kind TEXT NOT NULL DEFAULT ''
        CHECK (transfer_kind IN ('', 'blind', 'consulted'));
    ALTER TABLE activities ADD COLUMN transferred_at TEXT;
    """,
)

assert len(MIGRATIONS) == SCHEMA_VERSION


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to SCHEMA_VERSION, each step in its own transaction."""
    sqlite_schema.migrate(conn, MIGRATIONS)


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "NewerSchema", "migrate"]
