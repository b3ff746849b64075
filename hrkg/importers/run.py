"""Running an import: ``import_files`` picks the importer of a format name (``IMPORTERS``, the one
place that maps ``hrkg import upr|untc`` to its code), feeds it the files and writes the output.

``import_files("upr" | "untc", paths, output)`` reads each file as it comes (UTF-8 with or without
BOM, Windows-1252 or Latin-1; CRLF, LF or bare CR line endings; quoted multi-line fields; HTML
entities; comma, semicolon or tab), maps its columns, resolves state names to ISO 3166-1 alpha-3
codes, and streams N-Triples or Turtle (by the output's extension) to a temporary file that
replaces the output only when the import succeeds.

Every record cites an ``hrkg:ImportedFile`` (file name and SHA-256) with ``dct:source`` and says on
which physical line of that file it starts with ``hrkg:row``.

What happens to a row:

- broken (wrong number of fields, unparseable date, session or cycle, missing required value,
  action category outside 1-5, state under review that is not a known state): rejected with its
  line number. Nothing is written unless ``partial=True``, which writes the good rows.
- UPR recommending state that does not resolve: the recommendation is kept with the name as
  published in ``hrkg:recommendingStateName`` and no ``hrkg:recommendingState``; reported as an
  unresolved name. A state under review must resolve: without it the row cannot be placed.
- UNTC participant that does not resolve (Cook Islands, Niue, the European Union are parties to
  some treaties but not states in hrkg's reference data): its actions are not written; reported as
  an unresolved name with its line.
- ``strict=True`` makes any unresolved name fatal: nothing is written.

Rejections and fatal unresolved names raise ImportRowError (exit code 2) carrying the report.
"""
import os
import tempfile
import time
from pathlib import Path

from ..errors import ImportRowError, UsageError
from .reading import parse_field_map, read_source
from .reference import Reference
from .report import FileReport, ImportReport, Progress
from .untc import UNTCImporter
from .upr import UPRImporter
from .writing import RDFWriter

# Format name (``hrkg import KIND``) -> its importer: upr.py, untc.py
IMPORTERS = {"upr": UPRImporter, "untc": UNTCImporter}
KINDS = tuple(IMPORTERS)
OUTPUT_FORMATS = {".nt": "nt", ".ttl": "ttl"}


def import_files(kind, paths, output, *, field_map=None, encoding=None, instrument=None, publisher=None,
                 strict=False, partial=False, progress=None, reference=None, non_states=False):
    """Import ``paths`` (all of one ``kind``, 'upr' or 'untc') into the RDF file ``output``.

    ``output``'s extension picks the format: ``.nt`` (N-Triples) or ``.ttl`` (Turtle).
    ``field_map``: ['FIELD=HEADER', ...] for columns the importer does not recognise.
    ``encoding``: decode with this instead of detecting UTF-8 / cp1252 / Latin-1.
    ``instrument``: the UNTC instrument code (detected from an HTML page's title when left out).
    ``publisher``: who published a UPR export (dct:publisher of the imported file).
    ``non_states``: untc: write the actions of Cook Islands (state:COK), Niue (state:NIU) and the
    European Union (<https://w3id.org/hrkg/id/group/EU>) instead of reporting them unresolved.
    ``partial``: write the good rows even when some are rejected. ``strict``: unresolved names
    are fatal. ``progress``: a text stream for progress lines (None: silent).

    Returns an ImportReport. Raises UsageError (bad option), LoadError (unreadable file, missing
    column) or ImportRowError (rows rejected without ``partial``, or unresolved names with
    ``strict``; its ``report`` says which); in those cases ``output`` is left untouched.
    """
    if kind not in IMPORTERS:
        raise UsageError(f"unknown import kind {kind!r}; kinds: {', '.join(KINDS)}")
    if not paths:
        raise UsageError("give at least one file to import")
    output = Path(output)
    fmt = OUTPUT_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise UsageError(f"output {output}: use a .nt (N-Triples) or .ttl (Turtle) file name")
    if kind == "upr" and instrument:
        raise UsageError("--instrument is for 'hrkg import untc'")
    if kind == "upr" and non_states:
        raise UsageError("non_states is for 'hrkg import untc'")
    if kind == "untc" and publisher:
        raise UsageError("--publisher is for 'hrkg import upr' (UN Treaty Collection files are published by the UN)")
    importer_cls = IMPORTERS[kind]
    explicit = parse_field_map(field_map, importer_cls.fields)
    reference = reference or Reference.bundled()
    report = ImportReport(kind, output)
    started = time.monotonic()
    if not output.parent.is_dir():
        raise UsageError(f"output {output}: folder {output.parent} does not exist")
    handle, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
            writer = RDFWriter(stream, fmt)
            options = {"instrument": instrument, "non_states": non_states} if kind == "untc" else {"publisher": publisher}
            importer = importer_cls(reference, writer, **options)
            for path in paths:
                source = read_source(path, encoding)
                file_report = FileReport(source.path.name, source.sha256, source.size, source.encoding,
                                         source.line_endings)
                report.files.append(file_report)
                importer.run(source, file_report, explicit, Progress(progress, source.path.name))
            importer.finish()
        report.triples = writer.triples
        report.seconds = time.monotonic() - started
        problems = fatal_problems(report, partial=partial, strict=strict)
        if problems:
            error = ImportRowError(f"nothing written to {output}: " + "; ".join(problems))
            error.report = report
            raise error
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp creates it private; give it a normal file's mode
        os.replace(tmp, output)
        report.written = True
        return report
    finally:
        if tmp.exists():
            tmp.unlink()


def fatal_problems(report, *, partial, strict):
    """Why nothing may be written: rejected rows (unless partial), unresolved names (if strict)."""
    problems = []
    rejected, unresolved = len(report.rejected), len(report.unresolved)
    if rejected and not partial:
        problems.append(f"{rejected:,} row{'s' if rejected > 1 else ''} rejected (use --partial to write the good rows)")
    if unresolved and strict:
        problems.append(f"{unresolved:,} state name{'s' if unresolved > 1 else ''} did not resolve (--strict)")
    return problems


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
