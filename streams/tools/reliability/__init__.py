"""Reliability scenarios: crash, restart and load tests against the real broker, with figures (issue 8).

Each module is one scenario — ``storm`` (kill -9 workers), ``scale`` (1 → 2 → 1 workers), ``broker`` (broker
stopped and restarted), ``connector`` (kill -9 the connector), ``soak`` (lag, memory and errors over time),
``hostile`` (malformed records on every topic) — with a spec (full size by default, ``short()`` for ``make
test``), a runner and figures that know whether they pass. ``oracle`` computes the alerts a corpus must
produce from the pure core alone; ``harness``, ``processes``, ``traffic`` and ``feeds`` are what the scenarios
share. ``cli`` adds ``wirewatch bench <scenario>``; ``tests/reliability`` runs the short versions.
"""
