"""Listing media files below a folder or fsspec URL, and reading image sizes from headers."""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lightly_studio.errors import IngestError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Listing:
    """Files found below ``root``: their absolute paths (local) or URLs (remote)."""

    root: str
    paths: list[str]
    fs: object | None  # fsspec filesystem for remote roots, None for local ones
    skipped: list[tuple[str, str]]  # (path, reason) of entries that cannot be indexed


def is_remote(path: str) -> bool:
    return "://" in str(path) and not str(path).startswith("file://")


def normalize_extensions(extensions: Sequence[str] | None, default: Sequence[str]) -> tuple:
    if extensions is None:
        return tuple(default)
    return tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)


def list_files(path: str, extensions: Sequence[str]) -> Listing:
    """Every file below ``path`` whose extension (case-insensitive) is in ``extensions``.

    Local folders are walked without following directory symlinks, so symlink loops end.
    Only regular files are listed (a link to one is fine): a pipe, socket or device named
    ``x.jpg`` would hang or mislead the reader, so it goes to ``skipped`` unopened.
    """
    path = str(path)
    if is_remote(path):
        return _list_remote(path, extensions)
    if path.startswith("file://"):
        path = path[len("file://") :]
    root = os.path.abspath(os.path.expanduser(path))
    if not os.path.exists(root):
        raise IngestError(f"Path does not exist: {root}")
    if os.path.isfile(root):
        return Listing(os.path.dirname(root), [root], None, [])
    found, skipped = [], []
    extensions = tuple(extensions)
    for entry in _walk(root):
        if not entry.name.lower().endswith(extensions):
            continue
        full = entry.path
        if not full.isascii():
            try:
                full.encode("utf-8")
            except UnicodeEncodeError:  # undecodable bytes in a name (surrogateescape)
                skipped.append(
                    (
                        full.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                        "file name is not valid UTF-8",
                    )
                )
                continue
        # A plain regular file is known from the directory listing (no system call); links
        # and anything else are stat-ed, following the link.
        reason = None if entry.is_file(follow_symlinks=False) else _not_regular(full)
        if reason:
            skipped.append((full, reason))
            continue
        found.append(full)
    return Listing(root, found, None, skipped)


def _walk(root: str) -> Iterator[os.DirEntry]:
    """The entries below ``root`` that are not folders, in ``os.walk`` order (top-down, names
    sorted). Linked folders are not entered, so symlink loops end; unreadable folders are
    passed over, as ``os.walk`` does."""
    stack = [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                yield entry
            elif not entry.is_symlink():
                folders.append(entry.path)
        stack.extend(reversed(folders))


def _not_regular(path: str) -> str | None:
    """Why ``path`` (links followed) cannot be indexed without opening it, or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "broken link: its target does not exist"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a folder, pipe, socket or device)"
    return None


def _list_remote(url: str, extensions: Sequence[str]) -> Listing:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    if not fs.exists(root):
        raise IngestError(f"Path does not exist: {url}")
    paths = sorted(p for p in fs.find(root) if os.path.splitext(p)[1].lower() in extensions)
    return Listing(
        fs.unstrip_protocol(root).rstrip("/"), [fs.unstrip_protocol(p) for p in paths], fs, []
    )


# JPEG and PNG files end with a marker; a file cut short has none in its last bytes. Some
# whole files have no marker there either: phones' motion photos append a video after the
# JPEG's end. So a missing marker only sends the file to a full decode, which decides.
_END_MARKERS = {"jpeg": b"\xff\xd9", "png": b"IEND"}
_TAIL = 1024
_HEAD = 65536
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers, which carry the size (all but DHT C4, JPG C8, DAC CC).
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def read_image_size(path: str, fs=None) -> tuple[int, int]:
    """(width, height) from the image header without decoding pixels.

    JPEG and PNG headers are parsed directly (PIL's open costs several times more per file, and
    indexing is bound by this); other formats go through PIL. Raises ValueError with a reason
    for files that cannot be indexed: empty, not an image, truncated, or a header claiming
    more pixels than PIL will ever decode.
    """
    try:
        if fs is None:
            # O_NONBLOCK: should a pipe have replaced the listed file, opening it must not hang.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise ValueError("not a regular file (a folder, pipe, socket or device)")
                head = os.read(fd, _HEAD)
                total = st.st_size
                tail = head[-_TAIL:] if total <= _HEAD else os.pread(fd, _TAIL, total - _TAIL)
            finally:
                os.close(fd)
        else:
            head = fs.cat_file(path, start=0, end=_HEAD)
            tail = None  # a second ranged request per file is not worth it remotely
    except FileNotFoundError:
        raise ValueError("file not found") from None
    except OSError as exc:
        raise ValueError(f"cannot read file: {exc.strerror or exc}") from None
    if not head:
        raise ValueError("file is empty")
    kind, size = _parse_header(head)
    if size is None:
        size = _pil_size(head, path, fs)
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError(f"image header has an empty size {width}x{height}")
    _check_pixels(width, height)
    if kind is not None and tail is not None and _END_MARKERS[kind] not in tail:
        _check_decodes(path)
    return int(width), int(height)


def read_sizes(paths: list[str], fs=None) -> list[tuple[int, int] | str]:
    """read_image_size for each path: (width, height), or why the file cannot be read."""

    def size_of(p: str) -> tuple[int, int] | str:
        try:
            return read_image_size(p, fs)
        except (ValueError, OSError) as exc:
            return str(exc)

    if fs is None:
        # Local header reads are short, mostly Python work: threads only add GIL contention
        # (slower with 2-8 threads on 2 cores, see docs/performance.md).
        return [size_of(p) for p in paths]
    # Remote reads wait on the network, so threads overlap them.
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(size_of, paths, chunksize=16))


def _parse_header(head: bytes) -> tuple[str | None, tuple[int, int] | None]:
    if head[:2] == b"\xff\xd8":
        return "jpeg", _jpeg_size(head)
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR":
        width, height = struct.unpack_from(">II", head, 16)
        return "png", (width, height)
    return None, None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i, n = 2, len(data)
    while i + 9 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, i + 5)
            return width, height
        elif marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
        else:
            i += 2 + struct.unpack_from(">H", data, i + 2)[0]
    return None


def _check_decodes(path: str) -> None:
    """Decode the whole image: a file cut short raises, one with data after its end does not.

    Only for the rare file without an end marker in its last bytes (cost: one decode).
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.load()
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ValueError(f"file is truncated or damaged (no end-of-image marker; {exc})") from None


def _check_pixels(width: int, height: int) -> None:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > 2 * limit:
        raise ValueError(
            f"image header claims too many pixels ({width}x{height}), "
            f"more than twice PIL's limit of {limit}"
        )


def _pil_size(head: bytes, path: str, fs) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        try:
            return _header_size(io.BytesIO(head), Image)
        except (UnidentifiedImageError, OSError, SyntaxError, struct.error):
            if len(head) < _HEAD:
                raise
            # The header did not fit in the first bytes: read the whole file.
            if fs is None:
                with open(path, "rb") as f:
                    return _header_size(f, Image)
            return _header_size(io.BytesIO(fs.cat_file(path)), Image)
    except Image.DecompressionBombError as exc:
        raise ValueError(f"image header claims too many pixels ({exc})") from None
    except UnidentifiedImageError:
        raise ValueError("not a readable image") from None
    except (OSError, SyntaxError, struct.error) as exc:
        raise ValueError(f"cannot read file: {exc}") from None


def _header_size(f, Image) -> tuple[int, int]:
    with warnings.catch_warnings():
        # Large-but-legal images warn; only the error (2x the limit) rejects a file.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(f) as img:
            return img.size


_WARN_PATHS = 5


def report_skipped(
    failed: list[tuple[str, str]], total: int, root: str, kind: str, nothing_indexed: bool
) -> None:
    """One warning listing the first few files that could not be indexed (and why); an
    ``IngestError`` instead when nothing at all could be indexed."""
    if not failed:
        return

    examples = "; ".join(f"{p} ({reason})" for p, reason in failed[:_WARN_PATHS])
    more = f" and {len(failed) - _WARN_PATHS} more" if len(failed) > _WARN_PATHS else ""
    message = (
        f"Skipped {len(failed)} of {total} {kind} files below {root} that could not be "
        f"read: {examples}{more}."
    )
    if nothing_indexed:
        raise IngestError(f"No {kind} could be indexed. {message}")
    warnings.warn(message, UserWarning, stacklevel=3)
