"""Search benchmark at world scale (issue 14): index build time and query latency; prints a table.

    python benchmarks/search.py [--out /tmp/hrkg-search-bench] [--scale 1.0] [--repeat 7]

1. ``benchmarks/generate.py``: the synthetic world (~200,000 recommendations). Its texts say
   "Synthetic recommendation k to S ...", which no search would look for, so each text is replaced
   by one of the 237 real first-cycle recommendations of tests/fixtures/asks/labels.csv (chosen by
   the recommendation's number, with the state's code appended): the index then holds real wording,
   with the share of treaty asks found in a sample of real ones.
2. ``hrkg build``: the world into a store (skipped when OUT/store already holds this world).
3. ``hrkg.search.build_index``: recommendations, themes and detected treaty asks into SQLite + FTS5.
4. median latency (after one warm-up run) of scoped queries (one state) and world-wide ones,
   against the issue's targets: scoped < 100 ms, world-wide < 1 s.
"""
import argparse
import csv
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = [
    # (scope, query, filters)
    ("scoped", "torture AND (ratify OR accede)", {"state": "VNM"}),
    ("scoped", '"optional protocol"', {"state": "VNM", "cycle": "II"}),
    ("scoped", "", {"state": "VNM", "instrument": "CAT"}),
    ("scoped", "ratif*", {"state": "BRA", "response": "noted"}),
    ("scoped", "torture", {"recommending_state": "FRA", "theme": "Death penalty"}),
    ("world", "torture AND (ratify OR accede)", {}),
    ("world", '"optional protocol" NOT torture', {}),
    ("world", "", {"instrument": "CAT", "ask": "join"}),
    ("world", "disabilities", {"response": "noted", "cycle": "III"}),
    ("world", "reservations", {"ask": "withdraw-reservation"}),
]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def real_texts():
    with open(ROOT / "tests" / "fixtures" / "asks" / "labels.csv", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(line for line in fh if not line.startswith("#"))]


def with_real_texts(world, out):
    """world.nt with every recommendation text replaced by real wording (see the module docstring)."""
    texts = real_texts()
    text_line = re.compile(r'^(<[^>]*/upr-recommendation/([A-Z]{3})-[IV]+-(\d+)>) <https://w3id.org/hrkg/ontology#text> ')
    with open(world, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            m = text_line.match(line)
            if m:
                text = f"{texts[int(m.group(3)) % len(texts)]} ({m.group(2)})"
                text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
                line = f'{m.group(1)} <https://w3id.org/hrkg/ontology#text> "{text}" .\n'
            dst.write(line)


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/hrkg-search-bench")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {"HRKG_CACHE_DIR": str(out / "cache"), "PATH": "/usr/bin:/bin"}
    world, texts = out / "world.nt", out / "world-real-texts.nt"
    if not world.exists():
        log("generate")
        subprocess.run([sys.executable, ROOT / "benchmarks" / "generate.py", "--out", out, "--scale", str(args.scale)],
                       check=True, env=env)
    if not texts.exists():
        log("real texts")
        with_real_texts(world, texts)
    store = out / "store"
    started = time.perf_counter()
    log("build")
    subprocess.run([sys.executable, "-m", "hrkg", "build", "--store", store, "-q", texts], check=True, env=env)
    build_seconds = time.perf_counter() - started

    from hrkg.graph import KnowledgeGraph
    from hrkg.search import build_index, connect, search
    kg = KnowledgeGraph.open_store(store, build_if_needed=False)
    index = out / "search.sqlite"
    log("index")
    started = time.perf_counter()
    counts = build_index(kg.store, index)
    index_seconds = time.perf_counter() - started
    rows = [(f"hrkg build (store, for reference; 0 when already built)", f"{build_seconds:.1f} s", "", ""),
            (f"build_index: {counts['recommendations']:,} recommendations, {counts['asks']:,} treaty asks, "
             f"{index.stat().st_size / 1e6:.0f} MB", f"{index_seconds:.1f} s", "", "")]
    conn = connect(index)
    for scope, query, filters in QUERIES:
        n = len(search(conn, query, filters, limit=None))
        ms = median_ms(lambda: search(conn, query, filters, limit=100), args.repeat)
        target = 100 if scope == "scoped" else 1000
        shown = " ".join([f"`{query}`" if query else ""] + [f"{k}={v}" for k, v in filters.items()]).strip()
        rows.append((f"{scope}: {shown} ({n:,} matches, first 100)", f"{ms:.1f} ms", f"< {target} ms",
                     "yes" if ms < target else "NO"))
    print("| step | measured | target | met |\n|---|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
