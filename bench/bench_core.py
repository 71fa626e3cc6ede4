"""Core benchmark of dailypapers: bulk loading speed and HTTP throughput/latency.

What it measures
----------------
1. Loading: in a fresh data directory (a temporary one unless ``--data-dir`` is given), runs
   ``dailypapers load FILE`` once per file, in order ``hf_daily_papers``, ``arxiv_corpus``,
   ``arxiv_corpus_other`` (from /work/shared/data, or ``--source-dir``). For each file it
   reports the wall time of the whole process (including interpreter start-up and migrations)
   and the CLI's own "N rows in X s (R rows/s)" figure, both as papers per second.
2. Serving: starts ``dailypapers serve`` on that data, once with one worker and once with
   ``--workers 2``, waits for ``/healthz``, then for each URL (``/``, ``/api/daily_papers``,
   ``/api/daily_papers?date=<latest featured date>``, ``/papers/trending``) runs a warm-up and
   then ``wrk -t2 -c50 -d20s --latency URL``, and reports requests/s, p50 and p99 latency,
   plus non-2xx/3xx responses and socket errors. Each URL is measured twice: plain GETs
   (which the app's response cache may answer from memory) and GETs carrying a cookie, which
   the cache skips, so the route code and database run every time (``--no-uncached`` skips
   this second pass). If ``wrk`` is not installed, a Python asyncio + httpx client in a
   separate process is used instead (and the report says so).
3. Writes a markdown report (results, targets with PASS/FAIL, exact command, machine facts)
   to ``bench/results/core-<timestamp>.md`` and prints it.

Targets: loading >= 5,000 papers/s; /api/daily_papers >= 500 requests/s with p99 <= 50 ms;
/ >= 300 requests/s.

How to run (from the repository root)
-------------------------------------
    .venv/bin/python bench/bench_core.py
    .venv/bin/python bench/bench_core.py --data-dir /tmp/dp-bench --keep-data   # keep the db
    .venv/bin/python bench/bench_core.py --data-dir /tmp/dp-bench --skip-load   # reuse it
    .venv/bin/python bench/bench_core.py --duration 10 --connections 20

The load generator runs on the same machine as the server, so on a small machine (2 cores)
it competes with the server for CPU; the figures are a lower bound for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
DEFAULT_SOURCE_DIR = Path("/work/shared/data")
DATA_FILES = ("hf_daily_papers.jsonl.gz", "arxiv_corpus.jsonl.gz", "arxiv_corpus_other.jsonl.gz")
HOST = "127.0.0.1"
# The app's response cache skips requests that carry a cookie: this one makes every request
# reach the route code (the session middleware, if any, ignores an unknown cookie name).
NO_CACHE_HEADER = "Cookie: bench_nocache=1"

LOAD_TARGET = 5_000.0  # papers/s
API_TARGET_RPS = 500.0
API_TARGET_P99_MS = 50.0
HOME_TARGET_RPS = 300.0

CLI_SUMMARY = re.compile(r"([\d,]+) rows in ([\d.]+) s \(([\d,]+) rows/s\)")
WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
WRK_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
WRK_TOTAL = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class LoadResult:
    file: str
    rows_in_file: int
    wall_s: float
    returncode: int
    cli_rows: int | None = None
    cli_s: float | None = None
    cli_rate: float | None = None
    output_tail: str = ""

    @property
    def wall_rate(self) -> float:
        return self.rows_in_file / self.wall_s if self.wall_s > 0 else 0.0


@dataclass
class HttpResult:
    workers: int
    label: str
    path: str
    cached: bool  # False: sent with NO_CACHE_HEADER, so the app's response cache is bypassed
    probe_status: int
    probe_bytes: int
    requests_per_s: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    command: str = ""
    raw: str = ""
    failed: bool = False  # the load generator itself failed (no figures)

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values()) + int(self.failed)


@dataclass
class Report:
    args: argparse.Namespace
    data_dir: Path
    client: str
    loads: list[LoadResult] = field(default_factory=list)
    http: list[HttpResult] = field(default_factory=list)
    latest_date: str | None = None
    source_start: tuple[str, str] = ("", "")
    load_average_start: tuple[float, float, float] = field(default_factory=os.getloadavg)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def dailypapers_executable() -> str:
    candidate = REPO / ".venv" / "bin" / "dailypapers"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dailypapers")
    if found is None:
        sys.exit("error: cannot find the dailypapers command (.venv/bin/dailypapers)")
    return found


def app_env(data_dir: Path, log_level: str | None) -> dict[str, str]:
    """The environment for the CLI: only our DAILYPAPERS_* settings, none inherited."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_DATA_DIR"] = str(data_dir)
    env["DAILYPAPERS_DATABASE_URL"] = ""
    env["DAILYPAPERS_LOAD_DEMO_DATA"] = "false"
    # The core pages do not use search; loading a large dense index at start would overlap
    # the first measurement, and background embedding would compete for the CPU.
    env["DAILYPAPERS_DENSE_SEARCH"] = "false"
    env["DAILYPAPERS_EMBED_IN_BACKGROUND"] = "false"
    if log_level:
        env["DAILYPAPERS_LOG_LEVEL"] = log_level
    env.setdefault("NO_COLOR", "1")
    env["COLUMNS"] = "200"
    return env


def count_rows(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def get(
    port: int, path: str, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One GET without following redirects: (status, body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def source_fingerprint() -> tuple[str, str]:
    """(short hash, newest mtime) of the app's source, to spot edits made during a run."""
    digest = hashlib.sha256()
    newest = 0.0
    package = REPO / "src" / "dailypapers"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    stamp = datetime.fromtimestamp(newest).astimezone().isoformat(timespec="seconds")
    return digest.hexdigest()[:12], stamp


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- loading


def run_loads(report: Report, executable: str, env: dict[str, str], source_dir: Path) -> None:
    for name in DATA_FILES:
        path = source_dir / name
        if not path.is_file():
            report.notes.append(f"{path} missing: not loaded")
            print(f"[load] {path} is missing, skipped", file=sys.stderr)
            continue
        rows = count_rows(path)
        print(f"[load] {name}: {rows:,} rows ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [executable, "load", str(path)],
            env=env,
            cwd=report.data_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        result = LoadResult(name, rows, wall, done.returncode)
        output = done.stdout + done.stderr
        result.output_tail = tail(output)
        match = CLI_SUMMARY.search(done.stderr)
        if match:
            result.cli_rows = int(match.group(1).replace(",", ""))
            result.cli_s = float(match.group(2))
            result.cli_rate = result.cli_rows / result.cli_s if result.cli_s else None
        if done.returncode != 0:
            report.notes.append(
                f"`dailypapers load {name}` exited {done.returncode}:\n"
                f"```\n{result.output_tail}\n```"
            )
        report.loads.append(result)
        print(
            f"[load] {name}: {wall:.1f} s wall ({result.wall_rate:,.0f} papers/s), "
            f"CLI: {result.cli_s} s, exit {done.returncode}",
            file=sys.stderr,
            flush=True,
        )


# --------------------------------------------------------------------------- serving


@contextlib.contextmanager
def server(
    executable: str, env: dict[str, str], cwd: Path, port: int, workers: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`dailypapers serve` in its own process group; always killed (whole group) on exit."""
    if port_in_use(port):
        raise RuntimeError(f"port {port} is already in use")
    command = [executable, "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_healthy(process, port, log_path)
        yield process
    finally:
        stop_group(process)


def wait_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited {process.returncode}:\n{tail(log_path.read_text(errors='replace'))}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _ = get(port, "/healthz", timeout=2)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("server did not answer /healthz within 120 s")


def stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; make sure no worker of the group survives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


def live_group_members(pgid: int, wait_s: float = 5.0) -> list[int]:
    """Pids (not zombies) still in process group `pgid`, after waiting up to `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[2]) == pgid:
                    members.append(int(stat.parent.name))
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.2)


def latest_featured_date(port: int, data_dir: Path) -> str | None:
    with contextlib.suppress(Exception):
        status, body = get(port, "/api/daily_papers?limit=1")
        if status == 200:
            items = json.loads(body)
            if items and items[0]["paper"].get("featuredDate"):
                return str(items[0]["paper"]["featuredDate"])
    with contextlib.suppress(sqlite3.Error):
        connection = sqlite3.connect(data_dir / "dailypapers.db")
        try:
            row = connection.execute("SELECT max(featured_date) FROM daily_entries").fetchone()
        finally:
            connection.close()
        return str(row[0]) if row and row[0] else None
    return None


def wrk_command(url: str, args: argparse.Namespace, duration: int, cached: bool) -> list[str]:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency"]
    if args.wrk_timeout:
        command.append(f"--timeout={args.wrk_timeout}s")
    if not cached:
        command += ["-H", NO_CACHE_HEADER]
    return [*command, url]


def parse_wrk(output: str, result: HttpResult) -> None:
    rps = WRK_RPS.search(output)
    result.requests_per_s = float(rps.group(1)) if rps else 0.0
    percentiles = {
        p: float(value) * UNIT_MS[unit] for p, value, unit in WRK_PERCENTILE.findall(output)
    }
    result.p50_ms = percentiles.get("50")
    result.p99_ms = percentiles.get("99")
    total = WRK_TOTAL.search(output)
    result.requests = int(total.group(1)) if total else 0
    non_2xx = WRK_NON_2XX.search(output)
    result.non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = WRK_SOCKET.search(output)
    if socket_errors:
        names = ("connect", "read", "write", "timeout")
        result.socket_errors = {
            name: int(value) for name, value in zip(names, socket_errors.groups(), strict=True)
        }


def python_client_command(url: str, connections: int, duration: int, cached: bool) -> list[str]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--_client", url,
        "--connections", str(connections), "--duration", str(duration),
    ]  # fmt: skip
    return command if cached else [*command, "--_no-cache"]


def measure(
    port: int,
    workers: int,
    label: str,
    path: str,
    cached: bool,
    args: argparse.Namespace,
    client: str,
) -> HttpResult:
    name, _, value = NO_CACHE_HEADER.partition(": ")
    status, body = get(port, path, headers=None if cached else {name: value})
    result = HttpResult(workers, label, path, cached, status, len(body))
    url = f"http://{HOST}:{port}{path}"
    if client == "wrk":
        warm = wrk_command(url, args, args.warmup, cached)
        command = wrk_command(url, args, args.duration, cached)
    else:
        warm = python_client_command(url, args.connections, args.warmup, cached)
        command = python_client_command(url, args.connections, args.duration, cached)
    if args.warmup > 0:
        subprocess.run(warm, capture_output=True, check=False)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    result.command = shlex.join(command)
    result.raw = done.stdout + done.stderr
    if client == "wrk":
        parse_wrk(done.stdout, result)
    else:
        parse_python_client(done.stdout, result)
    result.failed = done.returncode != 0 or result.requests == 0
    print(
        f"[http] workers={workers} {path}{'' if cached else ' (no cache)'}: "
        f"{result.requests_per_s:,.1f} req/s, "
        f"p50 {fmt_ms(result.p50_ms)}, p99 {fmt_ms(result.p99_ms)}, errors {result.errors}",
        file=sys.stderr,
        flush=True,
    )
    return result


def run_http(
    report: Report, executable: str, env: dict[str, str], args: argparse.Namespace
) -> None:
    for workers in args.workers:
        port = args.port or free_port()
        log_path = report.data_dir / f"serve-w{workers}.log"
        print(f"[serve] workers={workers} port={port} (log {log_path})", file=sys.stderr)
        with server(executable, env, report.data_dir, port, workers, log_path) as process:
            if report.latest_date is None:
                report.latest_date = latest_featured_date(port, report.data_dir)
            for cached in (True, False) if args.uncached else (True,):
                for label, path in urls(report.latest_date):
                    result = measure(port, workers, label, path, cached, args, report.client)
                    report.http.append(result)
        survivors = live_group_members(process.pid)
        if survivors:
            report.notes.append(f"workers={workers}: server processes survived: {survivors}")
        log = log_path.read_text(errors="replace")
        problems = [line for line in log.splitlines() if "Traceback" in line or "ERROR" in line]
        if problems:
            report.notes.append(
                f"workers={workers}: server log has {len(problems)} Traceback/ERROR lines, "
                f"e.g. `{problems[0].strip()[:200]}`"
            )
        server_5xx = len(re.findall(r'" 5\d\d ', log))
        if server_5xx:
            report.notes.append(f"workers={workers}: access log shows {server_5xx} 5xx responses")


def urls(latest_date: str | None) -> list[tuple[str, str]]:
    chosen = [("home page", "/"), ("API default", "/api/daily_papers")]
    if latest_date:
        chosen.append(("API latest date (extra)", f"/api/daily_papers?date={latest_date}"))
    chosen.append(("trending page (extra)", "/papers/trending"))
    return chosen


# --------------------------------------------------------------------------- python fallback


async def _client_main(
    url: str, connections: int, duration: float, cached: bool
) -> dict[str, object]:
    import httpx

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    name, _, value = NO_CACHE_HEADER.partition(": ")
    headers = {} if cached else {name: value}
    async with httpx.AsyncClient(limits=limits, timeout=10.0, headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    await response.aread()
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else None

    non_2xx = sum(n for code, n in statuses.items() if not code.startswith(("2", "3")))
    return {
        "requests": len(latencies), "rps": len(latencies) / elapsed, "p50": percentile(0.50),
        "p99": percentile(0.99), "non_2xx": non_2xx, "errors": errors, "statuses": statuses,
    }  # fmt: skip


def parse_python_client(output: str, result: HttpResult) -> None:
    try:
        data = json.loads(output.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return
    result.requests_per_s = float(data["rps"])
    result.p50_ms = data["p50"]
    result.p99_ms = data["p99"]
    result.requests = int(data["requests"])
    result.non_2xx = int(data["non_2xx"])
    result.socket_errors = {"client": int(data["errors"])}


# --------------------------------------------------------------------------- report


def fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def machine_facts() -> list[str]:
    facts = [f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}"]
    facts.append(f"nproc: {os.cpu_count()} (affinity: {len(os.sched_getaffinity(0))})")
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts.append(f"cpu: {line.split(':', 1)[1].strip()}")
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        facts.append(f"memory: {kib / 1024 / 1024:.1f} GiB")
    facts.append(f"python: {platform.python_version()} ({sys.executable})")
    facts.append(f"platform: {platform.platform()}")
    facts.append(f"sqlite: {sqlite3.sqlite_version}")
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        packages = ("dailypapers", "fastapi", "starlette", "uvicorn", "sqlalchemy", "jinja2")
        facts.append(", ".join(f"{name} {version(name)}" for name in packages))
    if shutil.which("wrk"):
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        first = (done.stdout + done.stderr).strip().splitlines()
        facts.append(f"wrk: {first[0] if first else 'installed'}")
    return facts


def render(report: Report) -> str:
    args = report.args
    out: list[str] = [f"# dailypapers core benchmark, {datetime.now():%Y-%m-%d %H:%M:%S}", ""]
    out += ["Command:", "", "```", shlex.join([sys.executable, *sys.argv]), "```", ""]
    out += ["Machine:", ""] + [f"- {fact}" for fact in machine_facts()]
    start, end = report.load_average_start, os.getloadavg()
    out.append(
        f"- load average (1/5/15 min) at start: {start[0]:.2f} {start[1]:.2f} {start[2]:.2f}; "
        f"at end: {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}"
    )
    if max(start[0], end[0]) > 0.5 * (os.cpu_count() or 1):
        out.append("- **the machine was busy with other work: figures are pessimistic**")
    code_start, code_end = report.source_start, source_fingerprint()
    out.append(
        f"- app source (src/dailypapers) sha256 {code_start[0]}, newest file {code_start[1]}"
    )
    if code_end != code_start:
        out.append(
            f"- **the app source changed during the run** (now {code_end[0]}, newest file "
            f"{code_end[1]}): figures may mix code versions"
        )
    out.append("")
    out += [f"Data dir: `{report.data_dir}`", ""]

    if report.loads:
        out += ["## Loading (`dailypapers load FILE`, one process per file, in order)", ""]
        out += ["| file | rows | wall s | papers/s (wall) | CLI s | papers/s (CLI) | exit |"]
        out += ["| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for load in report.loads:
            cli_s = "n/a" if load.cli_s is None else f"{load.cli_s:.1f}"
            cli_rate = "n/a" if load.cli_rate is None else f"{load.cli_rate:,.0f}"
            out.append(
                f"| {load.file} | {load.rows_in_file:,} | {load.wall_s:.1f} | "
                f"{load.wall_rate:,.0f} | {cli_s} | {cli_rate} | {load.returncode} |"
            )
        rows = sum(load.rows_in_file for load in report.loads)
        wall = sum(load.wall_s for load in report.loads)
        out.append(f"| **total** | {rows:,} | {wall:.1f} | {rows / wall:,.0f} | | | |")
        out.append("")
        out.append(
            "Wall = whole `dailypapers load` process incl. start-up and migrations; CLI = the "
            "command's own `N rows in X s` figure (rows it read / its load time)."
        )
        out.append("")
    elif args.skip_load:
        out += ["Loading skipped (`--skip-load`).", ""]

    if report.http:
        client = (
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency"
            if report.client == "wrk"
            else "Python asyncio+httpx fallback client (wrk not available)"
        )
        if report.client == "wrk" and args.wrk_timeout:
            client += f" --timeout={args.wrk_timeout}s"
        out += [f"## HTTP ({client}; {args.warmup:g} s warm-up first; same machine)", ""]
        out += [
            "| workers | URL | cache | probe | req/s | p50 | p99 | requests | non-2xx/3xx "
            "| sock err |"
        ]
        out += ["| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for item in report.http:
            sock = ", ".join(f"{k} {v}" for k, v in item.socket_errors.items() if v) or "0"
            if item.failed:
                sock += " (**client failed**)"
            out.append(
                f"| {item.workers} | `{item.path}` | {'yes' if item.cached else 'bypassed'} | "
                f"{item.probe_status}, "
                f"{item.probe_bytes / 1024:.0f} KiB | {item.requests_per_s:,.1f} | "
                f"{fmt_ms(item.p50_ms)} | {fmt_ms(item.p99_ms)} | {item.requests:,} | "
                f"{item.non_2xx:,} | {sock} |"
            )
        out.append("")
        if report.client == "wrk":
            limit = f"{args.wrk_timeout} s" if args.wrk_timeout else "2 s (wrk's default)"
            out.append(
                f"wrk counts responses slower than its timeout, {limit}, as socket `timeout` "
                "errors and leaves them out of its percentiles, so where there are timeouts the "
                "real p50/p99 are higher than shown."
            )
            out.append("")
        out.append(
            "cache = yes: plain GETs, which the app's response cache (if any) may answer from "
            f"memory. cache = bypassed: every request sends `{NO_CACHE_HEADER}`, so it runs "
            "the route code and the database queries (the cost of a cache miss or of a "
            "logged-in visitor)."
        )
        out.append("")

    out += ["## Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    for load in report.loads:
        out.append(
            f"| load {load.file} ≥ {LOAD_TARGET:,.0f} papers/s (wall) | "
            f"{load.wall_rate:,.0f} (CLI {load.cli_rate or 0:,.0f}) | "
            f"{verdict(load.wall_rate >= LOAD_TARGET and load.returncode == 0)} |"
        )
    if report.loads:
        rows = sum(load.rows_in_file for load in report.loads)
        rate = rows / sum(load.wall_s for load in report.loads)
        out.append(
            f"| load all files ≥ {LOAD_TARGET:,.0f} papers/s (wall) | {rate:,.0f} | "
            f"{verdict(rate >= LOAD_TARGET)} |"
        )
    for item in report.http:
        healthy = item.errors == 0 and item.probe_status == 200
        errors = "" if healthy else f", {item.errors} errors, probe {item.probe_status}"
        run = f"w={item.workers}{'' if item.cached else ' cache bypassed'}"
        if item.path == "/api/daily_papers":
            ok = item.requests_per_s >= API_TARGET_RPS and (item.p99_ms or 1e9) <= API_TARGET_P99_MS
            out.append(
                f"| `/api/daily_papers` {run} ≥ {API_TARGET_RPS:.0f} req/s, "
                f"p99 ≤ {API_TARGET_P99_MS:.0f} ms | {item.requests_per_s:,.1f} req/s, "
                f"p99 {fmt_ms(item.p99_ms)}{errors} | {verdict(ok and healthy)} |"
            )
        elif item.path == "/":
            ok = item.requests_per_s >= HOME_TARGET_RPS
            out.append(
                f"| `/` {run} ≥ {HOME_TARGET_RPS:.0f} req/s | "
                f"{item.requests_per_s:,.1f} req/s{errors} | {verdict(ok and healthy)} |"
            )
    out.append("")

    if report.http:
        out += ["## Exact load-generator commands", "", "```"]
        out += [item.command for item in report.http] + ["```", ""]
        problems = [item for item in report.http if item.errors or item.probe_status != 200]
        if problems:
            out += ["## Load-generator output for runs with errors", ""]
            for item in problems:
                cache = "" if item.cached else " (cache bypassed)"
                out += [f"workers={item.workers} `{item.path}`{cache}:", "", "```"]
                out += [item.raw.strip()]
                out += ["```", ""]
    if report.notes:
        out += ["## Notes", ""] + [f"- {note}" for note in report.notes] + [""]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="data dir to use (default: a new temp dir)")
    parser.add_argument("--skip-load", action="store_true", help="reuse --data-dir as loaded")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary data dir")
    parser.add_argument("--source-dir", type=Path, default=DEFAULT_SOURCE_DIR)
    parser.add_argument("--duration", type=int, default=20, help="seconds per URL")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per URL")
    parser.add_argument("--connections", type=int, default=50, help="concurrent clients")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--wrk-timeout",
        type=int,
        help="wrk --timeout in s (default: wrk's 2 s; slower responses count as socket "
        "timeouts and are left out of wrk's latency percentiles)",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="server worker counts to test"
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--log-level", help="DAILYPAPERS_LOG_LEVEL for the server (default: app's)")
    parser.add_argument("--no-http", action="store_true", help="only measure loading")
    parser.add_argument(
        "--no-uncached",
        dest="uncached",
        action="store_false",
        help="skip the second pass that bypasses the app's response cache with a cookie",
    )
    parser.add_argument("--_client", dest="client_url", help=argparse.SUPPRESS)
    parser.add_argument(
        "--_no-cache", dest="client_no_cache", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.skip_load and args.data_dir is None:
        parser.error("--skip-load needs --data-dir")
    if args.skip_load and not (args.data_dir / "dailypapers.db").exists():
        parser.error(f"--skip-load: no dailypapers.db in {args.data_dir}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.client_url:
        result = asyncio.run(
            _client_main(args.client_url, args.connections, args.duration, not args.client_no_cache)
        )
        print(json.dumps(result))
        return 0

    # Turn SIGTERM/SIGHUP into an exception so the `finally` blocks stop the servers.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: sys.exit(128 + number))

    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="dailypapers-bench-")) if temporary else args.data_dir
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    client = "wrk" if shutil.which("wrk") else "python"
    report = Report(args, data_dir, client)
    report.source_start = source_fingerprint()
    if client != "wrk":
        report.notes.append("wrk not found: used the Python asyncio+httpx fallback client")
    executable = dailypapers_executable()
    env = app_env(data_dir, args.log_level)
    try:
        if not args.skip_load:
            if (data_dir / "dailypapers.db").exists():
                report.notes.append("data dir already had a database: loads were on top of it")
            run_loads(report, executable, env, args.source_dir)
        if not args.no_http:
            run_http(report, executable, env, args)
    finally:
        text = render(report)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out_path = RESULTS_DIR / f"core-{datetime.now():%Y%m%d-%H%M%S}.md"
        out_path.write_text(text + "\n", encoding="utf-8")
        print(text)
        print(f"\nWritten to {out_path}", file=sys.stderr)
        if temporary and not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
        elif temporary:
            print(f"Data kept in {data_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
