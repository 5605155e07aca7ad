"""db.Fragment: SQL text with named parameters that combine without renumbering."""

import polars as pl
import pytest

from lightly_studio.db import Fragment, param, query_frame, sql


def test_fragments_combine_with_unique_names_and_run():
    a = sql("x > $v", v=1)
    b = sql("x < $v", v=5)  # the same slot name: renamed apart
    where = Fragment.join(" AND ", [a, b]).wrap("(", ")")
    assert len(where.params) == 2 and sorted(where.params.values()) == [1, 5]
    query = "SELECT count(*) AS n FROM range(10) t(x) WHERE " + where
    assert query_frame(query, con=_con())["n"][0] == 3


def test_a_fragment_used_twice_binds_once():
    v = param(4)
    query = "SELECT count(*) AS n FROM range(10) t(x) WHERE x >= " + v + " AND x <= " + v
    assert list(query.params.values()) == [4]
    assert query_frame(query, con=_con())["n"][0] == 1


def test_frames_travel_with_the_fragment():
    ids = pl.DataFrame({"v": [1, 2, 3]})
    query = Fragment("SELECT sum(v) AS s FROM _test_frame_a WHERE v > ") + param(1)
    query = query.with_frame("_test_frame_a", ids)
    assert query_frame(query, con=_con())["s"][0] == 5


def test_positional_rendering_for_legacy_callers():
    v = param("a")
    text, params = (sql("SELECT $x, ", x=1) + v + ", " + v).positional()
    assert text == "SELECT $1, $2, $2" and params == [1, "a"]


def test_conflicting_values_under_one_name_are_refused():
    with pytest.raises(ValueError):
        Fragment("$n", {"n": 1}) + Fragment("$n", {"n": 2})


def _con():
    import duckdb

    return duckdb.connect()
