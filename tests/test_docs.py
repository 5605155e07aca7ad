"""Every Python block in docs/*.md runs, page by page, in a fresh folder and database.

A block preceded by `<!-- skip -->` is shown but not run (servers, your own data).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"(<!-- skip -->\s*)?```python\n(.*?)```", re.S)


def python_blocks(page: Path) -> list[str]:
    return [code for skip, code in BLOCK.findall(page.read_text()) if not skip]


PAGES = sorted(p for p in DOCS.glob("*.md") if python_blocks(p))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_page_runs(page, tmp_path, monkeypatch, examples):
    from lightly_studio import db_manager

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIGHTLY_STUDIO_EXAMPLE_DATA", str(examples))
    db_manager.connect(db_file=tmp_path / "lightly_studio.db")
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    try:
        for number, code in enumerate(python_blocks(page), start=1):
            try:
                # dont_inherit: this file's `from __future__ import annotations` must not leak
                # into the docs' code (it breaks dataclasses defined there).
                exec(
                    compile(code, f"{page.name} block {number}", "exec", dont_inherit=True),
                    namespace,
                )
            except Exception as error:
                raise AssertionError(f"{page.name}, block {number} failed:\n{code}") from error
    finally:
        db_manager.close()
