"""The model registry: versions, the champion alias, promote, rollback, hash-checked loads."""

from __future__ import annotations

from loopml.registry._registry import (
    CHALLENGER,
    CHAMPION,
    UNREAD,
    ModelSummary,
    Registry,
    default_actor,
    previous_champion,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "UNREAD",
    "ModelSummary",
    "Registry",
    "default_actor",
    "previous_champion",
]
