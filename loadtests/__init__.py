"""Load tests for kleur: phones and dashboards over real websockets, measured.

``python -m loadtests.run --scenario NAME`` starts a private redis-server,
the kleur server process(es) and a bare websocket echo server (the ceiling),
drives them with the load generator and writes a JSON report, a Markdown
summary and a PNG plot per scenario.  ``docs/benchmarks.md`` says how to run
it and holds the latest figures, written by ``--write-docs``.
"""
