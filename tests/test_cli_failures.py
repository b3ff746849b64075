"""Every CLI failure is one clear line on standard error and the documented exit code: 2 usage and
input, 3 store and output, 130 Ctrl-C, never a traceback, never 1 (kept for 'does not conform').

Most cases run the command in this process (cli.main); the ones about the operating system (file
permissions, a file-size limit, a full standard output, SIGINT) run it as a separate process."""
import io
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hrkg import cli
from hrkg.cli import build_parser, main


FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "shapes" / "valid.ttl"
UPR = FIXTURES / "import" / "upr-utf8-bom.csv"
ROOT = Path(__file__).resolve().parent.parent


def run(argv, capsys):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue(), capsys.readouterr().err


def hrkg(*args, env=None, bundle=None, **kwargs):
    """Run ``python -m hrkg ARGS`` (what the console script runs) and return the CompletedProcess;
    with ``bundle``, that folder as the bundled ontology and data (conftest.hrkg_command)."""
    from conftest import hrkg_command
    env = dict(os.environ, **(env or {}))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([*hrkg_command(bundle), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300, **kwargs)


def assert_one_clean_line(err, *words):
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = [l for l in err.splitlines() if l.startswith("hrkg: ")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], err


@pytest.fixture(scope="module")
def store(tmp_path_factory, copy_bundled_store):
    """A built store of the bundled data, for the commands that need one (a copy of the session's
    build: conftest.copy_bundled_store; 'hrkg build' itself is tested in test_store.py)."""
    return copy_bundled_store(tmp_path_factory.mktemp("store") / "store")


# ---- query files ---------------------------------------------------------------------------------

def test_a_binary_query_file_exits_2_naming_it(tmp_path, capsys):
    query = tmp_path / "noise.rq"
    query.write_bytes(b"\x8a\xd3\x80 \x87m\xef\xba\x00\xff")
    code, out, err = run(["sparql", "-f", str(query)], capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, "noise.rq", "not UTF-8")


def test_a_utf16_query_file_with_its_bom_is_read(tmp_path, capsys, monkeypatch, bundle_with_ledger_sample):
    """What PowerShell's '>' writes: UTF-16 with a byte-order mark; unambiguous, so it is read.
    (--data builds the bundle in memory: the bundle with its ledger sampled (conftest) answers this
    ASK as the whole one does, and the cache folder is this test's own.)"""
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path / "cache"))
    query = tmp_path / "ask.rq"
    query.write_bytes("ASK { ?s ?p ?o }".encode("utf-16"))
    code, out, err = run(["sparql", "-f", str(query), "--format", "json", "--data", str(VALID)], capsys)
    assert code == 0, err
    assert '"boolean": true' in out


def test_a_non_utf8_query_on_standard_input_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"ASK { ?s ?p \xff }")))
    code, _, err = run(["sparql", "-"], capsys)
    assert code == 2
    assert_one_clean_line(err, "standard input", "not UTF-8")


# ---- input files and folders -----------------------------------------------------------------------

@pytest.mark.parametrize("command", [["validate"], ["build", "-q", "--store", "{tmp}/store"], ["stats", "--data"],
                                     ["validate", "--data"], ["query", "treaty-status", "state=VNM", "--data"]])
def test_a_folder_without_rdf_files_is_an_error_not_success(command, tmp_path, capsys):
    folder = tmp_path / "contrib"
    folder.mkdir()
    (folder / "notes.txt").write_text("not RDF\n")
    argv = [a.format(tmp=tmp_path) for a in command] + [str(folder)]
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, str(folder), "no RDF files")
    assert not (tmp_path / "store").exists()


def _non_utf8_name(folder):
    """A copy of a valid data file whose name is Latin-1 bytes ('café.ttl'), as str for argv."""
    path = os.path.join(os.fsencode(folder), b"caf\xe9.ttl")
    with open(path, "wb") as fh:
        fh.write(VALID.read_bytes())
    return os.fsdecode(path)


@pytest.mark.parametrize("command", [["validate"], ["validate", "--only"], ["build", "-q", "--store", "{tmp}/store"],
                                     ["stats", "--data"], ["export", "--data"]])
@pytest.mark.parametrize("as_folder", [False, True], ids=["file", "in-folder"])
def test_a_file_name_that_is_not_utf8_exits_2_naming_it(command, as_folder, tmp_path, capsys):
    folder = tmp_path / "contrib"
    folder.mkdir()
    name = _non_utf8_name(folder)
    argv = [a.format(tmp=tmp_path) for a in command] + [str(folder) if as_folder else name]
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, "caf\\xe9.ttl", "not UTF-8")


ROOT_USER = os.geteuid() == 0


def _unreadable(folder, how):
    """An input file that cannot be read: mode 000 (not for root, who reads anything), or a link to
    /proc/self/mem, which nobody can read from its start (EIO)."""
    path = folder / "secret.ttl"
    if how == "permission":
        if ROOT_USER:
            pytest.skip("root reads a file of mode 000")
        shutil.copy(VALID, path)
        path.chmod(0)
        return path, "Permission denied"
    if not os.path.exists("/proc/self/mem"):
        pytest.skip("needs /proc/self/mem")
    path.symlink_to("/proc/self/mem")
    return path, "Input/output error"


@pytest.mark.parametrize("how", ["permission", "io-error"])
@pytest.mark.parametrize("command", [["validate"], ["validate", "--only"], ["build", "-q", "--store", "{tmp}/store"],
                                     ["stats", "--data"], ["query", "treaty-status", "state=VNM", "--data"],
                                     ["validate", "--shapes"], ["export", "--data"]])
def test_an_unreadable_input_file_exits_2_naming_it(command, how, tmp_path, capsys):
    secret, reason = _unreadable(tmp_path, how)
    argv = [a.format(tmp=tmp_path) for a in command] + [str(secret)]
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, f"{secret}: cannot read: {reason}")
    assert not (tmp_path / "store").exists()


def _unwritable_folder(tmp_path, how):
    """A folder no file can be created in: mode 555 (not for root), or /sys."""
    if how == "permission":
        if ROOT_USER:
            pytest.skip("root writes into a folder of mode 555")
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if not os.path.isdir("/sys") or os.access("/sys", os.W_OK) and not ROOT_USER:
        pytest.skip("needs a read-only /sys")
    return Path("/sys")


# ---- outputs -----------------------------------------------------------------------------------------

def test_export_to_a_folder_exits_2_and_leaves_nothing(tmp_path, capsys):
    code, out, err = run(["export", "-o", str(tmp_path)], capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, str(tmp_path), "is a folder")
    assert list(tmp_path.parent.glob(tmp_path.name + ".part")) == []


def test_export_into_a_missing_folder_exits_2(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "graph.ttl"
    code, _, err = run(["export", "-o", str(target)], capsys)
    assert code == 2
    assert_one_clean_line(err, str(target), "does not exist")


@pytest.mark.parametrize("how", ["permission", "sysfs"])
def test_export_to_an_unwritable_folder_exits_3_naming_it_and_leaves_no_part_file(how, store, tmp_path, capsys):
    target = _unwritable_folder(tmp_path, how) / "hrkg-graph.ttl"
    code, out, err = run(["export", "-q", "-o", str(target), "--store", str(store)], capsys)
    assert (code, out) == (3, "")
    assert_one_clean_line(err, f"{target}: cannot write: ")
    assert not target.exists() and not target.with_name(target.name + ".part").exists()


def test_export_replaces_no_stray_folder_named_like_its_part_file(store, tmp_path, capsys):
    """A folder where the .part file would go: the export fails (3) and leaves that folder alone."""
    target = tmp_path / "graph.ttl"
    (tmp_path / "graph.ttl.part").mkdir()
    code, _, err = run(["export", "-q", "-o", str(target), "--store", str(store)], capsys)
    assert code == 3
    assert_one_clean_line(err, f"{target}: cannot write: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl.part"]


def _file_size_limit(limit):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_export_on_a_full_disk_exits_3_and_leaves_neither_target_nor_part_file(store, tmp_path):
    target = tmp_path / "graph.ttl"
    done = hrkg("export", "-o", target, "--store", store, preexec_fn=_file_size_limit(20_000))
    assert done.returncode == 3
    assert_one_clean_line(done.stderr, str(target), "cannot write", "file too large")
    assert list(tmp_path.iterdir()) == []


def test_build_on_a_full_disk_exits_3_and_leaves_no_half_built_store(tmp_path, _bundle_with_ledger_sample):
    """On the bundle with its ledger sampled (conftest): it loads and infers as the whole one does,
    then fails at the same step, writing the store (its files pass the 200,000-byte limit too),
    with the same error, in half the time."""
    location = tmp_path / "store"
    done = hrkg("build", "-q", "--store", location, env={"HRKG_CACHE_DIR": str(tmp_path / "cache")},
                preexec_fn=_file_size_limit(200_000), bundle=_bundle_with_ledger_sample)
    assert done.returncode == 3
    assert_one_clean_line(done.stderr, "File too large")
    assert [p.name for p in location.iterdir()] in ([], [".build.lock"])   # the lock stays, empty


def test_import_on_a_full_disk_exits_3_naming_the_output_and_leaves_nothing(tmp_path):
    target = tmp_path / "upr.ttl"
    done = hrkg("import", "upr", FIXTURES / "import" / "upr-latin1-cr.csv", "-o", target, "-q",
                preexec_fn=_file_size_limit(2_000))
    assert done.returncode == 3
    assert_one_clean_line(done.stderr, str(target), "cannot write", "file too large")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["permission", "sysfs"])
def test_import_into_an_unwritable_folder_names_the_output_not_its_temporary_file(how, tmp_path, capsys):
    target = _unwritable_folder(tmp_path, how) / "hrkg-upr.nt"
    code, out, err = run(["import", "upr", str(UPR), "-o", str(target), "-q"], capsys)
    assert code == 3
    assert_one_clean_line(err, f"{target}: cannot write: ")
    assert ".part" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_standard_output_exits_3_with_one_line(store):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "hrkg", "stats", "--store", str(store)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 3
    assert_one_clean_line(done.stderr, "standard output", "no space left")


# ---- options and parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["query", "treaty-status", "state=VNM", "--endpoint", "http://127.0.0.1:9/query", "--timeout", "-1"],
    ["sparql", "ASK {}", "--endpoint", "http://127.0.0.1:9/query", "--timeout", "0"],
    ["publish", "--endpoint", "http://127.0.0.1:9/query", "--timeout", "nan"],
])
def test_a_timeout_that_is_not_positive_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "--timeout" in err and "positive" in err and "Traceback" not in err


@pytest.mark.parametrize("value,reason", [("VNM!!", "'!'"), ("VNM#1", "'#'"), ('"VNM"', "'\"'"),
                                          ("VNM越南", "'越南'"), ("Viet Nam?", "'?'")])
def test_a_code_with_stray_characters_is_an_error_that_suggests_the_code(value, reason, capsys):
    code, out, err = run(["query", "treaty-status", f"state={value}"], capsys)
    assert (code, out) == (2, "")
    assert_one_clean_line(err, f"unknown state code {value!r}", "unexpected character", reason, "did you mean VNM")


@pytest.mark.parametrize("kind,value", [
    ("state", "Côte d'Ivoire"), ("state", "cote d’ivoire"), ("state", "Bolivia (Plurinational State of)"),
    ("state", "Guinea-Bissau"), ("state", "Congo, Dem. Rep."), ("state", "Sao Tome & Principe"),
    ("state", "Việt Nam"), ("state", " vnm "), ("state", "Lao People's Democratic Republic"),
    ("instrument", "OP-ICESCR"), ("instrument", "op_icescr"),
])
def test_names_written_with_punctuation_still_resolve(kind, value, kg):
    assert kg.codes.resolve(kind, value)


def test_every_code_alias_and_label_in_the_graph_still_resolves(kg):
    """No name the data spells a resource with counts as stray characters."""
    from hrkg.codes import _KEY_PROPERTIES, KIND_CLASSES
    from hrkg.namespaces import RDF
    checked = 0
    for kind, classes in KIND_CLASSES.items():
        for iri in {s for cls in classes for s in kg.graph.subjects(RDF.type, cls)}:
            if kg.codes.code_of(kind, iri) is None:
                continue
            for prop in _KEY_PROPERTIES:
                for name in kg.graph.objects(iri, prop):
                    kg.codes.resolve(kind, str(name))   # raises UnknownCodeError if it does not
                    checked += 1
    assert checked > 800


def test_state_names_with_punctuation_resolve_through_the_cli(capsys):
    for value in ("Côte d'Ivoire", "Bolivia (Plurinational State of)", "Guinea-Bissau"):
        code, out, err = run(["query", "treaty-status", f"state={value}", "--format", "csv"], capsys)
        assert code == 0, err


def test_every_command_takes_q():
    parser = build_parser()
    required = {"query": ["treaty-status"], "search": ["torture"], "import": ["upr", "x.csv", "-o", "x.nt"], "publish": ["--endpoint", "u"]}
    for name in parser._subparsers._group_actions[0].choices:
        args = parser.parse_args([name, *required.get(name, []), "-q"])
        assert args.quiet is True, name


def test_q_silences_the_first_build_of_a_query(tmp_path, capsys, monkeypatch, bundle_with_ledger_sample):
    """(The first build of the bundle with its ledger sampled (conftest): the same files and steps,
    each of which would say so without -q, in a fraction of the time; the cache folder is this
    test's own.)"""
    monkeypatch.setenv("HRKG_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(["stats", "-q", "--store", str(tmp_path / "store")], capsys)
    assert code == 0 and "states" in out
    assert err == ""


def test_export_q_leaves_out_the_wrote_line(store, tmp_path, capsys):
    code, _, err = run(["export", "-q", "-o", str(tmp_path / "g.nt"), "--format", "nt", "--store", str(store)], capsys)
    assert code == 0 and err == ""
    assert (tmp_path / "g.nt").stat().st_size > 100_000


# ---- Ctrl-C ------------------------------------------------------------------------------------------

def _interrupt(argv, ready, env=None, first=None):
    """Start ``hrkg ARGV``, send SIGINT once standard error shows a line containing ``ready``;
    returns (exit code, standard error). ``first``: Python the process runs before what
    hrkg/__main__.py runs (sys.exit(main())), instead of 'python -m hrkg'."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HRKG_PROGRESS="lines", **(env or {}))
    command = ["-m", "hrkg"] if first is None else \
        ["-c", f"{first}\nimport sys; from hrkg.cli import main; sys.exit(main())"]
    # Ctrl-C as in a terminal: SIGINT at its default in the child, whatever this process inherited
    # (an ignored SIGINT is inherited through exec, and Python then never raises KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, *command, *map(str, argv)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if ready in line:
                proc.send_signal(signal.SIGINT)
                break
        seen.append(proc.stderr.read())
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, "".join(seen)


def test_ctrl_c_during_build_exits_130_and_the_previous_store_still_answers(tmp_path, capsys, copy_bundled_store):
    location = copy_bundled_store(tmp_path / "store")   # what 'hrkg build --store location' makes
    before = (location / "current").resolve()
    code, err = _interrupt(["build", "--force", "--store", location], "loaded 1/",
                           env={"HRKG_CACHE_DIR": str(tmp_path / "cache")})
    assert code == 130, err
    assert "Traceback" not in err and err.rstrip().endswith("hrkg: interrupted"), err
    assert (location / "current").resolve() == before
    assert list(location.glob(".tmp-*")) == []
    code, out, _ = run(["stats", "-q", "--store", str(location)], capsys)
    assert code == 0 and "states" in out


def test_ctrl_c_during_import_exits_130_and_writes_nothing(tmp_path):
    """The import says 'N rows read' every PROGRESS_SECONDS (2 s) of reading; the process says it
    every 0.1 s instead, so the Ctrl-C comes as soon as it is reading rows, not 2 s into them (the
    250,000 rows take longer than that to read either way)."""
    big = tmp_path / "big.csv"
    rows = "".join(f"Viet Nam;Norway;Recommendation {i};Supported;III;Rights of the Child;{i}\n" for i in range(250_000))
    big.write_text("SuR;Recommending;Recommendation;Position;Cycle;Themes;Para\n" + rows, encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, err = _interrupt(["import", "upr", big, "-o", out_dir / "big.nt"], "rows read",
                           first="import hrkg.importers.report as report; report.PROGRESS_SECONDS = 0.1")
    assert code == 130, err
    assert "Traceback" not in err and err.rstrip().endswith("hrkg: interrupted"), err
    assert list(out_dir.iterdir()) == []


# ---- what the library did not foresee ------------------------------------------------------------------

def test_an_os_error_from_the_library_exits_3_naming_the_path(monkeypatch, capsys):
    def fail(args, out):
        raise PermissionError(13, "Permission denied", "/var/lib/hrkg/store/current")
    monkeypatch.setattr(cli, "cmd_stats", fail)
    code, _, err = run(["stats"], capsys)
    assert code == 3
    assert_one_clean_line(err, "/var/lib/hrkg/store/current: Permission denied")


def test_an_unexpected_error_is_one_line_and_exit_70_not_1(monkeypatch, capsys):
    def fail(args, out):
        raise RuntimeError("something broke")
    monkeypatch.setattr(cli, "cmd_stats", fail)
    monkeypatch.delenv("HRKG_DEBUG", raising=False)
    code, _, err = run(["stats"], capsys)
    assert code == 70
    assert_one_clean_line(err, "RuntimeError: something broke", "bug in hrkg")
    monkeypatch.setenv("HRKG_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["stats"], out=io.StringIO())
