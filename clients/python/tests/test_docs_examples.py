"""docs/python.md's examples, run as written, in order, against the live server."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from .conftest import Live

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "python.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOCS.read_text(), flags=re.MULTILINE | re.DOTALL)


def test_the_docs_examples_run_as_written(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 5, "docs/python.md lost its examples"
    # The docs tell readers to run from the repository folder, with the key and base URL in the environment.
    monkeypatch.chdir(ROOT)
    assert os.environ["EDGEDIAL_BASE_URL"] == live.base_url
    namespace: dict = {"__name__": "docs_example"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"docs/python.md block {number} failed: {error!r}\n{block}") from error
    output = printed.getvalue()
    assert " draft 13 contacts" in output, output
    assert "finished: completed" in output, output
    assert "interested {'plan': 'gold', 'seats': 3}" in output, output
    assert "verified a ping message" in output, output
