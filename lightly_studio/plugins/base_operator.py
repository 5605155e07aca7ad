"""The operator plugin interface: subclass ``BaseOperator``, return an ``OperatorResult``.

An operator is a Python action the GUI can run from its plugins menu::

    @dataclass
    class GreetingOperator(BaseOperator):
        name: str = "GreetingOperator"
        description: str = "This operator greets you"

        @property
        def parameters(self):
            return [StringParameter(name="name", default="you")]

        def execute(self, *, session, collection_id, parameters):
            return OperatorResult(success=True, message=f"Hello {parameters['name']}!")

``execute`` is called with keyword arguments only:

- ``session``: a ``lightly_studio.plugins.context.Session``. Pass it on to the functions of
  ``lightly_studio.resolvers``; ``session.dataset`` is the dataset and ``session.context`` the
  ``OperatorContext`` (scope, progress, cancellation).
- ``collection_id``: the id (``uuid.UUID``) of the dataset the GUI shows.
- ``parameters``: a dict ``{parameter name: value}``, already checked and converted against
  ``self.parameters`` (defaults filled in), so ``execute`` never sees a wrong type.
- ``context``: only when ``execute`` declares a ``context`` argument (or ``**kwargs``): the same
  ``OperatorContext`` as ``session.context``.

Raising an exception is fine: the run is marked failed, the error is logged with its
traceback, and the GUI shows a one-line message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lightly_studio.plugins.parameter import BaseParameter, parameters_schema

if TYPE_CHECKING:
    import uuid

    from lightly_studio.plugins.context import OperatorContext, Session

__all__ = ["BaseOperator", "OperatorResult"]


@dataclass
class OperatorResult:
    """What an operator reports back: shown to the person who ran it.

    ``data_changed``: whether samples, tags, metadata or annotations changed, so the GUI knows
    to refresh. ``None`` (the default) means "maybe" and refreshes after a success.
    """

    success: bool
    message: str = ""
    data_changed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "success": bool(self.success),
            "message": str(self.message),
            "data_changed": self.data_changed,
        }


class BaseOperator(ABC):
    """Base class of every operator. Subclasses set ``name`` and ``description``, may
    override ``parameters``, and implement ``execute``.

    ``atomic`` (default True): the run happens in one database transaction, so an operator
    that fails, raises, returns ``success=False`` or is cancelled leaves no half-written data.
    Set it to False for operators whose work spans threads (e.g. embedding computation), which
    then keep what they stored before stopping.
    """

    name: str = ""
    description: str = ""
    atomic = True  # not annotated: stays a class attribute even in @dataclass subclasses

    @property
    def parameters(self) -> list[BaseParameter]:
        """The inputs shown in the GUI form; ``execute`` receives their values by name."""
        return []

    @abstractmethod
    def execute(
        self,
        *,
        session: Session,
        collection_id: uuid.UUID,
        parameters: dict[str, Any],
    ) -> OperatorResult:
        """Run the action on the dataset ``collection_id`` with validated ``parameters``."""

    def to_json(self, context: OperatorContext | None = None) -> dict[str, Any]:
        """Name, description and the parameter form (choices of tag/label pickers filled from
        ``context``'s dataset when given)."""
        params = list(self.parameters)
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [p.to_json(context) for p in params],
            "schema": parameters_schema(params, context),
        }
