"""ProGBat sandbox: the invoicing partner of DESIGN §4–§5, run with ``python -m sandboxes.progbat``.

A separate Django project (own settings, database and port) that speaks exactly the contract
MEG's client expects; it never imports MEG and MEG never imports it.
"""
