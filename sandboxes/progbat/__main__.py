"""``python -m sandboxes.progbat --port 8100``: migrate, seed, deliver webhooks, serve
(``sandboxes.common.runner``); the webhook delivery thread runs beside the server."""

from sandboxes.common.runner import serve


def prepare():
    from .seed import seed
    from .webhooks import DeliveryWorker

    seed()
    DeliveryWorker().start()


if __name__ == "__main__":
    serve("sandboxes.progbat", title="ProGBat", default_port=8100, prepare=prepare)
