"""The kleur server: HTTP routes, websocket endpoint, Redis store, fan-out.

Glue around the pure core in ``agenda`` and ``protocol``.
"""
