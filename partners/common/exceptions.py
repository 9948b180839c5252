"""What partner clients raise: services never see an HTTP status code.

``status_code`` (the partner's HTTP answer, None when none came) is kept for the outbox's
record of each attempt, not for services to branch on."""


class PartnerError(Exception):
    """Base class of every partner failure."""

    def __init__(self, *args, status_code=None):
        super().__init__(*args)
        self.status_code = status_code


class PartnerUnavailable(PartnerError):
    """The partner could not be reached, timed out, answered 5xx or 429: retry later.

    ``retry_after`` (seconds, or None) is the partner's own ``Retry-After``: the outbox does
    not call again sooner."""

    def __init__(self, *args, status_code=None, retry_after=None):
        super().__init__(*args, status_code=status_code)
        self.retry_after = retry_after


class PartnerUnauthorized(PartnerError):
    """The partner refused our credentials (401): the connection must be renewed."""


class PartnerRejected(PartnerError):
    """The partner understood and refused the request (4xx with an error code)."""

    def __init__(self, code, detail="", status=None):
        super().__init__(f"{code}: {detail}", status_code=status)
        self.code = code
        self.detail = detail
        self.status = status
