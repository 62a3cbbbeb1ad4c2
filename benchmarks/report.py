"""Render the results of benchmarks/run.py as the Markdown page docs/benchmarks.md."""

from __future__ import annotations

OURS = "latentspace"
REFERENCE = "umap"
METHOD_NAMES = {
    "latentspace": "latentspace FastMap",
    "latentspace-cold": "latentspace FastMap, empty numba cache",
    "umap": "umap-learn",
    "opentsne": "openTSNE",
    "pacmap": "PaCMAP",
}


def render(results: dict) -> str:
    """Return the whole Markdown page for one run's `results`."""
    sections = results["sections"]
    parts = [_header(results), _targets(results)]
    if "maps" in sections:
        parts.append(_maps(sections["maps"]))
    if "training" in sections:
        parts.append(_training(sections["training"]))
    if "queries" in sections:
        parts.append(_queries(sections["queries"]))
    if "explorer" in sections:
        parts.append(_explorer(sections["explorer"]))
    if "startup" in sections:
        parts.append(_startup(sections["startup"]))
    parts.append(_machine(results))
    return "\n\n".join(parts) + "\n"


def _header(results: dict) -> str:
    mode = "quick run (`--quick`)" if results["quick"] else "full run"
    kept = {name: section.get("started") for name, section in results["sections"].items()
            if section.get("kept_from_previous_run")}
    when = f"one {mode}, started {results['started']}"
    if kept:
        listed = ", ".join(f"{name} ({started})" for name, started in kept.items())
        when += f", plus sections kept from earlier runs: {listed}"
    return f"""# Benchmarks

This page is written by `benchmarks/run.py` (`make bench`) and is rewritten by each run.
It holds the results of {when}. The sections took {_section_minutes(results):.1f} min in all.

Command: `{results['command']}` (from the repository root; `--quick` for a short run,
`--only SECTION` to rerun one section and keep the others from the last run).

Every measured program runs in a fresh Python process. Wall time is that whole process,
from interpreter start to the map written to disk, so imports, data loading and JIT
compilation count. Peak memory is the process's maximum resident set size (`ru_maxrss`
from `os.wait4`). Ratios are latentspace divided by the peer, so below 1 means
latentspace is faster or smaller.

Load average (1/5/15 min) at start: {results['load_at_start']}, at end:
{results['load_at_end']}. The machine runs other jobs too, so wall times above about 2
(the core count) include waiting for a core; ratios within one section are measured
under similar load."""


def _section_minutes(results: dict) -> float:
    return sum(section.get("seconds", 0.0) for section in results["sections"].values()) / 60


def _row(rows: list[dict], dataset: str, method: str) -> dict | None:
    for row in rows:
        if row["dataset"] == dataset and row["method"] == method and row.get("ok"):
            return row
    return None


def _check(passed: bool | None) -> str:
    if passed is None:
        return "not measured"
    return "met" if passed else "**missed**"


def _targets(results: dict) -> str:
    sections = results["sections"]
    lines = ["## Targets", "", "| Target | Measured | Result |", "|---|---|---|"]

    rows = sections.get("maps", {}).get("rows", [])
    ours, theirs = _row(rows, "mnist", OURS), _row(rows, "mnist", REFERENCE)
    if ours and theirs:
        ratio = ours["wall_s"] / theirs["wall_s"]
        lines.append(f"| MNIST map time <= 0.5x umap-learn | {ratio:.2f}x "
                     f"({ours['wall_s']:.1f} s vs {theirs['wall_s']:.1f} s) | "
                     f"{_check(ratio <= 0.5)} |")
        for key, name in (("knn_accuracy", "kNN accuracy"), ("trustworthiness", "trustworthiness")):
            delta = ours[key] - theirs[key]
            lines.append(f"| MNIST {name} >= umap-learn - 0.01 | {ours[key]:.4f} vs "
                         f"{theirs[key]:.4f} ({delta:+.4f}) | {_check(delta >= -0.01)} |")

    cold = _row(rows, "mnist", "latentspace-cold")
    if cold and theirs:
        ratio = cold["wall_s"] / theirs["wall_s"]
        lines.append(f"| (first run on a machine, empty numba cache) | {ratio:.2f}x "
                     f"({cold['wall_s']:.1f} s) | {_check(ratio <= 0.5)} |")

    ours, theirs = _row(rows, "synthetic-1m", OURS), _row(rows, "synthetic-1m", REFERENCE)
    if ours and theirs:
        ratio = ours["wall_s"] / theirs["wall_s"]
        memory = ours["peak_rss_mb"] / theirs["peak_rss_mb"]
        lines.append(f"| 1M latents map time <= 0.5x umap-learn | {ratio:.2f}x "
                     f"({ours['wall_s']:.0f} s vs {theirs['wall_s']:.0f} s) | "
                     f"{_check(ratio <= 0.5)} |")
        lines.append(f"| 1M latents peak memory <= umap-learn | {memory:.2f}x "
                     f"({ours['peak_rss_mb']:.0f} MB vs {theirs['peak_rss_mb']:.0f} MB) | "
                     f"{_check(memory <= 1.0)} |")

    for row in _training_ratios(sections.get("training", {})):
        lines.append(f"| Training throughput ({row['model']}) >= 1.5x plain PyTorch | "
                     f"{row['ratio']:.2f}x | {_check(row['ratio'] >= 1.5)} |")
    for row in _training_ratios(sections.get("training", {}), "latentspace-bf16"):
        lines.append(f"| ({row['model']} with `--precision bf16`, not the default on CPU) | "
                     f"{row['ratio']:.2f}x | {_check(row['ratio'] >= 1.5)} |")
    for row in sections.get("queries", {}).get("rows", []):
        if row.get("ok"):
            lines.append(f"| Query median at {row['n']:,} points < 20 ms | "
                         f"{row['median_ms']:.2f} ms | {_check(row['median_ms'] < 20)} |")

    startup = sections.get("startup", {})
    if startup.get("median_s") is not None:
        lines.append(f"| `latentspace --help` median < 1 s | {startup['median_s']:.2f} s | "
                     f"{_check(startup['median_s'] < 1.0)} |")
    if not results["quick"] and set(sections) >= {"maps", "training", "queries", "startup"}:
        minutes = _section_minutes(results)
        lines.append(f"| Full benchmark < 60 min | {minutes:.1f} min | {_check(minutes < 60)} |")
    return "\n".join(lines)


def _maps(section: dict) -> str:
    lines = ["## Maps", "",
             "2-D maps at each method's defaults (openTSNE with `n_jobs=-1`, umap-learn "
             "without a seed so it uses all cores). kNN accuracy: 10 nearest neighbours in "
             "the map, 5-fold stratified cross-validation. Trustworthiness: k=10, on a "
             "seeded sample of at most 10,000 points. Time and memory ratios are "
             "latentspace / method.", ""]
    for dataset, description in section["datasets"].items():
        lines += [f"### {dataset}: {description}", "",
                  "| Method | Wall s | latentspace / method | Fit s | CPU s | Peak MB | "
                  "Memory ratio | kNN acc | Trust |",
                  "|---|---|---|---|---|---|---|---|---|"]
        ours = _row(section["rows"], dataset, OURS)
        for row in section["rows"]:
            if row["dataset"] != dataset:
                continue
            name = METHOD_NAMES.get(row["method"], row["method"])
            if not row.get("ok"):
                lines.append(f"| {name} | failed: {row.get('note', '')} | | | | | | | |")
                continue
            time_ratio = f"{ours['wall_s'] / row['wall_s']:.2f}x" if ours else ""
            memory_ratio = f"{ours['peak_rss_mb'] / row['peak_rss_mb']:.2f}x" if ours else ""
            lines.append(
                f"| {name} | {row['wall_s']:.1f} | {time_ratio} | {row.get('fit_s', 0):.1f} | "
                f"{row['cpu_s']:.1f} | {row['peak_rss_mb']:.0f} | {memory_ratio} | "
                f"{row['knn_accuracy']:.4f} | {row['trustworthiness']:.4f} |")
        for skip in section["skipped"]:
            if skip["dataset"] == dataset:
                name = METHOD_NAMES.get(skip["method"], skip["method"])
                lines.append(f"| {name} | skipped: {skip['reason']} | | | | | | | |")
        stages = [r for r in section["rows"]
                  if r["dataset"] == dataset and r["method"] == OURS and r.get("ok")]
        if stages:
            timing = ", ".join(f"{key[:-2]} {stages[0][key]:.1f} s" for key in
                               ("init_s", "knn_s", "graph_s", "layout_s") if key in stages[0])
            lines += ["", f"latentspace stages: {timing}; process startup and imports "
                          f"{stages[0].get('startup_s', 0):.1f} s."]
        lines.append("")
    lines.append("A peer is skipped when scaling its time from the largest smaller data set "
                 "of the same run (as N log N) predicts more than 10 minutes; umap-learn, the "
                 "reference, always runs.")
    return "\n".join(lines)


def _training_ratios(section: dict, loop: str = "latentspace") -> list[dict]:
    rows = section.get("rows", [])
    ratios = []
    for model in dict.fromkeys(r["model"] for r in rows):
        ours = next((r for r in rows if r["model"] == model and r["loop"] == loop
                     and r.get("ok")), None)
        plain = next((r for r in rows if r["model"] == model and r["loop"] == "plain"
                      and r.get("ok")), None)
        if ours and plain:
            ratios.append({"model": model, "ratio": ours["samples_per_s"] / plain["samples_per_s"]})
    return ratios


def _training(section: dict) -> str:
    rounds = section.get("rounds", 1)
    lines = ["## Training throughput", "",
             f"{section['n_samples']:,} MNIST test images, batch size {section['batch_size']}, "
             "Adam, latent dimension 16. `plain` is a PyTorch loop over a per-sample "
             "`Dataset` and a shuffling `DataLoader`, with `torch.optim.Adam`'s defaults and "
             "torch's default threads. `latentspace` is `latentspace.training.train` with its "
             "defaults (validation off), and `latentspace-bf16` the same with "
             "`precision=\"bf16\"`. Samples/s counts the epochs' training passes. `train s` "
             "is the whole call, including thread timing and set-up. Each loop ran "
             f"{rounds} time(s) in fresh processes, alternating with the others; the table "
             "shows the median run, and the last column every run. Machine matmul "
             "throughput (float32 `torch.mm`, 2048 x 2048, default threads): "
             f"{section['matmul_gflops'] or 0:.1f} GFLOP/s.",
             "",
             "| Model | Loop | Epochs | Threads | Samples/s | Train s | FLOPs/sample | GFLOP/s | "
             "Share of matmul | Peak MB | All runs, samples/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in section["rows"]:
        if not row.get("ok"):
            lines.append(f"| {row['model']} | {row['loop']} | failed: {row.get('note')} "
                         "| | | | | | | | |")
            continue
        every_run = ", ".join(f"{value:.0f}" for value in row.get("all_samples_per_s", []))
        lines.append(
            f"| {row['model']} | {row['loop']} | {row['epochs']} | {row['threads']} | "
            f"{row['samples_per_s']:.0f} | {row.get('call_s', row['seconds']):.1f} | "
            f"{row['flops_per_sample'] / 1e6:.1f} M | "
            f"{row['achieved_gflops']:.1f} | {row.get('fraction_of_matmul', 0):.0%} | "
            f"{row['peak_rss_mb']:.0f} | {every_run} |")
    for ratio in _training_ratios(section):
        lines.append(f"\n{ratio['model']}: latentspace / plain = {ratio['ratio']:.2f}x.")
    if section.get("profile"):
        lines += ["", _training_profile(section["profile"])]
    return "\n".join(lines)


def _training_profile(profile: list[dict]) -> str:
    phases = ("data", "forward", "backward", "clip", "adam")
    lines = ["### Where a training step's time goes", "",
             "Milliseconds per step of each phase (`benchmarks/train_profile.py`): both loops "
             "in one process, one epoch each in turn for 3 rounds, medians. `backward` "
             "includes `zero_grad`; `clip` is latentspace's gradient norm (its scaling "
             "happens inside the fused Adam kernel).", "",
             "| Model | Loop | Threads | " + " | ".join(phases) + " | Total |",
             "|---|---|---|" + "---|" * (len(phases) + 1)]
    for entry in profile:
        if "failed" in entry:
            lines.append(f"| {entry['model']} | failed: {entry['failed']} |")
            continue
        for loop in ("plain", "latentspace"):
            times = entry[loop]
            cells = " | ".join(f"{times[phase]:.2f}" for phase in phases)
            lines.append(f"| {entry['model']} | {loop} | {entry['threads'][loop]} | {cells} | "
                         f"{sum(times.values()):.2f} |")
    return "\n".join(lines)


def _queries(section: dict) -> str:
    lines = ["## Neighbour queries", "",
             f"`KNNGraph.build(k=15)` on synthetic 32-d latents, then {section['queries']} "
             f"single-point `query(point, k={section['k']})` calls for held-out points. "
             "Recall@10 against exact search.", "",
             "| Points | Index | Build s | Graph recall | Median ms | p95 ms | Query recall | "
             "Peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for row in section["rows"]:
        if not row.get("ok"):
            lines.append(f"| {row['n']:,} | failed: {row.get('note')} | | | | | | |")
            continue
        lines.append(
            f"| {row['n']:,} | {row['method']} | {row['build_s']:.1f} | "
            f"{row['graph_recall']:.4f} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} | "
            f"{row['query_recall']:.4f} | {row['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def _startup(section: dict) -> str:
    runs = ", ".join(f"{value:.2f}" for value in section["runs_s"])
    median = section["median_s"]
    median_text = f"{median:.2f} s" if median is not None else "not measured"
    return (f"## Start-up\n\n`{section['command']}` in fresh processes: median "
            f"{median_text} (runs: {runs} s; {section['failed']} failed).")


def _machine(results: dict) -> str:
    machine = results["machine"]
    lines = ["## Machine", "",
             f"- CPU: {machine['cpu']}, {machine['cores']} cores "
             f"({machine['usable_cores']} usable by this process), {machine['ram_gb']} GB RAM",
             f"- OS: {machine['os']}, Python {machine['python']}"]
    versions = ", ".join(f"{name} {machine[name]}" for name in
                         ("numpy", "scipy", "numba", "torch", "faiss", "sklearn", "umap",
                          "pynndescent", "openTSNE", "pacmap", "latentspace"))
    lines.append(f"- Packages: {versions}")
    return "\n".join(lines)


def _explorer(result: dict) -> str:
    wire, neighbours, page = result["wire"], result["neighbours"], result["page"]
    if "skipped" in page:
        frame = f"skipped: {page['skipped']}"
    else:
        runs = ", ".join(f"{ms:.0f}" for ms in page["first_frame_ms"])
        frame = f"{page['median_ms'] / 1000:.2f} s median (runs: {runs} ms)"
    wire_text = (f"{wire['bytes_per_point']:.1f} ({wire['points_bytes']:,} + "
                 f"{wire['labels_bytes']:,} bytes)")
    latency = (f"{neighbours['median_ms']:.2f} ms median, "
               f"{neighbours['p95_ms']:.2f} ms p95")
    requests = f"`GET /api/neighbors/{{id}}?k=10`, {neighbours['requests']} sequential requests"
    return f"""## Explorer

`latentspace serve` on {result['n_points']:,} synthetic 32-d latents (20-cluster Gaussian
mixture, explore-only space, PCA map), built in {result['build_s']:.1f} s including the kNN
graph ({result['knn_method']}). Headless Chromium with SwiftShader (software WebGL) opens the
page in a fresh browser context each time.

| Measure | Target | Measured |
|---|---|---|
| Bytes per point, coordinates + labels | at most 12 | {wire_text} |
| Page load to first drawn frame | under 3 s | {frame} |
| {requests} | median under 20 ms | {latency} |"""
