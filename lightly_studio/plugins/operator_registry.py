"""The operators the GUI lists: ``operator_registry.register(MyOperator())``.

Operators come from three places:

- ``operator_registry.register(op)`` in the script or notebook that starts the GUI;
- installed packages declaring an entry point in the group ``lightly_studio.plugins``
  (pointing at an operator instance, a ``BaseOperator`` subclass, or a function returning
  one or a list), loaded by ``load_entry_points()`` when the app or a view starts;
- the built-in operators of ``lightly_studio.plugins.builtin`` (typicality, similarity to a
  tag, diverse selection, near-duplicates, export), added on first use.

Names are the operators' ids: registering an operator with a name that exists replaces the
old one, so re-running a notebook cell does not list an operator twice.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Iterable
from typing import Any

from lightly_studio.errors import LightlyStudioError
from lightly_studio.plugins.base_operator import BaseOperator
from lightly_studio.plugins.parameter import BaseParameter

__all__ = ["ENTRY_POINT_GROUP", "OperatorNotFoundError", "OperatorRegistry", "operator_registry"]

ENTRY_POINT_GROUP = "lightly_studio.plugins"

logger = logging.getLogger(__name__)


class OperatorNotFoundError(LightlyStudioError, KeyError):
    """No operator of that name is registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class OperatorRegistry:
    """Name → operator, safe to use from the GUI server's threads."""

    def __init__(self, *, builtins: bool = True) -> None:
        self._operators: dict[str, BaseOperator] = {}
        self._lock = threading.RLock()
        self._want_builtins = builtins
        self._builtins_loaded = False
        self._entry_points_loaded = False
        self.entry_point_errors: list[str] = []

    def register(self, operator: BaseOperator | type[BaseOperator]) -> BaseOperator:
        """Make ``operator`` available to the GUI (a class is instantiated without arguments).

        Raises ``TypeError`` / ``ValueError`` when it is not a usable operator, so mistakes
        show up where the plugin is registered rather than when someone runs it.
        """
        if isinstance(operator, type) and issubclass(operator, BaseOperator):
            operator = operator()
        _check_operator(operator)
        with self._lock:
            if operator.name in self._operators and self._operators[operator.name] is not operator:
                logger.info(
                    "Operator %r registered again: the new one replaces the old one.", operator.name
                )
            self._operators[operator.name] = operator
        return operator

    def unregister(self, name: str) -> None:
        """Remove the operator ``name`` (no error if it is not registered)."""
        with self._lock:
            self._operators.pop(name, None)

    def list(self) -> list[BaseOperator]:
        """Every registered operator: built-ins first, then the others in registration order."""
        self._ensure_builtins()
        with self._lock:
            return list(self._operators.values())

    def names(self) -> builtins.list[str]:  # in the class, `list` is the method
        return [op.name for op in self.list()]

    def get(self, name: str) -> BaseOperator:
        """The operator registered as ``name``; ``OperatorNotFoundError`` if there is none."""
        self._ensure_builtins()
        with self._lock:
            found = self._operators.get(name)
            known = list(self._operators)
        if found is None:
            raise OperatorNotFoundError(
                f"No operator named {name!r} is registered (registered: "
                f"{', '.join(repr(n) for n in known) or 'none'}). Register it with "
                "operator_registry.register(...) before starting the GUI."
            )
        return found

    def __contains__(self, name: object) -> bool:
        self._ensure_builtins()
        with self._lock:
            return name in self._operators

    def clear(self) -> None:
        """Forget every operator, built-ins included (they come back on the next use)."""
        with self._lock:
            self._operators.clear()
            self._builtins_loaded = False

    def load_entry_points(self, *, force: bool = False) -> builtins.list[str]:
        """Register the operators of installed packages (group ``lightly_studio.plugins``).

        Runs once per process unless ``force``. A plugin that fails to load is logged and
        listed in ``entry_point_errors``; it never stops the GUI from starting. Returns the
        names registered by this call.
        """
        with self._lock:
            if self._entry_points_loaded and not force:
                return []
            self._entry_points_loaded = True
        from importlib.metadata import entry_points

        registered: list[str] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                for op in _operators_from(ep.load()):
                    registered.append(self.register(op).name)
            except Exception as exc:  # a broken plugin must not break the app
                text = f"Plugin entry point {ep.name!r} ({ep.value}) failed to load: {exc!r}"
                logger.warning(text, exc_info=True)
                self.entry_point_errors.append(text)
        return registered

    def _ensure_builtins(self) -> None:
        if not self._want_builtins or self._builtins_loaded:
            return
        with self._lock:
            if self._builtins_loaded:
                return
            self._builtins_loaded = True
            # lazy: cycle, builtin imports api, whose operators module imports this registry
            from lightly_studio.plugins.builtin import builtin_operators

            user = dict(self._operators)
            self._operators.clear()
            for op in builtin_operators():
                self._operators[op.name] = op
            # A user operator with a built-in's name wins; keep user order after built-ins.
            self._operators.update(user)


def _operators_from(obj: Any) -> list[BaseOperator]:
    """Entry point target → operators: an instance, a class, or a factory of either/a list."""
    if isinstance(obj, BaseOperator):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, BaseOperator):
        return [obj()]
    if callable(obj):
        made = obj()
        if isinstance(made, Iterable) and not isinstance(made, (str, bytes, BaseOperator)):
            return [o for item in made for o in _operators_from(item)]
        return _operators_from(made)
    raise TypeError(f"expected a BaseOperator, a subclass or a factory, got {type(obj).__name__}")


def _check_operator(operator: Any) -> None:
    if not isinstance(operator, BaseOperator):
        raise TypeError(
            f"operator_registry.register expects a BaseOperator instance, got "
            f"{type(operator).__name__}"
        )
    name = getattr(operator, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"{type(operator).__name__}: set a non-empty `name`; the GUI lists operators by name"
        )
    params = list(operator.parameters)
    seen: set[str] = set()
    for p in params:
        if not isinstance(p, BaseParameter):
            raise TypeError(
                f"operator {name!r}: parameters must be Parameter objects "
                f"(StringParameter, FloatParameter, …), got {type(p).__name__}"
            )
        if p.name in seen:
            raise ValueError(f"operator {name!r}: two parameters are named {p.name!r}")
        seen.add(p.name)


# The process-wide registry the GUI reads.
operator_registry = OperatorRegistry()
