"""Validation reports returned by the ``validate_<model>`` helpers (contract section 2.12)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from contexta.common.errors import ValidationError

__all__ = ["VALIDATION_SEVERITIES", "ValidationIssue", "ValidationReport"]

VALIDATION_SEVERITIES = ("error", "warning")


class ValidationIssue(msgspec.Struct, frozen=True):
    """One finding: a dotted ``code`` (``metric.unit_missing``), a JSON-path-like ``path``."""

    code: str
    path: str
    message: str
    severity: str = "error"

    def __post_init__(self) -> None:
        for name in ("code", "path", "message"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(
                    f"ValidationIssue.{name} must not be blank, got {value!r}.",
                    code=f"validation_issue_invalid_{name}",
                    details={"field": name, "value": value},
                )
        if self.severity not in VALIDATION_SEVERITIES:
            raise ValidationError(
                f"ValidationIssue.severity must be one of {', '.join(VALIDATION_SEVERITIES)}, "
                f"got {self.severity!r}.",
                code="validation_invalid_severity",
                details={"field": "severity", "value": self.severity},
            )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def with_prefix(self, prefix: str) -> ValidationIssue:
        """The same issue with ``path`` moved under ``prefix`` (``$.x`` -> ``<prefix>.x``)."""
        rest = self.path[1:] if self.path.startswith("$") else f".{self.path}"
        return ValidationIssue(self.code, f"{prefix}{rest}", self.message, self.severity)

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


class ValidationReport(msgspec.Struct, frozen=True):
    """The result of validating one object: ``valid`` is False when any issue is an error."""

    valid: bool
    issues: tuple[ValidationIssue, ...] = ()

    @classmethod
    def ok(cls) -> ValidationReport:
        return cls(True, ())

    @classmethod
    def from_issues(cls, issues: Iterable[ValidationIssue]) -> ValidationReport:
        items = tuple(issues)
        return cls(not any(issue.is_error for issue in items), items)

    @classmethod
    def merge(cls, *reports: ValidationReport) -> ValidationReport:
        return cls.from_issues(issue for report in reports for issue in report.issues)

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)

    @property
    def warnings(self) -> tuple[ValidationIssue, ...]:
        return tuple(issue for issue in self.issues if not issue.is_error)

    def prefixed(self, prefix: str) -> ValidationReport:
        return ValidationReport(self.valid, tuple(i.with_prefix(prefix) for i in self.issues))

    def raise_for_errors(self) -> None:
        """Raise ``ValidationError(code="validation_failed")`` listing the errors, if any."""
        errors = self.errors
        if not errors:
            return
        listed = "; ".join(f"{issue.path}: {issue.message} [{issue.code}]" for issue in errors)
        raise ValidationError(
            f"Validation failed with {len(errors)} error(s): {listed}",
            code="validation_failed",
            details={"issues": [issue.to_dict() for issue in errors]},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "issues": [issue.to_dict() for issue in self.issues]}
