"""Operator plugins: Python actions the GUI lists in its plugins menu and runs with a form.

Write one by subclassing ``BaseOperator`` (``base_operator``), declare its inputs with the
parameter types of ``parameter``, and register it with
``operator_registry.register(MyOperator())`` (``operator_registry``). Installed packages can
also declare an entry point in the group ``lightly_studio.plugins``.

While running, an operator can reach the dataset, the scope the person had in view (selection
or filter), progress reporting and cancellation through its ``OperatorContext``
(``session.context``; see ``context``).
"""

from __future__ import annotations

from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.context import (
    OperatorCancelledError,
    OperatorContext,
    OperatorScope,
    Session,
)
from lightly_studio.plugins.operator_registry import operator_registry
from lightly_studio.plugins.parameter import (
    BaseParameter,
    BoolParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    LabelParameter,
    ParameterValidationError,
    StringParameter,
    TagParameter,
)

__all__ = [
    "BaseOperator",
    "BaseParameter",
    "BoolParameter",
    "EnumParameter",
    "FloatParameter",
    "IntParameter",
    "LabelParameter",
    "OperatorCancelledError",
    "OperatorContext",
    "OperatorResult",
    "OperatorScope",
    "ParameterValidationError",
    "Session",
    "StringParameter",
    "TagParameter",
    "operator_registry",
]
