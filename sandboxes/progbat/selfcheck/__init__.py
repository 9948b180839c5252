"""End-to-end check of the ProGBat sandbox: ``python -m sandboxes.progbat.selfcheck``.

Starts the sandbox on a free port with a temporary database and the test controls on, then
plays MEG's side of DESIGN §5 over HTTP (requests + authlib, a local webhook receiver). Prints
one line per check and exits non-zero at the first failure, with the sandbox's log.
"""
