"""Deterministic generator of a world-scale SYNTHETIC graph for benchmarks (never real facts).

For every state in the bundled data and the 18 UN instruments: signatures, ratifications,
accessions, successions, reservations and a few withdrawals with plausible dates after each
instrument's adoption; for four UPR cycles, one review per state with about 250 recommendations
(recommending state, text, response, action category, themes, paragraph). Every generated resource
cites one source, ``src:benchmark-synthetic``, an ImportedFile, so nobody mistakes it for data.

Pairs the bundled data already covers (Viet Nam's and ASEAN treaty actions, Viet Nam's reviews) are
skipped, so the generated graph plus the bundled data still validates.

    python benchmarks/generate.py --out /tmp/hrkg-bench [--scale 1.0] [--seed 2026] [--csv]

writes world.nt (and with --csv upr.csv, the same recommendations as a UPR export shaped like the
real ones: states by name in their usual spellings, any case, Latin-1 with bare CR line endings,
some texts with quoted line breaks and HTML entities).
"""
import argparse
import csv
import datetime as dt
import hashlib
import random
import sys
import time
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hrkg.load import default_files  # noqa: E402
from hrkg.namespaces import HRKG  # noqa: E402

B = "https://w3id.org/hrkg/"
O = B + "ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SOURCE = f"<{B}id/source/benchmark-synthetic>"
DCT_SOURCE = "<http://purl.org/dc/terms/source>"
UN_INSTRUMENTS = ["ICERD", "ICCPR", "ICESCR", "CEDAW", "CAT", "CRC", "ICMW", "CRPD", "CPED",
                  "ICCPR-OP1", "ICCPR-OP2", "OP-ICESCR", "OP-CEDAW", "OPCAT", "OP-CRC-AC",
                  "OP-CRC-SC", "OP-CRC-IC", "OP-CRPD"]
CYCLES = {  # cycle: (first session, sessions, first review date) -- synthetic calendar
    "I": (1, 12, dt.date(2008, 4, 7)), "II": (13, 14, dt.date(2012, 5, 21)),
    "III": (27, 14, dt.date(2017, 5, 1)), "IV": (41, 14, dt.date(2022, 11, 7))}
THEMES = ["Women's rights", "Rights of the child", "Torture and other CID treatment",
          "Freedom of opinion and expression", "Death penalty", "Ratification of international instruments",
          "Cooperation with treaty bodies", "Justice", "Human rights education and training", "Migrants",
          "Labour", "Right to education", "Right to health", "Freedom of association and peaceful assembly",
          "Freedom of religion and belief", "Persons with disabilities", "Minorities", "Indigenous peoples",
          "Poverty", "Trafficking", "Environment", "Corruption", "National human rights institution",
          "Sexual orientation and gender identity", "Racial discrimination", "Enforced disappearances",
          "Detention conditions", "Human rights defenders", "Civil society", "Right to food"]
PARENT = {"ICCPR-OP1": "ICCPR", "ICCPR-OP2": "ICCPR", "OP-ICESCR": "ICESCR", "OP-CEDAW": "CEDAW",
          "OPCAT": "CAT", "OP-CRC-AC": "CRC", "OP-CRC-SC": "CRC", "OP-CRC-IC": "CRC", "OP-CRPD": "CRPD"}
RESPONSES = [("Supported", "Supported"), ("Noted", "Noted")]


def iri(path):
    return f"<{B}id/{path}>"


def lit(value, datatype=None):
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"^^<{XSD}{datatype}>' if datatype else f'"{text}"'


def bundled():
    """States, instruments (with adoption dates) and what the bundled data already covers."""
    g = Graph()
    for f in default_files():
        g.parse(f, format="turtle")
    states = sorted(str(g.value(s, HRKG.code)) for s in
                    set(g.subjects(RDF.type, HRKG.UNMemberState)) | set(g.subjects(RDF.type, HRKG.UNObserverState)))
    adopted = {}
    for code in UN_INSTRUMENTS:
        inst = URIRef(f"{B}id/instrument/{code}")
        adopted[code] = dt.date.fromisoformat(str(g.value(inst, HRKG.adoptionDate)))
    acted = set()
    for action in g.subjects(HRKG.instrument, None):
        st = g.value(action, HRKG.consentingState) or g.value(action, HRKG.signingState) or g.value(action, HRKG.state)
        inst = g.value(action, HRKG.instrument)
        if st is not None:
            acted.add((str(g.value(st, HRKG.code)), str(g.value(inst, HRKG.code))))
    reviews = {(str(g.value(g.value(r, HRKG.state), HRKG.code)), str(g.value(g.value(r, HRKG.cycle), HRKG.code)))
               for r in g.subjects(RDF.type, HRKG.UPRReview)}
    return states, adopted, acted, reviews, spellings(g, states)


def spellings(g, states):
    """Each state's English names as the bundled data records them (preferred, alternative and
    former names) that Latin-1 can encode, for a real-shaped export."""
    out = {}
    for code in states:
        s = URIRef(f"{B}id/state/{code}")
        names = [str(n) for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel) for n in g.objects(s, p)
                 if getattr(n, "language", None) in (None, "en")]
        out[code] = sorted(n for n in set(names) if n.encode("latin-1", "ignore").decode("latin-1") == n) or [code]
    return out


# Recommendations that name treaties, in the wording of real ones (UPR sessions 1-9), so that the
# treaty asks (hrkg/asks.py) and the follow-up queries have work at world scale: about one text in
# six, as in the real sessions (2,723 asks in 14,437 recommendations).
TREATY_SHARE = 0.17
TREATY_TEXTS = (
    "Consider ratifying {a}.",
    "Ratify {a} and {b}.",
    "Accede to {a} in a timely manner.",
    "Sign and ratify {a}.",
    "Consider ratifying {a} and its Optional Protocol.",
    "Become a party to {a}, {b} and {c}.",
    "Withdraw its reservations to {a}.",
    "Recognize the competence of the Committee against Torture under article 22 of CAT.",
    "Ratify the Optional Protocol to CEDAW and accept the individual complaints procedure.",
    "Ratify ILO Convention No. 87 and No. 98.",
    "Ratify international human rights instruments to which it is not yet a party.",
)
TREATY_NAMES = ("CAT", "CRPD", "CPED", "ICMW", "the Second Optional Protocol to ICCPR", "OP-CAT", "OP-CEDAW",
                "ICCPR", "ICESCR", "CERD", "the International Convention for the Protection of All Persons "
                "from Enforced Disappearance", "the Convention on the Rights of Persons with Disabilities",
                "the Optional Protocol to the International Covenant on Economic, Social and Cultural Rights")


def treaty_text(rng):
    """A recommendation text naming one to three treaties, drawn from TREATY_TEXTS."""
    a, b, c = rng.sample(TREATY_NAMES, 3)
    return rng.choice(TREATY_TEXTS).format(a=a, b=b, c=c)


def spelled(rng, names):
    """One of a state's names, as a file might write it."""
    name = rng.choice(names)
    roll = rng.random()
    return name.upper() if roll < 0.05 else name.lower() if roll < 0.08 else name


def generate(out_dir, *, scale=1.0, seed=2026, write_csv=False, progress=print):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    states, adopted, acted, reviews, names = bundled()
    csv_rng = random.Random(seed + 1)      # its own sequence: world.nt stays the same with or without --csv
    text_rng = random.Random(seed + 2)     # its own sequence: the treaty texts change nothing else
    n_states = max(2, round(len(states) * min(scale, 1.0)))
    states_used = states[:n_states]
    recs_mean = 250 * (scale if scale < 1 else 1)
    counts = {"treaty actions": 0, "reviews": 0, "recommendations": 0}
    nt_path = out_dir / "world.nt"
    csv_rows = []
    started = time.monotonic()
    with open(nt_path, "w", encoding="utf-8") as out:
        w = out.write
        w(f'{SOURCE} <{TYPE}> <{O}ImportedFile> .\n{SOURCE} <http://purl.org/dc/terms/title> '
          f'"Synthetic world-scale benchmark data (hrkg benchmarks/generate.py, seed {seed})"@en .\n'
          f'{SOURCE} <http://purl.org/dc/terms/publisher> "hrkg benchmarks" .\n'
          f'{SOURCE} <{O}fileName> "world.nt" .\n'
          f'{SOURCE} <{O}sha256> "{hashlib.sha256(f"seed {seed} scale {scale}".encode()).hexdigest()}" .\n')
        for s in states_used:
            parties = {c for (st, c) in acted if st == s}
            for code in UN_INSTRUMENTS:   # core treaties first, so a protocol can follow its parent
                if (s, code) in acted or (PARENT.get(code) and PARENT[code] not in parties):
                    continue
                added, consented = _treaty_history(w, rng, s, code, adopted[code])
                counts["treaty actions"] += added
                if consented:
                    parties.add(code)
        progress(f"treaty actions: {counts['treaty actions']:,}")
        for cycle, (first, sessions, start) in CYCLES.items():
            for i, s in enumerate(states_used):
                session = first + i % sessions
                review_date = start + dt.timedelta(days=(session - first) * 120 + rng.randint(0, 10))
                n = max(1, int(rng.gauss(recs_mean, recs_mean * 0.2)))
                supported = 0
                review = iri(f"upr-review/{s}-{cycle}")
                for k in range(1, n + 1):
                    response, text = RESPONSES[0] if rng.random() < 0.72 else RESPONSES[1]
                    supported += response == "Supported"
                    by = rng.choice(states_used if len(states_used) > 1 else states)
                    while by == s:
                        by = rng.choice(states)
                    themes = rng.sample(THEMES, rng.randint(1, 3))
                    category = rng.randint(1, 5)
                    rec = iri(f"upr-recommendation/{s}-{cycle}-{k}")
                    para = f"{90 + first // 10}.{k}"
                    wording = f"Synthetic recommendation {k} to {s} in cycle {cycle} on {themes[0].lower()}"
                    if text_rng.random() < TREATY_SHARE:
                        wording = f"{treaty_text(text_rng)} (synthetic recommendation {k} to {s}, cycle {cycle})"
                    w(f"{rec} <{TYPE}> <{O}Recommendation> .\n{rec} <{O}review> {review} .\n"
                      f"{rec} <{O}recommendingState> {iri('state/' + by)} .\n"
                      f"{rec} <{O}text> {lit(wording)} .\n{rec} <{O}response> <{O}{response}> .\n"
                      f"{rec} <{O}responseText> {lit(text)} .\n"
                      f"{rec} <{O}actionCategory> {lit(category, 'integer')} .\n"
                      f"{rec} <{O}paragraph> {lit(para)} .\n"
                      f"{rec} {DCT_SOURCE} {SOURCE} .\n")
                    for theme in themes:
                        w(f"{rec} <{O}theme> {lit(theme)} .\n")
                    if write_csv:
                        shown = wording
                        if k % 40 == 0:      # what real exports carry: entities and line breaks in quoted text
                            shown = f"{wording} &amp; report on it\r(joint recommendation)"
                        csv_rows.append([spelled(csv_rng, names[s]), spelled(csv_rng, names[by]), shown, text,
                                         session, cycle, category, ", ".join(themes), para])
                counts["recommendations"] += n
                if (s, cycle) in reviews:
                    continue
                counts["reviews"] += 1
                w(f"{review} <{TYPE}> <{O}UPRReview> .\n{review} <{O}state> {iri('state/' + s)} .\n"
                  f"{review} <{O}cycle> {iri('upr-cycle/' + cycle)} .\n"
                  f"{review} <{O}session> {lit(session, 'integer')} .\n"
                  f"{review} <{O}reviewDate> {lit(review_date.isoformat(), 'date')} .\n"
                  f"{review} <{O}outcomeAdoptionDate> {lit((review_date + dt.timedelta(days=140)).isoformat(), 'date')} .\n"
                  f"{review} <{O}adoptedBy> {iri('body/HRC')} .\n"
                  f"{review} <{O}recommendationCount> {lit(n, 'integer')} .\n"
                  f"{review} <{O}supportedCount> {lit(supported, 'integer')} .\n"
                  f"{review} <{O}notedCount> {lit(n - supported, 'integer')} .\n"
                  f"{review} {DCT_SOURCE} {SOURCE} .\n")
            progress(f"cycle {cycle}: {counts['recommendations']:,} recommendations so far "
                     f"({time.monotonic() - started:.0f} s)")
    if write_csv:
        with open(out_dir / "upr.csv", "w", encoding="latin-1", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r")
            writer.writerow(["State under Review", "Recommending State", "Recommendation", "Response",
                             "Session", "Cycle", "Action Category", "Issues", "Paragraph"])
            writer.writerows(csv_rows)
    return nt_path, counts


def _treaty_history(w, rng, s, code, adopted):
    """Signature / consent / reservation / withdrawal of one state for one instrument; returns
    (actions written, whether the state consented)."""
    n = 0
    horizon = dt.date(2025, 12, 31)
    span = (horizon - adopted).days
    if span <= 0 or rng.random() < 0.18:      # not party, not signed
        return 0, False
    signed = None
    if rng.random() < 0.6:
        signed = adopted + dt.timedelta(days=rng.randint(0, span // 2))
        a = iri(f"action/{s}-{code}-signature")
        w(f"{a} <{TYPE}> <{O}Signature> .\n{a} <{O}signingState> {iri('state/' + s)} .\n"
          f"{a} <{O}instrument> {iri('instrument/' + code)} .\n{a} <{O}date> {lit(signed, 'date')} .\n"
          f"{a} {DCT_SOURCE} {SOURCE} .\n")
        n += 1
    if rng.random() < 0.15:                   # signed only
        return n, False
    base = signed or adopted
    consented = base + dt.timedelta(days=rng.randint(1, max(2, (horizon - base).days)))
    kind = "Ratification" if signed else ("Succession" if rng.random() < 0.05 else "Accession")
    a = iri(f"action/{s}-{code}-{kind.lower()}")
    w(f"{a} <{TYPE}> <{O}{kind}> .\n{a} <{O}consentingState> {iri('state/' + s)} .\n"
      f"{a} <{O}instrument> {iri('instrument/' + code)} .\n{a} <{O}date> {lit(consented, 'date')} .\n"
      f"{a} {DCT_SOURCE} {SOURCE} .\n")
    n += 1
    if rng.random() < 0.2:
        a = iri(f"action/{s}-{code}-reservation")
        w(f"{a} <{TYPE}> <{O}Reservation> .\n{a} <{O}state> {iri('state/' + s)} .\n"
          f"{a} <{O}instrument> {iri('instrument/' + code)} .\n{a} <{O}date> {lit(consented, 'date')} .\n"
          f"{a} {DCT_SOURCE} {SOURCE} .\n")
        n += 1
    if rng.random() < 0.004 and consented < horizon - dt.timedelta(days=400):
        a = iri(f"action/{s}-{code}-withdrawal")
        w(f"{a} <{TYPE}> <{O}Withdrawal> .\n{a} <{O}state> {iri('state/' + s)} .\n"
          f"{a} <{O}instrument> {iri('instrument/' + code)} .\n"
          f"{a} <{O}date> {lit(consented + dt.timedelta(days=365), 'date')} .\n{a} {DCT_SOURCE} {SOURCE} .\n")
        n += 1
    return n, True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/hrkg-bench", help="output folder")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of states and recommendations (1.0 = world)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--csv", action="store_true", help="also write upr.csv, the recommendations as a UPR export")
    args = parser.parse_args(argv)
    path, counts = generate(args.out, scale=args.scale, seed=args.seed, write_csv=args.csv,
                            progress=lambda m: print(m, file=sys.stderr))
    print(f"{path}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
