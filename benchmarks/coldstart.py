"""Cold start of a query process on a built store, against ``python -c "import pyoxigraph"`` (issue 12:
within 6x). Prints a markdown table; not a test.

    python benchmarks/coldstart.py [--store DIR] [--runs 10]

Each command runs once to warm up (the first builds the store at --store, default the usual
location, if there is none), then --runs times; the table gives the minimum and the median wall
time and the minimum CPU time (user + system, from ``os.wait4``), which a busy machine disturbs
less. A last run under ``python -X importtime`` says which heavy packages a query imports (none
should) and what its imports cost most.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("rdflib", "owlrl", "pyshacl", "oxrdflib")
TARGET_RATIO = 6


def run(argv, env):
    """(wall seconds, CPU seconds) of one run; exits if it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(argv, env, runs):
    run(argv, env)   # warm-up (and the first build of the store)
    times = [run(argv, env) for _ in range(runs)]
    walls = [w for w, _ in times]
    return min(walls), statistics.median(walls), min(c for _, c in times)


def importtime(argv, env):
    """{module: cumulative microseconds} of one run under -X importtime."""
    proc = subprocess.run([argv[0], "-X", "importtime"] + argv[1:], env=env, cwd=ROOT, capture_output=True, text=True)
    out = {}
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                out[name.strip()] = int(cumulative)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="the store to query (default: $HRKG_STORE or the cache folder)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    env = dict(os.environ)
    if args.store:
        env["HRKG_STORE"] = args.store
    py = sys.executable
    query = [py, "-m", "hrkg", "query", "treaty-status", "state=VNM"]
    subprocess.run([py, "-m", "hrkg", "build", "-q"], env=env, cwd=ROOT, check=True)

    rows = []
    base = None
    for label, argv in [("`python -c pass`", [py, "-c", "pass"]),
                        ("`python -c 'import pyoxigraph'` (the yardstick)", [py, "-c", "import pyoxigraph"]),
                        ("`python -c 'import rdflib'`", [py, "-c", "import rdflib"])] + \
                       [(f"`hrkg query treaty-status state=VNM --format {fmt}`", query + ["--format", fmt])
                        for fmt in ("table", "csv", "tsv", "json")]:
        low, median, cpu = measure(argv, env, args.runs)
        if "pyoxigraph" in label:
            base = (low, cpu)
        ratio = f"{low / base[0]:.1f}x / {cpu / base[1]:.1f}x" if base else ""
        ok = "" if not label.startswith("`hrkg") else ("yes" if low / base[0] <= TARGET_RATIO else "NO")
        rows.append((label, f"{low * 1000:.0f} ms", f"{median * 1000:.0f} ms", f"{cpu * 1000:.0f} ms", ratio, ok))

    print(f"\nCold start, {args.runs} runs each after a warm-up ({time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})\n")
    print("| command | wall min | wall median | CPU min | vs pyoxigraph (wall / CPU) | within 6x |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    imports = importtime(query, env)
    heavy = sorted(m for m in imports if m.split(".")[0] in HEAVY)
    print(f"\nheavy packages a query imports: {', '.join(heavy) if heavy else 'none'}")
    top = [m for m in sorted(imports, key=imports.get, reverse=True) if "." not in m][:8]
    print("costliest top-level imports (cumulative, one run): " +
          ", ".join(f"{m} {imports[m] / 1000:.0f} ms" for m in top))


if __name__ == "__main__":
    main()
