"""The on-disk store: where builds live, which one is current, and who may build or delete one.

Layout of a store location (default ``$HRKG_STORE``, else ``<cache dir>/store``)::

    current -> build-<key>              symlink, replaced atomically when a build finishes
    build-<key>/oxigraph/               the RocksDB store (filled by build.fill), opened read-only
    build-<key>/manifest.json           inputs (name, path, SHA-256), counts, timings
    build-<key>/.readers                a reader holds a shared lock on it while the store is open
    .build.lock                         held by the one build running at a time
    .tmp-<pid>-<n>/                     a build in progress; removed at the next start if its process is gone

The key is a SHA-256 of the inputs' content, with bundled files named by their place in the
bundle, so the same bundle installed in two places is the same store. A build writes a new
folder and only then swaps the symlink, so a build that fails or is killed (even with SIGKILL)
leaves the previous store answering; a build never deletes a build a reader holds open.
"""
import fcntl
import json
import os
import time
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .errors import LoadError, StoreError
from .load import default_files, expand_paths, graph_iri
from .progress import Progress

# What a store holds, by version of the build: a store of another format is rebuilt (bundled data
# only) or reported as built by another version (added files), never read as if it were current.
# 2: the default graph is the reconciled set the queries see (build.py)
# 3: the inferred graph also holds the recommendations' treaty asks (build.record_asks); a format-2
#    store would answer the follow-up queries with no asks at all
# 4: ... and what followed each ask (build.record_followup: hrkg:reviewedOn, hrkg:actionAfterReview...),
#    which the follow-up queries read instead of the treaty actions; a format-3 store has none
# 5: the default graph also holds the derived triples (build._add_inferred), the one graph the
#    queries read; a format-4 store would answer them without any inferred triple
# 6: a treaty ask names its instrument with hrkg:askedInstrument, not hrkg:instrument (which the
#    treaty actions carry: instrument-scoped queries stepped over the asks); a format-5 store has the old
STORE_FORMAT = 6
CURRENT = "current"
MANIFEST = "manifest.json"
CODES = "codes.json"     # the graph's codes.CodeIndex tables (build.fill_on_disk, graph.LocalBackend)
READERS = ".readers"
LOCK = ".build.lock"


def cache_dir():
    """hrkg's cache folder: $HRKG_CACHE_DIR, else $XDG_CACHE_HOME/hrkg, else ~/.cache/hrkg."""
    root = os.environ.get("HRKG_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hrkg"
    return Path(root)


def default_location():
    """$HRKG_STORE, else ``store`` in hrkg's cache folder."""
    return Path(os.environ.get("HRKG_STORE") or cache_dir() / "store")


# ---- inputs and their key ----------------------------------------------------------------------

def sha256_of(path):
    import hashlib   # hashlib, shutil and the build's modules: imported when used, not by every query
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_inputs(files, bundled=()):
    """Name (graph IRI), path, size, mtime and SHA-256 of each input file; LoadError for a
    missing or unreadable one."""
    bundled = {str(Path(f).resolve()) for f in bundled}
    out = []
    for f in files:
        f = Path(f)
        try:
            st = f.stat()
            digest = sha256_of(f)
        except OSError as exc:
            raise LoadError("no such file" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc.strerror}",
                            path=f) from None
        if not f.is_file():
            raise LoadError("not a file", path=f)
        resolved = str(f.resolve())
        out.append({"name": graph_iri(f), "path": resolved, "bundled": resolved in bundled,
                    "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest})
    return out


def store_key(inputs):
    """One SHA-256 over the store format, hrkg's version and each input's name and content."""
    import hashlib
    digest = hashlib.sha256(f"hrkg-store {STORE_FORMAT} {__version__}\n".encode())
    for item in inputs:
        digest.update(f"{item['name']}\0{item['sha256']}\n".encode())
    return digest.hexdigest()


def _changed(item):
    """Why one recorded input no longer matches its file, or None (stat first, hash if it moved)."""
    path = Path(item["path"])
    try:
        st = path.stat()
    except OSError:
        return f"{path} is missing"
    if st.st_size == item["size"] and st.st_mtime_ns == item["mtime_ns"]:
        return None
    try:
        if st.st_size != item["size"] or sha256_of(path) != item["sha256"]:
            return f"{path} changed"
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror})"
    return None


def staleness(manifest):
    """What differs between a store and its inputs now: a dict with ``format`` (True when this
    hrkg cannot use the store at all), ``bundled`` (a reason, or None: the bundled data in use is
    not what the store holds) and ``extra`` (reasons, one per added input that changed or went)."""
    out = {"format": manifest.get("format") != STORE_FORMAT or manifest.get("hrkg") != __version__,
           "bundled": None, "extra": []}
    if out["format"]:
        return out
    recorded = sorted((i["name"], i["sha256"]) for i in manifest["inputs"] if i["bundled"])
    try:
        now = _bundled_now([i for i in manifest["inputs"] if i["bundled"]])
    except LoadError as exc:   # pragma: no cover - an installation with a file missing
        out["bundled"] = str(exc)
        return out
    by_name = {i["name"]: i for i in now}
    if recorded != sorted((i["name"], i["sha256"]) for i in now):
        changed = [n for n, h in recorded if by_name.get(n, {}).get("sha256") != h] or ["files added"]
        out["bundled"] = f"the bundled data changed since the store was built ({', '.join(changed[:3])})"
    out["extra"] = [why for why in map(_changed, (i for i in manifest["inputs"] if not i["bundled"])) if why]
    return out


def _bundled_now(recorded):
    """describe_inputs() of the bundled files, hashing only those whose path, size or mtime is not
    what ``recorded`` (the manifest's bundled inputs) says: every read command checks the bundle,
    and hashing all of it took 15-50 ms of a 0.2 s start."""
    by_path = {i["path"]: i for i in recorded}
    now = []
    for f in default_files():
        path = str(Path(f).resolve())
        item = by_path.get(path)
        try:
            st = Path(path).stat()
        except OSError:
            st = None
        if item is not None and st is not None and (st.st_size, st.st_mtime_ns) == (item["size"], item["mtime_ns"]):
            now.append(dict(item))
        else:
            now.extend(describe_inputs([f], [f]))
    return now


def extra_inputs(manifest):
    """The added (non-bundled) files a store was built from, to build it again with them."""
    return [i["path"] for i in manifest["inputs"] if not i["bundled"]]


# ---- locks ------------------------------------------------------------------------------------

class _BuildLock:
    """One build at a time per location; a second waits and says so."""

    def __init__(self, location, progress):
        self.path, self.progress, self.fh = Path(location) / LOCK, progress, None

    def __enter__(self):
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.progress(f"waiting for another hrkg build of {self.path.parent} to finish")
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _hold_readers_lock(build_dir):
    """A shared lock on the build's readers file, held as long as the returned file is open."""
    try:
        fh = open(Path(build_dir) / READERS, "a+")
        fcntl.flock(fh, fcntl.LOCK_SH)
        return fh
    except OSError:   # a read-only location: nothing can delete it under us either
        return None


def _unused(build_dir):
    """True when no reader holds the build open (then it stays locked against new readers)."""
    try:
        fh = open(Path(build_dir) / READERS, "a+")
    except OSError:
        return False
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        fh.close()


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
    import datetime as dt
    import gc
    import traceback
    progress = progress or Progress(quiet=True)
    location = Path(location or default_location())
    bundled = list(default_files()) if include_bundle else []
    files = bundled + expand_paths(paths or ())
    progress(f"checking {len(files)} input file(s)")
    inputs = describe_inputs(files, bundled)
    key = store_key(inputs)
    try:
        location.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{location}: cannot write the store: {exc.strerror or exc}") from None
    with _BuildLock(location, progress):
        remove_leftovers(location)   # a killed build's folder goes even when nothing is to be built
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
            tmp = location / f".tmp-{os.getpid()}-{time.time_ns()}"
            tmp.mkdir()
        except OSError as exc:
            raise StoreError(f"{location}: cannot write the store: {exc.strerror or exc}") from None
        try:
            from .build import fill_on_disk   # owlrl and the rules: only when building
            counts = fill_on_disk(files, tmp / "oxigraph", tmp / "all.nq", codes_file=tmp / CODES,
                                  progress=progress)
            manifest = dict(counts, format=STORE_FORMAT, hrkg=__version__, fingerprint=key, inputs=inputs,
                            created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            final = location / f"build-{key[:20]}-{time.time_ns()}"   # a new name: never the live one
            os.replace(tmp, final)
            _swap_current(location, final)
        except BaseException as exc:
            # the failed build's frames still hold the open store; free it, or RocksDB writes its
            # files back into the folder after we removed it
            traceback.clear_frames(exc.__traceback__)
            gc.collect()
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _remove_old_builds(location, keep={final, existing})
    progress(f"store ready: {final}")
    return dict(manifest, built=True, path=str(final))


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


def remove_leftovers(location):
    """Delete the folders of builds whose process is gone (killed or crashed)."""
    for tmp in Path(location).glob(".tmp-*"):
        try:
            pid = int(tmp.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


def _remove_old_builds(location, keep):
    """Keep the new build and the one before it; delete older ones no reader holds open."""
    import shutil
    keep = {Path(k).resolve() for k in keep if k is not None}
    for old in location.glob("build-*"):
        if old.resolve() not in keep and _unused(old):
            shutil.rmtree(old, ignore_errors=True)


# ---- open ------------------------------------------------------------------------------------

def open_store(location=None):
    """(read-only pyoxigraph Store, manifest) of the current build; StoreError if there is none.

    The process holds a shared lock on the build while it runs, so no build deletes it."""
    location = Path(location or default_location())
    build_dir = current_build(location)
    if build_dir is None:
        raise StoreError(f"{location}: no store built yet; run 'hrkg build'")
    manifest = read_manifest(build_dir)
    if manifest.get("format") != STORE_FORMAT:
        raise StoreError(f"{build_dir}: store format {manifest.get('format')} is not {STORE_FORMAT}; run 'hrkg build'")
    _READER_LOCKS.append(_hold_readers_lock(build_dir))
    try:
        store = ox.Store.read_only(str(build_dir / "oxigraph"))
    except OSError as exc:
        raise StoreError(f"{build_dir}: cannot open the store: {exc}") from None
    return store, dict(manifest, path=str(build_dir))


_READER_LOCKS = []   # open files whose shared locks last as long as this process
