"""Tests that need ../shared: skipped with a reason in a fresh clone, run (or failed) in CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_present_files_are_returned(shared, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data").mkdir()
    assert shared("data", root=tmp_path) == tmp_path / "data"


def test_absent_files_skip_with_the_reason(  # type: ignore[no-untyped-def]
    shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    message = r"needs data/mnist from \.\./shared \(.*\), which is absent"
    with pytest.raises(pytest.skip.Exception, match=message):
        shared("data/mnist", root=tmp_path)


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_absent_files_fail_under_ci(  # type: ignore[no-untyped-def]
    shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: needs data/mnist .* must provide"):
        shared("data/mnist", root=tmp_path)


def test_no_test_builds_a_path_to_shared_itself() -> None:
    """Every path into ../shared goes through the ``shared`` fixture (tests/conftest.py)."""
    tests = Path(__file__).parent
    pattern = re.compile(r"""/\s*["']shared["']|["']\.\./shared""")
    offenders = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if path != tests / "conftest.py" and pattern.search(path.read_text())
    ]
    assert offenders == [], f"use the shared fixture in {offenders}"
