"""What partner clients raise: services never see an HTTP status code.

``status_code`` (the partner's HTTP answer, None when none came) is kept for the outbox's
record of each attempt, not for services to branch on."""


class PartnerError(Exception):
    """Base class of every partner failure."""

    def __init__(self, *args, status_code=None):
        super().__init__(*args)
        self.status_code = status_code


class PartnerUnavailable(PartnerError):
    """The partner could not be reached, timed out or answered 5xx: retry later."""


class PartnerUnauthorized(PartnerError):
    """The partner refused our credentials (401): the connection must be renewed."""


class PartnerRejected(PartnerError):
    """The partner understood and refused the request (4xx with an error code)."""

    def __init__(self, code, detail="", status=None):
        super().__init__(f"{code}: {detail}", status_code=status)
        self.code = code
        self.detail = detail
        self.status = status
