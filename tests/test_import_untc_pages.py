"""`hrkg import untc` on the real UN Treaty Collection status pages (2026-02-03): the participant
grid, bracketed (denounced) participations and their footnotes, participants that are not states,
declarations / reservations / objections, withdrawals in footnotes, and the declarations that open
or close a committee's complaint and inquiry procedures. Every fact asserted here is on the page.

The pages are the repository's source of record, sources/untc/2026-02-03/ (the bytes as saved).
"""
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from hrkg.errors import ImportRowError
from hrkg.importer import import_files
from hrkg.importers import untc
from hrkg.load import parse_file
from hrkg.namespaces import HRKG

PAGES = Path(__file__).resolve().parent.parent / "sources" / "untc" / "2026-02-03"
ALL_PAGES = ("cerd icescr icescr_op iccpr iccpr_op1 iccpr_op2 cedaw cedaw_op cat cat_op crc crc_op_ac crc_op_sc "
             "crc_op_ic cmw crpd crpd_op ced").split()
ACT = "https://w3id.org/hrkg/id/action/"
STATE = "https://w3id.org/hrkg/id/state/"
PROC = "https://w3id.org/hrkg/id/procedure/"


def act(name):
    return URIRef(ACT + name)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """{page: (report, graph)} for the three fixture pages, imported with the non-state participants."""
    out = tmp_path_factory.mktemp("untc")
    done = {}
    for name in ("cat", "crpd", "iccpr_op1"):
        target = out / f"{name}.ttl"
        report = import_files("untc", [PAGES / f"{name}.html"], target, non_states=True)
        done[name] = (report, parse_file(target))
    return done


def date(graph, subject):
    value = graph.value(subject, HRKG.date)
    return value and str(value)


# ---- the grid ---------------------------------------------------------------------------

def test_every_page_has_as_many_consents_as_its_parties_line(tmp_path):
    """'Parties: N' on each of the 18 pages equals the participants with a consent not in brackets,
    and no row is rejected."""
    counts = {}
    for name in ALL_PAGES:
        report = import_files("untc", [PAGES / f"{name}.html"], tmp_path / f"{name}.nt", non_states=True)
        f = report.files[0]
        assert f.rejected == [], (name, f.rejected)
        counts[name] = (f.parties_stated, len(f.consents))
    assert all(stated == parsed for stated, parsed in counts.values()), counts
    assert counts["cat"] == (175, 175) and counts["iccpr_op1"] == (116, 116) and counts["crpd"] == (193, 193)


def test_france_ratified_cat_on_18_february_1986(imported):
    report, g = imported["cat"]
    assert date(g, act("FRA-CAT-ratification")) == "1986-02-18"
    assert g.value(act("FRA-CAT-ratification"), RDF.type) == HRKG.Ratification
    assert date(g, act("FRA-CAT-signature")) == "1985-02-04"
    assert (act("FRA-CAT-accession"), None, None) not in g        # France ratified; it did not accede
    assert "175 participants with a consent not in brackets, as the status line's 'Parties: 175'" in report.summary()


# ---- bracketed participations: denunciations from the footnotes -------------------------

def test_belarus_denounced_iccpr_op1_with_the_dates_of_its_footnote(imported):
    report, g = imported["iccpr_op1"]
    assert report.files[0].rejected == []
    assert date(g, act("BLR-ICCPR-OP1-accession")) == "1992-09-30"                 # '[30 Sep 1992 a]'
    withdrawal = act("BLR-ICCPR-OP1-withdrawal")
    assert g.value(withdrawal, RDF.type) == HRKG.Withdrawal
    assert g.value(withdrawal, HRKG.state) == URIRef(STATE + "BLR")
    assert date(g, withdrawal) == "2023-02-08"                                      # 'with effect from 8 February 2023'
    assert str(g.value(withdrawal, HRKG.dateBasis)) == "effective"
    assert "notified on 2022-11-08" in str(g.value(withdrawal, RDFS.comment))        # 'On 8 November 2022, ...'
    assert "footnote 6" in str(g.value(withdrawal, RDFS.comment))


def test_jamaica_footnote_gives_only_the_notification_and_trinidad_denounced_twice(imported):
    _, g = imported["iccpr_op1"]
    jamaica = act("JAM-ICCPR-OP1-withdrawal")
    assert date(g, jamaica) == "1997-10-23" and str(g.value(jamaica, HRKG.dateBasis)) == "notification"
    assert date(g, act("JAM-ICCPR-OP1-ratification")) == "1975-10-03"              # '[ 3 Oct 1975 ]'
    assert date(g, act("JAM-ICCPR-OP1-signature")) == "1966-12-19"
    # Trinidad and Tobago: acceded 1980, denounced with effect from 26 Aug 1998, re-acceded that day,
    # denounced again with effect from 27 June 2000
    assert date(g, act("TTO-ICCPR-OP1-accession")) == "1980-11-14"
    assert date(g, act("TTO-ICCPR-OP1-withdrawal")) == "1998-08-26"
    assert date(g, act("TTO-ICCPR-OP1-accession-2")) == "1998-08-26"
    assert date(g, act("TTO-ICCPR-OP1-withdrawal-2")) == "2000-06-27"
    # Guyana's footnote speaks of a denunciation too, but its row is not in brackets: nothing read
    assert (act("GUY-ICCPR-OP1-withdrawal"), None, None) not in g
    assert len(list(g.subjects(RDF.type, HRKG.Withdrawal))) == 4


def test_a_bracketed_row_whose_footnote_has_no_readable_date_is_rejected_with_its_line(tmp_path):
    page = tmp_path / "iccpr_op1.html"
    raw = (PAGES / "iccpr_op1.html").read_bytes()
    broken = raw.replace(b"On 23 October 1997, the Government of Jamaica notified",
                         b"On a day in October 1997, the Government of Jamaica notified")
    assert broken != raw
    page.write_bytes(broken)
    with pytest.raises(ImportRowError) as err:
        import_files("untc", [page], tmp_path / "out.nt")
    assert [(line, "Jamaica" in reason) for _, line, reason in err.value.report.rejected] == [(1300, True)]
    assert "states no dated denunciation by Jamaica" in err.value.report.rejected[0][2]
    assert not (tmp_path / "out.nt").exists()


def test_a_bracketed_row_in_a_csv_file_is_rejected_naming_the_line(tmp_path):
    path = tmp_path / "op1.csv"
    path.write_text("Participant,Signature,\"Ratification, Accession(a), Succession(d)\"\n"
                    "Belarus,,[30 Sep 1992 a]\nAlbania,,4 Oct 2007 a\n", encoding="utf-8")
    with pytest.raises(ImportRowError) as err:
        import_files("untc", [path], tmp_path / "out.nt", instrument="ICCPR-OP1")
    (name, line, reason), = err.value.report.rejected
    assert (name, line) == ("op1.csv", 2) and "footnotes, which a CSV table does not have" in reason


# ---- participants that are not states -------------------------------------------------

def test_the_european_union_formal_confirmation_of_crpd(imported, tmp_path):
    report, g = imported["crpd"]
    eu = URIRef("https://w3id.org/hrkg/id/organization/EU")
    consent = act("EU-CRPD-formal-confirmation")
    assert g.value(consent, RDF.type) == HRKG.ConsentToBeBound
    assert g.value(consent, HRKG.consentingState) == eu
    assert date(g, consent) == "2010-12-23" and g.value(consent, HRKG.depositaryMarker) == Literal("c")
    assert date(g, act("EU-CRPD-signature")) == "2007-03-30"
    assert (None, HRKG.consentingState, URIRef(STATE + "COK")) in g
    assert [name for _, name, _ in report.files[0].non_states] == ["Cook Islands", "European Union"]
    assert "European Union <https://w3id.org/hrkg/id/organization/EU>" in report.summary()
    # without the option they stay unresolved names, as before
    plain = import_files("untc", [PAGES / "crpd.html"], tmp_path / "plain.nt")
    assert sorted(name for _, _, column, name in plain.unresolved if column == "participant") == \
        ["Cook Islands", "European Union"]
    assert {name for *_, name in plain.unresolved} == {"Cook Islands", "European Union"}   # also in the statements
    assert plain.files[0].parties_stated == len(plain.files[0].consents) == 193   # counted all the same


def test_non_state_table_knows_three_names_only():
    assert untc.non_state("Niue 4") == ("state", "NIU", "Niue")
    assert untc.non_state("European Union") == ("organization", "EU", "European Union")
    assert untc.non_state("Netherlands (Kingdom of the)") is None


# ---- reservations, declarations, objections, withdrawals --------------------------------

def test_viet_nam_statements_on_cat_as_published(imported):
    _, g = imported["cat"]
    declaration = act("VNM-CAT-declaration")
    text = str(g.value(declaration, HRKG.text))
    assert g.value(declaration, RDF.type) == HRKG.InterpretiveDeclaration      # the page heads it 'Declarations:'
    assert text.startswith("Declarations:\n")
    assert "does not recognize the competence of the Committee provided for in article 20" in text
    assert "does not consider itself bound by the provisions of article 30 (1)" in text or "article 30" in text
    assert date(g, declaration) == "2015-02-05" and str(g.value(declaration, HRKG.dateBasis)) == "consent"
    assert (act("VNM-CAT-reservation"), None, None) not in g     # no statement of Viet Nam is headed 'Reservation'


def test_objections_and_withdrawals_of_reservations(imported):
    report, g = imported["cat"]
    objections = {str(s) for s in g.subjects(RDF.type, HRKG.Objection)}
    assert report.files[0].statements["Objection"] == len(objections) > 0
    # 'On 28 January 2020, the Government of Fiji notified the Secretary-General of its decision to withdraw
    # the following reservation made upon ratification in respect of article 1 of the Convention'
    fiji = act("FJI-CAT-reservation-withdrawal")
    assert g.value(fiji, RDF.type) == HRKG.ReservationWithdrawal and date(g, fiji) == "2020-01-28"
    # 'On 26 November 2018, the Government of Austria ... withdraw the following declaration'
    assert date(g, act("AUT-CAT-declaration-withdrawal")) == "2018-11-26"
    assert (act("AUT-CAT-reservation-withdrawal"), None, None) not in g


def test_classification_by_heading_then_wording():
    def statement(heading, *paragraphs):
        return untc.Statement(heading, "", list(paragraphs), 1)
    assert untc.classify(statement("Reservation:", "x")) == ("Reservation", "heading")
    assert untc.classify(statement("Interpretative declaration:", "x")) == ("InterpretiveDeclaration", "heading")
    assert untc.classify(statement("Reservations and declarations:", "x"))[0] == "ReservationOrDeclaration"
    assert untc.classify(statement("", "Denmark makes a reservation with respect to ..."))[0] == "Reservation"
    assert untc.classify(statement("", "On the understanding that ... a reservation"))[0] == "ReservationOrDeclaration"
    assert untc.classify(statement("", "The Government declares that ..."))[0] == "ReservationOrDeclaration"


# ---- complaint and inquiry procedures --------------------------------------------------

def test_cat_article_22_acceptances_dated_by_the_page_or_by_the_consent(imported):
    _, g = imported["cat"]
    andorra = act("AND-CAT-22-acceptance")
    assert g.value(andorra, RDF.type) == HRKG.ProcedureAcceptance
    assert g.value(andorra, HRKG.procedure) == URIRef(PROC + "CAT-22")
    assert date(g, andorra) == "2006-11-22" and str(g.value(andorra, HRKG.dateBasis)) == "page"   # printed above it
    algeria = act("DZA-CAT-22-acceptance")                       # made upon ratification: the consent's date
    assert date(g, algeria) == date(g, act("DZA-CAT-ratification")) == "1989-09-12"
    assert str(g.value(algeria, HRKG.dateBasis)) == "consent"
    assert "made upon ratification" in str(g.value(algeria, RDFS.comment))
    # Argentina's single paragraph accepts both, told apart by their wording
    assert (act("ARG-CAT-21-acceptance"), None, None) in g and (act("ARG-CAT-22-acceptance"), None, None) in g
    # Azerbaijan accepted article 22 only
    assert (act("AZE-CAT-22-acceptance"), None, None) in g and (act("AZE-CAT-21-acceptance"), None, None) not in g
    assert (act("VNM-CAT-22-acceptance"), None, None) not in g


def test_cat_article_20_opt_outs_and_their_withdrawal(imported):
    report, g = imported["cat"]
    israel = act("ISR-CAT-20-opt-out")
    assert g.value(israel, RDF.type) == HRKG.ProcedureOptOut
    assert g.value(israel, HRKG.procedure) == URIRef(PROC + "CAT-20")
    assert date(g, israel) == date(g, act("ISR-CAT-ratification")) == "1991-10-03"
    assert date(g, act("VNM-CAT-20-opt-out")) == "2015-02-05"
    # China's reservation was 'made upon signature and confirmed upon ratification': the signature's date
    assert date(g, act("CHN-CAT-20-opt-out")) == date(g, act("CHN-CAT-signature")) == "1986-12-12"
    # Morocco withdrew its article 20 reservation on 19 October 2006 (a footnote)
    assert date(g, act("MAR-CAT-20-opt-out-withdrawal")) == "2006-10-19"
    assert (act("FRA-CAT-20-opt-out"), None, None) not in g
    # Indonesia's declaration names article 20 without refusing the competence: listed, not guessed
    problems = report.files[0].problems
    assert any("Indonesia" in why and line == 2146 for line, why in problems)
    assert (act("IDN-CAT-20-opt-out"), None, None) not in g
    assert "cat.html:2146: Indonesia" in report.summary()


def test_procedure_rules_on_sentences():
    entry = untc.Entry("dgDecUnderArticle", 2, "Testland", 10, [], [
        untc.Block("date", "14 February 2006", 11),
        untc.Block("para", "The Government recognizes the competence of the Committee against Torture as provided "
                           "for under article 21 of the Convention.", 12),
        untc.Block("para", "It also recognizes the competence of the Committee to receive communications from or on "
                           "behalf of individuals subject to its jurisdiction.", 13)])
    findings, problems = untc.procedures("CAT", entry)
    assert sorted((f.code, f.status, f.date) for f in findings) == [("CAT-21", "accepted", "2006-02-14"),
                                                                   ("CAT-22", "accepted", "2006-02-14")]
    assert problems == []
    refusal = untc.Entry("dgDec", 3, "Testland", 20, [], [
        untc.Block("para", "Testland does not recognize the competence of the Committee provided for in article 20.", 21)])
    assert [(f.code, f.status) for f in untc.procedures("CAT", refusal)[0]] == [("CAT-20", "opted-out")]
    unclear = untc.Entry("dgDecUnderArticle", 4, "Testland", 30, [], [
        untc.Block("para", "Testland takes note of the Committee.", 31)])
    findings, problems = untc.procedures("CAT", unclear)
    assert findings == [] and problems[0].line == 31


def test_denunciation_rules_read_only_the_participants_own_sentences():
    note = untc.Footnote("1", "On 26 May 1998 the Government of Trinidad and Tobago informed the Secretary-General "
                              "of its decision to denounce the Optional Protocol with effect from 26 August 1998.\n"
                              "\"The Government of Italy finds that the reservation made by the Government of Trinidad "
                              "and Tobago at the time of its re-accession ... denunciation ...\"", 7)
    events = untc.denunciations([note], "Trinidad and Tobago")
    assert [(e.kind, e.notified, e.effective) for e in events] == [("denunciation", "1998-05-26", "1998-08-26")]
    assert untc.denunciations([note], "Italy") == []
    withdrawal = untc.Footnote("2", "On 5 March 2001, the Government of Testland notified the Secretary-General of "
                                    "its decision to withdraw its objection to the reservation made by X.", 9)
    assert untc.statement_withdrawals(withdrawal, "Testland") == []
