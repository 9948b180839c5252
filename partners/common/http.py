"""One JSON call to a partner, its failures turned into our exceptions (never a status code
for services). Partner clients call it; nothing else does."""

import datetime
import email.utils
import logging
import tempfile
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


class Download:
    """A file a partner answered with: its ``content_type``, and ``file`` (a seekable binary
    temporary file, at its start) — or ``too_large`` when it went beyond the limit (nothing
    kept beyond it)."""

    def __init__(self, content_type, file, too_large):
        self.content_type, self.file, self.too_large = content_type, file, too_large


def file_call(partner, method, url, *, timeout, max_bytes, headers=None):
    """A file (not JSON) answered by a partner, read in blocks into a temporary file and at
    most ``max_bytes`` + 1 of it; failures as ``json_call``'s."""
    try:
        response = requests.request(method, url, timeout=timeout, stream=True,
                                    headers={"Accept": "application/pdf, application/json;q=0.5",
                                             **(headers or {})})
    except requests.RequestException as error:
        _seen(None)
        logger.warning("%s %s %s failed: %s", partner, method, url, type(error).__name__)
        raise PartnerUnavailable(type(error).__name__) from None
    with response:
        status = response.status_code
        _seen(status)
        if status >= 500 or status == 429:
            logger.warning("%s %s %s answered %s", partner, method, url, status)
            raise PartnerUnavailable(f"HTTP {status}", status_code=status, retry_after=(
                retry_after_seconds(response.headers.get("Retry-After"))))
        if status >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            if status == 401:
                raise PartnerUnauthorized(body.get("detail", ""), status_code=status)
            raise PartnerRejected(body.get("error", f"http_{status}"), body.get("detail", ""),
                                  status=status)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            return Download(content_type, None, too_large=True)
        # Handed to the caller, who closes it.
        file, size = tempfile.SpooledTemporaryFile(max_size=1 << 20), 0  # noqa: SIM115
        try:
            for block in response.iter_content(1 << 16):
                size += len(block)
                if size > max_bytes:
                    file.close()
                    return Download(content_type, None, too_large=True)
                file.write(block)
        except requests.RequestException as error:
            file.close()
            raise PartnerUnavailable(type(error).__name__) from None
        file.seek(0)
        return Download(content_type, file, too_large=False)
