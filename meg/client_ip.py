"""The client's address, read through the reverse proxies MEG is told to trust.

``REMOTE_ADDR`` is the proxy's address in production; the proxy's header is believed only when
the request comes from a trusted proxy, so that a client cannot choose its own address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies):
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text):
    """An IP address from a header hop (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``), or None."""
    text = text.strip()
    for candidate in (text, text.rsplit(":", 1)[0].strip("[]") if ":" in text else ""):
        try:
            return ipaddress.ip_address(candidate)
        except ValueError:
            continue
    return None


def is_trusted_proxy(address):
    networks = _networks(tuple(settings.MEG_TRUSTED_PROXIES))
    return address is not None and any(address in network for network in networks)


def client_ip(request):
    """The nearest address, from the right of the header, that is not a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.MEG_TRUSTED_PROXY_HEADER
    if not header or not is_trusted_proxy(_address(remote)):
        return remote
    client = remote
    for hop in reversed(request.headers.get(header, "").split(",")):
        address = _address(hop)
        if address is None:  # garbage a proxy passed on: stop at the last hop we trust
            break
        client = str(address)
        if not is_trusted_proxy(address):
            break
    return client
