"""Dynamics 365 (Dataverse Web API) as a CrmBackend, with Entra ID sign-in through msal."""
