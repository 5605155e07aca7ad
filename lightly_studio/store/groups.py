"""Groups: samples of kind 'group' that bundle member samples under named views.

A group is a row of ``sample`` (kind 'group', ``file_name`` = the group's name,
``file_path_abs`` = its key, unique in the dataset; width and height 0), so its tags and
metadata are the sample machinery's. Its members are image or video samples of the same
dataset, linked by ``group_member`` (group, member ``sample_id``, view name); ``group_view``
holds the dataset's views in grid order. Every statement over these tables is here, except
two query fragments in ``query/fields.py`` (members of groups, groups by their members).
"""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import IngestError
from lightly_studio.store._ids import as_uuid_str
from lightly_studio.store.samples import insert_samples
from lightly_studio.store.tags import tag_names_frame, tag_numbers_to_names

GROUP_KIND = "group"


def add_views(con, dataset_id, views: list[str]) -> None:
    """Append the ``views`` the dataset does not have yet to its views, in the order given
    (stored views keep their place). Run it inside a transaction."""
    stored = view_names(con, dataset_id)
    new = [v for v in dict.fromkeys(views) if v not in stored]
    if new:
        con.execute(
            """INSERT INTO group_view
               SELECT $1, unnest($2::VARCHAR[]), unnest($3::INTEGER[])""",
            [as_uuid_str(dataset_id), new, list(range(len(stored), len(stored) + len(new)))],
        )


def insert_groups(con, dataset_id: uuid.UUID, groups: pl.DataFrame) -> pl.DataFrame:
    """Store the groups of ``groups`` (``group_key``, unique per dataset, and ``name``) whose
    key is new. Returns group_key and group_sample_id (str) of every given group, with
    is_new. Run it inside a transaction."""
    stored = insert_samples(
        con,
        dataset_id,
        groups.select(
            pl.col("group_key").alias("file_path_abs"),
            pl.col("name").alias("file_name"),
            pl.lit(0).alias("width"),
            pl.lit(0).alias("height"),
            pl.lit(GROUP_KIND).alias("kind"),
        ),
    )
    return stored.select(
        pl.col("file_path_abs").alias("group_key"),
        pl.col("sample_id").alias("group_sample_id"),
        "is_new",
    )


def link_members(con, dataset_id, links: pl.DataFrame) -> int:
    """Make samples members of groups: ``links`` has group_sample_id, member_sample_id (str)
    and view_name (a view of the dataset, see ``add_views``). Returns how many were linked.

    A group has at most one member per view: a second member for a view (in ``links`` or
    already stored) would make ``group["front"]`` ambiguous, so it raises IngestError and
    links nothing. Run it inside a transaction."""
    if links.is_empty():
        return 0
    unknown = set(links["view_name"].unique().to_list()) - set(view_names(con, dataset_id))
    if unknown:
        raise IngestError(f"Views {sorted(unknown)} are not views of the dataset; add them first.")
    links = links.select(
        pl.col("group_sample_id").cast(pl.Utf8),
        pl.col("member_sample_id").cast(pl.Utf8),
        "view_name",
    )
    stored = query_frame(
        """SELECT CAST(group_sample_id AS VARCHAR) AS group_sample_id, view_name
           FROM group_member WHERE group_sample_id IN (SELECT unnest($1::UUID[]))""",
        [links["group_sample_id"].unique().to_list()],
        con,
    )
    doubled = (
        pl.concat([links.select("group_sample_id", "view_name"), stored])
        .group_by("group_sample_id", "view_name")
        .len()
        .filter(pl.col("len") > 1)
    )
    if not doubled.is_empty():
        raise IngestError(
            f"Group {doubled['group_sample_id'][0]} would get {doubled['len'][0]} members in "
            f"view {doubled['view_name'][0]!r}; a group has at most one member per view."
        )
    con.register("_incoming_group_members", links)
    try:
        con.execute(
            """INSERT INTO group_member
               SELECT CAST(group_sample_id AS UUID), CAST(member_sample_id AS UUID), view_name
               FROM _incoming_group_members"""
        )
    finally:
        con.unregister("_incoming_group_members")
    return links.height


def member_views(con, group_ids: list[str]) -> set[tuple[str, str]]:
    """(group id, view name) of every stored member of the given groups."""
    frame = query_frame(
        """SELECT CAST(group_sample_id AS VARCHAR) AS group_sample_id, view_name
           FROM group_member WHERE group_sample_id IN (SELECT unnest($1::UUID[]))""",
        [[str(i) for i in group_ids]],
        con,
    )
    return set(frame.iter_rows())


def view_names(con, dataset_id) -> list[str]:
    """The dataset's view names in view order (the order the grid shows members in)."""
    rows = con.execute(
        "SELECT view_name FROM group_view WHERE dataset_id = $1 ORDER BY view_position",
        [as_uuid_str(dataset_id)],
    ).fetchall()
    return [r[0] for r in rows]


def members_frame(con, dataset_id, group_ids: list[str]) -> pl.DataFrame:
    """One row per member of the given groups, in view order: group_sample_id, view_name,
    sample_id (the member's, str), kind, file_name, file_path_abs, width, height,
    tag_numbers. Groups of other datasets are left out."""
    # The members' rows are picked by sample_idx first and read whole after (late
    # materialisation): joining group_member to every sample row's columns read them all,
    # 68 ms against ~27 ms for a page of 120 groups at 100,000 groups (2 cores). sample_idx,
    # not rowid: a published dataset's tables are views, which have no rowid.
    return query_frame(
        """WITH m AS (SELECT * FROM group_member
                      WHERE group_sample_id IN (SELECT unnest($2::UUID[]))),
                picked AS (SELECT s.sample_idx FROM sample s
                           WHERE s.sample_id IN (SELECT sample_id FROM m))
           SELECT CAST(m.group_sample_id AS VARCHAR) AS group_sample_id, m.view_name,
                  CAST(s.sample_id AS VARCHAR) AS sample_id, s.kind, s.file_name,
                  s.file_path_abs, s.width, s.height, s.tag_numbers
           FROM sample s JOIN m ON m.sample_id = s.sample_id
                JOIN group_view v ON v.dataset_id = s.dataset_id AND v.view_name = m.view_name
           WHERE s.sample_idx IN (SELECT sample_idx FROM picked) AND s.dataset_id = $1
           ORDER BY m.group_sample_id, v.view_position""",
        [as_uuid_str(dataset_id), [str(i) for i in group_ids]],
        con,
    )


def stored_groups(con, dataset_id, keys: list[str]) -> dict[str, str]:
    """Key -> id (str) of the dataset's stored groups among ``keys``."""
    frame = query_frame(
        """SELECT file_path_abs, CAST(sample_id AS VARCHAR) AS sample_id FROM sample
           WHERE dataset_id = $1 AND kind = 'group'
             AND file_path_abs IN (SELECT unnest($2::VARCHAR[]))""",
        [as_uuid_str(dataset_id), keys],
        con,
    )
    return dict(frame.iter_rows())


def tag_counts(con, dataset_id, groups: tuple[str, list]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The filter panel's tag counts of a group dataset, as two frames of name, count, total.

    First the group tags: how many groups of the ``groups`` subquery (count) and of the
    dataset (total) carry each tag; a tag only members carry is left out, a tag no sample
    carries (yet) is kept. Then the member tags: how many groups have a member with the tag,
    among the subquery's groups and among all, for tags some member carries."""
    sub_sql, sub_params = groups
    ds = f"${len(sub_params) + 1}"  # after the subquery's own $1…$n
    frame = query_frame(
        f"""
        WITH q AS ({sub_sql})
        , carried AS (
            SELECT s.sample_id AS group_sample_id, unnest(s.tag_numbers) AS tag_number,
                   false AS by_member
            FROM sample s WHERE s.dataset_id = {ds} AND s.kind = 'group'
            UNION ALL
            SELECT DISTINCT m.group_sample_id, unnest(s.tag_numbers), true
            FROM group_member m JOIN sample s ON s.sample_id = m.sample_id
            WHERE s.dataset_id = {ds})
        SELECT t.name, c.by_member,
               count(DISTINCT c.group_sample_id) FILTER (
                   WHERE c.group_sample_id IN (SELECT sample_id FROM q)) AS count,
               count(DISTINCT c.group_sample_id) AS total
        FROM tag t LEFT JOIN carried c ON c.tag_number = t.tag_number
        WHERE t.dataset_id = {ds} AND t.kind = 'sample'
        GROUP BY t.name, c.by_member ORDER BY t.name""",
        [*sub_params, as_uuid_str(dataset_id)],
        con,
    )
    member = frame.filter(pl.col("by_member").fill_null(False)).drop("by_member")
    on_groups = frame.filter(~pl.col("by_member").fill_null(False)).drop("by_member")
    unused = frame.filter(pl.col("by_member").is_null()).drop("by_member")
    group_tags = (
        pl.concat([on_groups.filter(pl.col("total") > 0), unused]).unique("name").sort("name")
    )
    return group_tags, member.sort("name")


def member_ids_by_path(con, dataset_id, paths: list[str]) -> pl.DataFrame:
    """file_path_abs and sample_id (str) of the dataset's image and video samples of
    ``paths`` (what a group's members can be)."""
    return query_frame(
        """SELECT file_path_abs, CAST(sample_id AS VARCHAR) AS sample_id FROM sample
           WHERE dataset_id = $1 AND kind IN ('image', 'video')
             AND file_path_abs IN (SELECT unnest($2::VARCHAR[]))""",
        [as_uuid_str(dataset_id), paths],
        con,
    )


def member_links(con, dataset_id, group_ids: list[str] | None = None) -> pl.DataFrame:
    """group_sample_id and member_sample_id (str) of every member of the dataset's groups (or
    of ``group_ids``)."""
    sql, params = members_subquery(dataset_id, group_ids, with_groups=True)
    return query_frame(sql, params, con)


def members_subquery(
    dataset_id, group_ids: list[str] | None = None, with_groups: bool = False
) -> tuple[str, list]:
    """(sql, params): the member samples (column sample_id) of the dataset's groups, or of
    ``group_ids``; ``with_groups``: the columns group_sample_id and member_sample_id (str)
    instead."""
    columns = (
        "CAST(m.group_sample_id AS VARCHAR) AS group_sample_id, "
        "CAST(m.sample_id AS VARCHAR) AS member_sample_id"
        if with_groups
        else "m.sample_id"
    )
    sql = (
        f"SELECT {columns} FROM group_member m JOIN sample g ON g.sample_id = m.group_sample_id "
        "WHERE g.dataset_id = $1 AND g.kind = 'group'"
    )
    params: list = [as_uuid_str(dataset_id)]
    if group_ids is not None:
        sql += " AND m.group_sample_id IN (SELECT unnest($2::UUID[]))"
        params.append([str(i) for i in group_ids])
    return sql, params


def members_of(groups: tuple[str, list]) -> tuple[str, list]:
    """(sql, params): the members (column sample_id) of the groups an (sql, params) subquery
    of group ids yields."""
    sql, params = groups
    return (
        "SELECT m.sample_id FROM group_member m "
        f"WHERE m.group_sample_id IN (SELECT sample_id FROM ({sql}))",
        params,
    )


def members_by_group(con, dataset_id, group_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Group id -> one entry per view of the dataset, in view order: the member's view,
    sample_id, kind ('image' or 'video'), file_name, width, height and tags, or ``sample_id`` None where the group has
    no member in that view (the grid shows the gap)."""
    views = view_names(con, dataset_id)
    frame = members_frame(con, dataset_id, group_ids)
    frame = tag_numbers_to_names(frame, tag_names_frame(con, dataset_id))
    found: dict[tuple[str, str], dict[str, Any]] = {
        (r["group_sample_id"], r["view_name"]): {
            "view": r["view_name"],
            "sample_id": r["sample_id"],
            "kind": r["kind"],
            "file_name": r["file_name"],
            "width": r["width"],
            "height": r["height"],
            "tags": list(r["tags"] or []),
        }
        for r in frame.iter_rows(named=True)
    }
    return {
        gid: [found.get((gid, view), {"view": view, "sample_id": None}) for view in views]
        for gid in group_ids
    }
