"""Every api method, fed hostile params, answers with a result or one of our errors.

Property-based (Hypothesis, fixed seed): for each method in ``lightly_studio.api.METHODS`` —
the registry is iterated, so a new method is fuzzed without touching this file — random
params mixing valid ids with JSON values of every type, wrong types for the keys the method
reads, huge ints, NaN/inf, very long strings, nested objects, unknown ids and path-like
strings. A call must return, or raise a ``LightlyStudioError`` (what the HTTP layer answers
as a 400 naming the problem); any other exception is a bug that surfaces as a 500. A call
must not hang, and must not write a file anywhere but beside the database (the thumbnail
cache, the exports folder).

Methods that write (annotation edits, tags, exports, operator runs) run against a throwaway
dataset in a sandbox: the working directory and $HOME point into it, so a relative or ``~``
path that escapes the exports folder lands somewhere this test can see.
"""

from __future__ import annotations

import inspect
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightly_studio import api
from lightly_studio.api._spec import SPEC_KEYS
from lightly_studio.errors import LightlyStudioError
from lightly_studio.server import _transport
from tests.api.conftest import write_images

CALL_TIMEOUT_S = 30
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 50))
# Methods the fuzzed params never get past the checks, so the test cannot require an answer:
# they need state the sandbox lacks (embeddings for a plot, a run of an operator) or a value
# it does not guess (an annotation's current version, an export format's exact name). The
# classifier methods need embeddings, which the sandbox's dataset has not. export_download needs
# a finished export, group_detail a group dataset, image_search embeddings (tests/api/test_groups_api.py
# and tests/api/test_image_search.py pin them), video_frames, video_media and video_poster a video, and tag_rename the tag "good", which tag_delete (run
# before it) may already have removed; tests/security/test_export_download.py,
# tests/video/test_video_api.py, tests/video/test_video_posters.py and tests/api/test_tags.py
# pin their answers.
NEVER_ANSWERS = frozenset(
    {
        "annotation_accept",
        "annotation_update",
        "caption_update",
        "classifier_add_examples",
        "classifier_apply",
        "classifier_create",
        "classifier_show",
        "classifier_train",
        "export",
        "export_download",
        "group_detail",
        "image_search",
        "operator_cancel",
        "operator_run",
        "operator_status",
        "plot_colors",
        "plot_ids",
        "plot_indices",
        "plot_points",
        "plot_select",
        "tag_rename",
        "video_frames",
        "video_media",
        "video_poster",
    }
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A sandbox with a small dataset (2 images, a box, a caption, a tag, metadata), ids of
    every kind, and the folders a stray write could land in."""
    from lightly_studio import db_manager
    from lightly_studio.core.annotation import CreateObjectDetection
    from lightly_studio.core.image_dataset import ImageDataset

    root = tmp_path_factory.mktemp("fuzz")
    data, home, outside = root / "data", root / "home", root / "outside"
    cwd = root / "cwd" / "a" / "b" / "c"  # deep: "../../x" stays inside root
    for folder in (data / "images", home, outside, cwd):
        folder.mkdir(parents=True)
    write_images(data / "images", {"a.jpg": (40, 30), "b.png": (20, 10), "c.jpg": (8, 8)})
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        mp.setenv("HOME", str(home))
        db_manager.connect(db_file=data / "lightly_studio.db")
        try:
            ds = ImageDataset.create("fuzz")
            ds.add_images_from_path(str(data / "images"), embed=False)
            samples = sorted(ds, key=lambda s: s.file_name)
            samples[0].add_tag("good")
            samples[0].add_annotation(
                CreateObjectDetection(label="car", x=1, y=1, width=9, height=9)
            )
            samples[0].add_caption("a car")
            # An evaluation run named like base["name"], for the evaluation_* methods.
            samples[1].add_annotation(
                CreateObjectDetection(
                    label="car",
                    x=2,
                    y=2,
                    width=8,
                    height=8,
                    confidence=0.9,
                    annotation_source="model",
                )
            )
            ds.evaluate().object_detection("car", "ground_truth", "model")
            # Boxes only the bulk methods get (annotation_delete, run before them, removes the
            # first box): one that annotations_delete removes on its first answer, one that
            # the relabel, tag and crop methods use after it.
            for label in ("bus", "truck"):
                samples[1].add_annotation(
                    CreateObjectDetection(label=label, x=0, y=0, width=4, height=4)
                )
            samples[0].metadata["speed"] = 1.5
            samples[0].metadata["weather"] = "sunny"
            # A sample whose file no longer decodes (replaced after it was added).
            (data / "images" / "c.jpg").write_bytes(b"not an image any more")
            ann = samples[0].annotations[0]
            by_label = {a.label: a for a in samples[1].annotations}
            ids = {
                "dataset": str(ds.dataset_id),
                "samples": [str(s.sample_id) for s in samples],
                "annotation": str(ann.annotation_id),
                "doomed_annotation": str(by_label["bus"].annotation_id),
                "kept_annotation": str(by_label["truck"].annotation_id),
                "caption": api.dispatch(
                    "annotator_sample", {"sample_id": str(samples[0].sample_id)}
                )[0]["captions"][0]["caption_id"],
                "query": api.register_query(ds.query()),
                "ids": api.register_ids([str(samples[0].sample_id)]),
            }
            yield {
                "root": root,
                "data": data,
                "home": home,
                "outside": outside,
                "cwd": cwd,
                "ids": ids,
            }
        finally:
            db_manager.close()


def _keys_read_by(fn) -> set[str]:
    """The param names a method reads (``params.get("x")``, ``params["x"]``, helpers' keys)."""
    source = inspect.getsource(inspect.getmodule(fn))
    return set(
        re.findall(
            r"""(?:params|scope|spec|changes|annotation)(?:\.get\(|\[)["'](\w+)["']""", source
        )
    )


HOSTILE_STRINGS = [
    "",
    " ",
    "../../etc/passwd",
    "~/.bashrc",
    "..",
    "/",
    "x" * 100_000,
    "\x00",
    "%s%n",
    "' OR 1=1 --",
    "query-1",
    "ids-1",
    "plot-1",
    "run-1",
    str(uuid.UUID(int=0)),
    str(uuid.uuid4()),
    "not-a-uuid",
    "metadata:speed",
    "file_name",
    "tag:good",
    "label",
    "coco",
    "file_list",
    "yolo",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(HOSTILE_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _good_values(world) -> st.SearchStrategy:
    ids = world["ids"]
    outside = str(world["outside"] / "out.json")
    return st.sampled_from(
        [
            ids["dataset"],
            *ids["samples"],
            ids["annotation"],
            ids["caption"],
            ids["query"],
            ids["ids"],
            outside,
            str(world["home"]),
            0,
            1,
            5,
            True,
            "car",
            "good",
            [ids["samples"][0]],
            ids["samples"],
            [0, 0, 5, 5],
            {"kind": "selection", "sample_ids": ids["samples"]},
            "Export",
            {"format": "file_list", "output_path": "../../escape.txt"},
            {"output_path": outside},
            {"output_path": "~/x.txt"},
        ]
    )


def _specs(world, values) -> st.SearchStrategy:
    ids = world["ids"]
    return st.fixed_dictionaries(
        {"dataset_id": st.sampled_from([ids["dataset"]]) | values},
        optional={
            key: values
            | st.sampled_from(
                [
                    ids["query"],
                    ids["ids"],
                    ["good"],
                    ["car"],
                    [1, 2],
                    {"field": "width", "desc": True},
                    {"speed": {"range": [0, 2]}},
                ]
            )
            for key in sorted(SPEC_KEYS - {"dataset_id"})
        },
    )


def _params(world, fn) -> st.SearchStrategy:
    values = _good_values(world) | json_values
    keys = sorted(_keys_read_by(fn) | {"dataset_id", "sample_id"})
    optional = {k: values for k in keys}
    optional["spec"] = _specs(world, values) | values
    optional["annotation"] = (
        st.fixed_dictionaries(
            {},
            optional={
                k: values
                | st.sampled_from(
                    ["object_detection", "classification", "instance_segmentation", "ground_truth"]
                )
                for k in (
                    "type",
                    "label",
                    "source",
                    "confidence",
                    "box",
                    "polygon",
                    "rle",
                    "iscrowd",
                )
            },
        )
        | values
    )
    optional["changes"] = (
        st.dictionaries(
            st.sampled_from(["label", "box", "polygon", "rle", "confidence", "other"]),
            values,
            max_size=3,
        )
        | values
    )
    return st.fixed_dictionaries({}, optional=optional)


def _one_bad_key(world, fn) -> st.SearchStrategy:
    """Valid params for every key the method reads, then one of them made hostile: reaches
    the checks behind the first one."""
    ids = world["ids"]
    base = {
        "dataset_id": ids["dataset"],
        "sample_id": ids["samples"][0],
        "annotation_id": ids["annotation"],
        "caption_id": ids["caption"],
        "sample_ids": ids["samples"][:1],
        "spec": {"dataset_id": ids["dataset"]},
        "text": "a caption",
        "label": "car",
        "name": "car",
        "tag": "good",
        "by": "label",
        "format": "coco",
        "scope": "all",
        "operator": "nope",
        "annotation": {"type": "object_detection", "label": "car", "box": [1, 1, 5, 5]},
        "changes": {"label": "bus"},
        "task": "object_detection",
        "gt_source": "ground_truth",
        "pred_source": "model",
        "annotation_ids": [ids["kept_annotation"]],
        "shortcuts": {},
    }
    if fn.name == "annotations_delete":
        base["annotation_ids"] = [ids["doomed_annotation"]]
    if fn.name == "caption_add":
        # caption_id only puts a deleted caption back (undo); the world's caption exists.
        del base["caption_id"]
    keys = sorted(_keys_read_by(fn) | set(base))
    spec_keys = sorted(SPEC_KEYS)

    def build(key, value, spec_key):
        params = {k: v for k, v in base.items() if k in keys}
        if key == "spec" and spec_key:
            params["spec"] = {"dataset_id": ids["dataset"], spec_key: value}
        else:
            params[key] = value
        return params

    return st.builds(
        build, st.sampled_from(keys), json_values, st.none() | st.sampled_from(spec_keys)
    )


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _allowed(path: Path, data: Path) -> bool:
    """Writes the api may make: the DB's own files, the thumbnail cache, the exports folder."""
    rel = path.relative_to(data) if path.is_relative_to(data) else None
    return rel is not None and (
        rel.parts[0] in ("exports", ".lightly_studio_cache")
        or rel.name.startswith("lightly_studio.db")
    )


def _check_reply(fn, result, buffers, params) -> None:
    """An answer is what the HTTP layer can send: the method's declared result keys, binary
    buffers only when it declares them, all of it encodable (else the reply is a 500)."""
    where = f"{fn.name} on {params!r:.300}"
    assert isinstance(result, dict), f"{where}: result {result!r:.200} is not an object"
    missing = fn.result.__required_keys__ - set(result)
    assert not missing, f"{where}: result lacks {sorted(missing)}"
    assert fn.buffers_out or not buffers, f"{where}: buffers from a method that declares none"
    assert all(isinstance(b, (bytes, bytearray, memoryview)) for b in buffers), where
    _transport.encode_reply(result, buffers)


_pool = ThreadPoolExecutor(1, thread_name_prefix="fuzz-call")
_repo = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("method", sorted(api.METHODS))
def test_hostile_params_give_a_result_or_our_error(world, method, monkeypatch):
    from lightly_studio.dataset import env

    # The one folder a view's export may write to: the one _allowed() accepts.
    monkeypatch.setattr(env, "LIGHTLY_STUDIO_EXPORT_DIR", str(world["data"] / "exports"))
    fn = api.METHODS[method]
    answered: list[str] = []
    repo_before = set(os.listdir(_repo)) - {".hypothesis"}

    @settings(
        derandomize=True,
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        params=_params(world, fn) | _one_bad_key(world, fn),
        buffers=st.lists(st.binary(max_size=64), max_size=2),
    )
    def check(params, buffers):
        before = _tree(world["root"])
        future = _pool.submit(api.dispatch, method, params, buffers)
        try:
            result, out = future.result(timeout=CALL_TIMEOUT_S)
        except FutureTimeout:
            pytest.fail(f"{method} hung (> {CALL_TIMEOUT_S} s) on {params!r:.300}")
        except LightlyStudioError as exc:
            assert str(exc), f"{type(exc).__name__} without a message"
        else:
            answered.append(method)
            _check_reply(fn, result, out, params)
        written = {p for p in _tree(world["root"]) - before if not _allowed(p, world["data"])}
        assert not written, f"{method} wrote outside the exports folder: {sorted(written)}"

    check()
    # Else a method that refused everything (a broken check) would pass: with the default
    # number of examples, the valid params of _one_bad_key and the good values reach a real
    # answer for every method but NEVER_ANSWERS.
    if method not in NEVER_ANSWERS and MAX_EXAMPLES >= 50:
        assert answered, f"{method} raised our error for every example: its checks refuse all"
    assert set(os.listdir(_repo)) - {".hypothesis"} == repo_before, (
        f"{method} wrote into the repository"
    )
