"""The bundled treaty ledger: ``data/treaties/untc-<date>.ttl``, generated from the UN Treaty
Collection status pages saved in ``sources/untc/<date>/`` (the source of record, outside the wheel).

    python -m hrkg.ledger            # regenerate data/treaties/untc-2026-02-03.ttl from the pages
    python -m hrkg.ledger --check    # exit 1 if the bundled file differs from what the pages give

It is ``hrkg import untc sources/untc/2026-02-03/*.html --non-states`` plus two things the
bundled data needs:

- every page's ``hrkg:ImportedFile`` (file name, SHA-256) reflects a record of the page as at its
  status date, ``src:untc-<instrument>-<date>`` (an hrkg:AuthoritativeRecord with the UNTC's
  title, URL and ``dct:date``, and ``hrkg:statusOf`` the instrument: the page lists every
  participant, so a state it does not list had taken no action by that date). That record is what
  ``known_as_of`` in the stored queries reads;
- the Turtle is sorted (subjects, then predicates and objects), so a refresh diffs small.
"""
import argparse
import datetime as dt
import re
import sys
import tempfile
from pathlib import Path

import pyoxigraph as ox

from .namespaces import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
STATUS_DATE = "2026-02-03"
PAGES = ROOT / "sources" / "untc" / STATUS_DATE
OUTPUT = ROOT / "data" / "treaties" / f"untc-{STATUS_DATE}.ttl"

H = "https://w3id.org/hrkg/ontology#"
SRC = "https://w3id.org/hrkg/id/source/"
INSTR = "https://w3id.org/hrkg/id/instrument/"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
REFLECTS = ox.NamedNode(H + "reflects")

TURTLE_PREFIXES = {**{p: str(ns) for p, ns in PREFIXES.items()},
                   "act": "https://w3id.org/hrkg/id/action/", "proc": "https://w3id.org/hrkg/id/procedure/"}


def _long(date):
    day = dt.date.fromisoformat(date)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def snapshot_records(status_date, living):
    """Triples of ``src:untc-<code>-<date>`` for each ``living`` record {source IRI: (title, url, code)}."""
    out = []
    for record, (title, url, code) in sorted(living.items()):
        iri = ox.NamedNode(f"{record}-{status_date}")
        title = re.sub(r": status \(", f": status as at {_long(status_date)} (", title, count=1)
        out += [
            ox.Triple(iri, RDF_TYPE, ox.NamedNode(H + "AuthoritativeRecord")),
            ox.Triple(iri, ox.NamedNode(DCT + "title"), ox.Literal(title, language="en")),
            ox.Triple(iri, ox.NamedNode(DCT + "publisher"), ox.Literal("United Nations Treaty Collection")),
            ox.Triple(iri, ox.NamedNode(DCT + "date"), ox.Literal(status_date, datatype=ox.NamedNode(XSD + "date"))),
            ox.Triple(iri, ox.NamedNode(H + "url"), ox.Literal(url, datatype=ox.NamedNode(XSD + "anyURI"))),
            ox.Triple(iri, ox.NamedNode(H + "statusOf"), ox.NamedNode(INSTR + code)),
            ox.Triple(iri, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"), ox.Literal(
                f"The status page of {code} in the UN Treaty Collection (Multilateral Treaties Deposited with the "
                f"Secretary-General, chapter IV) as saved on {status_date}, stamped 'STATUS AS AT : "
                f"{dt.date.fromisoformat(status_date).strftime('%d-%m-%Y')}'. It lists every participant: a state it "
                "does not list had taken no action on the instrument by that date. The saved bytes are in the "
                f"repository, sources/untc/{status_date}/ (SHA-256 in SHA256SUMS).", language="en")),
        ]
    return out


def living_records():
    """{src:untc-<code> IRI: (title, url, code)} from the bundled data/sources.ttl."""
    from .resources import bundle_dir
    store = ox.Store()
    store.load(path=str(bundle_dir("data") / "sources.ttl"), format=ox.RdfFormat.TURTLE)
    found = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(H + "url"), None):
        subject = quad.subject.value
        match = re.fullmatch(re.escape(SRC) + r"untc-(.+)", subject)
        if not match:
            continue
        title = next(q.object.value for q in store.quads_for_pattern(quad.subject, ox.NamedNode(DCT + "title"), None))
        found[subject] = (title, quad.object.value, match.group(1).upper())
    return found


STATEMENT_CLASSES = {ox.NamedNode(H + "InterpretiveDeclaration"), ox.NamedNode(H + "ReservationOrDeclaration")}
OP_CRC_AC = ox.NamedNode(INSTR + "OP-CRC-AC")
BINDING = ox.NamedNode(H + "BindingDeclaration")


def binding_declarations(triples):
    """OP-CRC-AC article 3(2) requires each state to deposit, on ratification or accession, a
    binding declaration of the minimum age at which it permits voluntary recruitment: a
    declaration (or an unclassified statement) on OP-CRC-AC that speaks of recruitment (enlistment,
    military service, armed forces, conscription, or article 3(2) by name) and of an age is that
    declaration, an hrkg:BindingDeclaration, not an interpretive one."""
    by_subject = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    out = []
    for subject, group in by_subject.items():
        types = {t.object for t in group if t.predicate == RDF_TYPE}
        instrument = next((t.object for t in group if t.predicate.value == H + "instrument"), None)
        text = " ".join(t.object.value for t in group if t.predicate.value == H + "text")
        if instrument == OP_CRC_AC and types & STATEMENT_CLASSES and re.search(r"recruit|enlist|military service|armed forces|conscript|"
                                                                       r"article 3\s*\(\s*2\s*\)|article 3,? paragraph 2|"
                                                                       r"paragraph 2,? of article 3", text, re.I) \
                and re.search(r"\bage\b|\byears\b", text, re.I):
            group = [t for t in group if not (t.predicate == RDF_TYPE and t.object in STATEMENT_CLASSES)]
            group.append(ox.Triple(subject, RDF_TYPE, BINDING))
            group = [ox.Triple(t.subject, t.predicate, ox.Literal(
                t.object.value + " A binding declaration under article 3(2) (it states the minimum age of voluntary "
                "recruitment): hrkg:BindingDeclaration, by hrkg.ledger.", language="en"))
                     if t.predicate.value.endswith("#comment") else t for t in group]
        out.extend(group)
    return out


def generate(pages=PAGES, status_date=STATUS_DATE):
    """The ledger's Turtle text from the saved pages in ``pages``."""
    from .importers.run import import_files
    files = sorted(Path(pages).glob("*.html"))
    if not files:
        raise FileNotFoundError(f"no saved UNTC pages (*.html) in {pages}: the pages are kept in the repository "
                                "checkout (sources/untc/), not in the installed package")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "untc.nt"
        import_files("untc", files, out, non_states=True)
        triples = list(ox.parse(path=str(out), format=ox.RdfFormat.N_TRIPLES))
    living = living_records()
    used = {}
    rewritten = []
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if p == REFLECTS and o.value in living:
            used[o.value] = living[o.value]
            o = ox.NamedNode(f"{o.value}-{status_date}")
        rewritten.append(ox.Triple(s, p, o))
    rewritten = binding_declarations(rewritten)
    rewritten += snapshot_records(status_date, used)
    return serialize(rewritten, pages, status_date)


def serialize(triples, pages, status_date):
    unique = {str(t): t for t in triples}
    ordered = [unique[k] for k in sorted(unique, key=lambda k: (str(unique[k].subject), str(unique[k].predicate),
                                                                 str(unique[k].object)))]
    text = ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES).decode("utf-8")
    # pyoxigraph writes the prefixes in no fixed order: keep the ones used, sorted
    lines = text.split("\n")
    prefixes = sorted(line for line in lines if line.startswith("@prefix "))
    body = "\n".join(line for line in lines if not line.startswith("@prefix "))
    used = [line for line in prefixes if re.search(r"(?<![\w-])" + re.escape(line.split()[1]), body)]
    body = "\n".join(used) + "\n\n" + body.lstrip("\n")
    try:
        where = Path(pages).resolve().relative_to(ROOT)
    except ValueError:
        where = Path(pages).name
    header = (f"# GENERATED by `python -m hrkg.ledger` from the UN Treaty Collection status pages saved in\n"
              f"# {where}/ (status as at {status_date}): do not edit; fix the importer or the curated files\n"
              "# (data/treaties/vnm.ttl, asean.ttl) instead. Sorted by subject so a refresh diffs small.\n\n")
    return header + body


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m hrkg.ledger", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the bundled ledger differs from the pages")
    parser.add_argument("--pages", default=str(PAGES), help="folder of saved pages (default: %(default)s)")
    parser.add_argument("--date", default=STATUS_DATE, help="their status date (default: %(default)s)")
    parser.add_argument("-o", "--output", default=None, help="output file (default: data/treaties/untc-DATE.ttl)")
    args = parser.parse_args(argv)
    output = Path(args.output) if args.output else ROOT / "data" / "treaties" / f"untc-{args.date}.ttl"
    text = generate(args.pages, args.date)
    if args.check:
        same = output.is_file() and output.read_text(encoding="utf-8") == text
        print(f"{output}: {'up to date' if same else 'differs from what the pages give; run python -m hrkg.ledger'}")
        return 0 if same else 1
    output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {output} ({text.count(chr(10)):,} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
