"""Per-rule memory and wall time measured by Snakemake's ``benchmark:`` files, for ``workflow/resources.yaml``.

``python -m autopruner.resources logs/benchmarks`` prints, per rule, the largest max_rss and wall time over its jobs and
the ``mem_mb``/``runtime`` they suggest (50 % memory headroom, 3x time margin, one-minute floor).
"""

from __future__ import annotations

import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

MEMORY_HEADROOM = 1.5
RUNTIME_MARGIN = 3.0


def read_benchmarks(root: str | Path) -> dict[str, list[dict[str, float]]]:
    """Rule -> one dict per job (``s``, ``max_rss`` [MB], ``cpu_time`` [s]) from ``root/{rule}/**.tsv``.

    A rule's benchmark files live under ``root/{rule}`` or are ``root/{rule}.tsv``.
    """
    jobs: dict[str, list[dict[str, float]]] = defaultdict(list)
    root = Path(root)
    for tsv in sorted(root.rglob("*.tsv")):
        rule = tsv.relative_to(root).parts[0].removesuffix(".tsv")
        with tsv.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                jobs[rule].append({k: _number(row.get(k)) for k in ("s", "max_rss", "cpu_time")})
    return dict(jobs)


def _number(value: str | None) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def suggest(jobs: list[dict[str, float]]) -> dict[str, float]:
    """The largest wall time and memory of a rule's jobs and the resources they suggest."""
    wall_s = max(j["s"] for j in jobs)
    rss_mb = max(j["max_rss"] for j in jobs)
    return {
        "jobs": len(jobs),
        "max_wall_s": wall_s,
        "max_rss_mb": rss_mb,
        "mean_cpu_s": sum(j["cpu_time"] for j in jobs) / len(jobs),
        "mem_mb": int(100 * math.ceil(MEMORY_HEADROOM * max(rss_mb, 200.0) / 100)),
        "runtime": max(1, math.ceil(RUNTIME_MARGIN * wall_s / 60)),
    }


#: rules whose batch jobs hold event files (HTCondor disk per shard, MB)
SHARD_DISK_MB = {"generate": 1500, "reconstruct": 1500}


def htcondor_set_resources(resources: dict[str, dict[str, int]]) -> str:
    """The ``set-resources`` block of profiles/htcondor/config.yaml: the plugin reads no mem_mb, so each rule's
    ``htcondor_request_mem_mb`` repeats workflow/resources.yaml's mem_mb (times the attempt)."""
    lines = ["set-resources:"]
    for rule, entry in resources.items():
        disk = f", htcondor_request_disk_mb: {SHARD_DISK_MB[rule]}" if rule in SHARD_DISK_MB else ""
        lines.append(f'  {rule}: {{htcondor_request_mem_mb: "{int(entry["mem_mb"])} * attempt"{disk}}}')
    return "\n".join(lines) + "\n"


def rewrite_htcondor_profile(resources_yaml: str | Path, profile_yaml: str | Path) -> None:
    """Replace the profile's ``set-resources`` block (the last top-level block) by one made from resources.yaml."""
    import yaml

    resources = yaml.safe_load(Path(resources_yaml).read_text())
    text = Path(profile_yaml).read_text()
    head, _, tail = text.partition("set-resources:\n")
    rest = tail.splitlines(keepends=True)
    while rest and rest[0].startswith("  "):
        rest.pop(0)
    Path(profile_yaml).write_text(head + htcondor_set_resources(resources) + "".join(rest))


def main(argv: list[str] | None = None) -> None:
    """Print one line per rule: measurements and the suggested ``{mem_mb, runtime}``; with ``--htcondor PROFILE``
    rewrite that profile's memory requests from workflow/resources.yaml instead."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--htcondor"]:
        rewrite_htcondor_profile("workflow/resources.yaml", args[1])
        return
    root = args[0] if args else "logs/benchmarks"
    for rule, jobs in sorted(read_benchmarks(root).items()):
        s = suggest(jobs)
        print(f"{rule}: {{mem_mb: {s['mem_mb']}, runtime: {s['runtime']}}}  # {s['jobs']} jobs, max "
              f"{s['max_wall_s']:.1f} s wall, {s['max_rss_mb']:.0f} MB rss, mean {s['mean_cpu_s']:.1f} s cpu")


if __name__ == "__main__":
    main()
