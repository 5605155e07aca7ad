"""SQL building blocks: fragments of SQL text that carry their NAMED parameters.

A ``Fragment`` is SQL text with ``$name`` placeholders, the values of those names, and the
polars frames the text reads by name (id sets, similarity scores: registered on the
connection before the statement runs, as binding a long list costs far more). Fragments
combine with ``+`` and ``Fragment.join``; every value gets a name unique to the process when
it enters a fragment (``param``, ``sql``), so combining never renumbers anything.

    where = sql("s.dataset_id = $ds", ds=dataset_id) + " AND " + sql("s.width < $w", w=500)
    frame = query_frame(sql("SELECT s.sample_id FROM sample s WHERE ") + where)
"""

from __future__ import annotations

import collections
import itertools
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

_names = itertools.count()
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)")


class Fragment:
    """SQL text with named parameters (``$name``) and the frames it reads by name."""

    __slots__ = ("frames", "params", "sql")

    def __init__(
        self,
        sql: str = "",
        params: Mapping[str, Any] | None = None,
        frames: Mapping[str, Any] | None = None,
    ) -> None:
        self.sql = sql
        self.params: dict[str, Any] = dict(params or {})
        self.frames: dict[str, Any] = dict(frames or {})

    def __add__(self, other: Fragment | str) -> Fragment:
        if isinstance(other, str):
            return Fragment(self.sql + other, self.params, self.frames)
        return Fragment(
            self.sql + other.sql,
            _merge(self.params, other.params),
            _merge(self.frames, other.frames),
        )

    def __radd__(self, other: str) -> Fragment:
        return Fragment(other + self.sql, self.params, self.frames)

    @staticmethod
    def join(separator: str, parts: Iterable[Fragment | str]) -> Fragment:
        """The parts, ``separator`` between each two (an empty fragment for no parts)."""
        out = Fragment()
        for i, part in enumerate(parts):
            out = out + (separator if i else "") + part
        return out

    def wrap(self, before: str, after: str) -> Fragment:
        """``before`` + this + ``after`` (e.g. parentheses)."""
        return Fragment(before + self.sql + after, self.params, self.frames)

    def with_frame(self, name: str, frame: Any) -> Fragment:
        """This fragment, also reading polars ``frame`` as table ``name``."""
        return Fragment(self.sql, self.params, _merge(self.frames, {name: frame}))

    def positional(self) -> tuple[str, list]:
        """(sql, params) with positional ``$1, $2…`` for callers that still splice positional
        subqueries; each name becomes one number, in order of first use."""
        numbers: dict[str, int] = {}

        def number(match: re.Match) -> str:
            name = match.group(1)
            if name not in self.params:
                return match.group(0)
            if name not in numbers:
                numbers[name] = len(numbers) + 1
            return f"${numbers[name]}"

        text = _NAME.sub(number, self.sql)
        return text, [self.params[name] for name in numbers]

    def __repr__(self) -> str:
        return f"Fragment({self.sql!r}, {self.params!r})"


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not b:
        return a
    if not a:
        return b
    for name, value in b.items():
        if name in a and a[name] is not value:
            raise ValueError(f"SQL parameter ${name} is bound to two different values")
    return {**a, **b}


def unique_name(prefix: str = "p") -> str:
    """A name no other fragment of this process uses (for a parameter or a frame)."""
    return f"{prefix}_{next(_names)}"


def param(value: Any) -> Fragment:
    """A placeholder for ``value`` under a new unique name."""
    name = unique_name()
    return Fragment(f"${name}", {name: value})


def sql(text: str, **values: Any) -> Fragment:
    """``text`` with its ``$name`` placeholders bound to ``values``; each name is made unique
    (``$ds`` becomes ``$ds_12``), so fragments built from the same text combine freely."""
    if not values:
        return Fragment(text)
    renamed = {name: unique_name(name) for name in values}

    def rename(match: re.Match) -> str:
        new = renamed.get(match.group(1))
        return match.group(0) if new is None else f"${new}"

    return Fragment(
        _NAME.sub(rename, text), {renamed[name]: value for name, value in values.items()}
    )


_registered = threading.local()
_REGISTERED_MAX = 32


def register_frames(con, frames: Mapping[str, Any]) -> None:
    """Make ``frames`` readable by name on ``con`` (where the SQL will run).

    Registration is per connection (each thread has its own cursor); the least recently
    used names beyond a few dozen are dropped, and re-registered if a statement needs them.
    """
    if not frames:
        return
    state = getattr(_registered, "state", None)
    if state is None or state[0] is not con:
        state = _registered.state = (con, collections.OrderedDict())
    names: collections.OrderedDict[str, bool] = state[1]
    for name, frame in frames.items():
        if name in names:
            names.move_to_end(name)
        else:
            con.register(name, frame)
            names[name] = True
    while len(names) > _REGISTERED_MAX:
        con.unregister(names.popitem(last=False)[0])
