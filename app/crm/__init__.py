"""CRM backends behind one interface."""
