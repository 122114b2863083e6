"""Every job's log receives logging, print, stderr and child-process output, and the failure that ended it."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from autopruner.joblog import job_log


def test_log_collects_every_stream(tmp_path):
    path = tmp_path / "logs" / "job.log"
    with job_log(path) as log:
        log.info("from logging")
        print("from print")
        print("from stderr", file=sys.stderr)
        subprocess.run([sys.executable, "-c", "import os; os.write(2, b'from a child\\n')"], check=True)
    text = path.read_text()
    for expected in ("from logging", "from print", "from stderr", "from a child"):
        assert expected in text
    print("after the block")  # the streams are restored
    assert "after the block" not in path.read_text()


def test_log_records_the_failure(tmp_path):
    path = tmp_path / "job.log"
    with pytest.raises(ValueError, match="bad input"), job_log(path):
        raise ValueError("bad input")
    text = path.read_text()
    assert "job failed" in text and "ValueError: bad input" in text
    logging.getLogger().warning("after the block")  # the handler is gone
    assert "after the block" not in path.read_text()
