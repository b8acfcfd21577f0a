"""Everything that touches pjsua2; nothing outside this package imports it."""
