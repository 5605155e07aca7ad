"""Typed operator parameters: what the GUI form shows and what the server accepts.

Each parameter describes one input of an operator: its ``name`` (the key in the ``parameters``
dict that ``execute`` receives), a ``description`` shown under the field, a ``default`` and
whether it is ``required``. Numbers take an optional ``min`` / ``max``.

Values from the GUI are JSON, so they are checked and converted here, on the server, before
``execute`` runs (``validate_parameters``): a wrong value never reaches the operator, and the
person filling the form gets one message listing every wrong field instead of a traceback.

``to_json()`` gives the field description the form is rendered from (a JSON Schema property
plus a ``widget`` hint), so no plugin needs its own JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from lightly_studio.errors import LightlyStudioError

if TYPE_CHECKING:
    from lightly_studio.plugins.context import OperatorContext

__all__ = [
    "BaseParameter",
    "BoolParameter",
    "EnumParameter",
    "FloatParameter",
    "IntParameter",
    "LabelParameter",
    "ParameterValidationError",
    "StringParameter",
    "TagParameter",
    "validate_parameters",
]


class ParameterValidationError(LightlyStudioError, ValueError):
    """Values given to an operator do not match its declared parameters.

    ``errors`` maps each wrong parameter name to what is wrong with it.
    """

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class _Invalid(Exception):
    """One value is wrong; the text says why (collected into ParameterValidationError)."""


_MISSING = object()


@dataclass
class BaseParameter:
    """One input of an operator. Subclasses fix the type and how a JSON value is converted."""

    name: str
    description: str = ""
    default: Any = None
    required: bool = True

    # JSON Schema "type" and the form widget to render; set by each subclass.
    json_type: ClassVar[str] = "string"
    widget: ClassVar[str] = "text"
    type_name: ClassVar[str] = "string"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(
                f"{type(self).__name__}: name must be a non-empty string, got {self.name!r}"
            )
        if self.default is not None:
            # A bad default is a bug in the plugin: say so when it is declared, not when run.
            try:
                self.default = self.convert(self.default)
            except _Invalid as exc:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: default "
                    f"{self.default!r} is invalid: {exc}"
                ) from None

    @property
    def param_type(self) -> str:
        """Short type name used by the GUI (``"string"``, ``"int"``, ``"tag"``, …)."""
        return self.type_name

    def convert(self, value: Any) -> Any:
        """Check one JSON value and return it as the Python type ``execute`` receives."""
        raise NotImplementedError

    def check_in_context(self, value: Any, context: OperatorContext | None) -> None:
        """Checks that need the dataset (does the tag exist?). Raise ``_Invalid`` when wrong."""

    def choices_in_context(self, context: OperatorContext | None) -> list[Any] | None:
        """The values the form may offer, or None for free input."""
        return None

    def to_json(self, context: OperatorContext | None = None) -> dict[str, Any]:
        """This parameter as a JSON Schema property plus GUI hints (``widget``, ``name``)."""
        schema: dict[str, Any] = {
            "name": self.name,
            "type": self.json_type,
            "param_type": self.param_type,
            "widget": self.widget,
            "title": self.name,
            "description": self.description,
            "required": bool(self.required),
        }
        if self.default is not None:
            schema["default"] = self.default
        choices = self.choices_in_context(context)
        if choices is not None:
            schema["enum"] = choices
        schema.update(self._extra_schema())
        return schema

    def _extra_schema(self) -> dict[str, Any]:
        return {}


@dataclass
class StringParameter(BaseParameter):
    """Free text. A required string must not be empty."""

    json_type: ClassVar[str] = "string"
    widget: ClassVar[str] = "text"

    def convert(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # A number typed in a text field arrives as a number from some form libraries.
            return str(value)
        raise _Invalid(f"expected text, got {_describe(value)}")


def _check_range(param: Any, value: float) -> None:
    if param.min is not None and value < param.min:
        raise _Invalid(f"{value} is below the minimum {param.min}")
    if param.max is not None and value > param.max:
        raise _Invalid(f"{value} is above the maximum {param.max}")


@dataclass
class IntParameter(BaseParameter):
    """A whole number, optionally within ``min`` .. ``max`` (both inclusive)."""

    min: int | None = None
    max: int | None = None

    json_type: ClassVar[str] = "integer"
    widget: ClassVar[str] = "number"
    type_name: ClassVar[str] = "int"

    def convert(self, value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"expected a whole number, got {_describe(value)}")
        if isinstance(value, int):
            result = value
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        elif isinstance(value, str) and _is_int_text(value):
            result = int(value.strip())
        else:
            raise _Invalid(f"expected a whole number, got {_describe(value)}")
        _check_range(self, result)
        return result

    def _extra_schema(self) -> dict[str, Any]:
        return _range_schema(self)


@dataclass
class FloatParameter(BaseParameter):
    """A finite number, optionally within ``min`` .. ``max`` (both inclusive)."""

    min: float | None = None
    max: float | None = None

    json_type: ClassVar[str] = "number"
    widget: ClassVar[str] = "number"
    type_name: ClassVar[str] = "float"

    def convert(self, value: Any) -> float:
        if isinstance(value, bool):
            raise _Invalid(f"expected a number, got {_describe(value)}")
        if isinstance(value, (int, float)):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                raise _Invalid(f"expected a number, got {_describe(value)}") from None
        else:
            raise _Invalid(f"expected a number, got {_describe(value)}")
        if not math.isfinite(result):
            raise _Invalid(f"expected a finite number, got {value!r}")
        _check_range(self, result)
        return result

    def _extra_schema(self) -> dict[str, Any]:
        return _range_schema(self)


@dataclass
class BoolParameter(BaseParameter):
    """A yes/no switch. Accepts JSON booleans and the texts "true"/"false"."""

    json_type: ClassVar[str] = "boolean"
    widget: ClassVar[str] = "checkbox"
    type_name: ClassVar[str] = "bool"

    def convert(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _Invalid(f"expected true or false, got {_describe(value)}")


@dataclass
class EnumParameter(BaseParameter):
    """One value out of a fixed list of ``choices``."""

    choices: Sequence[Any] = field(default_factory=list)

    json_type: ClassVar[str] = "string"
    widget: ClassVar[str] = "select"
    type_name: ClassVar[str] = "enum"

    def __post_init__(self) -> None:
        self.choices = list(self.choices)
        if not self.choices:
            raise ValueError(f"EnumParameter {self.name!r}: choices must not be empty")
        super().__post_init__()

    def convert(self, value: Any) -> Any:
        if value in self.choices and not isinstance(value, bool):
            return value
        raise _Invalid(f"{value!r} is not one of {self.choices!r}")

    def choices_in_context(self, context: OperatorContext | None) -> list[Any]:
        return list(self.choices)


@dataclass
class TagParameter(BaseParameter):
    """The name of an existing tag of the dataset (the form shows a picker)."""

    json_type: ClassVar[str] = "string"
    widget: ClassVar[str] = "tag"
    type_name: ClassVar[str] = "tag"

    def convert(self, value: Any) -> str:
        if isinstance(value, str) and value.strip():
            return value
        raise _Invalid(f"expected a tag name, got {_describe(value)}")

    def check_in_context(self, value: Any, context: OperatorContext | None) -> None:
        if context is None:
            return
        names = context.tag_names()
        if value not in names:
            raise _Invalid(f"the dataset has no tag {value!r} (tags: {_short_list(names)})")

    def choices_in_context(self, context: OperatorContext | None) -> list[Any] | None:
        return None if context is None else context.tag_names()


@dataclass
class LabelParameter(BaseParameter):
    """The name of an existing annotation label (class) of the dataset."""

    json_type: ClassVar[str] = "string"
    widget: ClassVar[str] = "label"
    type_name: ClassVar[str] = "label"

    def convert(self, value: Any) -> str:
        if isinstance(value, str) and value.strip():
            return value
        raise _Invalid(f"expected a label name, got {_describe(value)}")

    def check_in_context(self, value: Any, context: OperatorContext | None) -> None:
        if context is None:
            return
        names = context.label_names()
        if value not in names:
            raise _Invalid(f"the dataset has no label {value!r} (labels: {_short_list(names)})")

    def choices_in_context(self, context: OperatorContext | None) -> list[Any] | None:
        return None if context is None else context.label_names()


def validate_parameters(
    parameters: Iterable[BaseParameter],
    values: Mapping[str, Any] | None,
    *,
    context: OperatorContext | None = None,
    operator_name: str = "operator",
) -> dict[str, Any]:
    """Check ``values`` against the declared ``parameters``; return what ``execute`` gets.

    Missing values take the parameter's default; a required parameter without value or
    default, a value of the wrong type or range, an unknown tag/label, or a name the operator
    does not declare raises ``ParameterValidationError`` listing every problem at once.
    """
    values = dict(values or {})
    declared = list(parameters)
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    for param in declared:
        raw = values.pop(param.name, _MISSING)
        blank = isinstance(raw, str) and not raw.strip()
        if blank and isinstance(param, StringParameter):
            # The person cleared the field on purpose: fine for optional text, not for required.
            if param.required:
                errors[param.name] = "a value is required"
            else:
                result[param.name] = raw
            continue
        if raw is _MISSING or raw is None or blank:
            if param.default is not None:
                result[param.name] = param.default
            elif param.required:
                errors[param.name] = "a value is required"
            else:
                result[param.name] = None
            continue
        try:
            converted = param.convert(raw)
            param.check_in_context(converted, context)
        except _Invalid as exc:
            errors[param.name] = str(exc)
            continue
        result[param.name] = converted
    for unknown in values:
        errors[unknown] = (
            f"not a parameter of {operator_name!r} "
            f"(its parameters: {_short_list([p.name for p in declared])})"
        )
    if errors:
        details = "; ".join(f"{name!r}: {why}" for name, why in errors.items())
        raise ParameterValidationError(
            f"Invalid parameters for {operator_name!r}: {details}.", errors
        )
    return result


def parameters_schema(
    parameters: Iterable[BaseParameter], context: OperatorContext | None = None
) -> dict[str, Any]:
    """A JSON Schema ``object`` for a whole form (properties in declaration order)."""
    props = {}
    required = []
    for param in parameters:
        prop = param.to_json(context)
        props[param.name] = prop
        if param.required:
            required.append(param.name)
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _range_schema(param: Any) -> dict[str, Any]:
    out = {}
    if param.min is not None:
        out["minimum"] = param.min
    if param.max is not None:
        out["maximum"] = param.max
    return out


def _is_int_text(text: str) -> bool:
    stripped = text.strip()
    return stripped.lstrip("+-").isdigit()


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _short_list(items: Sequence[Any], limit: int = 10) -> str:
    items = list(items)
    if not items:
        return "none"
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "")
