"""Helpers shared by the test suites (real broker, real processes, unique names)."""
