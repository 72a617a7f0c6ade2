"""Shared checks of the deployment files (compose, Kubernetes, Dockerfile) against the settings model."""

from __future__ import annotations

import re
from collections.abc import Mapping

from streams.infra.settings import Settings, load_settings

SETTINGS_ENV = {f"WIREWATCH_{name.upper()}" for name in Settings.model_fields}
PINNED_IMAGE = re.compile(r"^[\w./-]+:(?!latest$)[\w][\w.-]*$")
"""``name:tag`` with a tag that is not ``latest`` (a digest would also do; none is used here)."""


def check_settings_env(env: Mapping[str, object], where: str) -> Settings:
    """Every ``WIREWATCH_*`` name is a setting, and the values pass the settings model's own validation."""
    names = {name for name in env if name.startswith("WIREWATCH_")}
    assert names <= SETTINGS_ENV, f"{where}: unknown settings {sorted(names - SETTINGS_ENV)}"
    values = {name.removeprefix("WIREWATCH_").lower(): str(env[name]) for name in names}
    values = {name: value for name, value in values.items() if "$" not in value}  # ${VAR} and $(VAR) references
    return load_settings(**values)


def check_pinned(image: str, where: str) -> None:
    assert PINNED_IMAGE.match(image), f"{where}: image {image!r} is not pinned to a tag"
