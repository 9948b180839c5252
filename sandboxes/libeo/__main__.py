"""``python -m sandboxes.libeo --port 8200``: migrate, seed, serve (``sandboxes.common.runner``)."""

from sandboxes.common.runner import serve


def prepare():
    from .seed import seed

    seed()


if __name__ == "__main__":
    serve("sandboxes.libeo", title="Libeo", default_port=8200, prepare=prepare)
