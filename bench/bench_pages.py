"""Page weight and server time of the pages a reader opens (issue 15): `/`, the newest week,
the top paper's page and a search, on the bundled demo data (5,840 real HF Daily Papers).

    git worktree add --detach /tmp/before 9b56b1c         # the tree before issue 15
    .venv/bin/python bench/bench_pages.py --before /tmp/before          # both, alternating
    .venv/bin/python bench/bench_pages.py --label after                 # this tree alone

`--tree` is the source tree to serve (default: this one); `--before` a second one, served at
the same time and timed in alternation with it (AB BA rounds, so a drift of a shared machine
falls on both). For each tree the script starts `python -m dailypapers serve` with
`PYTHONPATH=<tree>/src` (the tree's `dailypapers` comes before the editable install) on a
fresh data directory, so `serve` loads the demo papers, and measures from this process over
loopback, one request at a time on one kept-alive connection, as a browser asking for gzip
(`Accept-Encoding: gzip, deflate, br`):

- weight: the HTML's bytes as the app renders it (asked with `identity`), as sent on the wire
  to a browser (gzipped when the tree compresses), and gzip -6 of the rendered bytes (what
  compression gives, whether the tree does it or not); then the same for the page with its
  stylesheets and scripts (`<link rel=stylesheet>`, `<script src>`).
- time: the median and 90th percentile of `--requests` requests after `--warmup`, for each
  page "cached" (the same URL again: the response cache answers) and "rendered" (a new
  unknown parameter each time, which the cache does not keep: the route, the database, the
  template and the compression run every time). Search is never cached.

Search by meaning is off unless `--dense` (then `dailypapers index` embeds the 5,840 papers
first, a minute or two): the search figure is then keyword search plus the query's embedding.
Raw output goes to `bench/results/pages-<label>.txt` (of this tree; `pages-before.txt` for
`--before`) and is printed; with `--before`, also `pages-before-<label>.md`: the table for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BROWSER = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html,*/*"}
RENDERED = {"Accept-Encoding": "identity", "Accept": "text/html,*/*"}
SEARCH_QUERY = "reinforcement learning for reasoning"
HOME_BUDGET_BYTES = 25 * 1024


@dataclass
class Weight:
    rendered: int  # bytes the app renders
    wire: int  # bytes sent to a browser that accepts gzip
    gzip6: int  # gzip -6 of the rendered bytes

    def __add__(self, other: Weight) -> Weight:
        return Weight(
            self.rendered + other.rendered, self.wire + other.wire, self.gzip6 + other.gzip6
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_revision(tree: Path) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return f"{git('rev-parse', '--short', 'HEAD')}{dirty}"


def start_server(tree: Path, data_dir: Path, port: int, dense: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "DAILYPAPERS_DATA_DIR": str(data_dir),
        "DAILYPAPERS_SEARCHES_PER_MINUTE": "0",  # no limit: the bench searches fast
        "DAILYPAPERS_DENSE_SEARCH": "true" if dense else "false",
        "DAILYPAPERS_EMBED_IN_BACKGROUND": "false",
        "DAILYPAPERS_HARVEST_SCHEDULER": "false",
        "DAILYPAPERS_LOG_LEVEL": "warning",
    }
    env.pop("DAILYPAPERS_DATABASE_URL", None)
    command = [sys.executable, "-m", "dailypapers"]
    if dense:  # load the demo papers and embed them before serving
        subprocess.run([*command, "db", "upgrade"], env=env, check=False, capture_output=True)
        demo = tree / "src" / "dailypapers" / "demo" / "daily_papers_demo.jsonl.gz"
        subprocess.run([*command, "load", str(demo)], env=env, check=True, capture_output=True)
        subprocess.run([*command, "index"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300  # loading the demo papers on a busy machine
    while time.monotonic() < deadline:
        if server.poll() is not None:
            stderr = server.stderr.read().decode() if server.stderr else ""
            raise SystemExit(f"serve exited with {server.returncode}:\n{stderr[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("serve did not answer /healthz within 300 s")


def raw_get(
    client: httpx.Client, url: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def weigh(client: httpx.Client, url: str) -> tuple[Weight, bytes]:
    response, rendered = raw_get(client, url, RENDERED)
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")
    _, wire = raw_get(client, url, BROWSER)
    return Weight(len(rendered), len(wire), len(gzip.compress(rendered, 6))), rendered


def assets_of(html: bytes) -> list[str]:
    text = html.decode("utf-8", "replace")
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"', text)
    styles += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="stylesheet"', text)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
    return sorted({url for url in styles + scripts if url.startswith("/")})


def time_requests(
    client: httpx.Client, url: str, requests: int, warmup: int, *, rendered: bool
) -> list[float]:
    """Milliseconds per request, each read whole; `rendered` adds an unknown parameter that
    keeps the response cache from answering."""
    times: list[float] = []
    for n in range(warmup + requests):
        target = url
        if rendered:
            target += ("&" if "?" in url else "?") + f"bench_nocache={time.monotonic_ns()}"
        started = time.perf_counter()
        response, _ = raw_get(client, target, BROWSER)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{target}: {response.status_code}")
        if n >= warmup:
            times.append(elapsed)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def pages(client: httpx.Client) -> dict[str, str]:
    week = client.get("/papers/week", follow_redirects=False)
    week_url = week.headers.get("location", "/papers/week") if week.is_redirect else "/papers/week"
    top = client.get("/api/daily_papers", params={"limit": 1}).json()[0]
    return {
        "home": "/",
        "week": week_url,
        "paper": f"/papers/{top['paper']['id']}",
        "search": "/papers?" + httpx.QueryParams({"q": SEARCH_QUERY}).__str__(),
    }


@dataclass
class Side:
    """One tree being served, and what was measured of it."""

    label: str
    tree: Path
    client: httpx.Client
    urls: dict[str, str]
    weights: dict[str, tuple[Weight, Weight]]  # page: (the HTML alone, with its CSS and JS)
    times: dict[tuple[str, bool], list[float]]  # (page, rendered): ms


def measure_weights(client: httpx.Client, urls: dict[str, str]) -> dict[str, tuple[Weight, Weight]]:
    weights = {}
    for name, url in urls.items():
        html, body = weigh(client, url)
        total = html
        for asset in assets_of(body):
            total = total + weigh(client, asset)[0]
        weights[name] = (html, total)
    return weights


MODES = ((False, "cached"), (True, "rendered"))


def measure_times(side: Side, requests: int, warmup: int) -> None:
    for name, url in side.urls.items():
        for rendered, _ in MODES:
            if name == "search" and not rendered:
                continue  # never cached
            samples = time_requests(side.client, url, requests, warmup, rendered=rendered)
            side.times.setdefault((name, rendered), []).extend(samples)


def cell(times: list[float] | None) -> str:
    if not times:
        return "(never cached)"
    return f"{statistics.median(times):.2f} / {percentile(times, 0.9):.2f}"


def report_of(side: Side, header: list[str]) -> str:
    lines = [*header, f"tree: {side.tree} at {tree_revision(side.tree)}", ""]
    lines.append("## Weight (bytes): the HTML alone; then with its CSS and JS")
    lines.append(
        f"{'page':<8} {'rendered':>9} {'wire':>8} {'gzip-6':>8}   "
        f"{'+assets':>9} {'wire':>8} {'gzip-6':>8}   url"
    )
    for name, (html, total) in side.weights.items():
        lines.append(
            f"{name:<8} {html.rendered:>9,} {html.wire:>8,} {html.gzip6:>8,}   "
            f"{total.rendered:>9,} {total.wire:>8,} {total.gzip6:>8,}   {side.urls[name]}"
        )
    home = side.weights["home"][0].wire
    verdict = "PASS" if home <= HOME_BUDGET_BYTES else "FAIL"
    lines += [f"home on the wire: {home:,} bytes; target <= {HOME_BUDGET_BYTES:,}: {verdict}", ""]
    lines.append(
        "## Time (ms, one client, loopback, median / p90): cached = answered by the response "
        "cache; rendered = route + template (+ gzip) every time"
    )
    lines.append(f"{'page':<8} {'cached':>15} {'rendered':>15}")
    for name in side.urls:
        cached, rendered = (cell(side.times.get((name, mode))) for mode, _ in MODES)
        lines.append(f"{name:<8} {cached:>15} {rendered:>15}")
    return "\n".join(lines) + "\n"


def comparison(before: Side, after: Side) -> str:
    """The Markdown table for docs/benchmarks.md: bytes on the wire and rendered time."""
    lines = [
        f"| page | wire bytes: {before.label} | {after.label} | rendered bytes: {before.label} "
        f"| {after.label} | time cached: {before.label} | {after.label} | time rendered: "
        f"{before.label} | {after.label} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in after.urls:
        b, a = before.weights[name][0], after.weights[name][0]
        times = [
            cell(side.times.get((name, mode))) for mode, _ in MODES for side in (before, after)
        ]
        lines.append(
            f"| {name} | {b.wire:,} | {a.wire:,} | {b.rendered:,} | {a.rendered:,} | "
            + " | ".join(f"{t} ms" if "/" in t else "—" for t in times)
            + " |"
        )
    lines.append("")
    lines.append(
        "With CSS and JS (wire bytes): "
        + "; ".join(
            f"{name} {before.weights[name][1].wire:,} → {after.weights[name][1].wire:,}"
            for name in after.urls
        )
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="source tree to serve")
    parser.add_argument("--label", default="after", help="names the output file")
    parser.add_argument(
        "--before",
        type=Path,
        help="a second tree, served at the same time and measured in "
        "alternation with --tree (ABBA rounds); its output is pages-before.txt",
    )
    parser.add_argument("--requests", type=int, default=60, help="per figure, all rounds")
    parser.add_argument("--rounds", type=int, default=4, help="with --before: ABBA rounds")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--dense", action="store_true", help="search by meaning too")
    args = parser.parse_args()
    trees = [(args.label, args.tree.resolve())]
    if args.before:
        trees.insert(0, ("before", args.before.resolve()))
    rounds = args.rounds if args.before else 1
    header = [
        f"# bench_pages.py: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"command: {' '.join([Path(sys.executable).name, *sys.argv])}",
        f"requests per figure: {args.requests} in {rounds} round(s), after {args.warmup} "
        f"warm-up each; dense search: {'on' if args.dense else 'off'}",
    ]
    sides: list[Side] = []
    servers: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as work:
        try:
            for label, tree in trees:
                port = free_port()
                data_dir = Path(work) / label
                data_dir.mkdir()
                servers.append(start_server(tree, data_dir, port, args.dense))
                client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
                urls = pages(client)
                sides.append(Side(label, tree, client, urls, measure_weights(client, urls), {}))
            per_round = max(1, args.requests // rounds)
            for number in range(rounds):
                order = sides if number % 2 == 0 else sides[::-1]  # AB BA AB BA
                for side in order:
                    measure_times(side, per_round, args.warmup)
        finally:
            for side in sides:
                side.client.close()
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    for side in sides:
        report = report_of(side, [*header, f"label: {side.label}"])
        (results / f"pages-{side.label}.txt").write_text(report)
        print(report)
    if len(sides) == 2:
        table = comparison(*sides)
        (results / f"pages-{sides[0].label}-{sides[1].label}.md").write_text(table)
        print(table, end="")
    print(f"(written to {results}/pages-*)")


if __name__ == "__main__":
    main()
