"""Two source trees side by side (issue 13): each tree's own benchmarks, interleaved, same data.

    .venv/bin/python bench/bench_before_after.py --before /tmp/before --after .
    .venv/bin/python bench/bench_before_after.py --before /tmp/before --after . --check-imports
    .venv/bin/python bench/bench_before_after.py --before /tmp/before --sides before \\
        --rounds 1 --duration 3 --warmup 1 --queries 20 --subscribers 2000          # dry run

`--before` is a git worktree of the commit before the redesign (`git worktree add /tmp/before
9be2963`); `--after` the tree under test. Both run with this interpreter (one virtual
environment), each with `PYTHONPATH=<tree>/src`, which puts the tree's `dailypapers` before the
editable install, in the benchmark scripts and in every process they start (`python -m
dailypapers`, and the `dailypapers` console script found on PATH: this interpreter's bin/ comes
first). Each part runs each tree's OWN script (`<tree>/bench/...`), since their internals differ:

- load: `bench_core.py --no-http` into a fresh data dir: the three files of ../shared/data, one
  `dailypapers load` process each (`--load-files largest`: only arxiv_corpus.jsonl.gz). Figures:
  papers/s of the whole processes (wall) and of the loads themselves (the CLI's own figure).
  Each side's loaded tables are counted afterwards, to show both loaders stored the same rows.
- http: `bench_core.py --skip-load --no-uncached` on that side's copy of the search base
  (below): `serve` with 1 and 2 workers, `wrk` on `/api/daily_papers` only (bench_core's `urls`
  is narrowed to it), as is (answered by the response cache) and with a new URL on every request
  (a wrk script, as in bench_backends.py: route code, SQL and JSON every time). bench_core's
  cookie pass is left out: the daily list is shared from the response cache with signed-in
  readers too, so a cookie no longer bypasses the cache there. `--all-urls` runs bench_core as
  it is (its four URLs, plain and with a cookie).
- search: `bench_search_speed.py --data-dir` that side's copy: hybrid search through the API,
  one client, cache bypassed, p50/p99 over `--queries` queries (the same queries on both sides:
  cut from the same titles with a fixed seed); `--search-rounds` rounds, as it is cheap.
- digests: `bench_digests.py --subscribers N --workers W --kill-after <never>` (no kill: the
  first run finishes, the re-run finds nothing to send): messages/s, each reader exactly once.

The search base (181,358 real papers, every one with a perturbed real vector, keyword index and
HNSW graph; see bench_search_speed.py) is built ONCE with the before tree into `--search-base`
if it has no database yet (under 2 minutes here), then copied (`cp -a`) once per side: the
after tree may migrate the copy it opens, and never touches the base or the other side's copy.

Rounds run in ABBA order (before, after, after, before, ...) so a steady drift of the machine
falls on both sides alike. Raw output of every step goes to `--out` (default
`<after>/bench/results/before-after-<timestamp>/`), with `summary.md` (the table printed at the
end: median over rounds, each round in brackets, after/before) and `figures.json`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("load", "http", "search", "digests")
SCRIPTS = {
    "load": "bench_core.py",
    "http": "bench_core.py",
    "search": "bench_search_speed.py",
    "digests": "bench_digests.py",
}
DATA_FILES = ("hf_daily_papers.jsonl.gz", "arxiv_corpus.jsonl.gz", "arxiv_corpus_other.jsonl.gz")
LARGEST = "arxiv_corpus.jsonl.gz"
NEVER = "1000000"  # --kill-after for bench_digests: the first run is never killed
MARKER = ".bench_before_after"  # in --work-dir: ours to empty
COUNTED_TABLES = ("papers", "daily_entries", "paper_versions")

# bench_core, imported from the tree's own bench/, run with its `urls` narrowed to the daily
# list's API: as is (the response cache answers it) and with a new URL on every request (a wrk
# script, as bench_backends does), so that the route code, SQL and JSON run every time. Its
# cookie pass is left out (--no-uncached): the daily list is shared from the response cache
# with signed-in readers too (web/cache.py SHARED_PREFIXES), so a cookie does not bypass it.
HTTP_DRIVER = """
import shutil, sys
bench, mode, fresh_lua, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path.insert(0, bench)
import bench_core
if mode == "api-only" and hasattr(bench_core, "urls"):
    chosen = [("API default", "/api/daily_papers")]
    if shutil.which("wrk") and hasattr(bench_core, "wrk_command"):
        chosen.append(("API, a new URL each request", "/api/daily_papers?fresh"))
        plain = bench_core.wrk_command
        def wrk_command(url, *rest):
            command = plain(url, *rest)
            return [*command[:-1], "-s", fresh_lua, command[-1]] if "?fresh" in url else command
        bench_core.wrk_command = wrk_command
    bench_core.urls = lambda latest: chosen
elif mode == "api-only":
    print("bench_before_after: bench_core has no `urls`: measuring all its URLs", flush=True)
sys.argv = [bench_core.__file__, *argv]
sys.exit(bench_core.main(argv))
"""
# wrk script: every request a URL never asked before (the same as bench_backends.py's).
FRESH_URLS = """
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, "/api/daily_papers?fresh=" .. tid .. "-" .. counter)
end
"""

T0 = time.monotonic()


def log(message: str) -> None:
    elapsed = int(time.monotonic() - T0)
    print(
        f"[{datetime.now():%H:%M:%S} +{elapsed // 60}:{elapsed % 60:02d}] {message}",
        file=sys.stderr,
        flush=True,
    )


# --------------------------------------------------------------------------- trees


@dataclass
class Tree:
    side: str  # "before" or "after"
    root: Path
    shim: Path | None = None  # a folder with a `dailypapers` that runs `python -m dailypapers`

    @property
    def src(self) -> Path:
        return self.root / "src"

    def script(self, name: str) -> Path:
        return self.root / "bench" / name

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env["PYTHONPATH"] = str(self.src)
        # bench_core runs <tree>/.venv/bin/dailypapers, or else the first `dailypapers` on PATH:
        # this interpreter's, whose console script honours PYTHONPATH (or the shim, where that
        # script's entry point is not in this tree).
        first = [str(self.shim)] if self.shim else []
        path = [*first, str(Path(sys.executable).parent), env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(path)
        env.pop("PYTHONHOME", None)
        env.setdefault("NO_COLOR", "1")
        return env

    def describe(self) -> str:
        head = git(self.root, "rev-parse", "--short", "HEAD")
        dirty = git(self.root, "status", "--short", "--", "src", "bench")
        changed = len(dirty.splitlines()) if dirty else 0
        return (
            f"{self.side}: {self.root} at {head or '?'}"
            f"{f' + {changed} changed paths under src/ bench/' if changed else ''}, "
            f"src sha256 {fingerprint(self.src)}"
        )


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def fingerprint(src: Path) -> str:
    digest = hashlib.sha256()
    package = src / "dailypapers"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def resolves_to(tree: Tree) -> tuple[bool, str]:
    """Whether `import dailypapers` and the `dailypapers` command find the tree's package."""
    probe = "import dailypapers, sys; print(dailypapers.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=tree.env(), capture_output=True, text=True, check=False
    )
    found = done.stdout.strip()
    own = tree.root / ".venv" / "bin" / "dailypapers"  # bench_core prefers the tree's own
    command = str(own) if own.exists() else shutil.which("dailypapers", path=tree.env()["PATH"])
    script = "no dailypapers command"
    if command:
        env = dict(tree.env(), PYTHONVERBOSE="1")
        verbose = subprocess.run(
            [command, "--help"], env=env, capture_output=True, text=True, check=False
        )
        match = re.search(r"code object from (\S+/dailypapers/__init__\.py)", verbose.stderr)
        ok = verbose.returncode == 0 and match is not None
        script = f"{command} -> {match.group(1) if ok and match else 'fails'}"
    ok = found.startswith(str(tree.src)) and str(tree.src) in script
    return ok, f"python -> {found or done.stderr.strip()[-200:]}; {script}"


def check_resolution(tree: Tree) -> str:
    """Where the tree's code comes from; a `python -m dailypapers` shim for the command if the
    installed console script's entry point is not in this tree (a reinstall after a rename)."""
    ok, text = resolves_to(tree)
    if not ok and not (tree.root / ".venv" / "bin" / "dailypapers").exists():
        tree.shim = Path(tempfile.mkdtemp(prefix=f"bench-{tree.side}-shim-"))
        shim = tree.shim / "dailypapers"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m dailypapers "$@"\n')
        shim.chmod(0o755)
        ok, text = resolves_to(tree)
        text += " (a shim: the installed console script does not run this tree)"
    return f"{'ok' if ok else 'WRONG'}: {text}"


def ensure_shared(tree: Tree, source_dir: Path) -> None:
    """The bench scripts read ../shared/data beside their tree; link it for a worktree in /tmp."""
    shared = tree.root.parent / "shared"
    if not (shared / "data").is_dir():
        if shared.exists() or shared.is_symlink():
            sys.exit(f"error: {shared} exists but has no data/: the {tree.side} scripts need it")
        shared.symlink_to(source_dir.parent)
        log(f"linked {shared} -> {source_dir.parent} (the {tree.side} scripts read ../shared)")


# --------------------------------------------------------------------------- import check


def dailypapers_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for each `from dailypapers... import name` / `import dailypapers...`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dailypapers"):
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.startswith("dailypapers")]
    return found


def check_imports(tree: Tree, scripts: list[str]) -> list[str]:
    """Names each script imports from dailypapers that the tree lacks ([] when all resolve)."""
    missing = []
    for name in scripts:
        path = tree.script(name)
        if not path.exists():
            missing.append(f"{name}: no such script in {tree.root}/bench")
            continue
        wanted = dailypapers_imports(path)
        probe = (
            "import importlib, json, sys\n"
            "out = []\n"
            "for module, name in json.loads(sys.argv[1]):\n"
            "    try:\n"
            "        m = importlib.import_module(module)\n"
            "        if name and not hasattr(m, name):\n"
            "            importlib.import_module(module + '.' + name)\n"
            "    except Exception as e:\n"
            "        out.append(f'{module}' + (f'.{name}' if name else '') + f': {e!r}')\n"
            "print(json.dumps(out))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, json.dumps(wanted)],
            env=tree.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            problems = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            problems = [f"the check itself failed: {done.stderr.strip()[-300:]}"]
        missing += [f"{name}: {problem}" for problem in problems]
    return missing


# --------------------------------------------------------------------------- running


@dataclass
class Step:
    part: str
    side: str
    round: int
    command: list[str]
    log_path: Path
    seconds: float = 0.0
    returncode: int | None = None
    figures: dict[str, float] = field(default_factory=dict)
    note: str = ""


def run_step(step: Step, tree: Tree, timeout: float) -> str:
    shown = shlex.join("<HTTP_DRIVER>" if c == HTTP_DRIVER else c for c in step.command)
    log(f"{step.part} {step.side} round {step.round}: {shown}")
    started = time.perf_counter()
    with open(step.log_path, "w") as out:
        out.write(f"$ PYTHONPATH={tree.src} {shlex.join(step.command)}\n\n")
        out.flush()
        process = subprocess.Popen(
            step.command,
            env=tree.env(),
            cwd=tree.root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            step.returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            step.note = f"killed after {timeout:.0f} s"
            stop(process)
            step.returncode = -1
        except BaseException:  # Ctrl-C, or SIGTERM/SIGHUP (made SystemExit in main)
            stop(process)
            raise
        # Whatever the script left in its process group (senders) goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    step.seconds = time.perf_counter() - started
    text = step.log_path.read_text(errors="replace")
    if step.returncode != 0:
        tail_lines = "\n    ".join(text.strip().splitlines()[-8:])
        log(
            f"  FAILED (exit {step.returncode}{', ' + step.note if step.note else ''}) after "
            f"{step.seconds:.0f} s; log {step.log_path}; last lines:\n    {tail_lines}"
        )
    return text


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT first, so the bench script's own `finally` stops the servers it started in their
    own sessions (bench_search_speed has no SIGTERM handler); then SIGTERM, then SIGKILL."""
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_load(text: str, step: Step) -> None:
    rows = wall = cli_rows = cli_s = 0.0
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].endswith(".jsonl.gz"):
            rows += number(cells[1])
            wall += number(cells[2])
            if cells[4] != "n/a":
                cli_s += number(cells[4])
                cli_rows += number(cells[1])
    if rows and wall:
        step.figures["load papers/s (wall, whole processes)"] = rows / wall
    if cli_rows and cli_s:
        step.figures["load papers/s (the loads themselves)"] = cli_rows / cli_s


def parse_http(text: str, step: Step) -> None:
    # | 1 | `/api/daily_papers` | yes | 200, 12 KiB | 2,830.0 | 17.0 ms | 88.0 ms | 28,300 | 0 | 0 |
    pattern = re.compile(
        r"^\|\s*(\d+)\s*\|\s*`/api/daily_papers(\?fresh)?`\s*\|\s*(yes|bypassed)\s*\|[^|]*\|"
        r"\s*([\d,.]+)\s*\|\s*([\d.]+|n/a)( ms)?\s*\|\s*([\d.]+|n/a)( ms)?\s*\|\s*[\d,]+\s*\|"
        r"\s*([\d,]+)\s*\|\s*([^|]*)\|",
        re.M,
    )
    for match in pattern.finditer(text):
        workers, fresh, cache, rps, _, _, p99, _, non_2xx, sock = match.groups()
        label = f"/api/daily_papers {workers} worker{'s' if workers != '1' else ''}"
        label += ", new URL each request" if fresh else ""
        label += ", with a cookie" if cache == "bypassed" else ""
        step.figures[f"{label}: req/s"] = number(rps)
        if p99 != "n/a":
            step.figures[f"{label}: p99 ms"] = float(p99)
        errors = number(non_2xx) + sum(int(n) for n in re.findall(r"\d+", sock))
        if errors:
            step.note += f" {label}: {errors:.0f} errors;"


def parse_search(text: str, step: Step) -> None:
    match = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms", text)
    if match:
        step.figures["search p50 ms"] = float(match.group(1))
        step.figures["search p99 ms"] = float(match.group(2))
    recall = re.search(r"ANN recall@10 vs exact over \d+ real queries: ([\d.]+)", text)
    if recall:
        step.figures["ANN recall@10"] = float(recall.group(1))
    queries = re.search(r"^(\d+) queries, one client", text, re.M)
    if queries:
        step.note += f" {queries.group(1)} queries;"


def parse_digests(text: str, step: Step) -> None:
    match = re.search(r"([\d,]+) delivered in (\d+) s \(([\d,]+) messages/s\)", text)
    if match:
        step.figures["digests/s"] = number(match.group(3))
    once = re.search(r"recipients: ([\d,]+) distinct, (\d+) got more than one", text)
    if once:
        step.note += f" {once.group(1)} recipients, {once.group(2)} twice;"
    rss = re.search(r"peak RSS of a sender ([\d,]+) MiB", text)
    if rss:
        step.figures["digest sender peak RSS MiB"] = number(rss.group(1))


def count_tables(database: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with contextlib.suppress(sqlite3.Error):
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            for table in COUNTED_TABLES:
                with contextlib.suppress(sqlite3.Error):
                    counts[table] = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[
                        0
                    ]
        finally:
            connection.close()
    return counts


def abba(rounds: int) -> list[tuple[int, str]]:
    """(round, side) in ABBA order: before, after, after, before, before, after, ..."""
    order = []
    for r in range(rounds):
        sides = ("before", "after") if r % 2 == 0 else ("after", "before")
        order += [(r + 1, side) for side in sides]
    return order


# --------------------------------------------------------------------------- report


def summarise(steps: list[Step], sides: list[str]) -> list[str]:
    metrics: list[str] = []
    for step in steps:
        metrics += [m for m in step.figures if m not in metrics]
    lines = ["| metric | " + " | ".join(sides) + (" | after/before |" if len(sides) == 2 else " |")]
    lines.append("| --- |" + " ---: |" * (len(sides) + (len(sides) == 2)))
    for metric in metrics:
        cells: list[str] = []
        medians: list[float | None] = []
        for side in sides:
            values = [s.figures[metric] for s in steps if s.side == side and metric in s.figures]
            if not values:
                cells.append("failed" if any(s.side == side for s in steps) else "—")
                medians.append(None)
                continue
            median = statistics.median(values)
            medians.append(median)
            each = f" ({' / '.join(fmt(v) for v in values)})" if len(values) > 1 else ""
            cells.append(f"{fmt(median)}{each}")
        row = f"| {metric} | " + " | ".join(cells) + " |"
        if len(sides) == 2:
            before, after = medians
            row += f" {after / before:.2f} |" if before and after is not None else " — |"
        lines.append(row)
    return lines


def fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3f}"


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="tree before the redesign")
    parser.add_argument("--after", type=Path, default=HERE.parent, help="tree under test")
    parser.add_argument("--sides", default="before,after", help="before,after | before | after")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"of {','.join(PARTS)}")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each part (ABBA)")
    parser.add_argument("--search-rounds", type=int, default=3, help="rounds of search")
    parser.add_argument("--digest-rounds", type=int, help="rounds of digests (default --rounds)")
    parser.add_argument("--load-files", choices=("all", "largest"), default="all")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="wrk warm-up seconds")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--all-urls", action="store_true", help="http: all of bench_core's URLs")
    parser.add_argument("--queries", type=int, default=300, help="search queries per run")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--digest-workers", type=int, default=2)
    parser.add_argument(
        "--search-base",
        type=Path,
        default=Path("/tmp/dp-180k-before-base"),
        help="181k papers with vectors, built with --before if it has no db",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/dp-before-after"),
        help="each side's copies and load dirs (emptied first)",
    )
    parser.add_argument(
        "--base-papers",
        type=int,
        default=0,
        help="papers in a search base built here (default: the 181k real ones; 1000000 adds "
        "synthetic papers as bench_search_speed.py does: about half an hour, 4+ GB a copy)",
    )
    parser.add_argument("--keep-work", action="store_true", help="keep --work-dir afterwards")
    parser.add_argument("--source-dir", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, help="results folder (default: after/bench/results/)")
    parser.add_argument("--step-timeout", type=float, default=1200, help="seconds per step")
    parser.add_argument(
        "--check-imports",
        action="store_true",
        help="only check that each side's bench scripts import, then stop",
    )
    args = parser.parse_args()
    args.sides = [s for s in args.sides.split(",") if s]
    args.parts = [p for p in args.parts.split(",") if p]
    if set(args.sides) - {"before", "after"} or set(args.parts) - set(PARTS):
        parser.error("--sides takes before/after, --parts " + ",".join(PARTS))
    return args


def part_command(
    part: str, tree: Tree, args: argparse.Namespace, work: Path, rnd: int
) -> list[str]:
    """The command line of one step: the tree's own script with this run's options."""
    site = str(work / f"site-{tree.side}")  # the side's copy of the search base
    if part == "load":
        data = work / f"load-{tree.side}-r{rnd}"
        return [
            sys.executable,
            str(tree.script("bench_core.py")),
            "--no-http",
            "--data-dir",
            str(data),
            "--source-dir",
            str(work / "load-source"),
        ]
    if part == "http":
        # --all-urls: bench_core as it is (its four URLs, plain and with a cookie)
        mode = ["all"] if args.all_urls else ["api-only"]
        options = [] if args.all_urls else ["--no-uncached"]
        return [
            sys.executable, "-c", HTTP_DRIVER, str(tree.root / "bench"), *mode,
            str(args.fresh_lua), "--data-dir", site, "--skip-load", *options,
            "--duration", str(args.duration), "--warmup", str(args.warmup),
            "--connections", str(args.connections), "--workers", "1", "2",
        ]  # fmt: skip
    if part == "search":
        return [
            sys.executable,
            str(tree.script("bench_search_speed.py")),
            "--data-dir",
            site,
            "--queries",
            str(args.queries),
        ]
    return [
        sys.executable,
        str(tree.script("bench_digests.py")),
        "--subscribers",
        str(args.subscribers),
        "--workers",
        str(args.digest_workers),
        "--kill-after",
        NEVER,
    ]


PARSERS = {"load": parse_load, "http": parse_http, "search": parse_search, "digests": parse_digests}


def copy_search_base(
    args: argparse.Namespace, trees: dict[str, Tree], sides: list[str], work: Path, out: Path
) -> None:
    base = args.search_base.resolve()
    if not (base / "dailypapers.db").exists():
        log(f"building the search base {base} with the before tree (once; ~2 min)")
        command = [
            sys.executable,
            str(trees["before"].script("bench_search_speed.py")),
            "--data-dir",
            str(base),
            "--queries",
            "5",
            "--papers",
            str(args.base_papers),
        ]
        step = Step("build", "before", 0, command, out / "search-base-build.log")
        run_step(step, trees["before"], 3600)
        if step.returncode != 0:
            raise SystemExit(f"building the search base failed: see {step.log_path}")
    started = time.monotonic()
    for side in sides:
        subprocess.run(["cp", "-a", str(base), str(work / f"site-{side}")], check=True)
    log(f"copied {base} ({du(base)}) for {', '.join(sides)} in {time.monotonic() - started:.0f} s")


def main() -> int:
    args = parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # stop the step and write what was measured
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))
    trees = {
        "before": Tree("before", args.before.resolve()),
        "after": Tree("after", args.after.resolve()),
    }
    if trees["before"].root == trees["after"].root:
        sys.exit("error: --before and --after are the same tree")
    for tree in trees.values():
        if not (tree.src / "dailypapers").is_dir():
            sys.exit(f"error: {tree.src}/dailypapers does not exist")
    sides = [s for s in ("before", "after") if s in args.sides]
    parts = [p for p in PARTS if p in args.parts]
    source_dir = args.source_dir.resolve()
    for side in sides:
        ensure_shared(trees[side], source_dir)

    header = [f"- {trees[s].describe()}" for s in sides]
    header += [f"- {s} resolves: {check_resolution(trees[s])}" for s in sides]
    for line in header:
        log(line[2:])
    scripts = sorted({SCRIPTS[p] for p in parts})
    broken = {s: check_imports(trees[s], scripts) for s in sides}
    for side, problems in broken.items():
        for problem in problems:
            log(f"{side}: cannot import {problem}")
    if args.check_imports:
        for tree in trees.values():
            if tree.shim:
                shutil.rmtree(tree.shim, ignore_errors=True)
        return 1 if any(broken.values()) else 0
    if any(broken.values()):
        log("some bench scripts will fail on import (above); running the rest anyway")
    if shutil.which("wrk") is None and "http" in parts:
        log(
            "wrk is not installed (apt-get install wrk): bench_core falls back to a Python "
            "client, which takes CPU from the server; both sides alike"
        )

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or trees["after"].root / "bench" / "results" / f"before-after-{stamp}"
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = args.work_dir.resolve()
    if work.exists() and any(work.iterdir()) and not (work / MARKER).exists():
        sys.exit(f"error: --work-dir {work} is not empty and not one of ours: not emptying it")
    shutil.rmtree(work, ignore_errors=True)
    (work / "load-source").mkdir(parents=True)
    (work / MARKER).touch()
    args.fresh_lua = out / "fresh.lua"
    args.fresh_lua.write_text(FRESH_URLS)
    for name in DATA_FILES if args.load_files == "all" else (LARGEST,):
        (work / "load-source" / name).symlink_to(source_dir / name)
    log(f"results in {out}; work dir {work}")
    load_start = os.getloadavg()
    steps: list[Step] = []
    part_seconds: dict[str, float] = {}
    notes: list[str] = []
    try:
        for part in parts:
            started = time.monotonic()
            if part in ("http", "search") and not (work / f"site-{sides[0]}").exists():
                copy_search_base(args, trees, sides, work, out)
            rounds = {"search": args.search_rounds, "digests": args.digest_rounds}.get(part)
            rounds = rounds or args.rounds
            for rnd, side in abba(rounds):
                if side not in sides:
                    continue
                command = part_command(part, trees[side], args, work, rnd)
                step = Step(part, side, rnd, command, out / f"{part}-{side}-r{rnd}.log")
                PARSERS[part](run_step(step, trees[side], args.step_timeout), step)
                if part == "load":
                    data = work / f"load-{side}-r{rnd}"
                    counts = count_tables(data / "dailypapers.db")
                    step.note += " rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items())
                    shutil.rmtree(data, ignore_errors=True)
                steps.append(step)
                log(f"  {step.seconds:.0f} s: {figures_text(step)}")
            part_seconds[part] = time.monotonic() - started
        rows = {s.note.split(" rows: ")[-1] for s in steps if s.part == "load"}
        if len(rows) > 1:
            notes.append(f"**the loads stored different rows**: {sorted(rows)}")
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        for tree in trees.values():
            if tree.shim:
                shutil.rmtree(tree.shim, ignore_errors=True)
        text = render(args, sides, header, steps, part_seconds, notes, load_start, out)
        (out / "summary.md").write_text(text + "\n")
        records = [
            {
                "part": s.part,
                "side": s.side,
                "round": s.round,
                "seconds": round(s.seconds, 1),
                "returncode": s.returncode,
                "figures": s.figures,
                "note": s.note.strip(),
                "log": s.log_path.name,
            }
            for s in steps
        ]
        (out / "figures.json").write_text(json.dumps(records, indent=1) + "\n")
        print(text)
        log(f"written to {out}")
    return 1 if any(s.returncode != 0 for s in steps) else 0


def figures_text(step: Step) -> str:
    shown = ", ".join(f"{k} {fmt(v)}" for k, v in step.figures.items()) or "no figures"
    return f"{shown}{'; ' + step.note.strip() if step.note.strip() else ''}"


def du(path: Path) -> str:
    done = subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True, check=False)
    return done.stdout.split()[0] if done.returncode == 0 and done.stdout else "?"


def render(
    args: argparse.Namespace,
    sides: list[str],
    header: list[str],
    steps: list[Step],
    part_seconds: dict[str, float],
    notes: list[str],
    load_start: tuple[float, float, float],
    out: Path,
) -> str:
    end = os.getloadavg()
    lines = [
        f"# Before / after, {datetime.now():%Y-%m-%d %H:%M}",
        "",
        "```",
        shlex.join([sys.executable, *sys.argv]),
        "```",
        "",
        *header,
        f"- load average at start {load_start[0]:.2f} {load_start[1]:.2f} "
        f"{load_start[2]:.2f}, at end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f} "
        f"({os.cpu_count()} cores)",
    ]
    if max(load_start[0], end[0]) > 0.5 * (os.cpu_count() or 1):
        lines.append("- **the machine was busy with other work at the start or end**")
    if shutil.which("wrk") is None:
        lines.append("- no wrk: HTTP figures from bench_core's Python client")
    lines += [
        "",
        "Median over rounds (each round in brackets, in run order per side); rates: "
        "higher is better, ms: lower is better.",
        "",
    ]
    lines += summarise(steps, sides)
    lines += [
        "",
        "| step | side | round | seconds | exit | note |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for s in steps:
        lines.append(
            f"| {s.part} | {s.side} | {s.round} | {s.seconds:.0f} | {s.returncode} | "
            f"{s.note.strip()} |"
        )
    lines += [
        "",
        "Time per part: " + ", ".join(f"{p} {v / 60:.1f} min" for p, v in part_seconds.items()),
    ]
    lines += [f"Raw output: `{out}/`"]
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
