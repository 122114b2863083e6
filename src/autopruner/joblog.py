"""One logging convention for every Snakemake job: its log file receives logging, stdout and stderr.

Scripts wrap their work in ``with job_log(snakemake.log[0]):`` so the package's ``logging`` messages, anything printed
(Keras progress, hls4ml and g++ output) and warnings all land in the rule's declared log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def _redirect_fds(stream) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``stream`` too, so C++ libraries and child processes (TensorFlow, g++ under
    hls4ml) write into the log rather than the console."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
        yield
    finally:
        stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@contextlib.contextmanager
def job_log(path: str | os.PathLike) -> Iterator[logging.Logger]:
    """Route logging, stdout and stderr to ``path`` (created, truncated) for the duration of the block.

    An exception escaping the block is logged with its traceback before it propagates, so the log says why a job failed
    even where the executor keeps only the log.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as stream:
        root = logging.getLogger()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        previous_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logger = logging.getLogger("autopruner.job")
        try:
            with _redirect_fds(stream), contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                yield logger
        except BaseException:
            logger.exception("job failed")
            raise
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            sys.stdout.flush()
