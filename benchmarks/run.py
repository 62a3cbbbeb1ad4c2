"""Benchmark latentspace against its peers and rewrite docs/benchmarks.md.

Usage (what `make bench` runs)::

    .venv/bin/python benchmarks/run.py            # full run, about 40 min on 2 cores
    .venv/bin/python benchmarks/run.py --quick    # digits + MNIST, short training, 100k queries
    .venv/bin/python benchmarks/run.py --only maps

Sections: maps (latentspace's default map vs umap-learn, openTSNE, PaCMAP), training
(latentspace's loop vs a plain PyTorch loop), queries (KNNGraph query latency and
recall), explorer (1M points in the browser: bytes per point, first frame, neighbour
latency), startup (`latentspace --help`). Every measured program runs in a fresh process.
Raw results go to results.json in the work folder next to the report.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

from common import REPO, load_average, machine_info, run_process

SECTIONS = ("maps", "training", "queries", "explorer", "startup")
STARTUP_RUNS = 5


def run_startup(work_dir: Path, quick: bool) -> dict:
    """Time `latentspace --help` in fresh processes and return the median."""
    executable = Path(sys.executable).parent / "latentspace"
    command = [str(executable), "--help"] if executable.exists() else [
        sys.executable, "-m", "latentspace", "--help"]
    results = [run_process(command, 120.0) for _ in range(STARTUP_RUNS)]
    walls = [r.wall_s for r in results if r.ok]
    return {
        "command": " ".join(command[-2:] if executable.exists() else command[-3:]),
        "runs_s": walls,
        "median_s": statistics.median(walls) if walls else None,
        "failed": sum(not r.ok for r in results),
    }


def keep_previous_sections(results: dict, previous_path: Path) -> None:
    """Add the sections of the previous run of the same kind that this run did not repeat."""
    if not previous_path.exists():
        return
    previous = json.loads(previous_path.read_text())
    if previous.get("quick") != results["quick"]:
        return
    for name, section in previous.get("sections", {}).items():
        if name not in results["sections"]:
            section.setdefault("started", previous.get("started"))
            section["kept_from_previous_run"] = True
            results["sections"][name] = section


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short run: digits and MNIST maps, 1 training epoch, "
                             "queries at 100,000 points (a few minutes)")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="run only this section (repeat for several); the other sections "
                             "are kept from the last run's results.json in --work-dir when "
                             "it was a run of the same kind (quick or full)")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md",
                        help="Markdown report to rewrite (default: docs/benchmarks.md)")
    parser.add_argument("--work-dir", type=Path,
                        default=Path(os.environ.get("LATENTSPACE_BENCH_WORK",
                                                    "/tmp/latentspace-bench")),
                        help="folder for cached data sets, maps and results.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    log = logging.getLogger("benchmarks")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    args.work_dir.mkdir(parents=True, exist_ok=True)
    os.environ["LATENTSPACE_BENCH_WORK"] = str(args.work_dir)
    import explorer
    import maps
    import queries
    import report
    import training

    runners = {"maps": maps.run, "training": training.run, "queries": queries.run,
               "explorer": explorer.run,
               "startup": run_startup}
    sections = args.only or list(SECTIONS)
    started = time.perf_counter()
    results = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "machine": machine_info(),
        "load_at_start": load_average(),
        "sections": {},
    }
    for name in sections:
        log.info("section %s", name)
        section_started = time.perf_counter()
        now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        results["sections"][name] = runners[name](args.work_dir, args.quick)
        results["sections"][name]["seconds"] = time.perf_counter() - section_started
        results["sections"][name]["started"] = now
    results["total_s"] = time.perf_counter() - started
    results["load_at_end"] = load_average()
    if args.only:
        keep_previous_sections(results, args.work_dir / "results.json")

    (args.work_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.render(results))
    log.info("wrote %s (%.0f s in all)", args.output, results["total_s"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
