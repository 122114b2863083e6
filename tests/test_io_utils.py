"""Atomic outputs: a failing writer leaves no file that looks complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from autopruner.io_utils import atomic_output, require_file, write_json


def test_success_renames_onto_target(tmp_path: Path):
    target = tmp_path / "sub" / "out.root"
    with atomic_output(target) as tmp:
        assert tmp.suffix == ".root" and tmp.parent == target.parent
        tmp.write_bytes(b"payload")
        assert not target.exists()
    assert target.read_bytes() == b"payload"
    assert list(target.parent.iterdir()) == [target]


def test_failure_leaves_nothing(tmp_path: Path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_version(tmp_path: Path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as tmp:
        tmp.write_text("{")
        raise KeyboardInterrupt
    assert '"version": 1' in target.read_text()


def test_require_file_names_the_path(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nothing.root"):
        require_file(tmp_path / "nothing.root")


def test_atomic_directory_replaces_only_on_success(tmp_path):
    from autopruner.io_utils import atomic_directory

    target = tmp_path / "sub" / "project"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("second")
        raise RuntimeError("writer failed")
    assert (target / "a.txt").read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["project"]  # no temporary folder left behind
    with atomic_directory(target) as tmp:
        (tmp / "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
