"""What the two sandboxes share: settings skeleton, runner, error answers, pages, self-check.

Each sandbox (``sandboxes.progbat``, ``sandboxes.libeo``) keeps only what is its own: its
models, contract, pages and checks. Nothing here knows either partner.
"""
