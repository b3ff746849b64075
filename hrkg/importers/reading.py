"""Reading an input file as it comes, for every importer: bytes to text (encoding, line
endings), CSV records with the physical line each starts on, the header row mapped to the fields an
importer needs (``--map``), and the checks on a row (``RowError``: the row is rejected, the import
goes on)."""
import codecs
import csv
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..codes import normalize
from ..errors import LoadError, UsageError


class RowError(Exception):
    """A row is broken; the message says why (the caller adds file and line)."""


# =====================================================================================
# Bytes -> text (encoding, line endings), CSV records with line numbers
# =====================================================================================

@dataclass
class SourceText:
    path: Path
    sha256: str
    size: int
    text: str            # line endings normalized to \n
    encoding: str
    line_endings: str


def read_source(path, encoding=None):
    """Read ``path`` and decode it: UTF-8 (BOM or not), else Windows-1252, else Latin-1, unless
    ``encoding`` is given. Raises LoadError for a missing, empty, binary or undecodable file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LoadError("no such file", path=path) from None
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror}", path=path) from None
    if not raw.strip():
        raise LoadError("file is empty", path=path)
    if raw.startswith(b"PK\x03\x04"):
        raise LoadError("this is a zip archive (an Excel .xlsx workbook?); save the sheet as CSV", path=path)
    text, used = decode(raw, encoding, path)
    crlf = text.count("\r\n")
    cr, lf = text.count("\r") - crlf, text.count("\n") - crlf
    kinds = [(n, name) for n, name in ((crlf, "CRLF"), (lf, "LF"), (cr, "CR")) if n]
    if not kinds:
        endings = "none (one line)"
    elif len(kinds) == 1:
        endings = kinds[0][1]
    else:
        endings = "mixed (" + ", ".join(f"{name} {n}" for n, name in kinds) + ")"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(path, hashlib.sha256(raw).hexdigest(), len(raw), text, used, endings)


def decode(raw, encoding, path):
    """(text, name of the encoding used)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)") from None
        try:
            return raw.decode(encoding), encoding
        except LookupError:  # a codec that is not a text encoding (base64, rot13)
            raise UsageError(f"{encoding!r} is not a text encoding (try utf-8, cp1252 or latin-1)") from None
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise LoadError(f"not valid {encoding} (byte 0x{raw[exc.start]:02x}); "
                            "leave out --encoding to detect it", path=path, line=line) from None
    try:
        text = raw.decode("utf-8-sig")
        return text, "utf-8 with BOM" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def sniff_delimiter(line):
    """The most frequent of comma, semicolon and tab outside quotes in the header line."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def first_line(text):
    """The first non-blank line of ``text`` (the header of a CSV file)."""
    return next((ln for ln in text.split("\n", 50) if ln.strip()), "")


def csv_records(text, delimiter, path):
    """Yield (line, fields, last line) for each CSV record; ``line`` is the physical line it
    starts on. Blank lines are skipped. A quote left open at the end of the file yields fields
    None, so the caller can reject the record with its line. LoadError if a field exceeds the
    csv module's limit (131,072 characters), which only an unbalanced quote produces."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    reader = csv.reader((ln + "\n" for ln in lines), delimiter=delimiter, quotechar='"', strict=False)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LoadError(f"cannot read the record starting here ({exc}): is a quote left open?",
                            path=path, line=start) from None
        end = reader.line_num
        if end == len(lines) and fields and fields[-1].endswith("\n") \
                and "".join(lines[start - 1:end]).count('"') % 2:
            yield start, None, end
            return
        if any(f.strip() for f in fields):
            yield start, fields, end
        start = end + 1


def looks_like_html(text):
    """Whether ``text`` is an HTML page (a saved status page) rather than a CSV export."""
    head = text.lstrip()[:2000].lower()
    return head.startswith("<") and ("<table" in text.lower() or "<html" in head or "<!doctype html" in head)


# =====================================================================================
# Header mapping
# =====================================================================================

def parse_field_map(pairs, fields):
    """``["text=Recommendation (EN)", ...]`` as {field: header}; UsageError on a bad pair."""
    mapping = {}
    for pair in pairs or ():
        field_name, sep, header = pair.partition("=")
        field_name = field_name.strip()
        if not sep or not field_name or not header.strip():
            raise UsageError(f"--map {pair!r} must be written FIELD=HEADER, e.g. --map text=Recommendation")
        if field_name not in fields:
            raise UsageError(f"--map {pair!r}: unknown field {field_name!r}; fields: {', '.join(fields)}")
        mapping[field_name] = header.strip()
    return mapping


def map_columns(headers, fields, explicit, path, line):
    """{field: column index} for the header row. Explicit --map headers first (exact, then
    case-insensitive), then each field's known variants. LoadError names a required field that is
    missing, the headers seen and the --map syntax."""
    keys = [normalize(h) for h in headers]
    columns, taken = {}, set()
    for name, header in explicit.items():
        index = next((i for i, h in enumerate(headers) if h.strip() == header), None)
        if index is None:
            index = next((i for i, k in enumerate(keys) if k == normalize(header)), None)
        if index is None:
            raise LoadError(f"--map {name}={header}: no column {header!r}; headers seen: {quoted_headers(headers)}",
                            path=path, line=line)
        columns[name] = index
        taken.add(index)
    for name, (_required, variants) in fields.items():
        if name in columns:
            continue
        for variant in variants:
            index = next((i for i, k in enumerate(keys) if k == variant and i not in taken), None)
            if index is not None:
                columns[name] = index
                taken.add(index)
                break
    for name, (required, variants) in fields.items():
        if required and name not in columns:
            raise LoadError(
                f"cannot find the {name!r} column (known headers: {', '.join(repr(v) for v in variants[:5])}, ...); "
                f"headers seen: {quoted_headers(headers)}; name it with --map {name}=HEADER", path=path, line=line)
    return columns


def quoted_headers(headers):
    """The headers as error messages list them ('headers seen: ...')."""
    return ", ".join(repr(h) for h in headers) or "(none)"


# =====================================================================================
# Cells and rows
# =====================================================================================

def clean(value):
    """Cell text: HTML entities decoded, non-breaking spaces as spaces, outer whitespace off."""
    if "&" in value:
        value = html.unescape(value)
    return value.replace("\xa0", " ").strip()


def check_width(fields, width, line, end):
    """RowError unless the record has the header's number of fields (empty extra fields, as a
    trailing delimiter leaves, are fine)."""
    if fields is None:
        raise RowError(f"a quoted field opened here is never closed (it runs to line {end}, the end of the file)")
    if len(fields) < width or (len(fields) > width and any(f.strip() for f in fields[width:])):
        span = f" (the record spans lines {line}-{end}: check for an unbalanced quote)" if end - line > 1 else ""
        raise RowError(f"expected {width} fields, found {len(fields)}{span}")
