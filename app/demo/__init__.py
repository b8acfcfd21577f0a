"""`switchboard demo`: the whole product on the built-in CRM with a simulated caller."""
