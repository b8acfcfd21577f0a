"""Salesforce as a CRM backend: OAuth (PKCE, device flow) sign-in, REST client, adapter."""
