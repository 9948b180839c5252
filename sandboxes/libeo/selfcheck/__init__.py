"""End-to-end check of the Libeo sandbox: ``python -m sandboxes.libeo.selfcheck``.

Starts the sandbox on a free port with a temporary database and the test controls on, with a
small fake MEG OpenID provider beside it, then plays MEG's side of DESIGN §6 over HTTP. Prints
one line per check and exits non-zero at the first failure, with the sandbox's log.
"""
