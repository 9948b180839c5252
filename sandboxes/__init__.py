"""Runnable stand-ins for MEG's partner systems; each runs as its own process (DESIGN §2)."""
