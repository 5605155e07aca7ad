"""Settings of the views: customised keyboard shortcuts (one set per database) and the grid
options of each dataset (overlays, thumbnail size, sort). Tables from migration 0009.

The views own the list of actions and their default keys (``js/src/views/shortcuts.ts``);
this module stores only what the user changed and checks its shape, so a broken or hostile
request cannot leave a row the views fail to read.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, TypedDict

from lightly_studio.db import transaction
from lightly_studio.errors import SettingsError

ACTION_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z][a-z0-9:-]*$")
"""An action id: ``<scope>.<name>``, e.g. ``grid.open``, ``annotator.tool:box``."""
MAX_KEYS = 4
MAX_KEY_LENGTH = 40
OVERLAYS = ("boxes", "masks", "labels", "captions", "names", "issues")
CELL_SIZE_RANGE = (40, 800)


class ViewOptions(TypedDict):
    cell_size: int
    overlays: dict[str, bool]
    sort_field: str
    sort_desc: bool


def check_shortcuts(value: object) -> dict[str, list[str]]:
    """The customised bindings ``{action: [key, ...]}``, checked: valid action ids, 1 to 4
    non-empty keys each, and no key bound to two actions of the same scope."""
    if not isinstance(value, dict):
        raise SettingsError(f"shortcuts must be an object of action -> keys, got {value!r}")
    checked: dict[str, list[str]] = {}
    owner: dict[tuple[str, str], str] = {}
    for action, keys in value.items():
        if not isinstance(action, str) or not ACTION_RE.match(action):
            raise SettingsError(f"shortcut action {action!r} is not an id like 'grid.open'")
        if (
            not isinstance(keys, list)
            or not 1 <= len(keys) <= MAX_KEYS
            or not all(isinstance(k, str) and 0 < len(k) <= MAX_KEY_LENGTH for k in keys)
        ):
            raise SettingsError(
                f"shortcut {action!r}: keys must be a list of 1 to {MAX_KEYS} key names, "
                f"got {keys!r}"
            )
        scope = action.split(".", 1)[0]
        for key in keys:
            other = owner.setdefault((scope, key), action)
            if other != action:
                raise SettingsError(f"key {key!r} is bound to both {other!r} and {action!r}")
        checked[action] = list(dict.fromkeys(keys))
    return checked


def check_view_options(value: object) -> ViewOptions:
    """Grid options as the views send them: cell_size (int), overlays (booleans by name),
    sort_field (str, '' for the default order), sort_desc (bool)."""
    if not isinstance(value, dict):
        raise SettingsError(f"view options must be an object, got {value!r}")
    size = value.get("cell_size")
    lo, hi = CELL_SIZE_RANGE
    if not isinstance(size, int) or isinstance(size, bool) or not lo <= size <= hi:
        raise SettingsError(
            f"view option cell_size must be an integer in [{lo}, {hi}], got {size!r}"
        )
    overlays = value.get("overlays")
    if not isinstance(overlays, dict) or any(
        k not in OVERLAYS or not isinstance(v, bool) for k, v in overlays.items()
    ):
        raise SettingsError(
            f"view option overlays must map some of {', '.join(OVERLAYS)} to true/false, "
            f"got {overlays!r}"
        )
    field = value.get("sort_field", "")
    if not isinstance(field, str) or len(field) > 200:
        raise SettingsError(f"view option sort_field must be a field name, got {field!r}")
    desc = value.get("sort_desc", False)
    if not isinstance(desc, bool):
        raise SettingsError(f"view option sort_desc must be true or false, got {desc!r}")
    return {"cell_size": size, "overlays": overlays, "sort_field": field, "sort_desc": desc}


def get_shortcuts(con) -> dict[str, list[str]]:
    """The customised bindings, ``{action: [key, ...]}`` (empty: every action has its default)."""
    rows = con.execute("SELECT action, keys FROM keyboard_shortcut ORDER BY action").fetchall()
    return {action: list(keys) for action, keys in rows}


def replace_shortcuts(shortcuts: object) -> dict[str, list[str]]:
    """Store ``shortcuts`` as the whole set of customised bindings (``{}`` resets all to the
    defaults), in one transaction; returns them as stored."""
    checked = check_shortcuts(shortcuts)
    with transaction() as tx:
        tx.execute("DELETE FROM keyboard_shortcut")
        if checked:
            tx.executemany(
                "INSERT INTO keyboard_shortcut VALUES ($1, $2, now())",
                [[action, keys] for action, keys in checked.items()],
            )
    return checked


def get_view_options(con, dataset_id: uuid.UUID | str) -> ViewOptions | None:
    """The stored grid options of a dataset, or None when none were saved."""
    rows = con.execute(
        """SELECT cell_size, CAST(overlays AS VARCHAR), sort_field, sort_desc
           FROM dataset_view_options WHERE dataset_id = $1""",
        [str(dataset_id)],
    ).fetchall()
    if not rows:
        return None
    size, overlays, field, desc = rows[0]
    return {
        "cell_size": size,
        "overlays": json.loads(overlays),
        "sort_field": field,
        "sort_desc": desc,
    }


def save_view_options(dataset_id: uuid.UUID | str, options: object) -> ViewOptions:
    """Store the grid options of a dataset (replacing the earlier ones); returns them."""
    checked = check_view_options(options)
    params: list[Any] = [
        str(dataset_id),
        checked["cell_size"],
        json.dumps(checked["overlays"]),
        checked["sort_field"],
        checked["sort_desc"],
    ]
    with transaction() as tx:
        tx.execute(
            """INSERT OR REPLACE INTO dataset_view_options
               VALUES ($1, $2, CAST($3 AS JSON), $4, $5, now())""",
            params,
        )
    return checked


def clear_view_options(dataset_id: uuid.UUID | str) -> None:
    """Forget a dataset's grid options (the views fall back to their defaults)."""
    with transaction() as tx:
        tx.execute("DELETE FROM dataset_view_options WHERE dataset_id = $1", [str(dataset_id)])
