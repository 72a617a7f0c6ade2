"""Desk delivery: the authenticated HTTP API, the live alert stream and signed webhooks, on the worker
(``install.install_desk_api``). Importing the package costs nothing: ``wirewatch desk`` and ``schemas`` use
its records without paying for Faust."""
