"""``python -m sandboxes.<name> --port N``: migrate, prepare (seed…), serve.

One process: a threaded WSGI server on loopback, on the sandbox's own SQLite database. No
autoreload, so the process started is the one serving. Once it listens it prints
"<Name> sandbox ready on http://127.0.0.1:<port>": tests, benchmarks and self-checks wait for
that line (``devtools.procs.start_sandbox``), so its form stays.
"""

import argparse
import os
import sys


def serve(package, *, title, default_port, prepare):
    """Run the sandbox ``package``; ``prepare()`` runs once Django is set up and migrated."""
    parser = argparse.ArgumentParser(prog=f"python -m {package}",
                                     description=f"Bac à sable {title} pour MEG.")
    parser.add_argument("--port", type=int, default=default_port,
                        help="port on 127.0.0.1 (0: any free port)")
    port = parser.parse_args().port

    # Forced, not defaulted: MEG's own DJANGO_SETTINGS_MODULE may be in the environment.
    os.environ["DJANGO_SETTINGS_MODULE"] = f"{package}.settings"
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    settings.DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    prepare()

    def announce(bound_port):
        print(f"{title} sandbox ready on http://127.0.0.1:{bound_port}", flush=True)

    try:
        run("127.0.0.1", port, get_wsgi_application(), threading=True, on_bind=announce)
    except KeyboardInterrupt:
        sys.exit(0)
