"""The outcome of verifying a stored artifact body against its manifest (1.0's enum), apart
from the artifact store so that the store's maintenance sweeps can name it too."""

from __future__ import annotations

from enum import Enum

__all__ = ["VerificationStatus"]


class VerificationStatus(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    VERIFIED = "verified"
    MISSING = "missing"
    SIZE_MISMATCH = "size_mismatch"
    HASH_MISMATCH = "hash_mismatch"
