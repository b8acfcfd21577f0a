"""The connection test: one REGISTER (and its removal) with the settings being edited.

pjsua2 allows one Endpoint per process, and the running phone's engine owns it, so the
settings dialog's "Test connection" speaks SIP itself: RFC 3261 REGISTER over UDP
(retransmitted on the timer T1 schedule), TCP or TLS, answering one digest challenge
(RFC 2617 / RFC 7616: MD5 or SHA-256, qop=auth), then the same binding with Expires: 0 so
the test leaves nothing behind. It runs off the GUI thread (the network lane) and returns
a `ProbeResult`; it never raises for a network or SIP failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import socket
import ssl
import time
from dataclasses import dataclass

from app.config import SipSettings
from app.core.account_check import ProbeOutcome, ProbeResult, account_problems
from app.core.sip_domain import sip_domain

T1 = 0.5  # RFC 3261 retransmission start for UDP
EXPIRES = 60  # the test binding lives at most this long, even if its removal is lost


@dataclass(frozen=True)
class _Response:
    code: int
    reason: str
    headers: dict[str, list[str]]

    def first(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""


class _Failure(Exception):
    def __init__(self, result: ProbeResult) -> None:
        super().__init__(result.outcome.value)
        self.result = result


def _split_server(server: str, transport: str) -> tuple[str, int]:
    host_port = server.strip().split(";", 1)[0]
    default = 5061 if transport == "tls" else 5060
    if host_port.startswith("["):
        end = host_port.index("]")
        port = host_port[end + 2:] if host_port[end + 1:end + 2] == ":" else ""
        return host_port[1:end], int(port) if port else default
    host, _, port = host_port.partition(":")
    return host, int(port) if port else default


def _parse(data: bytes) -> tuple[_Response, int] | None:
    """A complete response at the start of `data` and its length, or None if incomplete."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = data[:head_end].decode("utf-8", "replace").split("\r\n")
    match = re.match(r"SIP/2\.0\s+(\d{3})\s*(.*)", lines[0])
    if match is None:
        raise _Failure(ProbeResult(ProbeOutcome.REFUSED, detail=f"not a SIP answer: "
                                   f"{lines[0][:80]!r}"))
    headers: dict[str, list[str]] = {}
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length",
               "m": "contact"}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers.setdefault(compact.get(key, key), []).append(value.strip())
    length = int((headers.get("content-length") or ["0"])[0] or 0)
    total = head_end + 4 + length
    if len(data) < total:
        return None
    return _Response(int(match.group(1)), match.group(2).strip(), headers), total


def _digest(challenge: str, *, method: str, uri: str, user: str, password: str,
            nc: int) -> str:
    params = {k.lower(): quoted or token for k, quoted, token in
              re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', challenge)}
    algorithm = params.get("algorithm", "MD5").upper()
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm)
    if hash_name is None:
        raise _Failure(ProbeResult(ProbeOutcome.REFUSED, detail=f"the server asks for "
                                   f"digest algorithm {algorithm}, which is not supported"))

    def h(text: str) -> str:
        return hashlib.new(hash_name, text.encode()).hexdigest()

    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
              f"algorithm={algorithm}"]
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        cnonce = secrets.token_hex(8)
        response = h(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={nc:08x}",
                   f'cnonce="{cnonce}"']
    else:
        fields.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)


class _Link:
    """One connection (or UDP association) to the registrar."""

    def __init__(self, sip: SipSettings, timeout: float) -> None:
        self.transport = sip.transport
        self.timeout = timeout
        host, port = _split_server(sip.server, sip.transport)
        kind = socket.SOCK_DGRAM if sip.transport == "udp" else socket.SOCK_STREAM
        try:
            infos = socket.getaddrinfo(host, port, type=kind)
        except socket.gaierror as exc:
            raise _Failure(ProbeResult(ProbeOutcome.UNKNOWN_HOST,
                                       detail=f"{host}: {exc.strerror}")) from None
        family, _, _, _, address = infos[0]
        self.sock = socket.socket(family, kind)
        self.sock.settimeout(timeout)
        self.buffer = b""
        try:
            self.sock.connect(address)
            if sip.transport == "tls":
                context = ssl.create_default_context()
                if not sip.tls_verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self.sock = context.wrap_socket(self.sock, server_hostname=host)
        except ssl.SSLError as exc:
            self.close()
            raise _Failure(ProbeResult(ProbeOutcome.TLS_FAILED,
                                       detail=str(exc.reason or exc))) from None
        except TimeoutError:
            self.close()
            raise _Failure(ProbeResult(ProbeOutcome.NO_ANSWER)) from None
        except OSError as exc:
            self.close()
            raise _Failure(ProbeResult(ProbeOutcome.UNREACHABLE,
                                       detail=exc.strerror or str(exc))) from None
        local = self.sock.getsockname()
        self.local = f"[{local[0]}]:{local[1]}" if ":" in local[0] else f"{local[0]}:{local[1]}"

    def close(self) -> None:
        self.sock.close()

    def exchange(self, request: bytes, branch: str) -> _Response:
        """Send `request` and wait for its final response (retransmitting on UDP)."""
        deadline = time.monotonic() + self.timeout
        interval = T1
        try:
            self.sock.sendall(request)
            next_send = time.monotonic() + interval
            while True:
                now = time.monotonic()
                if now >= deadline:
                    raise _Failure(ProbeResult(ProbeOutcome.NO_ANSWER))
                wait = min(deadline, next_send) - now if self.transport == "udp" \
                    else deadline - now
                self.sock.settimeout(max(wait, 0.01))
                try:
                    chunk = self.sock.recv(65535)
                except TimeoutError:
                    if self.transport == "udp" and time.monotonic() < deadline:
                        self.sock.sendall(request)
                        interval = min(interval * 2, 4.0)
                        next_send = time.monotonic() + interval
                    continue
                if not chunk:
                    raise _Failure(ProbeResult(ProbeOutcome.UNREACHABLE,
                                               detail="the server closed the connection"))
                self.buffer = chunk if self.transport == "udp" else self.buffer + chunk
                while (parsed := _parse(self.buffer)) is not None:
                    response, used = parsed
                    self.buffer = self.buffer[used:]
                    if branch not in response.first("via") or response.code < 200:
                        continue  # provisional, or a late answer to an earlier request
                    return response
        except ssl.SSLError as exc:
            raise _Failure(ProbeResult(ProbeOutcome.TLS_FAILED,
                                       detail=str(exc.reason or exc))) from None
        except ConnectionRefusedError:
            # On UDP this is the ICMP port-unreachable of a host with nothing listening.
            raise _Failure(ProbeResult(ProbeOutcome.UNREACHABLE,
                                       detail="connection refused")) from None
        except OSError as exc:
            raise _Failure(ProbeResult(ProbeOutcome.UNREACHABLE,
                                       detail=exc.strerror or str(exc))) from None


def probe_registration(sip: SipSettings, password: str | None, *,
                       timeout: float = 5.0) -> ProbeResult:
    """Register once with `sip` and `password`, then remove the binding; see the module."""
    problems = account_problems(sip)
    if sip.mode != "registrar":
        return ProbeResult(ProbeOutcome.BAD_SETTINGS,
                           detail="direct mode has no registrar to test")
    if problems:
        return ProbeResult(ProbeOutcome.BAD_SETTINGS, detail="; ".join(map(str, problems)))
    try:
        link = _Link(sip, timeout)
    except _Failure as failure:
        return failure.result
    try:
        result = _register(link, sip, password, EXPIRES)
        if result.outcome is ProbeOutcome.REGISTERED:
            # Leave nothing behind; a lost removal expires after EXPIRES seconds anyway.
            with contextlib.suppress(_Failure):
                _register(link, sip, password, 0)
        return result
    except _Failure as failure:
        return failure.result
    finally:
        link.close()


def _register(link: _Link, sip: SipSettings, password: str | None,
              expires: int) -> ProbeResult:
    domain = sip_domain(sip)
    params = "" if sip.transport == "udp" else f";transport={sip.transport}"
    uri = f"sip:{sip.server.split(';', 1)[0]}{params}"
    aor = f"sip:{sip.username}@{domain}"
    call_id = f"{secrets.token_hex(12)}@switchboard-test"
    tag = secrets.token_hex(6)
    contact = f"<sip:{sip.username}@{link.local}{params}>"
    authorization = ""
    nc = 0
    for cseq in range(1, 4):
        branch = "z9hG4bK" + secrets.token_hex(10)
        lines = [f"REGISTER {uri} SIP/2.0",
                 f"Via: SIP/2.0/{sip.transport.upper()} {link.local};branch={branch};rport",
                 "Max-Forwards: 70", f"From: <{aor}>;tag={tag}", f"To: <{aor}>",
                 f"Call-ID: {call_id}", f"CSeq: {cseq} REGISTER", f"Contact: {contact}",
                 f"Expires: {expires}", f"User-Agent: {sip.user_agent}"]
        if authorization:
            lines.append(authorization)
        lines += ["Content-Length: 0", "", ""]
        response = link.exchange("\r\n".join(lines).encode(), branch)
        if 200 <= response.code < 300:
            return ProbeResult(ProbeOutcome.REGISTERED, response.code, response.reason,
                               detail=aor.removeprefix("sip:"))
        if response.code in (401, 407):
            if authorization:  # our answer to the challenge was refused
                return ProbeResult(ProbeOutcome.WRONG_PASSWORD, response.code,
                                   response.reason)
            if not password:
                return ProbeResult(ProbeOutcome.NO_PASSWORD, response.code, response.reason)
            header = "www-authenticate" if response.code == 401 else "proxy-authenticate"
            challenge = response.first(header)
            nc += 1
            name = "Authorization" if response.code == 401 else "Proxy-Authorization"
            value = _digest(challenge, method="REGISTER", uri=uri,
                            user=sip.auth_username or sip.username, password=password,
                            nc=nc)
            authorization = f"{name}: {value}"
            continue
        if response.code == 403 and authorization:
            return ProbeResult(ProbeOutcome.WRONG_PASSWORD, response.code, response.reason)
        if response.code == 404:
            return ProbeResult(ProbeOutcome.UNKNOWN_USER, response.code, response.reason)
        return ProbeResult(ProbeOutcome.REFUSED, response.code, response.reason)
    return ProbeResult(ProbeOutcome.WRONG_PASSWORD, 401, "challenged again")


__all__ = ["probe_registration"]
