"""The shipped registries: ``data/*.yaml`` (actors, outlets, topics), loaded by ``streams.core.registry``."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
