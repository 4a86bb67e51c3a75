"""One piece of damage (or a warning) found by a check of the ledger or of its published copies."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["VerifyFinding"]


@dataclass(frozen=True, slots=True)
class VerifyFinding:
    code: str
    message: str
    file: str
    offset: int | None = None
    seq: int | None = None
    severity: str = "error"  # "error" (damage) or "warning" (e.g. an uncommitted torn tail)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
