"""Embeddings on a local Ray cluster: the same vectors as the local path, faults survived.

A 2-worker local cluster on this machine and the random-weights test model; the cluster is
started once for the module (starting Ray costs seconds) and shut down after it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lightly_studio import embed
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.errors import EmbeddingError
from tests.embed.conftest import RANDOM_SPEC
from tests.embed.test_api import make_dataset

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def cluster():
    # Ray waits a fixed 30 s for its raylet to register; on a busy 2-core machine that can
    # pass, so a failed start is retried (a real cluster address fails fast elsewhere).
    for attempt in range(3):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield
    ray.shutdown()


def vectors_of(ds: ImageDataset, model: str) -> dict[str, np.ndarray]:
    ids, vectors = embed.get_embeddings(ds, model_name=model)
    return {str(i): v for i, v in zip(ids, vectors, strict=True)}


def test_ray_gives_the_vectors_of_the_local_path(db, tmp_path, cluster):
    ds, _ = make_dataset(tmp_path / "imgs", 12)
    local = ImageDataset.create("local")
    local.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    assert local.compute_embeddings(RANDOM_SPEC) == 12
    assert ds.compute_embeddings(RANDOM_SPEC, engine="ray", num_workers=2, batch_size=4) == 12

    by_name = {s.file_name: str(s.sample_id) for s in ds.query().to_list()}
    local_by_name = {s.file_name: str(s.sample_id) for s in local.query().to_list()}
    ours, theirs = vectors_of(ds, RANDOM_SPEC), vectors_of(local, RANDOM_SPEC)
    for name, sample_id in by_name.items():
        np.testing.assert_allclose(ours[sample_id], theirs[local_by_name[name]], atol=1e-6)
    assert not list(tmp_path.glob("lightly_studio.db.shards/*/*"))  # shards removed once stored


def _ray_worker_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="ignore")
            except OSError:
                continue
            if "EmbedShards" in title:
                pids.append(int(entry.name))
    return pids


def test_a_worker_killed_mid_job_still_yields_every_sample_once(db, tmp_path, cluster):
    ds, _ = make_dataset(tmp_path / "imgs", 24)
    shards = tmp_path / "shards"
    killed: list[int] = []

    def kill_one_worker_after_the_first_shard() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            pids = _ray_worker_pids()
            if pids and list(shards.glob("shard-*.parquet")):
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_after_the_first_shard, daemon=True)
    killer.start()
    stored = ds.compute_embeddings(
        RANDOM_SPEC, engine="ray", num_workers=2, batch_size=2, shard_dir=str(shards)
    )
    killer.join(timeout=5)
    assert killed, "no worker was killed: the test did not exercise a fault"
    assert stored == 24
    stored_ids, _ = embed.get_embeddings(ds, model_name=RANDOM_SPEC)
    assert len(stored_ids) == 24 and len(set(stored_ids)) == 24


def test_a_rerun_after_an_interruption_computes_only_what_is_missing(db, tmp_path, cluster):
    from lightly_studio.embed import _ray

    ds, ids = make_dataset(tmp_path / "imgs", 10)
    shards = str(tmp_path / "shards")
    paths = {str(s.sample_id): s.file_path_abs for s in ds.query().to_list()}
    first = [str(i) for i in ids[:6]]
    # The first run's workers finished six samples, then the owner was interrupted before
    # it stored anything.
    _ray.run(first, [paths[i] for i in first], RANDOM_SPEC, shards,
             ray_address=None, num_workers=2, num_gpus_per_worker=0, batch_size=3,
             progress=False)  # fmt: skip

    outcome = _ray.run([str(i) for i in ids], [paths[str(i)] for i in ids], RANDOM_SPEC,
                       shards, ray_address=None, num_workers=2, num_gpus_per_worker=0,
                       batch_size=3, progress=False)  # fmt: skip
    assert (outcome.computed, outcome.from_shards) == (4, 6)
    assert ds.compute_embeddings(RANDOM_SPEC, engine="ray", shard_dir=shards) == 10


def test_an_unreachable_cluster_and_a_custom_model_are_clear_errors(db, tmp_path):
    from lightly_studio.embed import _ray

    if ray.is_initialized():
        ray.shutdown()
    with pytest.raises(EmbeddingError, match="Cannot reach the Ray cluster"):
        _ray.connect("127.0.0.1:1")
    ds, _ = make_dataset(tmp_path / "imgs", 2)
    with pytest.raises(EmbeddingError, match="engine must be"):
        ds.compute_embeddings(RANDOM_SPEC, engine="spark")


def test_image_checks_on_ray_find_what_the_local_run_finds(db, tmp_path, cluster):
    from PIL import Image, ImageFilter

    from lightly_studio.quality._image_stats import image_stats

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sharp = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    sharp.save(folder / "sharp.png")
    sharp.save(folder / "copy.png")  # an exact duplicate, found across workers
    sharp.filter(ImageFilter.GaussianBlur(6)).save(folder / "blurry.png")
    Image.new("RGB", (160, 120), (3, 3, 3)).save(folder / "dark.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    paths = sorted(str(p) for p in folder.iterdir())

    local = image_stats(paths)
    distributed = image_stats(paths, engine="ray", workers=2)
    assert distributed.error == local.error and distributed.error.count(None) == 4
    np.testing.assert_array_equal(distributed.pixel_hash, local.pixel_hash)
    for field in ("brightness_perc_99", "entropy", "blurriness"):
        np.testing.assert_allclose(getattr(distributed, field), getattr(local, field))

    ds = ImageDataset.create("checks")
    ds.add_images_from_path(str(folder), embed=False)
    found = ds.compute_image_issues(
        checks=["dark", "blurry", "exact_duplicates"], engine="ray", workers=2
    )
    names = {str(s.sample_id): s.file_name for s in ds.query().to_list()}
    flagged = {(names[i], issue) for i, issue in found.select("sample_id", "issue").iter_rows()}
    assert {
        ("dark.png", "dark"),
        ("copy.png", "exact_duplicates"),
        ("sharp.png", "exact_duplicates"),
    } <= flagged


def test_thumbnails_rendered_on_ray_are_the_local_ones_and_reruns_skip_them(
    db, tmp_path, image_folder, cluster
):
    from lightly_studio.ingest import thumbnails

    ds = ImageDataset.create("thumbs")
    ds.add_images_from_path(str(image_folder), embed=False)
    (image_folder / "e.jpg").write_bytes(b"not a jpeg")

    report = ds.render_thumbnails(engine="ray", num_workers=2, progress=False)

    by_name = {Path(r["file_path_abs"]).name: r for r in report.iter_rows(named=True)}
    assert by_name["e.jpg"]["status"] == "failed" and "e.jpg" in by_name["e.jpg"]["error"]
    for name, row in by_name.items():
        if name != "e.jpg":
            assert row["status"] == "rendered"
            path = row["file_path_abs"]
            expected = thumbnails.render_thumbnail(Path(path).read_bytes())
            assert thumbnails.cached_path(path).read_bytes() == expected
    rerun = ds.render_thumbnails(engine="ray", progress=False)
    assert sorted(rerun["status"]) == ["cached"] * 4 + ["failed"]
