"""The ``lightly-studio`` command: open the app on a database, try it on the example data, and
index or export datasets from scripts. docs/cli.md is its manual.

Exit codes, for scripts: 0 done, 1 the command failed (one line on stderr says why, no
traceback), 2 the command line is wrong (argparse's usage message).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lightly_studio.errors import LightlyStudioError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

DEFAULT_DB_FILE = "lightly_studio.db"

# export format -> (DatasetExport method, whether it writes a folder rather than one file)
EXPORT_FORMATS: dict[str, tuple[str, bool]] = {
    "coco": ("to_coco_object_detections", False),
    "coco-masks": ("to_coco_instance_segmentations", False),
    "coco-captions": ("to_coco_captions", False),
    "yolo": ("to_yolo_object_detections", True),
    "csv-classifications": ("to_csv_classifications", False),
}


class CommandError(LightlyStudioError):
    """A command cannot run as asked (e.g. its database file is missing)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with EXIT_USAGE on a wrong command line
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return run(args)
    except (LightlyStudioError, OSError, ValueError) as exc:
        # Expected failures (bad files, bad data, port in use): one line a person can act on.
        print(f"lightly-studio: error: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lightly-studio",
        description="Curate, search, annotate, select and export image and video datasets.",
        epilog="Exit codes: 0 done, 1 the command failed, 2 wrong command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    gui = commands.add_parser(
        "gui",
        help="open the app on an existing database",
        description="Serve the app on the datasets of an existing database file until Ctrl-C.",
    )
    gui.add_argument("--db-file", default=DEFAULT_DB_FILE, help="default: %(default)s")
    _add_server_options(gui, host=True)
    gui.set_defaults(run=_gui)

    quickstart = commands.add_parser(
        "quickstart",
        help="index the example data and open the app on it",
        description=(
            "Copy or download the example datasets into ./dataset_examples, index them there "
            "(with embeddings) and serve the app on them until Ctrl-C. Re-running reuses them."
        ),
    )
    _add_server_options(quickstart, host=False)
    quickstart.set_defaults(run=_quickstart)

    _add_index_parser(commands)
    _add_export_parser(commands)
    return parser


def _add_server_options(parser: argparse.ArgumentParser, host: bool) -> None:
    if host:
        parser.add_argument(
            "--host",
            default=None,
            help="address to bind (default 127.0.0.1; any other needs the printed token)",
        )
    parser.add_argument("--port", type=int, default=None, help="default 8001; 0 picks a free one")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL instead of opening a browser"
    )


def _database_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db-file", default=DEFAULT_DB_FILE, help="default: %(default)s")
    common.add_argument("--dataset", required=True, help="the dataset's name")
    return common


def _add_index_parser(commands: Any) -> None:
    index = commands.add_parser(
        "index",
        help="add images, videos or labelled datasets to a database",
        description=(
            "Add samples to a dataset (created when new) in a database file (created when "
            "new). Re-running adds only what is not indexed yet."
        ),
    )
    kinds = index.add_subparsers(title="what to index", metavar="KIND", required=True)
    common = _database_options()
    common.add_argument(
        "--no-embed", action="store_true", help="skip computing embeddings for the new samples"
    )

    images = kinds.add_parser("images", parents=[common], help="a folder of images")
    images.add_argument("path", help="folder (or fsspec URL) with the images")
    images.add_argument(
        "--tag-depth", type=int, default=0, help="tag each image with its first N folder names"
    )
    images.set_defaults(run=_index_images)

    videos = kinds.add_parser("videos", parents=[common], help="a folder of videos")
    videos.add_argument("path", help="folder (or fsspec URL) with the videos")
    videos.set_defaults(run=_index_videos)

    labelled = argparse.ArgumentParser(add_help=False)
    labelled.add_argument(
        "--source", default="ground_truth", help="annotation source name (default %(default)s)"
    )
    labelled.add_argument(
        "--annotations-only",
        action="store_true",
        help="attach the labels to images already in the dataset (e.g. predictions)",
    )
    coco = kinds.add_parser(
        "coco", parents=[common, labelled], help="a COCO detection or segmentation dataset"
    )
    coco.add_argument("--annotations-json", required=True)
    coco.add_argument("--images-path", required=True)
    coco.add_argument(
        "--segmentation", action="store_true", help="import instance masks, not only boxes"
    )
    coco.set_defaults(run=_index_coco)

    yolo = kinds.add_parser("yolo", parents=[common, labelled], help="a YOLO dataset")
    yolo.add_argument("--data-yaml", required=True)
    yolo.add_argument("--split", default=None, help="import only this split (e.g. train)")
    yolo.set_defaults(run=_index_yolo)


def _add_export_parser(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        parents=[_database_options()],
        help="write a dataset (or its samples with a tag) in a label format",
        description="Export a dataset of an existing database file.",
    )
    export.add_argument("format", choices=sorted(EXPORT_FORMATS))
    export.add_argument(
        "--output", required=True, help="file to write (a folder for yolo); folders are created"
    )
    export.add_argument("--tag", default=None, help="only the samples with this tag")
    export.add_argument("--source", default=None, help="only this annotation source (default: all)")
    export.add_argument("--root", default=None, help="write image paths relative to this folder")
    export.set_defaults(run=_export)


# -- commands -------------------------------------------------------------------------------------
def _gui(args: argparse.Namespace) -> int:
    _connect_existing(args.db_file)
    _serve(args.host, args.port, args.no_browser)
    return EXIT_OK


def _quickstart(args: argparse.Namespace) -> int:
    from lightly_studio import _demo

    for dataset in _demo.index_examples():
        print(f"{dataset.name}: {len(dataset)} samples", flush=True)
    _serve(None, args.port, args.no_browser)
    return EXIT_OK


def _index_images(args: argparse.Namespace) -> int:
    dataset = _image_dataset(args)
    added = dataset.add_images_from_path(
        args.path, tag_depth=args.tag_depth, embed=not args.no_embed
    )
    return _report_index(dataset, added)


def _index_videos(args: argparse.Namespace) -> int:
    from lightly_studio import db_manager
    from lightly_studio.core.video_dataset import VideoDataset

    db_manager.connect(db_file=args.db_file)
    dataset = VideoDataset.load_or_create(args.dataset)
    added = dataset.add_videos_from_path(args.path, embed=not args.no_embed)
    return _report_index(dataset, added)


def _index_coco(args: argparse.Namespace) -> int:
    from lightly_studio.core.annotation import AnnotationType

    dataset = _image_dataset(args)
    kind = AnnotationType.INSTANCE_SEGMENTATION if args.segmentation else None
    if args.annotations_only:
        result = dataset.add_annotations_from_coco(
            args.annotations_json,
            images_path=args.images_path,
            annotation_type=kind,
            annotation_source=args.source,
        )
        return _report_index(dataset, result)
    added = dataset.add_samples_from_coco(
        args.annotations_json,
        args.images_path,
        annotation_type=kind,
        embed=not args.no_embed,
        annotation_source=args.source,
    )
    return _report_index(dataset, added)


def _index_yolo(args: argparse.Namespace) -> int:
    dataset = _image_dataset(args)
    if args.annotations_only:
        result = dataset.add_annotations_from_yolo(
            args.data_yaml, input_split=args.split, annotation_source=args.source
        )
        return _report_index(dataset, result)
    added = dataset.add_samples_from_yolo(
        args.data_yaml,
        input_split=args.split,
        embed=not args.no_embed,
        annotation_source=args.source,
    )
    return _report_index(dataset, added)


def _export(args: argparse.Namespace) -> int:
    from lightly_studio.core.dataset import Dataset
    from lightly_studio.errors import DatasetNotFoundError
    from lightly_studio.query.fields import ImageSampleField

    _connect_existing(args.db_file)
    names = Dataset.list_names()
    if args.dataset not in names:
        listed = ", ".join(repr(n) for n in names) or "none"
        raise DatasetNotFoundError(
            f"No dataset named {args.dataset!r} in {args.db_file} (datasets: {listed})."
        )
    dataset = _load_any(args.dataset)
    query = dataset.query()
    if args.tag is not None:
        query = query.match(ImageSampleField.tags.contains(args.tag))
    method, _ = EXPORT_FORMATS[args.format]
    kwargs: dict[str, Any] = {"root": args.root}
    if args.format != "coco-captions":
        kwargs["annotation_source"] = args.source
    elif args.source is not None:
        raise CommandError("--source does not apply to coco-captions (captions have no source).")
    written = getattr(dataset.export(query), method)(args.output, **kwargs)
    print(f"Exported {len(query)} samples of {dataset.name!r} to {written}", flush=True)
    return EXIT_OK


# -- helpers --------------------------------------------------------------------------------------
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lightly_studio")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from lightly_studio import __version__

        return __version__


def _connect_existing(db_file: str) -> None:
    """Open ``db_file``, refusing to create one: a typo must not open an empty app."""
    from lightly_studio import db_manager

    path = Path(db_file).expanduser()
    if not path.is_file():
        raise CommandError(
            f"No database file at {path.resolve()}. Index data into it first (lightly-studio "
            "index ... or Python), pass the right --db-file, or try lightly-studio quickstart."
        )
    db_manager.connect(db_file=path)


def _image_dataset(args: argparse.Namespace) -> Any:
    from lightly_studio import db_manager
    from lightly_studio.core.image_dataset import ImageDataset

    db_manager.connect(db_file=args.db_file)
    return ImageDataset.load_or_create(args.dataset)


def _load_any(name: str) -> Any:
    """The dataset ``name`` as an ImageDataset or a VideoDataset, whichever it holds."""
    from lightly_studio.core.image_dataset import ImageDataset
    from lightly_studio.core.video_dataset import VideoDataset
    from lightly_studio.errors import DatasetNotFoundError

    try:
        return ImageDataset.load(name)
    except DatasetNotFoundError:
        return VideoDataset.load(name)


def _report_index(dataset: Any, result: Any) -> int:
    """One line of what was added; an import's warnings (skipped items) go to stderr."""
    if isinstance(result, int):  # images and videos report a count
        added = f"{result} new samples"
    else:  # COCO and YOLO report an ImportResult
        added = f"{result.samples_added} new samples, {result.annotations_added} annotations"
        for warning in result.warnings:
            print(f"lightly-studio: warning: {warning}", file=sys.stderr)
    print(f"{dataset.name}: {added}, {len(dataset)} samples in all", flush=True)
    return EXIT_OK


def _serve(host: str | None, port: int | None, no_browser: bool) -> None:
    from lightly_studio.server import start_gui

    start_gui(host=host, port=port, block=True, open_browser=not no_browser)


if __name__ == "__main__":
    sys.exit(main())
