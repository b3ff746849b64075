"""The persistent store: ontology + data + imported files + inference compiled into pyoxigraph.

Layout of a store location (default ``$HRKG_STORE``, else ``<cache dir>/store``)::

    current -> build-<fingerprint>     symlink, replaced atomically when a build finishes
    build-<fingerprint>/oxigraph/       the RocksDB store, opened read-only by every command
    build-<fingerprint>/manifest.json   inputs (path, size, mtime, SHA-256), counts, timings
    .tmp-<pid>-<n>/                     a build in progress; never read, removed when stale

A build writes a new folder and only then swaps the symlink, so a build that fails or is killed
(even with SIGKILL) leaves the previous store in place and usable.
"""
import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from . import __version__
from .errors import LoadError, StoreError
from .infer import STATISTICS, instance_rules, is_noise, schema_closure
from .load import FORMATS, GRAPH_BASE, INFERRED_GRAPH, default_files, expand_paths, graph_name, parse_file
from .namespaces import PREFIXES

STORE_FORMAT = 1
CURRENT = "current"
MANIFEST = "manifest.json"
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "n3": ox.RdfFormat.N3,
               "xml": ox.RdfFormat.RDF_XML, "json-ld": ox.RdfFormat.JSON_LD}
_PREFIX_MAP = {k: str(v) for k, v in PREFIXES.items()}


def default_location():
    """$HRKG_STORE, else ``store`` in hrkg's cache folder."""
    from .graph import cache_dir
    return Path(os.environ.get("HRKG_STORE") or cache_dir() / "store")


# ---- term conversion (pyoxigraph <-> rdflib) -----------------------------------------------

def to_rdflib(term):
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value, datatype=None if datatype == _XSD_STRING else URIRef(datatype))
    raise TypeError(f"unexpected RDF term {term!r}")


def to_ox(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unexpected RDF term {term!r}")


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


# ---- inputs and their fingerprint -----------------------------------------------------------

def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_inputs(files):
    """Path, size, mtime and SHA-256 of each input file (raises LoadError for a missing one)."""
    out = []
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise LoadError("no such file", path=f)
        st = f.stat()
        out.append({"path": str(f.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                    "sha256": sha256_of(f)})
    return out


def fingerprint(inputs):
    """One SHA-256 over the store format, hrkg's version and every input's name and content."""
    digest = hashlib.sha256(f"hrkg-store {STORE_FORMAT} {__version__}\n".encode())
    for item in inputs:
        digest.update(f"{item['path']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()


def changed_inputs(manifest):
    """Input paths whose content differs from the manifest (stat first; hash only if stat moved)."""
    changed = []
    for item in manifest["inputs"]:
        path = Path(item["path"])
        try:
            st = path.stat()
        except OSError:
            changed.append(str(path))
            continue
        if st.st_size == item["size"] and st.st_mtime_ns == item["mtime_ns"]:
            continue
        if st.st_size != item["size"] or sha256_of(path) != item["sha256"]:
            changed.append(str(path))
    return changed


def stale_reason(manifest):
    """Why a store must be rebuilt before it answers, or None: an input changed or vanished, hrkg
    is another version, or the bundled data in use is not the copy the store was built from
    (another checkout or installation sharing the cache folder, a bundled file added or removed)."""
    changed = changed_inputs(manifest)
    if changed:
        return f"inputs changed since the store was built ({', '.join(changed[:3])})"
    if manifest.get("hrkg") != __version__:
        return f"built by hrkg {manifest.get('hrkg')}, this is {__version__}"
    if "bundled" not in manifest:
        return "built by an earlier hrkg that did not record which bundled data it read"
    bundled = manifest["bundled"]
    if bundled and sorted(bundled) != sorted(_resolved(default_files())):
        return "built from another copy of the bundled data"
    return None


def extra_inputs(manifest):
    """The non-bundled files a store was built from, to build it again with them."""
    if "extra" in manifest:
        return manifest["extra"]
    # an earlier manifest: the inputs not loaded into a bundle graph (graphs are in input order)
    names = list(manifest["graphs"])
    if len(names) == len(manifest["inputs"]):
        return [i["path"] for i, g in zip(manifest["inputs"], names) if not g.startswith(GRAPH_BASE)]
    bundled = set(_resolved(default_files()))
    return [i["path"] for i in manifest["inputs"] if i["path"] not in bundled]


def _resolved(files):
    """Absolute paths as a manifest records them."""
    return [str(Path(f).resolve()) for f in files]


# ---- progress ----------------------------------------------------------------------------------

class Progress:
    """Progress lines on stderr (or nowhere when quiet), each with the elapsed time."""

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.start = time.monotonic()

    def __call__(self, message):
        if not self.quiet:
            self.stream.write(f"[{time.monotonic() - self.start:6.1f}s] {message}\n")
            self.stream.flush()


# ---- build ---------------------------------------------------------------------------------------

def current_build(location):
    """The folder of the current build, or None when nothing was built yet."""
    link = Path(location) / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def read_manifest(build_dir):
    try:
        return json.loads((Path(build_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{build_dir}: not a usable hrkg store ({exc})") from None


def build(paths=None, location=None, *, include_bundle=True, force=False, progress=None):
    """Compile the inputs into a new store at ``location`` unless the current one has the same
    inputs. Returns the manifest of the store in use afterwards (``manifest["built"]`` says
    whether this call built it).

    Raises LoadError for an unreadable or malformed input (the previous store stays current) and
    StoreError when the location cannot be written.
    """
    progress = progress or Progress(quiet=True)
    location = Path(location or default_location())
    # the files a build reads: the bundled ontology and data, then ``paths`` (folders expanded)
    bundled = list(default_files()) if include_bundle else []
    extra = expand_paths(paths or ())
    files = bundled + extra
    progress(f"checking {len(files)} input file(s)")
    inputs = describe_inputs(files)
    key = fingerprint(inputs)
    existing = current_build(location)
    if existing is not None and not force:
        try:
            manifest = read_manifest(existing)
        except StoreError:
            manifest = None
        if manifest and manifest.get("fingerprint") == key:
            progress(f"store is up to date ({existing})")
            return dict(manifest, built=False, path=str(existing))
    try:
        location.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(location)
        tmp = location / f".tmp-{os.getpid()}-{time.time_ns()}"
        tmp.mkdir()
    except OSError as exc:
        raise StoreError(f"{location}: cannot write the store: {exc.strerror or exc}") from None
    try:
        manifest = _compile(files, inputs, key, tmp, progress)
        manifest["bundled"] = _resolved(bundled)
        manifest["extra"] = _resolved(extra)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        final = location / f"build-{key[:20]}"
        if existing is not None and final.resolve() == existing.resolve():
            final = location / f"build-{key[:20]}-{time.time_ns()}"   # forced: never remove the live store
        elif final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _swap_current(location, final)
    except BaseException as exc:
        # the failed build's frames still hold the open store; free it, or RocksDB writes its
        # files back into the folder after we removed it
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(location, keep={final, existing})
    progress(f"store ready: {final}")
    return dict(manifest, built=True, path=str(final))


def _compile(files, inputs, key, folder, progress):
    """Load and infer into ``folder``; returns the manifest, which build() completes and writes."""
    started = time.monotonic()
    store = ox.Store(str(folder / "oxigraph"))
    counts = {}
    for i, (path, item) in enumerate(zip(files, inputs), 1):
        t0 = time.monotonic()
        graph = graph_name(path)
        _load_file(store, path, graph)
        counts[str(graph)] = n = _graph_size(store, graph)
        progress(f"loaded {i}/{len(files)} {Path(path).name}: {n:,} triples ({time.monotonic() - t0:.1f} s)")
    load_seconds = time.monotonic() - started
    t0 = time.monotonic()
    inferred = materialise(store, files, progress)
    infer_seconds = time.monotonic() - t0
    store.flush()
    store.optimize()
    del store
    manifest = {
        "format": STORE_FORMAT, "hrkg": __version__, "fingerprint": key,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs, "graphs": counts, "asserted_triples": sum(counts.values()),
        "inferred_triples": inferred,
        "seconds": {"load": round(load_seconds, 2), "infer": round(infer_seconds, 2),
                    "total": round(time.monotonic() - started, 2)},
    }
    return manifest


def _load_file(store, path, graph):
    """Bulk-load one file into its named graph; a syntax error becomes LoadError(file, line, col)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower(), "turtle")
    if fmt not in _OX_FORMATS:   # TriG/N-Quads inputs keep their own graphs: go through rdflib
        for s, p, o in parse_file(path):
            store.add(ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(graph))))
        return
    if path.stat().st_size == 0:
        raise LoadError("file is empty", path=path)
    try:
        store.bulk_load(path=str(path), format=_OX_FORMATS[fmt], to_graph=ox.NamedNode(str(graph)),
                        base_iri=path.resolve().as_uri())
    except SyntaxError as exc:
        message = str(exc).split(" (", 1)[0]
        raise LoadError(f"{fmt} syntax error: {message}", path=path, line=exc.lineno,
                        column=exc.offset) from None
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot load: {exc}", path=path) from None
    if _graph_size(store, graph) == 0:
        raise LoadError("file holds no triples", path=path)


def _graph_size(store, graph):
    result = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(next(iter(result))["n"].value)


def materialise(store, files, progress):
    """Add the OWL RL entailments to the inferred graph of ``store``; returns how many."""
    ontology = Graph()
    for path in files:
        if "/graph/ontology/" in str(graph_name(path)):
            parse_file(path, ontology)
    target = ox.NamedNode(str(INFERRED_GRAPH))
    closure = schema_closure(ontology)
    schema = [t for t in closure if not any(isinstance(x, BNode) for x in t)]
    store.extend([ox.Quad(to_ox(s), to_ox(p), to_ox(o), target) for s, p, o in schema])
    progress(f"inference: {len(schema):,} schema triples from owlrl")
    property_rules, type_rules = instance_rules(ontology, closure)
    total, round_no = len(schema), 0

    def apply(rules, label):
        added = 0
        for name, rule in rules:
            t0 = time.monotonic()
            new = [t for t in store.query(rule, use_default_graph_as_union=True, prefixes=_PREFIX_MAP)
                   if not _is_noise_ox(t)]
            store.extend([ox.Quad(t.subject, t.predicate, t.object, target) for t in new])
            added += len(new)
            if new:
                progress(f"inference {label}: {name}: +{len(new):,} ({time.monotonic() - t0:.1f} s)")
        return added

    while True:   # property rules feed each other (inverse of a chain of an inverse...)
        round_no += 1
        added = apply(property_rules, f"round {round_no}")
        total += added
        if not added:
            break
    total += apply(type_rules, "types")   # types feed no property rule, so one pass
    total += apply(list(STATISTICS.items()), "statistics")
    progress(f"inference: {total:,} triples ({round_no} round(s) of property rules, then types)")
    return total


def _is_noise_ox(triple):
    if isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode):
        return True
    return is_noise((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))


def _swap_current(location, target):
    link = location / CURRENT
    tmp_link = location / f".current-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(target.name, tmp_link)
    os.replace(tmp_link, link)   # atomic on POSIX: readers see the old or the new build, never none


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(location):
    """Delete folders of builds whose process is gone (killed or crashed)."""
    for tmp in location.glob(".tmp-*"):
        try:
            pid = int(tmp.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def _remove_old_builds(location, keep):
    """Keep the new build and the one before it (a reader may still have it open)."""
    keep = {Path(k).resolve() for k in keep if k is not None}
    for old in location.glob("build-*"):
        if old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)


# ---- open ------------------------------------------------------------------------------------

def open_store(location=None):
    """(read-only pyoxigraph Store, manifest) of the current build; StoreError if there is none."""
    location = Path(location or default_location())
    build_dir = current_build(location)
    if build_dir is None:
        raise StoreError(f"{location}: no store built yet; run 'hrkg build'")
    manifest = read_manifest(build_dir)
    if manifest.get("format") != STORE_FORMAT:
        raise StoreError(f"{build_dir}: store format {manifest.get('format')} is not {STORE_FORMAT}; run 'hrkg build'")
    try:
        store = ox.Store.read_only(str(build_dir / "oxigraph"))
    except OSError as exc:
        raise StoreError(f"{build_dir}: cannot open the store: {exc}") from None
    return store, dict(manifest, path=str(build_dir))
