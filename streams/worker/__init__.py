"""Layer 2, the stream worker: the Faust app as composition root (``app.create_app``), the offset guard and
group membership it installs, and its metrics.

Imports ``streams.core`` and ``streams.infra``; ``app`` also installs ``streams.api`` (decision 0701).
"""
