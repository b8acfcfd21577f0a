"""The built-in CRM: SQLite store and pages for records and dialogs."""
