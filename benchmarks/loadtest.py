"""Load test of `hrkg serve`: concurrent clients on loopback, a mix of stored queries, SPARQL,
HTML pages and resource IRIs; prints requests, throughput, p50/p99 latency and errors by status.

    python benchmarks/loadtest.py                          # starts a server on a free port
    python benchmarks/loadtest.py --url http://127.0.0.1:8000 --clients 50 --requests 3000

Exit status 1 when any response was a 5xx or a transport error (the target is zero), so the script
can gate a CI job. The clients run in this process (httpx, asyncio) on the same machine as the
server, so on a small machine they compete with it for CPU: the numbers are a floor.
"""
import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ASEAN = ["BRN", "IDN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "TLS", "VNM"]
INSTRUMENTS = ["CAT", "CEDAW", "CRC", "CRPD", "ICCPR", "ICESCR", "ICERD", "OP-CRC-SC", "OPCAT"]
SPARQL = [
    "SELECT ?date WHERE { ?a hrkg:consentingState state:VNM ; hrkg:instrument instr:CAT ; hrkg:date ?date }",
    "ASK { ?a hrkg:consentingState state:THA ; hrkg:instrument instr:CAT }",
    "SELECT ?code (COUNT(?a) AS ?n) WHERE { ?a hrkg:consentingState ?s . ?s hrkg:code ?code } GROUP BY ?code ORDER BY DESC(?n)",
    "SELECT ?s ?label WHERE { ?s a hrkg:CoreTreaty ; dct:title ?label FILTER(LANG(?label) = 'en') }",
    "CONSTRUCT { ?a hrkg:date ?d } WHERE { ?a hrkg:instrument instr:CRC ; hrkg:date ?d }",
    "DESCRIBE <https://w3id.org/hrkg/id/state/VNM>",
]


def request_mix(rng):
    """One request: (kind, method, path, params, headers, body)."""
    kind = rng.choices(["stored query", "sparql", "page", "resource"], weights=[35, 25, 20, 20])[0]
    if kind == "stored query":
        name, params = rng.choice([
            ("treaty-status", {"state": rng.choice(ASEAN)}),
            ("parties", {"instrument": rng.choice(INSTRUMENTS), "group": "ASEAN"}),
            ("upr-reviews", {"state": "VNM"}),
            ("memberships", {"body": "ASEAN"}),
            ("core-treaty-count", {"group": "ASEAN"}),
            ("treaty-actions", {"state": rng.choice(ASEAN)}),
        ])
        accept = rng.choice(["application/sparql-results+json", "text/csv", "text/html"])
        return kind, "GET", f"/queries/{name}", params, {"Accept": accept}, None
    if kind == "sparql":
        query = rng.choice(SPARQL)
        if query.startswith(("CONSTRUCT", "DESCRIBE")):
            accept = rng.choice(["text/turtle", "application/ld+json", "application/n-triples"])
        elif query.startswith("ASK"):
            accept = rng.choice(["application/sparql-results+json", "application/sparql-results+xml"])
        else:
            accept = rng.choice(["application/sparql-results+json", "application/sparql-results+xml", "text/csv"])
        if rng.random() < 0.5:
            return kind, "GET", "/sparql", {"query": query}, {"Accept": accept}, None
        return kind, "POST", "/sparql", {}, {"Accept": accept, "Content-Type": "application/sparql-query"}, query
    if kind == "page":
        path = rng.choice(["/", "/id/state/" + rng.choice(ASEAN), "/id/instrument/" + rng.choice(INSTRUMENTS),
                           "/id/group/ASEAN", "/queries", "/ontology"])
        return kind, "GET", path, {}, {"Accept": "text/html"}, None
    path = rng.choice(["/id/state/" + rng.choice(ASEAN), "/id/instrument/" + rng.choice(INSTRUMENTS),
                       "/id/action/VNM-CAT-ratification", "/id/source/untc-cat", "/id/group/ASEAN", "/void"])
    accept = rng.choice(["text/turtle", "application/ld+json", "application/n-triples"])
    return kind, "GET", path, {}, {"Accept": accept}, None


async def run_load(url, clients, total, seed, timeout):
    rng = random.Random(seed)
    plan = [request_mix(rng) for _ in range(total)]
    queue = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    results = []   # (kind, status or exception name, seconds)

    async def client(http):
        while True:
            try:
                kind, method, path, params, headers, body = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            try:
                r = await http.request(method, url + path, params=params, headers=headers, content=body)
                await r.aread()
                status = r.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            results.append((kind, status, time.perf_counter() - t0))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return results, elapsed


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def report(results, elapsed, clients):
    groups = defaultdict(list)
    for kind, status, seconds in results:
        groups[kind].append((status, seconds))
    groups["all"] = [(s, t) for _, s, t in results]
    lines = [f"{len(results)} requests from {clients} concurrent clients in {elapsed:.1f} s",
             "",
             f"{'kind':<14}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses"]
    for kind in ["stored query", "sparql", "page", "resource", "all"]:
        rows = groups.get(kind, [])
        if not rows:
            continue
        times = [t * 1000 for _, t in rows]
        statuses = Counter(s for s, _ in rows)
        status_text = " ".join(f"{s}:{n}" for s, n in sorted(statuses.items(), key=lambda x: str(x[0])))
        lines.append(f"{kind:<14}{len(rows):>9}{len(rows) / elapsed:>9.1f}{statistics.median(times):>9.0f}"
                     f"{percentile(times, 99):>9.0f}{max(times):>9.0f}  {status_text}")
    errors = Counter(s for _, s, _ in results if not isinstance(s, int) or s >= 400)
    server_errors = sum(n for s, n in errors.items() if not isinstance(s, int) or s >= 500)
    lines += ["", "errors by status: " + (", ".join(f"{s}: {n}" for s, n in sorted(errors.items(), key=lambda x: str(x[0])))
                                          or "none"),
              f"5xx or transport errors: {server_errors}"]
    return "\n".join(lines), server_errors


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_server(args):
    port = free_port()
    store = args.store or os.path.join(tempfile.mkdtemp(prefix="hrkg-load-"), "store")
    command = [sys.executable, "-m", "hrkg", "serve", "--port", str(port), "--store", store, "-q",
               "--workers", str(args.workers), "--response-cache", "0" if args.no_response_cache else "512"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"hrkg serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(url + "/status", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("hrkg serve did not come up within 180 s")
            time.sleep(0.2)
        print(f"started: {' '.join(command)}", file=sys.stderr)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server (default: start one on a free port)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default: 50)")
    parser.add_argument("--requests", type=int, default=3000, help="total requests (default: 3000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the started server (default: 2)")
    parser.add_argument("--no-response-cache", action="store_true",
                        help="start the server with --response-cache 0, so every request runs in a worker")
    parser.add_argument("--store", help="store folder for the started server (default: a fresh temporary one)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the request mix (default: 2026)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request client timeout in seconds")
    args = parser.parse_args(argv)
    with (contextlib.nullcontext(args.url.rstrip("/")) if args.url else local_server(args)) as url:
        # warm up: one request of each kind, not counted
        warm = random.Random(0)
        for _ in range(8):
            kind, method, path, params, headers, body = request_mix(warm)
            httpx.request(method, url + path, params=params, headers=headers, content=body, timeout=60)
        results, elapsed = asyncio.run(run_load(url, args.clients, args.requests, args.seed, args.timeout))
        status = httpx.get(url + "/status", timeout=10).json() if not args.url else None
    text, server_errors = report(results, elapsed, args.clients)
    print(text)
    if status:
        print(f"server: {status['jobs']} jobs run by {len(status['workers'])} workers, {status['cache_hits']} answers "
              f"from the response cache, {status['timeouts']} timeouts, {status['busy']} refused as busy, "
              f"{status['crashes']} worker crashes")
    return 1 if server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
