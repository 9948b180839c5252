"""One JSON call to a partner, its failures turned into our exceptions (never a status code
for services). Partner clients call it; nothing else does."""

import datetime
import email.utils
import logging
from contextlib import contextmanager
from contextvars import ContextVar

import requests

from .exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable

logger = logging.getLogger("partners.http")


class StatusRecorder:
    """The HTTP status of the last partner answer seen in a block (None: no answer came)."""

    last = None


_recorder = ContextVar("partner_status_recorder", default=None)


@contextmanager
def recording_status():
    """The outbox records the status code of each attempt without handlers passing it up."""
    recorder = StatusRecorder()
    token = _recorder.set(recorder)
    try:
        yield recorder
    finally:
        _recorder.reset(token)


def _seen(status):
    recorder = _recorder.get()
    if recorder is not None:
        recorder.last = status


def retry_after_seconds(value, *, now=None):
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date), or None
    when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    now = now or datetime.datetime.now(datetime.UTC)
    return max(0.0, (when - now).total_seconds())


def json_call(partner, method, url, *, timeout, headers=None, json=None, params=None):
    """``(status, body)`` of a 2xx answer; raises ``PartnerUnavailable`` (transport, 5xx, 429
    "too many requests", with the partner's ``Retry-After``), ``PartnerUnauthorized`` (401) or
    ``PartnerRejected(code, detail)`` (other 4xx)."""
    try:
        response = requests.request(method, url, json=json, params=params, timeout=timeout,
                                    headers={"Accept": "application/json", **(headers or {})})
    except requests.RequestException as error:
        _seen(None)
        logger.warning("%s %s %s failed: %s", partner, method, url, type(error).__name__)
        raise PartnerUnavailable(type(error).__name__) from None
    status = response.status_code
    _seen(status)
    if status >= 500 or status == 429:
        logger.warning("%s %s %s answered %s", partner, method, url, status)
        raise PartnerUnavailable(f"HTTP {status}", status_code=status, retry_after=(
            retry_after_seconds(response.headers.get("Retry-After"))))
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {"results": body}
    if status == 401:
        raise PartnerUnauthorized(body.get("detail", ""), status_code=status)
    if status >= 400:
        raise PartnerRejected(body.get("error", f"http_{status}"), body.get("detail", ""),
                              status=status)
    return status, body
