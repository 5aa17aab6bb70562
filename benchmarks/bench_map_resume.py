"""Does `missionkit map` stream a million texts in bounded memory and resume after a kill?

Writes an input CSV of N texts (default 1,000,000: the shared data sets' real project and
grant texts, cycled and numbered so each is distinct), then:

1. a short run of ``missionkit map`` on the first 10,000 rows, uninterrupted: the
   baseline for speed and peak memory, measured in the same session;
2. the full run, killed with SIGKILL (no chance to clean up) once a share of the rows
   is written (default 40 %);
3. the same command with ``--resume``, to the end.

Each run is its own process, with threads capped at ``--cores``; its peak resident memory
is read from the kernel when it ends (``wait4``). It then checks the output: every input
id exactly once, in input order, one header; and a seeded sample of rows, from both sides
of the kill, equals what the library maps for those texts. Prints texts per second and
peak memory per run and their ratios to the 10,000-row baseline.

    .venv/bin/python benchmarks/bench_map_resume.py                 # 1,000,000 texts
    .venv/bin/python benchmarks/bench_map_resume.py --n 100000 --kill-at 0.5
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mapping import real_texts

ROOT = Path(__file__).resolve().parents[1]
MISSIONKIT = Path(sys.executable).with_name("missionkit")


def write_input(path: Path, n: int) -> int:
    """N numbered texts as id,text; returns the file's size in bytes."""
    base = real_texts()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["id", "text"])
        for i in range(n):
            writer.writerow([f"t{i:07d}", f"{base[i % len(base)]} (#{i})"])
    return path.stat().st_size


def lines_in(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def run_map(
    args: list[str], cores: int, *, kill_at_rows: int | None = None, output: Path | None = None
) -> dict[str, Any]:
    """Run ``missionkit map`` to the end (or kill it at a row count); time and peak memory."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[var] = str(cores)
    cmd = [str(MISSIONKIT), "map", *args]
    if hasattr(os, "sched_getaffinity"):
        cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores])
        cmd = ["taskset", "-c", cpus, *cmd]
    start = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed = False
    if kill_at_rows is not None:
        assert output is not None
        # Polling the output's length is the only way to interrupt at a known point; the
        # check costs a file read per half second.
        while process.poll() is None:
            if lines_in(output) - 1 >= kill_at_rows:
                process.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(0.5)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if not killed and os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"missionkit map failed:\n{stderr[-2000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "killed": killed}


def check_output(input_path: Path, output: Path, n: int, sample: int, seed: int) -> int:
    """Every id once and in order; a sample of rows equals the library's own mapping."""
    from missionkit.mapping import Mapper, sdg_taxonomy

    with output.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:3] != ["id", "labels", "scores"]:
            raise SystemExit(f"unexpected header {header}")
        rows = {}
        for i, row in enumerate(reader):
            if row[0] != f"t{i:07d}":
                raise SystemExit(f"output row {i + 1} has id {row[0]!r}, expected t{i:07d}")
            rows[i] = row
    if len(rows) != n:
        raise SystemExit(f"output has {len(rows)} rows, expected {n}")
    picks = sorted(random.Random(seed).sample(range(n), min(sample, n)))
    texts: dict[int, str] = {}
    wanted = set(picks)
    with input_path.open(encoding="utf-8", newline="") as f:
        for i, record in enumerate(csv.DictReader(f)):
            if i in wanted:
                texts[i] = record["text"]
    mapper = Mapper(sdg_taxonomy())
    mapped = mapper.map([texts[i] for i in picks], at_least_one=True)
    for i, suggestion in zip(picks, mapped, strict=True):
        expected = [";".join(suggestion.labels), ";".join(f"{s:.3f}" for s in suggestion.scores)]
        if rows[i][1:3] != expected:
            raise SystemExit(f"row {i + 1}: {rows[i][1:3]} but the library maps {expected}")
    return len(picks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="texts in the full run")
    parser.add_argument("--baseline-n", type=int, default=10_000)
    parser.add_argument("--kill-at", type=float, default=0.4, help="share of rows, then SIGKILL")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--sample", type=int, default=2000, help="rows checked against the library")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: temporary)")
    args = parser.parse_args(argv)
    if not MISSIONKIT.is_file():
        raise SystemExit(f"{MISSIONKIT} not found: run from the project's virtual environment")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        small, full = work / "input-small.csv", work / "input.csv"
        out_small, out = work / "out-small.csv", work / "out.csv"
        out.unlink(missing_ok=True)
        write_input(small, args.baseline_n)
        size = write_input(full, args.n)
        print(f"input: {args.n:,} texts, {size / 1e6:,.0f} MB; {args.cores} cores", flush=True)
        base = run_map([str(small), "-o", str(out_small)], args.cores)
        kill_rows = int(args.n * args.kill_at)
        first = run_map([str(full), "-o", str(out)], args.cores, kill_at_rows=kill_rows, output=out)
        if not first["killed"]:
            raise SystemExit("the run ended before it could be killed: use a larger --n")
        written = lines_in(out) - 1
        second = run_map([str(full), "-o", str(out), "--resume"], args.cores)
        checked = check_output(full, out, args.n, args.sample, args.seed)
    # Process time includes start-up and loading the model (about a second): fair for a
    # user's run, and small next to minutes of mapping.
    runs = [
        ("baseline, uninterrupted", args.baseline_n, base),
        ("full run, killed", written, first),
        ("resumed to the end", args.n - written, second),
    ]
    print("\n| run | texts | seconds | texts/s | peak MB | peak vs baseline |")
    print("|---|---|---|---|---|---|")
    for name, texts, r in runs:
        print(
            f"| {name} | {texts:,} | {r['seconds']:.1f} | {texts / r['seconds']:,.0f} | "
            f"{r['peak_mb']:.0f} | {r['peak_mb'] / base['peak_mb']:.2f}× |"
        )
    total = first["seconds"] + second["seconds"]
    print(
        f"\nall {args.n:,} texts in {total:.0f} s across the kill ({args.n / total:,.0f} texts/s; "
        f"baseline {args.baseline_n / base['seconds']:,.0f}); killed after {written:,} whole "
        f"rows; output checked: every id once and in order, {checked:,} sampled rows equal "
        f"to the library's mapping"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
