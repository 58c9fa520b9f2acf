"""Clients of kleur: the Python async client (tests, load tests) and the browser pages."""
