"""Export benchmark: ``hrkg export`` of a store of about a million triples, per format; prints a
markdown table of time and peak memory against the targets (30 s, 500 MB). Not a test.

    python benchmarks/export.py [--out /tmp/hrkg-export-bench] [--scale 0.68] [--formats nt,nq,...] [--reuse]

1. ``benchmarks/generate.py --scale 0.68``: the synthetic world, about 1,000,000 triples (world.nt).
2. ``hrkg build world.nt`` into ``<out>/store`` (skipped with --reuse when a store is there).
3. ``hrkg export --format F -o <out>/hrkg.F`` for each format, in its own process: wall time, and
   peak resident memory of that process (``os.wait4``); the file is checked to be non-empty.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["nt", "nq", "ttl", "trig", "xml", "jsonld"]
TARGET_SECONDS, TARGET_BYTES = 30, 500 * 1024 ** 2


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(argv, env):
    """(seconds, peak RSS bytes) of ``argv``; exits if it fails."""
    log(" ".join(shlex.quote(str(a)) for a in argv))
    started = time.perf_counter()
    proc = subprocess.Popen([str(a) for a in argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, argv))}\n{err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/hrkg-export-bench", help="working folder")
    parser.add_argument("--scale", type=float, default=0.68, help="generate.py scale (0.68: ~1M triples)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated export formats")
    parser.add_argument("--reuse", action="store_true", help="reuse the store in --out if one was built")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HRKG_STORE=str(out / "store"))
    env.setdefault("HRKG_CACHE_DIR", str(out / "cache"))
    hrkg = [sys.executable, "-m", "hrkg"] if (ROOT / "hrkg" / "__main__.py").exists() else \
        [str(Path(sys.executable).with_name("hrkg"))]
    manifest_path = out / "store" / "current" / "manifest.json"
    if not (args.reuse and manifest_path.is_file()):
        run([sys.executable, ROOT / "benchmarks" / "generate.py", "--out", out, "--scale", args.scale], env)
        run(hrkg + ["build", "--force", out / "world.nt"], env)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    rows = []
    for fmt in args.formats.split(","):
        target = out / f"hrkg.{fmt}"
        seconds, peak = run(hrkg + ["export", "--format", fmt, "-o", target], env)
        size = target.stat().st_size
        assert size > 0, target
        rows.append((fmt, seconds, peak, size))
    print(f"\nExport of {manifest['asserted_triples']:,} asserted triples "
          f"({len(manifest['graphs'])} graphs), {os.cpu_count()} CPUs; one process per format.\n")
    print(f"| format | time (target {TARGET_SECONDS} s) | peak RSS (target {TARGET_BYTES // 1024 ** 2} MB) "
          "| file size | within targets |")
    print("|---|---:|---:|---:|---|")
    for fmt, seconds, peak, size in rows:
        ok = seconds < TARGET_SECONDS and peak < TARGET_BYTES
        print(f"| {fmt} | {seconds:.1f} s | {peak / 1024 ** 2:.0f} MB | {size / 1024 ** 2:.0f} MB | {'yes' if ok else 'NO'} |")
    return 0 if all(s < TARGET_SECONDS and p < TARGET_BYTES for _, s, p, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
