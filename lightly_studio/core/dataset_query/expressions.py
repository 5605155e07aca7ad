"""Moved to ``lightly_studio.query.expressions``; re-exported for the reference import path."""

from lightly_studio.query.expressions import (
    AND,
    NOT,
    OR,
    Comparison,
    FrameCondition,
    MatchExpression,
    RawCondition,
    SqlContext,
    check_value,
)

__all__ = [
    "AND",
    "NOT",
    "OR",
    "Comparison",
    "FrameCondition",
    "MatchExpression",
    "RawCondition",
    "SqlContext",
    "check_value",
]
