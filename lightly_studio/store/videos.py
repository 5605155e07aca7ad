"""Video and frame rows of ``sample`` (kind 'video' / 'frame'): the reads video ingest,
video embeddings and frame export need. Inserts go through ``insert_samples`` like every
other sample row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from lightly_studio.db import query_frame


def unindexed_video_paths(con, dataset_id, paths: list[str]) -> list[str]:
    """The paths among ``paths`` with no video sample in the dataset yet, sorted."""
    if not paths:
        return []
    con.register("_listed_videos", pl.DataFrame({"file_path_abs": paths}))
    try:
        missing = query_frame(
            """SELECT l.file_path_abs FROM _listed_videos l
               ANTI JOIN (SELECT file_path_abs FROM sample
                          WHERE dataset_id = $1 AND kind = 'video') s
               ON s.file_path_abs = l.file_path_abs""",
            [str(dataset_id)],
            con=con,
        )
    finally:
        con.unregister("_listed_videos")
    return sorted(missing["file_path_abs"].to_list())


def ids_of_kind(con, sample_ids: list, kind: str) -> list[str]:
    """The ids among ``sample_ids`` whose sample is of ``kind`` (one semi-join)."""
    if not sample_ids:
        return []
    found = query_frame(
        "SELECT CAST(sample_id AS VARCHAR) AS sample_id FROM sample WHERE kind = $2 "
        "AND sample_id IN (SELECT unnest($1::UUID[]))",
        [[str(i) for i in sample_ids], kind],
        con=con,
    )
    return found["sample_id"].to_list()


def frames_to_decode(con, dataset_id, sample_ids: Sequence | None = None) -> pl.DataFrame:
    """sample_id (str), file_path_abs, timestamp_s of the dataset's frames (those of
    ``sample_ids`` when given), by video and frame number: one sequential pass per video."""
    sql = (
        "SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_path_abs, s.timestamp_s "
        "FROM sample s WHERE s.dataset_id = $1 AND s.kind = 'frame'"
    )
    params: list[Any] = [str(dataset_id)]
    if sample_ids is not None:
        params.append([str(i) for i in sample_ids])
        sql += f" AND s.sample_id IN (SELECT unnest(${len(params)}::UUID[]))"
    return query_frame(sql + " ORDER BY s.file_path_abs, s.frame_number", params, con=con)


def frames_of_videos_subquery(dataset_id, video_ids: Sequence | None) -> tuple[str, list]:
    """(sql, params) selecting sample_id, parent_sample_id of the dataset's frames (of
    ``video_ids`` when given)."""
    sql = "SELECT sample_id, parent_sample_id FROM sample WHERE dataset_id = $1 AND kind = 'frame'"
    params: list[Any] = [str(dataset_id)]
    if video_ids is not None:
        sql += " AND parent_sample_id IN (SELECT unnest($2::UUID[]))"
        params.append([str(v) for v in video_ids])
    return sql, params


def frame_videos(con, dataset_id, video_ids: Sequence | None) -> pl.DataFrame:
    """sample_id, video_id (both str) of the dataset's frames (of ``video_ids`` when given)."""
    sql, params = frames_of_videos_subquery(dataset_id, video_ids)
    return query_frame(
        f"SELECT CAST(sample_id AS VARCHAR) AS sample_id, "
        f"CAST(parent_sample_id AS VARCHAR) AS video_id FROM ({sql})",
        params,
        con=con,
    )


def frames_for_export(con, dataset_id, subquery: tuple[str, list], of_videos: bool) -> pl.DataFrame:
    """The dataset's frames that an (sql, params) subquery names (``of_videos``: the frames
    of the videos it names), in video/time order: sample_id, video_id (str), file_path_abs,
    file_name, width, height, frame_number, timestamp_s."""
    sub_sql, sub_params = subquery
    column = "parent_sample_id" if of_videos else "sample_id"
    n = len(sub_params)
    return query_frame(
        f"""SELECT CAST(f.sample_id AS VARCHAR) AS sample_id,
                   CAST(f.parent_sample_id AS VARCHAR) AS video_id,
                   f.file_path_abs, f.file_name, f.width, f.height,
                   f.frame_number, f.timestamp_s
            FROM sample f
            WHERE f.dataset_id = ${n + 1} AND f.kind = 'frame'
              AND f.{column} IN (SELECT sample_id FROM ({sub_sql}))
            ORDER BY f.file_path_abs, f.frame_number""",
        [*sub_params, str(dataset_id)],
        con=con,
    )


def video_rows(con, dataset_id) -> pl.DataFrame:
    """sample_id (str), file_path_abs, file_name, width, height, fps, duration_s, frame_count
    of the dataset's videos, in file order."""
    return query_frame(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, file_path_abs, file_name, width,
                  height, fps, duration_s, frame_count
           FROM sample WHERE dataset_id = $1 AND kind = 'video' ORDER BY file_path_abs""",
        [str(dataset_id)],
        con=con,
    )


def tracked_video_paths(con, dataset_id, paths: list[str]) -> list[str]:
    """The video files among ``paths`` whose frames already hold annotations with a track id
    (an object-track import ran on them before)."""
    if not paths:
        return []
    found = query_frame(
        """SELECT DISTINCT f.file_path_abs FROM sample f
           WHERE f.dataset_id = $1 AND f.kind = 'frame'
             AND list_contains($2::VARCHAR[], f.file_path_abs)
             AND EXISTS (SELECT 1 FROM annotation a
                         WHERE a.sample_id = f.sample_id AND a.track_id IS NOT NULL)""",
        [str(dataset_id), paths],
        con=con,
    )
    return sorted(found["file_path_abs"].to_list())


def frames_of_video(con, video_id) -> pl.DataFrame:
    """The frame samples of one video in frame order: sample_id (str), frame_number,
    timestamp_s, has_tags, has_captions (what the player's timeline marks)."""
    return query_frame(
        """SELECT CAST(f.sample_id AS VARCHAR) AS sample_id, f.frame_number, f.timestamp_s,
                  coalesce(len(f.tag_numbers), 0) > 0 AS has_tags,
                  EXISTS (SELECT 1 FROM caption c WHERE c.sample_id = f.sample_id)
                      AS has_captions
           FROM sample f WHERE f.parent_sample_id = $1 AND f.kind = 'frame'
           ORDER BY f.frame_number""",
        [str(video_id)],
        con=con,
    )


def neighbour_frames(con, frame_id) -> dict[str, Any] | None:
    """The frame sample's video, number, and the previous / next frame samples of the same
    video by frame number (None at either end); None when the sample is not a frame."""
    rows = con.execute(
        """SELECT CAST(f.parent_sample_id AS VARCHAR), f.frame_number,
                  (SELECT CAST(p.sample_id AS VARCHAR) FROM sample p
                   WHERE p.parent_sample_id = f.parent_sample_id AND p.kind = 'frame'
                     AND p.frame_number < f.frame_number
                   ORDER BY p.frame_number DESC LIMIT 1),
                  (SELECT CAST(n.sample_id AS VARCHAR) FROM sample n
                   WHERE n.parent_sample_id = f.parent_sample_id AND n.kind = 'frame'
                     AND n.frame_number > f.frame_number
                   ORDER BY n.frame_number LIMIT 1)
           FROM sample f WHERE f.sample_id = $1 AND f.kind = 'frame'""",
        [str(frame_id)],
    ).fetchall()
    if not rows:
        return None
    video_id, number, previous, following = rows[0]
    return {
        "video_id": video_id,
        "frame_number": number,
        "previous_id": previous,
        "next_id": following,
    }


def frame_subquery(video_id) -> tuple[str, list]:
    """(sql, params) selecting the sample_id of one video's frames."""
    return (
        "SELECT sample_id FROM sample WHERE parent_sample_id = $1 AND kind = 'frame'",
        [str(video_id)],
    )
