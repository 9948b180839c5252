"""``python -m sandboxes.libeo --port 8200``: migrate, seed, serve.

One process: a threaded WSGI server on loopback, on its own SQLite database. No autoreload,
so the process started is the one serving.
"""

import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(prog="python -m sandboxes.libeo",
                                     description="Bac à sable Libeo pour MEG.")
    parser.add_argument("--port", type=int, default=8200,
                        help="port on 127.0.0.1 (0: any free port)")
    port = parser.parse_args().port

    # Forced, not defaulted: MEG's own DJANGO_SETTINGS_MODULE may be in the environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandboxes.libeo.settings"
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    from .seed import seed

    settings.DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    seed()

    def announce(bound_port):
        print(f"Libeo sandbox ready on http://127.0.0.1:{bound_port}", flush=True)

    try:
        run("127.0.0.1", port, get_wsgi_application(), threading=True, on_bind=announce)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
