"""``python -m sandboxes.progbat --port 8100``: migrate, seed, deliver webhooks, serve.

One process: a threaded WSGI server on loopback plus the webhook delivery thread, on its own
SQLite database. No autoreload, so the process started is the one serving.
"""

import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(prog="python -m sandboxes.progbat",
                                     description="Bac à sable ProGBat pour MEG.")
    parser.add_argument("--port", type=int, default=8100,
                        help="port on 127.0.0.1 (0: any free port)")
    port = parser.parse_args().port

    # Forced, not defaulted: MEG's own DJANGO_SETTINGS_MODULE may be in the environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandboxes.progbat.settings"
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    from .seed import seed
    from .webhooks import DeliveryWorker

    settings.DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    seed()
    DeliveryWorker().start()

    def announce(bound_port):
        print(f"ProGBat sandbox ready on http://127.0.0.1:{bound_port}", flush=True)

    try:
        run("127.0.0.1", port, get_wsgi_application(), threading=True, on_bind=announce)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
