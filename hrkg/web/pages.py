"""What the HTML pages show, gathered in a worker from the stored queries.

Each builder returns a plain dict for its template. Facts come from the stored queries
(treaty-status, treaty-actions, parties, upr-reviews, memberships, sources, ...); the few small
queries here only find the IRI of each fact, so every fact on a page can link the sources the
``sources`` query gives for it. Values reach those queries as bound terms (query.inline_bindings).
"""
import datetime as dt
import re
from collections import OrderedDict, defaultdict

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ..namespaces import BASE, DCTERMS, HRKG, ID, RDF, RDFS, SKOS
from ..query import inline_bindings
from . import charts

INFERRED_GRAPH = BASE + "graph/inferred"
_UNSAFE_IRI = re.compile(r'[\s<>"{}|^`\\]')
ACTION_KINDS = """VALUES (?class ?action) {
    (hrkg:Signature "signature") (hrkg:Ratification "ratification") (hrkg:Accession "accession")
    (hrkg:Succession "succession") (hrkg:Withdrawal "withdrawal") (hrkg:Reservation "reservation")
    (hrkg:InterpretiveDeclaration "declaration") }"""
# the same, with consents the depositary marks A, AA or c (acceptance, approval, formal
# confirmation: hrkg:ConsentToBeBound with hrkg:depositaryMarker), named as the parties query does
ACTION_KINDS_MARKED = """{ %s } UNION {
    ?fact hrkg:depositaryMarker ?marker .
    VALUES (?marker ?action) { ("A" "acceptance") ("AA" "approval") ("c" "formal confirmation") }
    BIND(hrkg:ConsentToBeBound AS ?class) }""" % ACTION_KINDS
CONSENT_WORDS = ("ratification", "accession", "succession", "acceptance", "approval", "formal confirmation")

# the IRI of each fact about a state, keyed as the stored queries report it (each branch a
# sub-SELECT, so the bound state reaches it: see FACT_SOURCES)
STATE_FACTS = """
SELECT DISTINCT ?fact ?kind ?instrument ?action ?date ?cycle ?body ?start WHERE {
  { SELECT ?fact ?kind ?instrument ?action ?date WHERE {
      ?fact hrkg:instrument ?i ; hrkg:date ?date ; a ?class .
      { ?fact hrkg:signingState ?_state } UNION { ?fact hrkg:consentingState ?_state } UNION { ?fact hrkg:state ?_state }
      %s
      ?i hrkg:code ?instrument . BIND("action" AS ?kind) } }
  UNION { SELECT ?fact ?kind ?cycle WHERE {
      ?fact a hrkg:UPRReview ; hrkg:state ?_state ; hrkg:cycle ?c . ?c hrkg:code ?cycle . BIND("review" AS ?kind) } }
  UNION { SELECT ?fact ?kind ?cycle WHERE {
      ?fact a hrkg:ImplementationAssessment ; hrkg:review ?r . ?r hrkg:state ?_state ; hrkg:cycle ?c .
      ?c hrkg:code ?cycle . BIND("assessment" AS ?kind) } }
  UNION { SELECT ?fact ?kind ?body ?start WHERE {
      ?fact a org:Membership ; org:member ?_state ; org:organization ?o . ?o hrkg:code ?body .
      OPTIONAL { ?fact hrkg:startDate ?start } BIND("membership" AS ?kind) } }
}""" % ACTION_KINDS

INSTRUMENT_ACTIONS = """
SELECT DISTINCT ?fact ?state ?name ?action ?date WHERE {
  ?fact hrkg:instrument ?_instrument ; hrkg:date ?date ; a ?class .
  { ?fact hrkg:signingState ?s } UNION { ?fact hrkg:consentingState ?s } UNION { ?fact hrkg:state ?s }
  %s
  ?s hrkg:code ?state ; skos:prefLabel ?name .
  FILTER(LANGMATCHES(LANG(?name), "en"))
} ORDER BY ?date ?state""" % ACTION_KINDS_MARKED

GROUP_ACTIONS = """
SELECT DISTINCT ?fact ?state ?instrument ?action WHERE {
  ?m org:member ?s ; org:organization ?_group .
  { ?fact hrkg:signingState ?s } UNION { ?fact hrkg:consentingState ?s }
  ?fact hrkg:instrument ?i ; a ?class .
  %s
  ?s hrkg:code ?state . ?i hrkg:code ?instrument .
}""" % ACTION_KINDS_MARKED

# the sources of the facts a page shows, fetched for that page only. Each branch is a sub-SELECT
# so the page's bound parameter reaches it (a plain UNION branch would see it unbound), and each
# looks up dct:source itself: joined outside, the store would scan every dct:source triple.
FACT_SOURCES = """
SELECT DISTINCT ?subject ?source ?title ?publisher ?date ?url WHERE {
  %s
  ?source dct:title ?title ; dct:publisher ?publisher .
  OPTIONAL { ?source dct:date ?date }
  OPTIONAL { ?source hrkg:url ?url }
} ORDER BY ?subject ?source"""
INSTRUMENT_SOURCES = FACT_SOURCES % """
  { SELECT ?subject ?source WHERE { ?subject hrkg:instrument ?_instrument ; dct:source ?source } }
  UNION { SELECT ?subject ?source WHERE { ?_instrument dct:source ?source . BIND(?_instrument AS ?subject) } }"""
GROUP_SOURCES = FACT_SOURCES % """
  { SELECT ?subject ?source WHERE {
      ?m org:member ?s ; org:organization ?_group . ?subject hrkg:signingState ?s ; dct:source ?source } }
  UNION { SELECT ?subject ?source WHERE {
      ?m org:member ?s ; org:organization ?_group . ?subject hrkg:consentingState ?s ; dct:source ?source } }
  UNION { SELECT ?subject ?source WHERE { ?subject org:member ?s ; org:organization ?_group ; dct:source ?source } }
  UNION { SELECT ?subject ?source WHERE { ?_group dct:source ?source . BIND(?_group AS ?subject) } }"""

UN_INSTRUMENTS = """
SELECT ?instrument ?title ?kind WHERE {
  VALUES ?kind { hrkg:CoreTreaty hrkg:OptionalProtocol }
  ?i a ?kind ; hrkg:code ?instrument ; dct:title ?title .
  FILTER(LANGMATCHES(LANG(?title), "en"))
} ORDER BY ?kind ?instrument"""

ALL_STATES = """
SELECT ?state ?name WHERE {
  VALUES ?kind { hrkg:UNMemberState hrkg:UNObserverState }
  ?s a ?kind ; hrkg:code ?state ; skos:prefLabel ?name .
  FILTER(LANGMATCHES(LANG(?name), "en"))
} ORDER BY ?name"""

# every triple with the resource as subject, with the graph it is in (to mark inferred ones)
DESCRIBE_ROWS = """
SELECT ?p ?o ?g WHERE { GRAPH ?g { ?_iri ?p ?o } }"""
DESCRIBE_GRAPH = """
CONSTRUCT { ?_iri ?p ?o } WHERE { ?_iri ?p ?o }"""
INCOMING = """
SELECT DISTINCT ?s ?p WHERE { ?s ?p ?_iri . FILTER(isIRI(?s)) } ORDER BY ?p ?s LIMIT 300"""
LABELS = """
SELECT ?x ?label WHERE {
  ?x skos:prefLabel|dct:title|rdfs:label ?label .
  FILTER(LANG(?label) = "" || LANGMATCHES(LANG(?label), "en"))
}"""
ONTOLOGY_GRAPH = """
CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { <https://w3id.org/hrkg/ontology> a owl:Ontology . ?s ?p ?o } }"""

HUMAN_NAMES = {
    str(RDF.type): "type", str(SKOS.prefLabel): "name", str(SKOS.altLabel): "also called",
    str(DCTERMS.title): "title", str(DCTERMS.source): "source", str(RDFS.comment): "comment",
    str(RDFS.label): "label", str(SKOS.definition): "definition",
}


def bound(kg, text, **values):
    """Rows (as dicts of rdflib terms) of a page query with ``values`` bound as RDF terms."""
    result = kg.sparql(inline_bindings(text, {"_" + k: v for k, v in values.items()}))
    if result.graph is not None:
        return result.graph
    return [{v: t for v, t in zip(result.vars, row) if t is not None} for row in result.rows]


def cited(kg, text, **values):
    """Source rows (as ``stored`` gives them) of a FACT_SOURCES query with ``values`` bound."""
    return kg.sparql(inline_bindings(text, {"_" + k: v for k, v in values.items()})).as_dicts()


def stored(kg, name, **params):
    """Rows of a stored query, as dicts of Python values (dates stay dates)."""
    return kg.query(name, {k: v for k, v in params.items() if v is not None}).as_dicts()


def has_query(kg, name):
    """Whether the stored query ``name`` exists: a page leaves out a section whose query does not."""
    return name in kg.catalog.names()


def page_date(as_of):
    """The date a page is asked for (``?as_of=YYYY-MM-DD``, default today) as (date, string or
    None); a bad date is a ParameterError (400) naming the parameter."""
    if as_of in (None, ""):
        return dt.date.today(), None
    from ..query import parse_date
    return parse_date("as_of", as_of).toPython(), as_of


# how far the graph's knowledge of treaty status runs: complete records (snapshots such as the UN
# Treaty Collection status pages, hrkg:statusOf) per instrument
KNOWLEDGE = """
SELECT ?instrument (MAX(?date) AS ?known) (SAMPLE(?record) AS ?source) WHERE {
  ?record hrkg:statusOf ?i ; dct:date ?date . ?i hrkg:code ?instrument .
} GROUP BY ?instrument"""

STATE_M49 = """
SELECT ?state ?m49 ?name WHERE {
  ?s hrkg:m49 ?m49 ; hrkg:code ?state ; skos:prefLabel ?name .
  FILTER(LANGMATCHES(LANG(?name), "en"))
}"""
_per_graph = {}


def knowledge(kg):
    """{instrument code: (date the graph's complete record runs to, record IRI)}; empty where the
    graph has no complete record (then nothing unrecorded may read as "not party")."""
    key = ("knowledge", id(kg))
    if key not in _per_graph:
        _per_graph[key] = {str(r["instrument"]): (r["known"].toPython(), str(r["source"]))
                           for r in bound(kg, KNOWLEDGE) if "known" in r}
    return _per_graph[key]


def m49_codes(kg):
    """{M49 code: (state code, English name)} of the states the graph knows, once per graph."""
    key = ("m49", id(kg))
    if key not in _per_graph:
        _per_graph[key] = {str(r["m49"]).zfill(3): (str(r["state"]), str(r["name"])) for r in bound(kg, STATE_M49)}
    return _per_graph[key]


STATUS_WORDS = {"party": "party", "signatory": "signatory", "none": "not party", "unknown": "no record"}


def status_words(row, complete):
    """What a person reads for a treaty-status row: never "none" or "not party" where the graph
    holds no complete record for the instrument (``complete``), but "no record"."""
    status = row.get("status") or "unknown"
    if status == "none" and not complete:
        status = "unknown"
    return status, STATUS_WORDS.get(status, status)


def banner(as_of, known):
    """Words for a page asked for a date later than the graph's knowledge runs (``known``: the
    latest date of a complete record), or None."""
    if known and as_of > known:
        return (f"Shown as of {as_of.isoformat()}, but the graph's knowledge of treaty status runs only to "
                f"{known.isoformat()} (the UN Treaty Collection status pages as at that date): "
                "actions taken since are not recorded here.")
    return None


class Footnotes:
    """Numbers the sources cited on a page, in order of first citation."""

    def __init__(self, sources_rows):
        self.by_subject = defaultdict(list)
        for row in sources_rows:
            if row["source"] not in [s["source"] for s in self.by_subject[row["subject"]]]:
                self.by_subject[row["subject"]].append(row)
        self.cited = OrderedDict()

    def cite(self, *subjects):
        """[(number, source row)] for the facts ``subjects`` (IRIs); numbers shared across facts."""
        out = []
        for subject in subjects:
            for row in self.by_subject.get(str(subject), ()):
                if row["source"] not in self.cited:
                    self.cited[row["source"]] = (len(self.cited) + 1, row)
                number, first = self.cited[row["source"]]
                if number not in [n for n, _ in out]:
                    out.append((number, first))
        return sorted(out, key=lambda n: n[0])

    def listing(self):
        return list(self.cited.values())


# ---- resources -----------------------------------------------------------------------------

def describe(kg, iri):
    """Rows (p, o, inferred) for everything said about ``iri``; empty if the graph has nothing."""
    seen = {}
    for row in bound(kg, DESCRIBE_ROWS, iri=URIRef(iri)):
        key = (row["p"], row["o"])
        inferred = str(row.get("g")) == INFERRED_GRAPH
        seen[key] = seen.get(key, True) and inferred
    return [(p, o, inferred) for (p, o), inferred in seen.items()]


def describe_graph(kg, iri):
    return bound(kg, DESCRIBE_GRAPH, iri=URIRef(iri))


def labels(kg, iris):
    """English (or untagged) labels of ``iris``: {iri string: label}."""
    out = {}
    iris = [i for i in dict.fromkeys(str(i) for i in iris)
            if i.startswith(("http://", "https://")) and not _UNSAFE_IRI.search(i)]
    if not iris:
        return out
    values = " ".join(URIRef(i).n3() for i in iris)  # IRIs from the graph itself, written by rdflib
    text = LABELS.replace("WHERE {", "WHERE { VALUES ?x { " + values + " }", 1)
    for row in kg.sparql(text).rows:
        out.setdefault(str(row[0]), str(row[1]))
    return out


def resource_page(kg, iri):
    """Generic page: property table (with labels of linked resources) and incoming links."""
    rows = describe(kg, iri)
    if not rows:
        return None
    incoming = bound(kg, INCOMING, iri=URIRef(iri))
    names = labels(kg, [o for _, o, _ in rows if isinstance(o, URIRef)] + [p for p, _, _ in rows]
                   + [r["s"] for r in incoming] + [r["p"] for r in incoming] + [iri])
    props = defaultdict(list)
    for p, o, inferred in rows:
        props[str(p)].append({"term": o, "label": names.get(str(o)), "inferred": inferred})
    order = sorted(props, key=lambda p: (p != str(RDF.type), p not in (str(SKOS.prefLabel), str(DCTERMS.title)),
                                         HUMAN_NAMES.get(p) or names.get(p) or p))
    properties = [{"iri": p, "label": HUMAN_NAMES.get(p) or names.get(p) or _local_name(p),
                   "values": sorted(props[p], key=lambda v: (v["inferred"], str(v["label"] or v["term"])))}
                  for p in order]
    incoming_rows = [{"s": r["s"], "s_label": names.get(str(r["s"])), "p": r["p"],
                      "p_label": HUMAN_NAMES.get(str(r["p"])) or names.get(str(r["p"])) or _local_name(str(r["p"]))}
                     for r in incoming]
    title = names.get(iri) or _first(rows, SKOS.prefLabel) or _local_name(iri)
    return {"iri": iri, "title": title, "properties": properties, "incoming": incoming_rows,
            "types": [o for p, o, _ in rows if p == RDF.type]}


def _first(rows, prop):
    for p, o, _ in rows:
        if p == prop and (not isinstance(o, Literal) or o.language in (None, "en")):
            return str(o)
    return None


def _local_name(iri):
    iri = str(iri)
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def kind_of(iri):
    """'state', 'instrument', 'group', ... from an id IRI, or None."""
    rest = str(iri)[len(str(ID)):] if str(iri).startswith(str(ID)) else ""
    return rest.split("/", 1)[0] if "/" in rest else None


def code_of(iri):
    return str(iri).rstrip("/").rsplit("/", 1)[-1]


# ---- state ------------------------------------------------------------------------------------

def state_page(kg, iri, as_of=None):
    as_of, as_of_text = page_date(as_of)
    base = resource_page(kg, iri)
    if base is None:
        return None
    code = code_of(iri)
    names = {str(o.language or ""): str(o) for p, o, _ in describe(kg, iri) if p == SKOS.prefLabel}
    facts = bound(kg, STATE_FACTS, state=URIRef(iri))
    notes = Footnotes(stored(kg, "sources", state=code))
    action_iri = defaultdict(list)   # (instrument, action, date) -> fact IRIs
    review_iri, assessment_iri, membership_iri = {}, defaultdict(list), defaultdict(list)
    for f in facts:
        kind = str(f["kind"])
        if kind == "action":
            action_iri[(str(f["instrument"]), str(f["action"]), f["date"].toPython())].append(f["fact"])
        elif kind == "review":
            review_iri[str(f["cycle"])] = f["fact"]
        elif kind == "assessment":
            assessment_iri[str(f["cycle"])].append(f["fact"])
        else:
            start = f.get("start")
            membership_iri[(str(f["body"]), start.toPython() if start is not None else None)].append(f["fact"])

    def action_link(instrument, kinds, date):
        found = [iri_ for k in kinds for iri_ in action_iri.get((instrument, k, date), ())]
        return {"date": date, "fact": found[0] if found else None, "notes": notes.cite(*found)}

    status = []
    known = knowledge(kg)
    for row in stored(kg, "treaty-status", state=code, as_of=as_of_text):
        complete = row.get("known_as_of") is not None or row["instrument"] in known
        key, words = status_words(row, complete)
        status.append(dict(row, status=key, words=words,
                           signed_cell=action_link(row["instrument"], ["signature"], row["signed"]) if row.get("signed") else None,
                           consented_cell=action_link(row["instrument"], [row.get("consent_type", "")], row["consented"]) if row.get("consented") else None))
    parties = sum(1 for r in status if r.get("status") == "party")
    # distinct: the stored query can list an action twice (consentingState is also hrkg:state)
    actions = [dict(row) for row in dict.fromkeys(tuple(sorted(r.items())) for r in stored(kg, "treaty-actions", state=code))]
    timeline = []
    for row in actions:
        cell = action_link(row["instrument"], [row["action"]], row["date"])
        timeline.append(dict(row, **cell))
    chart = charts.timeline(
        [(r["instrument"], r["action"], r["date"]) for r in actions],
        title=f"Treaty actions of {names.get('en', code)} over time",
        lane_href=lambda code_: f"/id/instrument/{code_}") if actions else None
    reviews = []
    for row in stored(kg, "upr-reviews", state=code):
        facts_ = ([review_iri[row["cycle"]]] if row["cycle"] in review_iri else []) + assessment_iri.get(row["cycle"], [])
        reviews.append(dict(row, fact=review_iri.get(row["cycle"]), notes=notes.cite(*facts_)))
    upr_chart = charts.upr(reviews, title=f"UPR recommendations to {names.get('en', code)}: responses and implementation") if reviews else None
    memberships = []
    for row in stored(kg, "memberships", state=code):
        found = membership_iri.get((row["body"], row.get("term_start")), [])
        memberships.append(dict(row, fact=found[0] if found else None, notes=notes.cite(*found)))
    core = stored(kg, "core-treaty-count", state=code, as_of=as_of_text)
    known_dates = [r["known_as_of"] for r in status if r.get("known_as_of")] or [d for d, _ in known.values()]
    reservations = state_statements(kg, code) if has_query(kg, "reservations") else None
    procedures = (stored(kg, "complaint-procedures", state=code, as_of=as_of_text)
                  if has_query(kg, "complaint-procedures") else None)
    for row in procedures or ():
        row["words"] = {"accepted": "accepted", "not-accepted": "not accepted", "opted-out": "opted out",
                        "unknown": "unknown: the page holds a statement not read (see the source)"}.get(
            row.get("status"), row.get("status") or "no record")
    followup = treaty_followup(kg, code, as_of, as_of_text)
    return dict(base, code=code, name=names.get("en", base["title"]), name_vi=names.get("vi"), followup=followup,
                status=status, parties=parties, timeline=timeline, chart=chart, reviews=reviews,
                upr_chart=upr_chart, memberships=memberships, core=core[0] if core else None,
                identity=notes.cite(iri), sources=notes.listing(), as_of=as_of, as_of_text=as_of_text,
                known=max(known_dates) if known_dates else None,
                banner=banner(as_of, max(known_dates) if known_dates else None),
                any_unknown=any(r["status"] == "unknown" for r in status),
                reservations=reservations, procedures=procedures, procedure_kinds=PROCEDURE_KINDS)


# ---- recommendations to join treaties and what followed (issue 14) --------------------------------

# the recommendations the section's total counts: as in recommendation-followup, a review dated
# (hrkg:reviewDate, else its Working Group session's last day) after as_of is left out
STATE_RECOMMENDATIONS = """
SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {
  ?review hrkg:state ?_state . ?r hrkg:review ?review ; hrkg:text ?text .
  OPTIONAL { ?review hrkg:reviewDate ?reviewDate }
  OPTIONAL { ?review hrkg:session ?number . ?session a hrkg:UPRSession ; hrkg:ordinal ?number ; hrkg:endDate ?sessionEnd }
  BIND(COALESCE(?reviewDate, ?sessionEnd) AS ?reviewed)
  FILTER(!BOUND(?_as_of) || !BOUND(?reviewed) || ?reviewed <= ?_as_of)
}"""
ASK_ORDER = ("join", "sign", "accept-procedure", "withdraw-reservation")
ASK_WORDS = {"join": "join", "sign": "sign", "accept-procedure": "accept the complaints procedure",
             "withdraw-reservation": "withdraw a reservation"}
ROMAN = {c: i for i, c in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"), 1)}


def _cycle_key(cycle):
    return (ROMAN.get(cycle, 99), str(cycle))


def treaty_followup(kg, code, as_of, as_of_text):
    """Per (instrument, ask): the cycles that asked it with their responses, and what followed,
    from the stored query ``recommendation-followup`` (None when it does not exist). ``followed``
    is {"kind": "acted", "action", "date"} (the first asked action after a review), "before" (done
    before the reviews that asked), "none" (a complete record shows nothing since, up to as_of:
    ``known`` the record's date or as_of, the earlier) or "unknown" (the graph has no status record for the instrument, or a
    review's date is not known): never "none" without a record."""
    if not has_query(kg, "recommendation-followup"):
        return None
    # one row per (recommendation, instrument), as the query promises; kept so even if it repeats one
    rows = list({(r["recommendation"], r["instrument"]): r
                 for r in stored(kg, "recommendation-followup", state=code, as_of=as_of_text)}.values())
    wanted = {"state": URIRef(str(ID) + "state/" + code)}
    if as_of_text:
        wanted["as_of"] = Literal(as_of_text, datatype=XSD.date)
    total = bound(kg, STATE_RECOMMENDATIONS, **wanted)
    total = int(total[0]["n"]) if total and "n" in total[0] else 0
    known = knowledge(kg)
    state_names = {c: n for c, n in m49_codes(kg).values()}
    groups = defaultdict(list)
    for row in rows:
        groups[(row["instrument"], row["ask"])].append(row)
    out = []
    for (instrument, ask), group in groups.items():
        cycles = []
        for cycle in sorted({r["cycle"] for r in group}, key=_cycle_key):
            in_cycle = [r for r in group if r["cycle"] == cycle]
            responses = defaultdict(int)
            for r in in_cycle:
                responses[r.get("response") or "no response recorded"] += 1
            cycles.append({"cycle": cycle, "count": len(in_cycle),
                           "responses": sorted(responses.items(), key=lambda kv: (kv[0] not in ("supported", "noted"),
                                                                                  kv[0] != "supported", kv[0]))})
        acted = sorted((r for r in group if r.get("acted") is True), key=lambda r: str(r.get("action_date")))
        before = [r for r in group if r.get("acted") is None and str(r.get("action") or "").endswith("before the review")]
        unknown = [r for r in group if r.get("acted") is None and r not in before]
        if acted:
            followed = {"kind": "acted", "action": acted[0].get("action"), "date": acted[0].get("action_date"),
                        "asked_after": len(before)}
        elif unknown:
            followed = {"kind": "unknown", "has_record": instrument in known}
        elif before:
            first = min(before, key=lambda r: str(r.get("action_date")))
            followed = {"kind": "before", "action": str(first["action"]).replace(" before the review", ""),
                        "date": first.get("action_date")}
        else:
            record = known.get(instrument, (None, None))[0]
            followed = {"kind": "none", "known": min(record, as_of) if record else None}
        states = {s.strip() for r in group for s in str(r.get("recommending_state") or "").split(",") if s.strip()}
        recommendations = sorted(({"iri": r["recommendation"], "cycle": r["cycle"],
                                   "by": ", ".join(state_names.get(b.strip(), b.strip()) for b in
                                                   str(r.get("recommending_state") or "").split(",") if b.strip()),
                                   "response": r.get("response"), "text": r["text"]} for r in group),
                                 key=lambda r: (_cycle_key(r["cycle"]), str(r["by"]), r["text"]))
        out.append({"instrument": instrument, "ask": ask, "ask_words": ASK_WORDS.get(ask, ask), "cycles": cycles,
                    "count": len(group), "states": len(states), "followed": followed,
                    "recommendations": list({r["iri"]: r for r in recommendations}.values()),
                    "search": f"/search?state={code}&instrument={instrument}&ask={ask}"})
    # UN instruments first, then ILO conventions (C029...), each alphabetical
    out.sort(key=lambda g: (ASK_ORDER.index(g["ask"]) if g["ask"] in ASK_ORDER else 9,
                            bool(re.fullmatch(r"C\d+", g["instrument"])), g["instrument"]))
    return {"groups": out, "recommendations": total,
            "asking": len({r["recommendation"] for r in rows})}


PROCEDURE_KINDS = (("individual", "Individual complaints"), ("inquiry", "Inquiries"),
                   ("inter-state", "Complaints by other states"))
STATEMENT_KINDS = ("reservation", "reservation or declaration", "binding declaration", "declaration")


def state_statements(kg, code):
    """The state's reservations and declarations (text as published) by instrument, and its
    objections to other states' ones, from the stored query ``reservations``."""
    own, objections = OrderedDict(), []
    for row in stored(kg, "reservations", state=code):
        row["withdrawal_dates"] = str(row.get("withdrawals") or "").split()
        if row.get("type") == "objection":
            objections.append(row)
        else:
            own.setdefault(row["instrument"], []).append(row)
    return {"own": list(own.items()), "count": sum(len(v) for v in own.values()), "objections": objections}


# ---- instrument ------------------------------------------------------------------------------

def instrument_page(kg, iri, as_of=None):
    as_of, as_of_text = page_date(as_of)
    base = resource_page(kg, iri)
    if base is None:
        return None
    code = code_of(iri)
    rows = describe(kg, iri)
    titles = {str(o.language or ""): str(o) for p, o, _ in rows if p == DCTERMS.title}
    notes = Footnotes(cited(kg, INSTRUMENT_SOURCES, instrument=URIRef(iri)))
    actions = bound(kg, INSTRUMENT_ACTIONS, instrument=URIRef(iri))
    by_state = defaultdict(list)
    for a in actions:
        by_state[str(a["state"])].append(a)
    parties = []
    for row in stored(kg, "parties", instrument=code, as_of=as_of_text):
        facts = [a["fact"] for a in by_state[row["state"]]
                 if str(a["action"]) == row["consent_type"] and a["date"].toPython() == row["consented"]]
        signed = [a for a in by_state[row["state"]] if str(a["action"]) == "signature"]
        parties.append(dict(row, fact=facts[0] if facts else None, notes=notes.cite(*facts),
                            signed=signed[0]["date"].toPython() if signed else None,
                            signed_fact=signed[0]["fact"] if signed else None,
                            signed_notes=notes.cite(*(s["fact"] for s in signed))))
    signatories = []
    for row in stored(kg, "signed-not-ratified", as_of=as_of_text):
        if row["instrument"] != code:
            continue
        sig = [a for a in by_state[row["state"]] if str(a["action"]) == "signature"]
        signatories.append(dict(row, name=str(sig[0]["name"]) if sig else row["state"],
                                fact=sig[0]["fact"] if sig else None, notes=notes.cite(*(a["fact"] for a in sig))))
    # parties over time: +1 on each consent, -1 on a withdrawal, per state
    events = sorted((a["date"].toPython(), str(a["state"]), str(a["action"])) for a in actions
                    if str(a["action"]) in CONSENT_WORDS + ("withdrawal",)
                    and a["date"].toPython() <= as_of)
    party_now, steps, count = set(), [], 0
    for date, state, action in events:
        if action == "withdrawal":
            if state in party_now:
                party_now.discard(state)
                count -= 1
        elif state not in party_now:
            party_now.add(state)
            count += 1
        steps.append((date, count))
    chart = charts.steps(steps, title=f"Parties to {code} over time",
                         label="states party") if steps else None
    known, record = knowledge(kg).get(code, (None, None))
    world = instrument_map(kg, code, parties, signatories, actions, known, as_of)
    return dict(base, code=code, title_en=titles.get("en", base["title"]), title_vi=titles.get("vi"),
                parties=parties, signatories=signatories, chart=chart, sources=notes.listing(),
                identity=notes.cite(iri), as_of=as_of, as_of_text=as_of_text, known=known, record=record,
                banner=banner(as_of, known), map=world["svg"], unmapped=world["unmapped"], counts=world["counts"])


def instrument_map(kg, code, parties, signatories, actions, known, as_of):
    """The world map of an instrument's status: party, signatory, not party (where a complete
    record lists no consent) or no record, one shape per state (hrkg:m49 = the shape's ISO
    numeric id); the states too small for the map's scale are named in ``unmapped``."""
    states = m49_codes(kg)
    party = {p["state"]: p for p in parties}
    signed = {s["state"]: s for s in signatories}
    denounced = {str(a["state"]): a["date"].toPython() for a in actions
                 if str(a["action"]) == "withdrawal" and a["date"].toPython() <= as_of}
    known_words = f"as at {known.isoformat()}" if known else ""
    countries, counts = {}, defaultdict(int)
    for m49, (state, name) in states.items():
        if state in party:
            p = party[state]
            category, words = "party", f"{name}: party since {p['consented'].isoformat()} ({p['consent_type']})"
        elif state in signed:
            category, words = "signatory", f"{name}: signed {signed[state]['signed'].isoformat()}, not party"
        elif known:
            category = "not-party"
            words = (f"{name}: not party (denounced {denounced[state].isoformat()})" if state in denounced
                     else f"{name}: not party; no signature or consent on the UN Treaty Collection's list {known_words}")
        else:
            category, words = "no-record", f"{name}: no record in the graph"
        countries[m49] = (category, words)
        counts[category] += 1
    mapped = charts.mapped_m49()
    unmapped = sorted((name, state, countries[m49][0]) for m49, (state, name) in states.items()
                      if m49 not in mapped and countries[m49][0] in ("party", "signatory"))
    words = ", ".join(f"{counts[k]} {charts.MAP_LABELS[k]}" for k in ("party", "signatory", "not-party", "no-record") if counts[k])
    desc = (f"World map of the status of {code} on {as_of.isoformat()}, by state: {words}"
            + (f"; the graph's complete record runs to {known.isoformat()}" if known else
               "; the graph holds no complete record of this instrument's participants")
            + (f". {len(unmapped)} parties and signatories are too small for the map's scale." if unmapped else "."))
    svg = charts.world_map(countries, title=f"{code}: status by state, {as_of.isoformat()}", desc=desc,
                           href=lambda m49: f"/id/state/{states[m49][0]}#status-{code}",
                           legend_order=("party", "signatory", "not-party", "no-record", "other"))
    return {"svg": svg, "unmapped": unmapped, "counts": dict(counts)}


# ---- group -----------------------------------------------------------------------------------

def group_page(kg, iri, as_of=None):
    """Members x the 18 UN instruments: for each instrument, the stored query ``parties`` for the
    group's members and ``signed-not-ratified`` for the group (19 queries whatever the group's
    size, not one treaty-status per member); counts per member and per instrument; a map."""
    as_of, as_of_text = page_date(as_of)
    base = resource_page(kg, iri)
    if base is None:
        return None
    code = code_of(iri)
    members = stored(kg, "memberships", body=code)
    current = sorted({m["state"] for m in members
                      if (m.get("term_start") is None or m["term_start"] <= as_of)
                      and (m.get("term_end") is None or m["term_end"] >= as_of)})
    instruments = [dict(instrument=str(r["instrument"]), title=str(r["title"]),
                        core=str(r["kind"]).endswith("CoreTreaty")) for r in bound(kg, UN_INSTRUMENTS)]
    notes = Footnotes(cited(kg, GROUP_SOURCES, group=URIRef(iri)))
    fact_of = defaultdict(list)
    for row in bound(kg, GROUP_ACTIONS, group=URIRef(iri)):
        fact_of[(str(row["state"]), str(row["instrument"]), str(row["action"]))].append(row["fact"])
    counts = {r["state"]: r for r in stored(kg, "core-treaty-count", group=code, as_of=as_of_text)}
    known = knowledge(kg)
    cells = defaultdict(dict)   # state -> instrument -> cell
    for i in instruments:
        for row in stored(kg, "parties", instrument=i["instrument"], group=code, as_of=as_of_text):
            cells[row["state"]][i["instrument"]] = dict(row, status="party")
    for row in stored(kg, "signed-not-ratified", group=code, as_of=as_of_text):
        cells[row["state"]].setdefault(row["instrument"], dict(row, status="signatory"))
    names = labels(kg, [ID[f"state/{s}"] for s in {m["state"] for m in members}])
    matrix = []
    for state in current:
        row_cells = {}
        for i in instruments:
            c = cells[state].get(i["instrument"])
            if c is None:
                complete = i["instrument"] in known
                c = {"status": "none" if complete else "unknown", "words": "not party" if complete else "no record"}
            kind = c.get("consent_type") if c["status"] == "party" else "signature"
            found = fact_of.get((state, i["instrument"], kind or ""), []) if c["status"] in ("party", "signatory") else []
            row_cells[i["instrument"]] = dict(c, fact=found[0] if found else None, notes=notes.cite(*found))
        matrix.append({"state": state, "name": names.get(str(ID[f"state/{state}"]), state), "cells": row_cells,
                       "core": counts.get(state, {}).get("core"), "protocols": counts.get(state, {}).get("protocols")})
    matrix.sort(key=lambda r: r["name"])
    totals = {i["instrument"]: sum(1 for r in matrix if r["cells"][i["instrument"]]["status"] == "party")
              for i in instruments}
    column_notes = {}
    for row in matrix:
        for instrument, c in row["cells"].items():
            merged = dict(column_notes.get(instrument, []))
            merged.update(dict(c["notes"]))
            column_notes[instrument] = sorted(merged.items())
    member_rows = [dict(m, name=names.get(str(ID[f"state/{m['state']}"]), m["state"])) for m in members]
    member_rows.sort(key=lambda m: m["name"])
    states = m49_codes(kg)
    by_code = {state: m49 for m49, (state, _) in states.items()}
    in_group = {by_code[s] for s in current if s in by_code}
    countries = {m49: ("member", f"{name}: member of {code}") if m49 in in_group else ("outside", f"{name}: not a member")
                 for m49, (_, name) in states.items()}
    mapped = charts.mapped_m49()
    unmapped = sorted(names.get(str(ID[f"state/{s}"]), s) for s in current if by_code.get(s) not in mapped)
    group_map = charts.world_map(
        countries, title=f"Members of {base['title']}", width=560, focus=in_group or None,
        desc=f"Map of the {len(current)} current members of {code}" + (
            f"; {len(unmapped)} too small for the map's scale: {', '.join(unmapped)}." if unmapped else "."),
        href=lambda m49: f"/id/state/{states[m49][0]}", legend_order=("member", "outside", "other")) if current else None
    known_dates = [known[i["instrument"]][0] for i in instruments if i["instrument"] in known]
    return dict(base, code=code, instruments=instruments, matrix=matrix, members=member_rows, column_notes=column_notes,
                current=current, sources=notes.listing(), identity=notes.cite(iri), today=as_of, as_of=as_of,
                member_dates=any(m.get("term_start") or m.get("term_end") for m in members),
                as_of_text=as_of_text, totals=totals, map=group_map, unmapped=unmapped,
                known=max(known_dates) if known_dates else None,
                banner=banner(as_of, max(known_dates) if known_dates else None),
                any_unknown=any(c["status"] == "unknown" for r in matrix for c in r["cells"].values()))


# ---- home, ontology ---------------------------------------------------------------------------

def home_page(kg):
    return {"stats": kg.stats(), "instruments": [dict(instrument=str(r["instrument"]), title=str(r["title"]))
                                                 for r in bound(kg, UN_INSTRUMENTS)],
            "states": [dict(state=str(r["state"]), name=str(r["name"])) for r in bound(kg, ALL_STATES)],
            "groups": kg.codes.codes("group"), "queries": list(kg.catalog)}


def ontology_graph(kg):
    return kg.sparql(ONTOLOGY_GRAPH).graph


def ontology_page(kg):
    """Classes and properties of the ontology with labels, definitions and comments."""
    from rdflib.namespace import OWL
    graph = ontology_graph(kg)
    ns = str(HRKG)

    def text(subject, *props):
        for prop in props:
            values = {(o.language or ""): str(o) for o in graph.objects(subject, prop)}
            if values:
                return values.get("en") or values.get("") or next(iter(values.values()))
        return None

    def terms(*types):
        found = sorted({s for t in types for s in graph.subjects(RDF.type, t)
                        if isinstance(s, URIRef) and str(s).startswith(ns)})
        return [{"iri": str(s), "name": str(s)[len(ns):],
                 "label": text(s, RDFS.label, SKOS.prefLabel),
                 "label_vi": {(o.language or ""): str(o) for o in graph.objects(s, RDFS.label)}.get("vi"),
                 "definition": text(s, SKOS.definition),
                 "comment": text(s, RDFS.comment),
                 "parents": sorted(str(o) for o in graph.objects(s, RDFS.subClassOf) if isinstance(o, URIRef))
                 + sorted(str(o) for o in graph.objects(s, RDFS.subPropertyOf) if isinstance(o, URIRef)),
                 "domain": sorted(str(o) for o in graph.objects(s, RDFS.domain) if isinstance(o, URIRef)),
                 "range": sorted(str(o) for o in graph.objects(s, RDFS.range) if isinstance(o, URIRef)),
                 "kind": "object" if (s, RDF.type, OWL.ObjectProperty) in graph else
                         "datatype" if (s, RDF.type, OWL.DatatypeProperty) in graph else None}
                for s in found]

    onto = URIRef(BASE + "ontology")
    return {"title": text(onto, DCTERMS.title), "description": text(onto, DCTERMS.description),
            "version": str(graph.value(onto, URIRef("http://www.w3.org/2002/07/owl#versionInfo")) or ""),
            "license": graph.value(onto, DCTERMS.license),
            "classes": terms(OWL.Class), "properties": terms(OWL.ObjectProperty, OWL.DatatypeProperty),
            "triples": len(graph)}
