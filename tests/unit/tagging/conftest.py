"""Shared tagging fixtures (``tests/support/tagging.py``)."""

from tests.support.tagging import test_registries, test_tagger

__all__ = ["test_registries", "test_tagger"]
