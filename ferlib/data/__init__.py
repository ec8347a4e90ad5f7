"""Clip index, data-set adapters, clip store, samplers, transforms and protocols."""

from ferlib.data.index import ClipIndex, safe_clip_id
from ferlib.data.labels import BASIC7, NEUTRAL, canonical_class
from ferlib.data.store import ClipRecord, ClipStore, StoreError

__all__ = ["BASIC7", "NEUTRAL", "ClipIndex", "ClipRecord", "ClipStore", "StoreError", "canonical_class", "safe_clip_id"]
