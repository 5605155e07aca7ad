"""Views benchmarks: thumbnails cold/warm and grid page latency on the example COCO subset;
with ``--million``, the issue's 1,000,000-sample figures in a real (headless) browser.

    .venv/bin/python benchmarks/bench_views.py              # COCO-128: thumbnails, first page
    .venv/bin/python benchmarks/bench_views.py --million    # + 1M samples: first thumbnails,
                                                            #   plot render, lasso round trip
    .venv/bin/python benchmarks/bench_views.py --million --first-paint 5   # first paint only,
                                                            #   5 cold runs and their median
    .venv/bin/python benchmarks/bench_views.py --distributions   # the Distribution panel's
                                                            #   charts at 1M samples (no browser),
                                                            #   filtered and during a search
    .venv/bin/python benchmarks/bench_views.py --search     # text and image search at 1M
                                                            #   samples, a loaded model

``--search`` stores generated vectors (1,000,000 x 512, clustered, like bench_search.py) under
a model whose spec is ``open_clip:ViT-B-32:random``: the real ViT-B-32 (random weights cost
the same as trained ones) is loaded once, then each search is what the grid asks for: embed
the text (or the uploaded JPEG, ``image_search``), rank the dataset, first page of 100 rows.
The first search answers by the exact scan while the approximate index builds in the
background; the timed searches run once it is ready.

``--million`` builds the dataset straight into the tables (SQL over ``range()``, like
bench_query.py): 1,000,000 samples with unique paths, of which only the first grid page's
files exist on disk (thumbnails are only requested for what is visible); one tiny 2-d
embedding and one stored projection row per sample, so the plot has 1M points without
running PaCMAP. The app runs in-process (``start_gui(port=0)``, loopback) and Debian's
/usr/bin/chromium drives it headless; WebGL is software (SwiftShader).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "dataset_examples"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
]
IMG_W, IMG_H = 320, 240  # "synthetic small images"
PROFILE_LASSO = False  # --profile-lasso
REAL_FILES = 400  # files that exist: the first page(s) the grid and the thumbnail run ask for


def _thumbnails_cold_warm(dataset_id: str, ids: list[str]) -> None:
    from lightly_studio.api import dispatch

    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        for i in range(0, len(ids), 48):  # the grid's batch size
            dispatch("thumbnails", {"dataset_id": dataset_id, "sample_ids": ids[i : i + 48]})
        dt = time.perf_counter() - t0
        print(f"  {label}: {len(ids)} thumbnails in {dt:.3f} s = {len(ids) / dt:.0f}/s")


def coco() -> None:
    from lightly_studio import db_manager
    from lightly_studio.api import dispatch
    from lightly_studio.core.image_dataset import ImageDataset

    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        coco = EXAMPLES / "coco_subset_128_images"
        ds = ImageDataset.create("bench")
        ds.add_samples_from_coco(
            annotations_json=str(coco / "instances_train2017.json"),
            images_path=str(coco / "images"),
            embed=False,
        )
        spec = {"dataset_id": str(ds.dataset_id)}
        t0 = time.perf_counter()
        page, _ = dispatch("samples_page", {"spec": spec, "offset": 0, "limit": 120})
        t_page = time.perf_counter() - t0
        ids = [r["sample_id"] for r in page["rows"]][:100]
        print("COCO-128 (640x480-ish photos):")
        _thumbnails_cold_warm(spec["dataset_id"], ids)
        print(f"  first page (120 rows with annotations): {t_page * 1000:.0f} ms")
        db_manager.close()


# -- the million ----------------------------------------------------------------------------
def build_million(n: int, folder: Path):
    """n samples, a 2-d embedding and a stored projection per sample, all by SQL."""
    import lightly_studio as ls
    from lightly_studio.db import transaction

    ds = ls.ImageDataset.create("million")
    did = str(ds.dataset_id)
    model_id = "00000000-0000-4000-8000-000000000001"
    img = str(folder / "img_")
    t = time.perf_counter()
    with transaction() as con:
        con.execute(f"""INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name,
                        width, height, created_at, sample_idx)
                        SELECT uuid(), '{did}', 'image', '{img}' || lpad(i::VARCHAR, 7, '0')
                               || '.jpg', 'img_' || lpad(i::VARCHAR, 7, '0') || '.jpg',
                               {IMG_W}, {IMG_H}, TIMESTAMP '2024-01-01' + to_seconds(i), i
                        FROM range({n}) t(i)""")
        con.execute(
            "INSERT INTO embedding_model VALUES ($1, $2, 'synthetic-2d', 'synthetic', 2, now())",
            [model_id, did],
        )
        # Points in 24 gaussian-ish clusters (sum of uniforms); the embedding is the unit vector
        # of the angle, so it is L2-normalised like real ones.
        con.execute(f"""CREATE TEMP TABLE _pts AS
            SELECT sample_id,
                   (hash(sample_id, 1) % 24)::DOUBLE AS c,
                   ((hash(sample_id, 2) % 1000)::BIGINT + (hash(sample_id, 3) % 1000)::BIGINT
                    + (hash(sample_id, 4) % 1000)::BIGINT - 1500) / 1500.0 AS dx,
                   ((hash(sample_id, 5) % 1000)::BIGINT + (hash(sample_id, 6) % 1000)::BIGINT
                    + (hash(sample_id, 7) % 1000)::BIGINT - 1500) / 1500.0 AS dy
            FROM sample WHERE dataset_id = '{did}'""")
        con.execute(f"""INSERT INTO embedding (sample_id, model_id, vector)
            SELECT sample_id, '{model_id}',
                   [cos(c / 24 * 2 * pi() + dx * 0.1)::FLOAT, sin(c / 24 * 2 * pi() + dx * 0.1)::FLOAT]
            FROM _pts""")
        con.execute(f"""INSERT INTO projection (sample_id, model_id, x, y, fitted)
            SELECT sample_id, '{model_id}',
                   (10 * cos(c / 24 * 2 * pi()) * (1 + (c % 3)) + 2 * dx)::FLOAT,
                   (10 * sin(c / 24 * 2 * pi()) * (1 + (c % 3)) + 2 * dy)::FLOAT, true
            FROM _pts""")
        con.execute("DROP TABLE _pts")
    print(f"  built {n:,} samples + embeddings + projection in {time.perf_counter() - t:.1f} s")
    return ds


def write_first_files(dataset_id: str, folder: Path, count: int) -> list[str]:
    """Real JPEGs for the first ``count`` rows of the grid's default order; their ids."""
    import numpy as np
    from PIL import Image

    from lightly_studio.api import dispatch

    page, _ = dispatch(
        "samples_page",
        {"spec": {"dataset_id": dataset_id}, "offset": 0, "limit": count, "annotations": False},
    )
    rows = page["rows"]
    yy, xx = np.mgrid[0:IMG_H, 0:IMG_W]
    t = time.perf_counter()
    for k, row in enumerate(rows):
        rgb = np.stack(
            [(xx + 7 * k) % 256, (yy + 13 * k) % 256, ((xx ^ yy) + 29 * k) % 256], axis=-1
        ).astype(np.uint8)
        Image.fromarray(rgb).save(folder / row["file_name"], "JPEG", quality=90)
    print(
        f"  wrote {len(rows)} real {IMG_W}x{IMG_H} JPEGs for the first page(s) "
        f"in {time.perf_counter() - t:.1f} s"
    )
    return [r["sample_id"] for r in rows]


# JS helpers, run in the page.
_THUMBS_DONE = """(n) => {
  const cells = [...document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]')];
  const loaded = [...document.querySelectorAll('[data-testid=ls-grid] img')]
      .filter(i => i.complete && i.naturalWidth > 0).length;
  if (n > 0) return loaded >= n ? {t: performance.now(), loaded, cells: cells.length} : false;
  // n == 0: every cell in the DOM (the first screenful + overscan) has its thumbnail.
  return cells.length > 0 && loaded >= cells.length
      ? {t: performance.now(), loaded, cells: cells.length} : false;
}"""

_WATCH_STATUS = """() => {
  const el = document.querySelector('[data-testid=ls-plot-status]');
  window.__plotPoints = null; window.__plotFrame = null; window.__lassoDone = null;
  const check = () => {
    const text = el.textContent || '';
    const now = performance.now();
    if (/selected/.test(text)) { if (window.__lassoDone === null) window.__lassoDone = {t: now, text}; }
    else if (/points$/.test(text) && window.__plotPoints === null) {
      window.__plotPoints = {t: now, text};
      // Two frames later the scatter (created and fed right after the status) has drawn.
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__plotFrame = performance.now(); }));
    }
  };
  new MutationObserver(check).observe(el, {childList: true, characterData: true, subtree: true});
  check();
}"""

# Time every plot_select call (the lasso -> id set round trip, what PlotView.lastSelectMs holds;
# the full-page app does not expose the PlotView, but it exposes its rpc client).
_WRAP_RPC = """() => {
  const rpc = window.__lightlyStudio.rpc;
  const call = rpc.call.bind(rpc);
  window.__rpcTimes = [];
  rpc.call = async (method, ...rest) => {
    const t0 = performance.now();
    try { return await call(method, ...rest); }
    finally { window.__rpcTimes.push({method, ms: performance.now() - t0, start: t0}); }
  };
  window.__mouseUp = null;
  window.addEventListener('mouseup', () => { window.__mouseUp = performance.now(); }, true);
}"""


def _print_first_paint(page, screen_ms: float) -> None:
    """Where the time to the first screenful went: the page, the bundle, each api call."""
    rows = page.evaluate("""() => {
      const n = performance.getEntriesByType('navigation')[0];
      const out = [['page: first byte (head with the script tag)', 0, n.responseStart],
                   ['page: last byte (incl. the dataset list)', 0, n.responseEnd],
                   ['bundle parsed and run (DOMContentLoaded)', 0, n.domContentLoadedEventEnd]];
      for (const e of performance.getEntriesByType('resource')) {
        const name = e.name.replace(location.origin, '');
        if (!name.includes('favicon')) out.push([name, e.startTime, e.responseEnd]);
      }
      return out; }""")
    print("  first paint breakdown (ms after navigation start: start -> end):")
    for name, start, end in rows:
        if start <= screen_ms:
            print(f"    {start:6.0f} -> {end:6.0f}  {name}")


def _first_paint(page, url: str, shot: Path | None = None, quiet: bool = False) -> dict:
    """Open the app on a cold thumbnail cache; when the first and all first-screen thumbnails
    showed (ms after navigation start), with the breakdown printed unless ``quiet``."""
    t0 = time.perf_counter()
    page.goto(url)
    first = page.wait_for_function(_THUMBS_DONE, arg=1, timeout=60_000, polling="raf").json_value()
    wall_first = time.perf_counter() - t0
    screen = page.wait_for_function(_THUMBS_DONE, arg=0, timeout=60_000, polling="raf").json_value()
    wall_screen = time.perf_counter() - t0
    if not quiet:
        count = page.locator("[data-testid=ls-count]").first.inner_text()
        print(f"  grid count shows: {count!r}")
        print(
            f"  first thumbnail loaded: {first['t']:.0f} ms after navigation start "
            f"(wall {wall_first * 1000:.0f} ms)"
        )
        print(
            f"  whole first screenful ({screen['cells']} cells, {screen['loaded']} "
            f"thumbnails): {screen['t']:.0f} ms after navigation start "
            f"(wall {wall_screen * 1000:.0f} ms)   goal < 1000 ms"
        )
        _print_first_paint(page, screen["t"])
    if shot is not None:
        page.screenshot(path=str(shot))
    return {"first": first["t"], "screen": screen["t"], "cells": screen["cells"]}


def _repeat_first_paint(tmp_path: Path, runs: int) -> None:
    """``runs`` first paints, each on a fresh server, browser context and thumbnail cache."""
    import statistics

    from playwright.sync_api import sync_playwright

    from lightly_studio.ingest.thumbnails import cache_dir
    from lightly_studio.server import start_gui

    firsts, screens = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for k in range(runs):
            shutil.rmtree(cache_dir(), ignore_errors=True)
            server = start_gui(port=0, block=False)
            try:
                ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
                got = _first_paint(ctx.new_page(), server.url, quiet=k < runs - 1)
                ctx.close()
            finally:
                server.stop()
            firsts.append(got["first"])
            screens.append(got["screen"])
            print(
                f"  run {k + 1}: first thumbnail {got['first']:.0f} ms, first screenful "
                f"({got['cells']} cells) {got['screen']:.0f} ms"
            )
        browser.close()
    print(
        f"  median of {runs}: first thumbnail {statistics.median(firsts):.0f} ms, "
        f"first screenful {statistics.median(screens):.0f} ms   goal < 1000 ms"
    )


def _lasso(page, box: dict, frac: tuple[float, float, float, float]) -> dict:
    """Drag a lasso (a rectangle-ish polygon, fractions of the canvas) and time it."""
    x0, y0, x1, y1 = (
        box["x"] + box["width"] * frac[0],
        box["y"] + box["height"] * frac[1],
        box["x"] + box["width"] * frac[2],
        box["y"] + box["height"] * frac[3],
    )
    page.evaluate(
        "() => { window.__lassoDone = null; window.__mouseUp = null;"
        " window.__rpcTimes.length = 0; }"
    )
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)):
        page.mouse.move(x, y, steps=8)
        page.wait_for_timeout(30)  # regl-scatterplot samples the lasso at most every 10 ms
    t_up = time.perf_counter()
    page.mouse.up()
    page.wait_for_function("() => window.__lassoDone !== null", timeout=20_000)
    wall = time.perf_counter() - t_up
    got = page.evaluate(
        "() => ({done: window.__lassoDone, up: window.__mouseUp,"
        " rpc: window.__rpcTimes.filter(r => r.method === 'plot_select')})"
    )
    return {
        "text": got["done"]["text"],
        "up_to_status_ms": got["done"]["t"] - got["up"],
        "plot_select_ms": [r["ms"] for r in got["rpc"]],
        "up_to_select_ms": [r["start"] - got["up"] for r in got["rpc"]],
        "wall_s": wall,
    }


def _top_self_time(profile: dict, top: int = 6) -> str:
    """The functions with the most self time in a CDP CPU profile, as one line."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    deltas = profile.get("timeDeltas") or []
    spent: dict[str, float] = {}
    for node_id, delta in zip(profile.get("samples") or [], deltas, strict=False):
        frame = nodes[node_id]["callFrame"]
        name = frame["functionName"] or "(anonymous)"
        where = frame.get("url", "").rsplit("/", 1)[-1]
        key = f"{name} [{where}:{frame.get('lineNumber', 0) + 1}]" if where else name
        spent[key] = spent.get(key, 0.0) + delta / 1000
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    return "; ".join(f"{name} {ms:.0f} ms" for name, ms in ranked)


def add_chart_data(ds, n: int) -> None:
    """What the Distribution panel charts, at ``n`` samples: 1 to 3 boxes of 20 classes per
    sample (about 2n annotations), a float quality score (``dark_score``, missing on 10 %), an
    int metadata key and a categorical key with 12 values (missing on 20 %) and a flag."""
    import polars as pl

    from lightly_studio.db import get_connection, query_frame, transaction
    from lightly_studio.store.metadata import set_metadata_values

    did = str(ds.dataset_id)
    t = time.perf_counter()
    with transaction() as con:
        con.execute(f"""INSERT INTO annotation_label (label_id, dataset_id, name, created_at)
            SELECT uuid(), '{did}', 'class_' || lpad(i::VARCHAR, 2, '0'), now()
            FROM range(20) t(i)""")
        con.execute(f"""INSERT INTO annotation (annotation_id, sample_id, label_id,
                annotation_type, x, y, width, height, created_at, updated_at)
            WITH labels AS (SELECT label_id, row_number() OVER (ORDER BY name) - 1 AS k
                            FROM annotation_label WHERE dataset_id = '{did}'),
                 boxes AS (SELECT s.sample_id, s.sample_idx, j
                           FROM sample s, range(3) t(j)
                           WHERE s.dataset_id = '{did}' AND j <= s.sample_idx % 3)
            SELECT uuid(), b.sample_id, l.label_id, 'object_detection', 1, 1, 10, 10, now(), now()
            FROM boxes b JOIN labels l ON l.k = (hash(b.sample_id, b.j) % 20)""")
    annotations = get_connection().execute("SELECT count(*) FROM annotation").fetchone()[0]
    rows = query_frame(
        "SELECT CAST(sample_id AS VARCHAR) AS sample_id, sample_idx AS i FROM sample "
        "WHERE dataset_id = $1",
        [did],
    )
    i = pl.col("i")
    columns = {
        "dark_score": pl.when(i % 10 == 0).then(None).otherwise((i * 7919 % 1000) / 1000.0),
        "objects_seen": (i * 31 % 97).cast(pl.Int64),
        "camera": pl.when(i % 5 == 0)
        .then(None)
        .otherwise(pl.format("cam_{}", (i * 13 % 12).cast(pl.Utf8))),
        "is_dark_issue": (i * 7919 % 1000) > 900,
    }
    for key, expr in columns.items():
        frame = rows.select("sample_id", expr.alias("value"))
        set_metadata_values(get_connection(), did, key, frame)
    print(
        f"  added {annotations:,} boxes of 20 classes and 4 metadata keys "
        f"in {time.perf_counter() - t:.1f} s"
    )


def _timed(fn, runs: int = 5) -> float:
    """Median ms of ``runs`` warm calls (one call before, untimed: DuckDB's first scan of a
    column reads it from disk)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)[len(times) // 2]


def distributions_bench(n: int) -> None:
    """The Distribution panel at ``n`` samples, unfiltered and under two filters: the whole
    answer (api ``distributions``, by objects and by images) and, unfiltered, each chart's
    statement on its own (a filtered answer reads the filter once into a frame, then every
    chart aggregates that: its parts are not separate statements over the table)."""
    import os

    from lightly_studio import db_manager
    from lightly_studio.api import dispatch, query_from_spec
    from lightly_studio.db import get_connection
    from lightly_studio.store import aggregates
    from lightly_studio.store.metadata import metadata_columns

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["LIGHTLY_STUDIO_RUNTIME_DIR"] = str(tmp_path / "rt")
        db_manager.connect(db_file=tmp_path / "million.db")
        print(f"Distribution panel, {n:,} synthetic samples:")
        ds = build_million(n, tmp_path / "img")
        add_chart_data(ds, n)
        did = str(ds.dataset_id)
        con = get_connection()
        keys = metadata_columns(con, did)
        query = query_from_spec({"dataset_id": did})
        numeric = ["width", "height"] + [c for t, c in keys.values() if t in ("int", "float")]

        def rows(columns: str) -> tuple[str, list]:
            return query.rows_subquery(columns)

        numeric_sql = ", ".join(f"s.{c} AS v{i}" for i, c in enumerate(numeric))
        charts = {
            "classes by objects": lambda: aggregates.class_counts(con, did, None),
            "classes by images (distinct)": lambda: aggregates.class_counts(
                con, did, None, images=True
            ),
            f"{len(numeric)} histograms (20 bins, 2 scans)": lambda: aggregates.numeric_histograms(
                con, rows(numeric_sql), len(numeric), 20
            ),
        }
        for key, (key_type, column) in keys.items():
            if key_type not in ("int", "float"):
                charts[f"{key} value counts"] = lambda c=column: (
                    aggregates.value_counts_with_missing(con, rows(f"s.{c} AS v"), 30)
                )
        print("  whole dataset, one statement per chart: median of 5 warm runs")
        for name, fn in charts.items():
            print(f"    {name:<34} {_timed(fn):7.1f} ms")
        filters = {
            "whole dataset": {"dataset_id": did},
            "filter: class_03 (~14 %)": {"dataset_id": did, "labels": ["class_03"]},
            "filter: dark_score >= 0.9 (~10 %)": {
                "dataset_id": did,
                "metadata": {"dark_score": {"range": [0.9, None]}},
            },
            # A similarity search matches every sample with a vector (here all): the
            # charts are those of its set, whatever the ranking.
            "search: similar to a sample": {
                "dataset_id": did,
                "similar_to": str(query[0].sample_id),
            },
        }
        print("  the panel's whole answer (api distributions): median of 3 warm runs")
        for title, spec in filters.items():
            by = {
                mode: _timed(
                    lambda spec=spec, mode=mode: dispatch(
                        "distributions", {"spec": spec, "class_count": mode}
                    ),
                    3,
                )
                for mode in ("objects", "images")
            }
            print(
                f"    {title:<34} {by['objects']:7.1f} ms by objects, "
                f"{by['images']:7.1f} ms by images"
            )
        db_manager.close()


def million(n: int, first_paint_runs: int = 0) -> None:
    """The 1M figures; with ``first_paint_runs``, only that many repeated first paints."""
    import os

    from lightly_studio import db_manager
    from lightly_studio.ingest.thumbnails import cache_dir

    if not Path(CHROMIUM).exists():
        print(f"  {CHROMIUM} missing: browser figures skipped")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["LIGHTLY_STUDIO_RUNTIME_DIR"] = str(tmp_path / "rt")
        (tmp_path / "img").mkdir()
        db_manager.connect(db_file=tmp_path / "million.db")
        print(
            f"{n:,} synthetic samples ({IMG_W}x{IMG_H} JPEGs, only the first "
            f"{REAL_FILES} exist on disk):"
        )
        ds = build_million(n, tmp_path / "img")
        did = str(ds.dataset_id)
        ids = write_first_files(did, tmp_path / "img", REAL_FILES)
        print("  thumbnails of the first page (100, server-side, batches of 48):")
        _thumbnails_cold_warm(did, ids[:100])
        shutil.rmtree(cache_dir(), ignore_errors=True)  # the browser's first paint is cold too
        if Path(CHROMIUM).exists() and first_paint_runs:
            _repeat_first_paint(tmp_path, first_paint_runs)
        elif Path(CHROMIUM).exists():
            _browser(tmp_path)
        db_manager.close()


def _browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # CSP violations (e.g. a blob: worker refused) only show on the console.
            page.on(
                "console",
                lambda m: (
                    errors.append(f"console.{m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            gl = page.evaluate("""() => { const g = document.createElement('canvas').getContext('webgl');
                const d = g && g.getExtension('WEBGL_debug_renderer_info');
                return g ? (d ? g.getParameter(d.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER)) : 'none'; }""")
            print(
                f"  browser: headless Chromium {browser.version}, WebGL renderer: {gl} "
                "(software), server in-process on loopback"
            )

            # -- time to first thumbnails (cold thumbnail cache) --------------------------------
            _first_paint(page, server.url, tmp_path / "grid.png")

            # -- plot with 1M points -----------------------------------------------------------
            page.wait_for_function("() => window.__lightlyStudio !== undefined")
            page.evaluate(_WRAP_RPC)
            t_click = page.evaluate(
                "() => { const t = performance.now();"
                " document.querySelector('[data-testid=ls-plot-toggle]').click(); return t; }"
            )
            page.locator("[data-testid=ls-plot-status]").wait_for(timeout=10_000)
            page.evaluate(_WATCH_STATUS)
            page.wait_for_function("() => window.__plotFrame !== null", timeout=120_000)
            got = page.evaluate(
                "() => ({p: window.__plotPoints, f: window.__plotFrame,"
                " rpc: window.__rpcTimes.filter(r => r.method === 'plot_points')})"
            )
            print(
                f"  plot: status {got['p']['text']!r} (drawn, lasso index built) "
                f"{got['p']['t'] - t_click:.0f} ms after the Plot click; two frames later "
                f"{got['f'] - t_click:.0f} ms (plot_points rpc {got['rpc'][0]['ms']:.0f} ms "
                "incl. 8 MB Float32 transfer)"
            )
            # Reopened: plot_points is cached server-side until the projection changes.
            page.evaluate(
                "() => { window.__rpcTimes.length = 0;"
                " const b = document.querySelector('[data-testid=ls-plot-toggle]');"
                " b.click(); b.click(); }"
            )
            page.locator("[data-testid=ls-plot-status]").wait_for(timeout=10_000)
            page.evaluate(_WATCH_STATUS)
            page.wait_for_function("() => window.__plotPoints !== null", timeout=120_000)
            again = page.evaluate("() => window.__rpcTimes.filter(r => r.method === 'plot_points')")
            print(f"  plot reopened: plot_points rpc {again[0]['ms']:.0f} ms (cached)")
            page.wait_for_timeout(500)
            box = page.locator("[data-testid=ls-plot-canvas]").bounding_box()
            page.screenshot(path=str(tmp_path / "plot-before.png"))
            print(f"  plot canvas box: {box}")
            for name, frac in (
                ("small lasso", (0.44, 0.29, 0.56, 0.39)),
                ("large lasso", (0.2, 0.2, 0.8, 0.8)),
            ):
                try:
                    if PROFILE_LASSO:
                        cdp = ctx.new_cdp_session(page)
                        cdp.send("Profiler.enable")
                        cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                        cdp.send("Profiler.start")
                    r = _lasso(page, box, frac)
                    if PROFILE_LASSO:
                        profile = cdp.send("Profiler.stop")["profile"]
                        print(f"  {name}, page main thread by self time: {_top_self_time(profile)}")
                except Exception as exc:  # noqa: BLE001 - report what the page shows instead
                    status = page.locator("[data-testid=ls-plot-status]").inner_text()
                    print(
                        f"  {name}: no selection within 20 s ({type(exc).__name__}); "
                        f"status {status!r}"
                    )
                    continue
                rpc = ", ".join(f"{ms:.0f}" for ms in r["plot_select_ms"]) or "n/a"
                hit = ", ".join(f"{ms:.0f}" for ms in r["up_to_select_ms"]) or "n/a"
                print(
                    f"  {name}: status {r['text']!r}; mouse-up -> status "
                    f"{r['up_to_status_ms']:.0f} ms, of which regl-scatterplot's lasso hit "
                    f"test in the page (mouse-up -> plot_select sent) {hit} ms; plot_select "
                    f"round trip (indices -> id set) {rpc} ms   goal < 500 ms"
                )
                page.wait_for_timeout(1500)  # let the linked grid refilter before the next
            page.screenshot(path=str(tmp_path / "plot.png"))
            shots = Path(__file__).resolve().parents[1] / "test-artifacts"
            shots.mkdir(exist_ok=True)
            for name in ("grid.png", "plot-before.png", "plot.png"):
                shutil.copy(tmp_path / name, shots / f"bench-million-{name}")
            print(f"  screenshots: {shots}/bench-million-{{grid,plot}}.png")
            if errors:
                print(f"  page errors: {errors}")
            ctx.close()
            browser.close()
    finally:
        server.stop()


def search(n: int, dim: int = 512, repeats: int = 7) -> None:
    """Text and image search at ``n`` samples: ms from the request to the ranked first page."""
    import io
    import os
    import statistics
    import sys

    import numpy as np
    import polars as pl
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_search import clustered

    from lightly_studio import db_manager
    from lightly_studio.api import dispatch
    from lightly_studio.core.image_dataset import ImageDataset
    from lightly_studio.db import transaction
    from lightly_studio.embed import _ann
    from lightly_studio.embed._open_clip import load_model
    from lightly_studio.store import embeddings as emb_store
    from lightly_studio.store.samples import insert_samples

    spec = "open_clip:ViT-B-32:random"
    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "search.db")
        ds = ImageDataset.create("search")
        t = time.perf_counter()
        frame = pl.DataFrame(
            {
                "file_path_abs": [f"/data/{i:07d}.jpg" for i in range(n)],
                "file_name": [f"{i:07d}.jpg" for i in range(n)],
                "width": 640,
                "height": 480,
            }
        )
        with transaction() as con:
            ids = insert_samples(con, ds.dataset_id, frame)["sample_id"]
        vectors = clustered(n, dim)
        with transaction() as con:
            row = emb_store.ensure_model(con, ds.dataset_id, "clip", spec, dim)
            emb_store.insert_vectors(con, row.model_id, ids, vectors)
        del vectors
        print(f"{n:,} samples + {n:,} x {dim} vectors stored in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        load_model(spec)
        print(f"  model loaded (once, not in the figures below): {time.perf_counter() - t:.1f} s")
        spec_of = {"dataset_id": str(ds.dataset_id)}

        def first_page(extra: dict) -> float:
            t0 = time.perf_counter()
            page, _ = dispatch("samples_page", {"spec": {**spec_of, **extra}, "limit": 100})
            assert len(page["rows"]) == 100 and page["rows"][0]["similarity"] is not None
            return (time.perf_counter() - t0) * 1000

        words = ["dog", "cat", "car", "tree", "boat", "bird", "horse", "house"]
        texts = [f"a photo of a {w}" for w in words]
        cold = first_page({"text": "a photo of a person"})
        print(
            f"  first search (exact scan: reads the matrix; the index builds behind): {cold / 1000:.1f} s"
        )
        t = time.perf_counter()
        _ann.wait_for_builds()
        print(f"  index built in the background, ready {time.perf_counter() - t:.1f} s later")
        text_ms = [first_page({"text": texts[i % len(texts)]}) for i in range(repeats)]
        model = load_model(spec)
        text_embed_ms = []
        for i in range(repeats):
            t0 = time.perf_counter()
            model.embed_texts([texts[i % len(texts)] + " again"])
            text_embed_ms.append((time.perf_counter() - t0) * 1000)
        rng = np.random.default_rng(0)
        image_ms, embed_ms = [], []
        for _ in range(repeats):
            pixels = rng.integers(0, 255, size=(480, 640, 3), dtype=np.uint8)
            out = io.BytesIO()
            Image.fromarray(pixels).save(out, "JPEG", quality=85)
            t0 = time.perf_counter()
            result, _ = dispatch("image_search", spec_of, [out.getvalue()])
            embed_ms.append((time.perf_counter() - t0) * 1000)
            image_ms.append(embed_ms[-1] + first_page({"similar_image": result["token"]}))
        load = os.getloadavg()[0]
        print(
            f"  text search -> ranked first page (100 rows): p50 {statistics.median(text_ms):.0f} ms "
            f"(min {min(text_ms):.0f}, max {max(text_ms):.0f}); the text encoder alone p50 "
            f"{statistics.median(text_embed_ms):.0f} ms"
        )
        print(
            f"  image search (640x480 JPEG upload -> ranked first page): p50 "
            f"{statistics.median(image_ms):.0f} ms (min {min(image_ms):.0f}, max "
            f"{max(image_ms):.0f}); of which embedding the image p50 "
            f"{statistics.median(embed_ms):.0f} ms"
        )
        print(f"  ({os.cpu_count()} CPUs, load average {load:.1f})")
        db_manager.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--million",
        action="store_true",
        help="also measure first thumbnails, plot and lasso at 1M samples",
    )
    parser.add_argument(
        "--distributions",
        action="store_true",
        help="only time the Distribution panel's charts at --samples samples",
    )
    parser.add_argument(
        "--samples", type=int, default=1_000_000, help="size for --million / --distributions"
    )
    parser.add_argument(
        "--profile-lasso",
        action="store_true",
        help="with --million: CPU-profile the page during each lasso and "
        "print where its main thread spent the time",
    )
    parser.add_argument(
        "--first-paint",
        type=int,
        default=0,
        metavar="N",
        help="with --million: only time first paint, N times (median), "
        "each on a fresh server and a cold thumbnail cache",
    )
    parser.add_argument(
        "--search",
        action="store_true",
        help="only text and image search at --samples (default 1M) with a loaded ViT-B-32",
    )
    args = parser.parse_args()
    if args.search:
        search(args.samples)
        return
    global PROFILE_LASSO
    PROFILE_LASSO = args.profile_lasso
    if args.distributions:
        distributions_bench(args.samples)
        return
    if not args.first_paint:
        coco()
    if args.million:
        million(args.samples, args.first_paint)


if __name__ == "__main__":
    main()
