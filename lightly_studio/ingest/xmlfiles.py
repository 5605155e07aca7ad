"""Reading label XML (Pascal VOC, CVAT) safely.

Label files come from anywhere. Python's expat does not fetch external entities and (expat
≥ 2.4.1) limits entity amplification, but a label file has no business declaring a DTD or
entities at all, so any ``<!DOCTYPE`` or ``<!ENTITY`` is refused before parsing — the rule
defusedxml applies (forbid_dtd / forbid_entities), without the extra dependency.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

from lightly_studio.errors import IngestError

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_xml(path: str | os.PathLike) -> ET.Element:
    """The root element of an XML file; IngestError naming the file (and line) on failure."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError as exc:
        raise IngestError(f"{path}: file not found") from exc
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc})") from exc
    return parse_xml_bytes(raw, str(path))


def parse_xml_bytes(raw: bytes, path: str) -> ET.Element:
    found = _FORBIDDEN.search(raw)
    if found:
        line = raw.count(b"\n", 0, found.start()) + 1
        raise IngestError(
            f"{path}, line {line}: DTD and entity declarations are not allowed in label files"
        )
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        line, column = exc.position
        raise IngestError(f"{path}, line {line}, column {column}: malformed XML ({exc})") from None


def text_of(element: ET.Element, tag: str, where: str, *, required: bool = True) -> str | None:
    """The stripped text of the child ``tag``; IngestError when required and absent/empty."""
    child = element.find(tag)
    text = child.text.strip() if child is not None and child.text else None
    if required and not text:
        raise IngestError(f"{where}missing <{tag}>")
    return text


def number_of(element: ET.Element, tag: str, where: str) -> float:
    text = text_of(element, tag, where)
    try:
        return float(text)  # type: ignore[arg-type]
    except ValueError:
        raise IngestError(f"{where}<{tag}> is not a number: {text!r}") from None


def attr_number(element: ET.Element, name: str, where: str) -> float:
    value = element.get(name)
    if value is None:
        raise IngestError(f"{where}missing attribute {name!r}")
    try:
        return float(value)
    except ValueError:
        raise IngestError(f"{where}attribute {name}={value!r} is not a number") from None
