"""Libeo's JSON API (DESIGN §6): Bearer API keys of company accounts, French error details."""
