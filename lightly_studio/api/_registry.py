"""Server-side handles the views refer to by token: queries pushed from Python, id sets
(a plot selection) and plot point orders. A JSON query spec cannot carry an arbitrary DSL
expression, so ``explorer.query = dataset.match(...)`` registers the query and the spec
names it by token.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Any

from lightly_studio.errors import QueryError

_MAX = 256
_lock = threading.Lock()
_items: OrderedDict[str, Any] = OrderedDict()
_counter = itertools.count(1)


def register(kind: str, value: Any) -> str:
    """Keep ``value`` and return a token naming it (oldest entries are dropped past 256)."""
    with _lock:
        token = f"{kind}-{next(_counter)}"
        _items[token] = value
        while len(_items) > _MAX:
            _items.popitem(last=False)
        return token


def lookup(token: object, kind: str) -> Any:
    with _lock:
        if not isinstance(token, str) or not token.startswith(kind + "-") or token not in _items:
            raise QueryError(
                f"Unknown or expired {kind} reference {token!r}; re-run the cell "
                f"that created the view."
            )
        _items.move_to_end(token)
        return _items[token]
