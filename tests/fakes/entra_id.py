"""A fake Microsoft Entra ID authority on https://127.0.0.1, good enough for the real msal.

Follows the Microsoft identity platform documents (learn.microsoft.com/entra/identity-platform/):
- v2-protocols-oidc: `GET /{tenant}/v2.0/.well-known/openid-configuration` with `issuer`,
  `authorization_endpoint`, `token_endpoint`, `device_authorization_endpoint`, ...;
- v2-oauth2-auth-code-flow: `GET /{tenant}/oauth2/v2.0/authorize` (PKCE S256, `state`,
  `response_mode` query or form_post) and `POST .../token` with
  `grant_type=authorization_code` / `refresh_token`; token answers `{"token_type": "Bearer",
  "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token",
  "client_info"}`; errors `{"error", "error_description", "error_codes", "timestamp",
  "trace_id", "correlation_id"}`;
- v2-oauth2-device-code: `POST /{tenant}/oauth2/v2.0/devicecode` → `{"device_code",
  "user_code", "verification_uri", "expires_in", "interval", "message"}`; polling gets
  `authorization_pending`, `authorization_declined`, `expired_token` until the user is done.
NOT DOCUMENTED, taken from msal's source (msal/authority.py): instance discovery
`GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...` →
`{"tenant_discovery_endpoint", "metadata": [{"preferred_network", "preferred_cache",
"aliases"}]}`, and `client_info` = base64url JSON `{"uid", "utid"}`. The id_token is unsigned
(msal ≥ 1.38 does not validate it).

msal refuses any authority that is not https, so the fake serves TLS with a self-signed
certificate for 127.0.0.1 made at start; `cert_path` is the PEM to trust. Measured with
msal 1.39 (re-measured by tests/unit/crm/test_dynamics_auth.py::test_msal_with_a_local_
authority): an http:// authority → ValueError; https with the certificate untrusted →
SSLError; https + `verify=cert_path` works with `instance_discovery=False`, with
`validate_authority=False`, or with `instance_discovery="https://<fake>/common/discovery/
instance"`; with msal's defaults it asks login.microsoftonline.com first. Pass `verify` on
every request, not as `Session.verify`: requests lets REQUESTS_CA_BUNDLE override the
latter (psf/requests#3829). Test controls: approve_device_code / decline_device_code,
expire_access_tokens, revoke_refresh_tokens, deny_next_authorization,
is_valid_access_token (give it to FakeDataverse), requests (a log).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TENANT_ID = "72f988bf-0000-4000-8000-0000000000aa"
USER_OID = "5e1c0000-0000-4000-8000-0000000000bb"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (also its own CA) for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-entra-id 127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fake-entra-id.pem", directory / "fake-entra-id.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class _Device:
    device_code: str
    user_code: str
    scope: str
    state: str = "pending"  # pending / approved / declined
    polls: int = 0


@dataclass
class _Grant:
    client_id: str
    scope: str
    redirect_uri: str = ""
    challenge: str = ""
    nonce: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class FakeEntraId:
    def __init__(self, client_id: str = "11111111-2222-4333-8444-555555555555",
                 tenant: str = "contoso.onmicrosoft.com",
                 username: str = "aino.agent@contoso.onmicrosoft.com") -> None:
        self.client_id, self.tenant, self.username = client_id, tenant, username
        self.port = 0
        self.lock = threading.Lock()
        self.device_interval = 0  # seconds msal waits between polls (the service says 5)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.access_tokens: set[str] = set()
        self.refresh_tokens: dict[str, str] = {}  # token → scope
        self.devices: dict[str, _Device] = {}
        self.codes: dict[str, _Grant] = {}
        self._deny_next = False
        self._dir = Path(tempfile.mkdtemp(prefix="fake-entra-"))
        self.cert_path, self._key_path = make_certificate(self._dir)
        self._server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"https://{self.host}/{self.tenant}"

    # -- controls ------------------------------------------------------------------------------

    def approve_device_code(self, user_code: str) -> None:
        with self.lock:
            for d in self.devices.values():
                if d.user_code == user_code:
                    d.state = "approved"
                    return
        raise KeyError(user_code)

    def decline_device_code(self, user_code: str) -> None:
        with self.lock:
            for d in self.devices.values():
                if d.user_code == user_code:
                    d.state = "declined"

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def deny_next_authorization(self) -> None:
        self._deny_next = True

    def is_valid_access_token(self, token: str) -> bool:
        with self.lock:
            return token in self.access_tokens

    def grant_types(self) -> list[str]:
        with self.lock:
            return [form.get("grant_type", "") for m, p, form in self.requests
                    if p.endswith("/token")]

    def start(self) -> FakeEntraId:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self._key_path)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True,
                         name="fake-entra-id").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for p in self._dir.iterdir():
            p.unlink()
        self._dir.rmdir()

    # -- protocol ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

        return Handler

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
        is_text = isinstance(body, str)
        data = body.encode() if is_text else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "text/html; charset=utf-8" if is_text
                      else "application/json; charset=utf-8")
        h.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _oauth_error(self, error: str, description: str, code: int) -> dict[str, Any]:
        return {"error": error, "error_description": f"AADSTS{code}: {description}",
                "error_codes": [code], "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
                "trace_id": secrets.token_hex(8), "correlation_id": secrets.token_hex(8)}

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if method == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            params.update({k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()})
        with self.lock:
            self.requests.append((method, url.path, params))
        parts = url.path.strip("/").split("/")
        tenant, rest = parts[0], "/".join(parts[1:])
        if tenant == "common" and rest == "discovery/instance":
            return self._send(h, 200, self._instance_discovery())
        if tenant not in (self.tenant, TENANT_ID, "organizations", "common"):
            return self._send(h, 400, self._oauth_error(
                "invalid_tenant", f"Tenant '{tenant}' not found.", 90002))
        if rest == "v2.0/.well-known/openid-configuration":
            return self._send(h, 200, self._openid_configuration(tenant))
        if rest == "oauth2/v2.0/authorize" and method == "GET":
            return self._authorize(h, params)
        if rest == "oauth2/v2.0/devicecode" and method == "POST":
            return self._devicecode(h, params)
        if rest == "oauth2/v2.0/token" and method == "POST":
            status, body = self._token(params)
            return self._send(h, status, body)
        return self._send(h, 404, self._oauth_error("invalid_request", "Not found.", 900561))

    def _base(self, tenant: str) -> str:
        return f"https://{self.host}/{tenant}"

    def _openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = self._base(tenant)
        return {"issuer": f"https://{self.host}/{TENANT_ID}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"https://{self.host}/{TENANT_ID}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "private_key_jwt"],
                "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com"}

    def _instance_discovery(self) -> dict[str, Any]:
        return {"tenant_discovery_endpoint": f"https://{self.host}/{self.tenant}/v2.0/"
                ".well-known/openid-configuration", "api-version": "1.1",
                "metadata": [{"preferred_network": self.host, "preferred_cache": self.host,
                              "aliases": [self.host]}]}

    def _authorize(self, h: BaseHTTPRequestHandler, p: dict[str, str]) -> None:
        redirect = p.get("redirect_uri", "")
        if p.get("client_id") != self.client_id or not redirect.startswith("http://localhost"):
            return self._send(h, 400, "<html><body>AADSTS50011: The redirect URI or client id "
                              "does not match the application registration.</body></html>")
        answer: dict[str, str] = {"state": p.get("state", "")}
        if self._deny_next:
            self._deny_next = False
            answer.update(error="access_denied", error_description="AADSTS65004: User "
                          "declined to consent to access the app.")
        elif p.get("response_type") != "code" or p.get("code_challenge_method") != "S256":
            answer.update(error="invalid_request", error_description="AADSTS9002325: Proof "
                          "Key for Code Exchange is required.")
        else:
            code = secrets.token_urlsafe(24)
            with self.lock:
                self.codes[code] = _Grant(self.client_id, p.get("scope", ""), redirect,
                                          p.get("code_challenge", ""), p.get("nonce", ""))
            answer["code"] = code
        if p.get("response_mode") == "form_post":
            fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                             for k, v in answer.items())
            return self._send(h, 200, f'<html><body onload="document.forms[0].submit()">'
                              f'<form method="post" action="{html.escape(redirect)}">{fields}'
                              "</form></body></html>")
        h.send_response(302)
        h.send_header("Location", f"{redirect}?{urlencode(answer)}")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _devicecode(self, h: BaseHTTPRequestHandler, p: dict[str, str]) -> None:
        if p.get("client_id") != self.client_id:
            return self._send(h, 400, self._oauth_error(
                "unauthorized_client", "The client does not exist or is not enabled for "
                "consumers.", 700016))
        device = _Device(secrets.token_urlsafe(32), secrets.token_hex(4).upper(),
                         p.get("scope", ""))
        with self.lock:
            self.devices[device.device_code] = device
        uri = f"https://{self.host}/devicelogin"
        return self._send(h, 200, {
            "device_code": device.device_code, "user_code": device.user_code,
            "verification_uri": uri, "expires_in": 900, "interval": self.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the "
                       f"code {device.user_code} to authenticate."})

    def _token(self, p: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if p.get("client_id") != self.client_id:
            return 400, self._oauth_error("unauthorized_client", "Application not found.",
                                          700016)
        grant = p.get("grant_type", "")
        with self.lock:
            if grant == "authorization_code":
                g = self.codes.pop(p.get("code", ""), None)
                verifier = p.get("code_verifier", "")
                if g is None or g.redirect_uri != p.get("redirect_uri"):
                    return 400, self._oauth_error("invalid_grant", "The provided authorization "
                                                  "code or refresh token has expired.", 70008)
                if _b64url(hashlib.sha256(verifier.encode()).digest()) != g.challenge:
                    return 400, self._oauth_error("invalid_grant", "The code_verifier does not "
                                                  "match the code_challenge.", 501481)
                return 200, self._issue(g.scope, g.nonce)
            if grant == "refresh_token":
                scope = self.refresh_tokens.pop(p.get("refresh_token", ""), None)
                if scope is None:
                    return 400, self._oauth_error("invalid_grant", "The refresh token has "
                                                  "been revoked or has expired.", 700082)
                return 200, self._issue(p.get("scope", scope), "")
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                d = self.devices.get(p.get("device_code", ""))
                if d is None:
                    return 400, self._oauth_error("expired_token", "The device code expired.",
                                                  70020)
                d.polls += 1
                if d.state == "pending":
                    return 400, self._oauth_error("authorization_pending", "The user has not "
                                                  "yet finished authenticating.", 70016)
                if d.state == "declined":
                    return 400, self._oauth_error("authorization_declined", "The user "
                                                  "declined the sign-in.", 70019)
                del self.devices[d.device_code]
                return 200, self._issue(d.scope, "")
        return 400, self._oauth_error("unsupported_grant_type", f"The grant {grant!r} is not "
                                      "supported.", 70003)

    def _issue(self, scope: str, nonce: str) -> dict[str, Any]:
        """Tokens for the one user (call with the lock held)."""
        resource_scopes = " ".join(s for s in scope.split() if s not in (
            "openid", "profile", "offline_access"))
        access, refresh = "fake-at-" + secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        self.access_tokens.add(access)
        self.refresh_tokens[refresh] = scope
        now = int(time.time())
        claims = {"iss": f"https://{self.host}/{TENANT_ID}/v2.0", "aud": self.client_id,
                  "sub": "fake-subject", "oid": USER_OID, "tid": TENANT_ID, "iat": now,
                  "nbf": now, "exp": now + 3600, "name": "Aino Agent",
                  "preferred_username": self.username, "ver": "2.0"}
        if nonce:
            claims["nonce"] = nonce
        id_token = ".".join([_b64url(b'{"alg":"none","typ":"JWT"}'),
                             _b64url(json.dumps(claims).encode()), ""])
        return {"token_type": "Bearer", "scope": resource_scopes, "expires_in": 3599,
                "ext_expires_in": 3599, "access_token": access, "refresh_token": refresh,
                "id_token": id_token,
                "client_info": _b64url(json.dumps({"uid": USER_OID, "utid": TENANT_ID}).encode())}
