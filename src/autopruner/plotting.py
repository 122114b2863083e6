"""The one place plots are set up: the non-interactive backend, the HEP style, and atomic multi-page PDFs.

Every stage that draws imports ``plt`` from here, so the Agg backend is chosen once (jobs run without a display) and
every figure shares one style.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import mplhep  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from autopruner.io_utils import atomic_output  # noqa: E402

__all__ = ["plt", "mplhep", "hep_style", "save_pages", "save_figure", "open_pdf"]

# mplhep's styles name fonts that a bare machine may lack; the fallback font is fine and the warning is noise
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def hep_style(name: str = "ROOT") -> AbstractContextManager:
    """A context manager applying one of mplhep's styles (``ROOT`` or ``ATLAS``) to the figures made inside it."""
    return plt.style.context(getattr(mplhep.style, name))


def save_pages(figures: Iterable, out_pdf: str | os.PathLike, tight: bool = True) -> None:
    """Write figures as the pages of one PDF, atomically, and close them."""
    with atomic_output(out_pdf) as tmp, PdfPages(tmp) as pdf:
        for fig in figures:
            pdf.savefig(fig, bbox_inches="tight" if tight else None)
            plt.close(fig)


def save_figure(fig, out_pdf: str | os.PathLike) -> None:
    """Write one figure as a one-page PDF, atomically, and close it."""
    save_pages([fig], out_pdf, tight=False)


@contextlib.contextmanager
def open_pdf(out_pdf: str | os.PathLike) -> Iterator[PdfPages]:
    """Yield a ``PdfPages`` that is renamed onto ``out_pdf`` only if the block succeeds.

    For PDFs written page by page (one feature at a time), where holding every figure in memory is wasteful.
    """
    with atomic_output(out_pdf) as tmp, PdfPages(tmp) as pdf:
        yield pdf
