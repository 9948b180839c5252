"""gunicorn's configuration for MEG (read from the working directory, or with ``-c``).

gunicorn writes ``Server: gunicorn`` into every response itself, before the application's
headers, and has no setting to leave it out: the server's name and version only help an
attacker pick an exploit, so its default headers are filtered here.
"""

from gunicorn.http import wsgi


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self)
                if not line.lower().startswith("server:")]

    return headers


wsgi.Response.default_headers = _without_server_header(wsgi.Response.default_headers)
