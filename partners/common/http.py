"""One JSON call to a partner, its failures turned into our exceptions (never a status code
for services). Partner clients call it; nothing else does."""

import logging

import requests

from .exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable

logger = logging.getLogger("partners.http")


def json_call(partner, method, url, *, timeout, headers=None, json=None, params=None):
    """``(status, body)`` of a 2xx answer; raises ``PartnerUnavailable`` (transport, 5xx),
    ``PartnerUnauthorized`` (401) or ``PartnerRejected(code, detail)`` (other 4xx)."""
    try:
        response = requests.request(method, url, json=json, params=params, timeout=timeout,
                                    headers={"Accept": "application/json", **(headers or {})})
    except requests.RequestException as error:
        logger.warning("%s %s %s failed: %s", partner, method, url, type(error).__name__)
        raise PartnerUnavailable(type(error).__name__) from None
    if response.status_code >= 500:
        logger.warning("%s %s %s answered %s", partner, method, url, response.status_code)
        raise PartnerUnavailable(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {"results": body}
    if response.status_code == 401:
        raise PartnerUnauthorized(body.get("detail", ""))
    if response.status_code >= 400:
        raise PartnerRejected(body.get("error", f"http_{response.status_code}"),
                              body.get("detail", ""), status=response.status_code)
    return response.status_code, body
