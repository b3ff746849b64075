"""The facts the graph exists for, asserted through the public stored queries."""
import datetime as dt

from conftest import by, rows

D = dt.date.fromisoformat


def test_viet_nam_cat_signed_2013_11_07_and_ratified_2015_02_05(kg):
    cat = by(rows(kg, "treaty-status", state="VNM"), "instrument")["CAT"]
    assert cat["signed"] == D("2013-11-07")
    assert cat["consented"] == D("2015-02-05")
    assert cat["consent_type"] == "ratification"
    assert cat["status"] == "party"


def test_viet_nam_acceded_to_the_covenants_and_icerd_in_1982(kg):
    status = by(rows(kg, "treaty-status", state="VNM"), "instrument")
    assert (status["ICCPR"]["consented"], status["ICCPR"]["consent_type"]) == (D("1982-09-24"), "accession")
    assert (status["ICESCR"]["consented"], status["ICESCR"]["consent_type"]) == (D("1982-09-24"), "accession")
    assert (status["ICERD"]["consented"], status["ICERD"]["consent_type"]) == (D("1982-06-09"), "accession")
    assert "signed" not in status["ICCPR"]


def test_viet_nam_other_core_treaty_dates(kg):
    status = by(rows(kg, "treaty-status", state="VNM"), "instrument")
    assert (status["CEDAW"]["signed"], status["CEDAW"]["consented"]) == (D("1980-07-29"), D("1982-02-17"))
    assert (status["CRC"]["signed"], status["CRC"]["consented"]) == (D("1990-01-26"), D("1990-02-28"))
    assert (status["CRPD"]["signed"], status["CRPD"]["consented"]) == (D("2007-10-22"), D("2015-02-05"))
    assert status["OP-CRC-SC"]["consented"] == D("2001-12-20")
    assert status["OP-CRC-AC"]["consented"] == D("2001-12-20")


def test_viet_nam_has_not_joined_icmw_cped_or_the_other_protocols(kg):
    status = by(rows(kg, "treaty-status", state="VNM"), "instrument")
    none = {code for code, r in status.items() if r["status"] == "none"}
    assert none == {"ICMW", "CPED", "ICCPR-OP1", "ICCPR-OP2", "OP-CEDAW", "OPCAT", "OP-CRC-IC",
                    "OP-CRPD", "OP-ICESCR"}
    assert len(status) == 18


def test_seven_of_nine_core_treaties(kg):
    (vnm,) = rows(kg, "core-treaty-count", state="VNM")
    assert (vnm["core"], vnm["protocols"]) == (7, 2)


def test_status_as_of_a_date_before_cat_ratification(kg):
    status = by(rows(kg, "treaty-status", state="VNM", as_of="2014-12-31"), "instrument")
    assert status["CAT"]["status"] == "signatory"
    assert "consented" not in status["CAT"]
    assert status["CRPD"]["status"] == "signatory"
    (vnm,) = rows(kg, "core-treaty-count", state="VNM", as_of="2014-12-31")
    assert vnm["core"] == 5


def test_reported_seven_of_nine_matches_the_events(kg):
    figures = [f for f in rows(kg, "reported-figures", state="VNM")
               if f["measure"] == "core UN human-rights treaties joined"]
    assert figures and all((f["value"], f["out_of"]) == (7, 9) for f in figures)
    (vnm,) = rows(kg, "core-treaty-count", state="VNM", as_of=str(figures[0]["as_of_date"]))
    assert vnm["core"] == 7


def test_upr_cycle_three_241_of_291_supported(kg):
    reviews = by(rows(kg, "upr-reviews", state="VNM"), "cycle")
    iii = reviews["III"]
    assert (iii["recommendations"], iii["supported"], iii["noted"]) == (291, 241, 50)
    assert float(iii["support_rate"]) == 82.8
    assert iii["review_date"] == D("2019-01-22")
    assert iii["session"] == 32


def test_upr_cycle_three_implementation_as_reported_in_december_2021(kg):
    iii = by(rows(kg, "upr-reviews", state="VNM", as_of="2021-12-31"), "cycle")["III"]
    assert (iii["implemented"], iii["partially_implemented"], iii["under_consideration"]) == (199, 32, 10)
    latest = by(rows(kg, "upr-reviews", state="VNM"), "cycle")["III"]
    assert (latest["implemented"], latest["partially_implemented"], latest["under_consideration"]) == (209, 30, 2)


def test_upr_all_four_cycles(kg):
    reviews = by(rows(kg, "upr-reviews", state="VNM"), "cycle")
    assert reviews["I"]["review_date"] == D("2009-05-08")
    assert (reviews["II"]["recommendations"], reviews["II"]["supported"], reviews["II"]["noted"]) == (227, 182, 45)
    assert (reviews["IV"]["recommendations"], reviews["IV"]["supported"], reviews["IV"]["noted"]) == (320, 271, 49)
    assert float(reviews["IV"]["support_rate"]) == 84.7
    assert "noted" not in reviews["I"]  # sources disagree: left unknown


def test_upr_outcome_adopted_by_the_human_rights_council_not_the_security_council(kg):
    from rdflib import URIRef
    from hrkg.namespaces import HRKG
    review = URIRef("https://w3id.org/hrkg/id/upr-review/VNM-III")
    assert kg.graph.value(review, HRKG.adoptedBy) == URIRef("https://w3id.org/hrkg/id/body/HRC")
    assert str(kg.graph.value(review, HRKG.outcomeAdoptionDate)) == "2019-07-04"
    seed = URIRef("https://w3id.org/hrkg/id/source/seed-001")
    comment = " ".join(str(c) for c in kg.graph.objects(seed, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")))
    assert "Security Council" in comment and "Human Rights Council" in comment


def test_human_rights_council_terms(kg):
    terms = [(r["term_start"], r["term_end"]) for r in rows(kg, "memberships", state="VNM", body="HRC")]
    assert terms == [(D("2014-01-01"), D("2016-12-31")), (D("2023-01-01"), D("2025-12-31")),
                     (D("2026-01-01"), D("2028-12-31"))]


def test_asean_has_eleven_members_with_timor_leste_last(kg):
    members = rows(kg, "memberships", body="ASEAN")
    assert len(members) == 11
    assert by(members, "state")["TLS"]["term_start"] == D("2025-10-26")
    assert by(members, "state")["VNM"]["term_start"] == D("1995-07-28")


def test_ilo_nine_of_ten_fundamental_and_seven_of_eight_in_2021(kg):
    now = rows(kg, "ilo-ratifications", state="VNM")
    fundamental = [r for r in now if r["fundamental"]]
    assert len(fundamental) == 10
    assert sum(1 for r in fundamental if "ratified" in r) == 9
    assert "ratified" not in by(now, "convention")["C087"]
    assert by(now, "convention")["C098"]["ratified"] == D("2019-07-05")
    in_2021 = [r for r in rows(kg, "ilo-ratifications", state="VNM", as_of="2021-12-31") if r["fundamental"]]
    assert len(in_2021) == 8
    assert sum(1 for r in in_2021 if "ratified" in r) == 7


def test_asean_states_that_have_not_ratified_cat(kg):
    parties = {r["state"] for r in rows(kg, "parties", instrument="CAT", group="ASEAN")}
    assert parties == {"PHL", "KHM", "IDN", "TLS", "THA", "LAO", "VNM"}
    asean = {r["state"] for r in rows(kg, "memberships", body="ASEAN")}
    assert asean - parties == {"BRN", "MYS", "MMR", "SGP"}


def test_group_membership_is_dated(kg):
    # Timor-Leste joined ASEAN on 2025-10-26, so it is not among ASEAN parties to CAT in 2020
    parties_2020 = {r["state"] for r in rows(kg, "parties", instrument="CAT", group="ASEAN", as_of="2020-01-01")}
    assert "TLS" not in parties_2020 and "VNM" in parties_2020


def test_signed_not_ratified_in_asean(kg):
    pending = {(r["state"], r["instrument"]): r for r in rows(kg, "signed-not-ratified", group="ASEAN", as_of="2025-01-01")}
    assert pending[("BRN", "CAT")]["signed"] == D("2015-09-22")
    assert pending[("BRN", "CAT")]["years_pending"] == 9
    assert ("VNM", "CAT") not in pending


def test_special_procedure_visits(kg):
    visits = rows(kg, "country-visits", state="VNM")
    assert len(visits) == 10
    food = [v for v in visits if "food" in v["mandate"]]
    assert [(v["start"], v["end"]) for v in food] == [(D("2017-11-13"), D("2017-11-23"))]
    assert str(visits[0]["year"]) == "1994"


def test_dialogue_partners(kg):
    assert {r["partner"] for r in rows(kg, "dialogues", state="VNM")} == {"USA", "CHE", "NOR", "AUS", "EU"}


def test_obligations_2027_midterm_and_2029_review(kg):
    due = {r["obligation"]: str(r["due"]) for r in rows(kg, "obligations", state="VNM")}
    assert due == {"Voluntary mid-term report on UPR cycle IV recommendations": "2027",
                   "National report and review in UPR cycle V": "2029"}


def test_epidemic_preparedness_resolution(kg):
    res = kg.sparql("""SELECT ?symbol ?date ?n ?day WHERE { ?r a hrkg:Resolution ; hrkg:symbol ?symbol ;
        hrkg:adoptionDate ?date ; hrkg:coSponsorCount ?n ; hrkg:observedOn ?day ; hrkg:proposedBy state:VNM }""").as_dicts()
    assert len(res) == 1
    assert res[0]["symbol"] == "A/RES/75/27" and str(res[0]["date"]) == "2020-12-07" and res[0]["n"] == 112


def test_plans_decisions_and_six_priority_areas(kg):
    res = kg.sparql("""SELECT ?number ?date (COUNT(?area) AS ?areas) WHERE { ?p a hrkg:NationalPlan ;
        hrkg:decisionNumber ?number ; hrkg:adoptionDate ?date . OPTIONAL { ?p hrkg:priorityArea ?area } }
        GROUP BY ?number ?date ORDER BY ?date""").as_dicts()
    assert [(r["number"], str(r["date"]), r["areas"]) for r in res] == [
        ("1975/QD-TTg", "2019-12-31", 0), ("1172/QD-TTg", "2025-06-17", 6)]


def test_every_viet_nam_fact_names_a_source_with_title_and_publisher(kg):
    cited = rows(kg, "sources", state="VNM")
    subjects = {r["subject"] for r in cited}
    assert "https://w3id.org/hrkg/id/action/VNM-CAT-ratification" in subjects
    assert all(r["title"] and r["publisher"] for r in cited)
    events = kg.sparql("""SELECT ?e WHERE { { ?e hrkg:consentingState state:VNM } UNION { ?e hrkg:signingState state:VNM }
        UNION { ?e hrkg:state state:VNM } } """).as_dicts()
    assert {e["e"] for e in events} <= subjects
