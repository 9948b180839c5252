"""Libeo sandbox: the supplier-payment partner of DESIGN §6, run with ``python -m sandboxes.libeo``.

A separate Django project (own settings, database and port) that speaks exactly the contract
MEG's client expects; it never imports MEG and MEG never imports it.
"""
