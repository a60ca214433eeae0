"""Shared set-up for the exchangelib scripts the EWS tests run with /usr/bin/python3.

Settings come from the environment (the bun test that starts the server sets them):

  EWS_URL       https://127.0.0.1:PORT/EWS/Exchange.asmx (the endpoint, for make_account())
  EWS_USER      the account's address (also its login)
  EWS_PASS      its password (or an app password)
  PB_EWS_HOST / PB_EWS_PORT  the same endpoint as host and port (EWS_URL is built from them
                when it is not set)
  EWS_HOST_MAP  optional, comma-separated "host:port=127.0.0.1:PORT" pairs: requests to
                https://host[:port]/... go to 127.0.0.1:PORT instead, with the original Host
                header, so exchangelib's own autodiscover code (which only ever asks
                https://<domain>/Autodiscover/Autodiscover.xml and
                https://autodiscover.<domain>/... on port 443) reaches the test server.
                Mapped host names also pass exchangelib's DNS check (an A lookup it makes
                before each autodiscover step); every other name is looked up as usual.
                "*:443=..." maps every host name on that port (autodiscover=True sets it
                from PB_EWS_PORT when EWS_HOST_MAP is not given).

The test server's certificate is self-signed: BaseProtocol.HTTP_ADAPTER_CLS is set to an
adapter that does not verify it (exchangelib's NoVerifyHTTPAdapter, plus the host mapping).
"""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

from exchangelib import BASIC, DELEGATE, Account, Configuration, Credentials
from exchangelib.autodiscover.discovery.base import BaseAutodiscovery
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter

PB_EWS_HOST = os.environ.get("PB_EWS_HOST", "127.0.0.1")
PB_EWS_PORT = os.environ.get("PB_EWS_PORT", "")
EWS_URL = os.environ.get("EWS_URL", "") or (f"https://{PB_EWS_HOST}:{PB_EWS_PORT}/EWS/Exchange.asmx" if PB_EWS_PORT else "")
EWS_USER = os.environ.get("EWS_USER", "")
EWS_PASS = os.environ.get("EWS_PASS", "")


def _parse_host_map(spec):
    """'a.test:443=127.0.0.1:1234,b.test:80=127.0.0.1:1235' -> {('a.test', 443): '127.0.0.1:1234', ...}"""
    out = {}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        src, _, dst = pair.partition("=")
        host, _, port = src.rpartition(":")
        if not host or not port.isdigit() or not dst:
            raise ValueError(f"EWS_HOST_MAP entry {pair!r} is not host:port=ip:port")
        out[(host.lower(), int(port))] = dst
    return out


HOST_MAP = _parse_host_map(os.environ.get("EWS_HOST_MAP", ""))


def _mapped(url):
    """The URL rewritten to its mapped address and the Host header to send, or (url, None)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    dst = HOST_MAP.get((host, port)) or HOST_MAP.get(("*", port))
    if dst is None:
        return url, None
    default_port = 443 if parts.scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    return urlunsplit((parts.scheme, dst, parts.path, parts.query, parts.fragment)), host_header


class MappingNoVerifyAdapter(NoVerifyHTTPAdapter):
    """NoVerifyHTTPAdapter that sends requests for mapped host names to the test server."""

    def send(self, request, *args, **kwargs):
        url, host_header = _mapped(request.url)
        if host_header is not None:
            request.url = url
            request.headers["Host"] = host_header
        return super().send(request, *args, **kwargs)


BaseProtocol.HTTP_ADAPTER_CLS = MappingNoVerifyAdapter

_original_ensure_valid_hostname = BaseAutodiscovery._ensure_valid_hostname


def _ensure_valid_hostname(self, url):
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(h == host or h == "*" for (h, _p) in HOST_MAP):
        return  # a mapped name "resolves" to the test server
    _original_ensure_valid_hostname(self, url)


BaseAutodiscovery._ensure_valid_hostname = _ensure_valid_hostname


def credentials(user=None, password=None):
    return Credentials(username=user or EWS_USER, password=password or EWS_PASS)


def make_config(user=None, password=None, url=None):
    return Configuration(service_endpoint=url or EWS_URL, credentials=credentials(user, password), auth_type=BASIC)


def _version(api_version):
    """A fixed Version (Exchange 2016's build) so exchangelib skips its ConvertId version guess."""
    from exchangelib.version import Build, Version

    return Version(build=Build(15, 1, 2507, 6), api_version=api_version)


def config(email=None, password=None, *, version=None, url=None):
    """Configuration for the test endpoint; version=None lets exchangelib guess it (with ConvertId)."""
    return Configuration(
        service_endpoint=url or EWS_URL,
        credentials=credentials(email, password),
        auth_type=BASIC,
        version=_version(version) if version else None,
    )


def account(email=None, password=None, *, version=None, autodiscover=False):
    """An Account of the test server: on EWS_URL, or (autodiscover=True) found by exchangelib's own POX autodiscover."""
    if autodiscover:
        if not HOST_MAP and PB_EWS_PORT:
            HOST_MAP[("*", 443)] = f"{PB_EWS_HOST}:{PB_EWS_PORT}"
        return autodiscover_account(email, password)
    return Account(
        primary_smtp_address=email or EWS_USER,
        config=config(email, password, version=version),
        autodiscover=False,
        access_type=DELEGATE,
    )


def make_account(user=None, password=None, url=None):
    """An Account on the test server's endpoint, without autodiscover (the version is guessed with ConvertId)."""
    return Account(
        primary_smtp_address=user or EWS_USER,
        config=make_config(user, password, url),
        autodiscover=False,
        access_type=DELEGATE,
    )


def autodiscover_account(user=None, password=None):
    """An Account found through exchangelib's own POX autodiscover (needs EWS_HOST_MAP for the domain)."""
    return Account(
        primary_smtp_address=user or EWS_USER,
        credentials=credentials(user, password),
        autodiscover=True,
        access_type=DELEGATE,
    )


def check(cond, what):
    """Fails the script with a readable line (the bun test prints stderr)."""
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")
