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
from hrkg.importers.run import import_files
from hrkg.importers import untc_page
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
    eu = URIRef("https://w3id.org/hrkg/id/group/EU")
    consent = act("EU-CRPD-formal-confirmation")
    assert g.value(consent, RDF.type) == HRKG.ConsentToBeBound
    assert g.value(consent, HRKG.consentingState) == eu
    assert date(g, consent) == "2010-12-23" and g.value(consent, HRKG.depositaryMarker) == Literal("c")
    assert date(g, act("EU-CRPD-signature")) == "2007-03-30"
    assert (None, HRKG.consentingState, URIRef(STATE + "COK")) in g
    assert [name for _, name, _ in report.files[0].non_states] == ["Cook Islands", "European Union"]
    assert "European Union <https://w3id.org/hrkg/id/group/EU>" in report.summary()
    # without the option they stay unresolved names, as before
    plain = import_files("untc", [PAGES / "crpd.html"], tmp_path / "plain.nt")
    assert sorted(name for _, _, column, name in plain.unresolved if column == "participant") == \
        ["Cook Islands", "European Union"]
    assert {name for *_, name in plain.unresolved} == {"Cook Islands", "European Union"}   # also in the statements
    # the summary names the option that writes them, and offers no state codes for them as if misspelt
    summary = plain.summary()
    assert "  Cook Islands and European Union: parties the reference data keeps apart from states " \
        "(participants.ttl, bodies.ttl); --non-states writes their actions too\n" in summary
    assert "did you mean" not in summary
    assert plain.files[0].parties_stated == len(plain.files[0].consents) == 193   # counted all the same


def test_non_state_table_knows_three_names_only():
    assert untc_page.non_state("Niue 4") == ("state", "NIU", "Niue")
    assert untc_page.non_state("European Union") == ("group", "EU", "European Union")
    assert untc_page.non_state("Netherlands (Kingdom of the)") is None


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
        return untc_page.Statement(heading, "", list(paragraphs), 1)
    assert untc_page.classify(statement("Reservation:", "x")) == ("Reservation", "heading")
    assert untc_page.classify(statement("Interpretative declaration:", "x")) == ("InterpretiveDeclaration", "heading")
    assert untc_page.classify(statement("Reservations and declarations:", "x"))[0] == "ReservationOrDeclaration"
    assert untc_page.classify(statement("", "Denmark makes a reservation with respect to ..."))[0] == "Reservation"
    assert untc_page.classify(statement("", "On the understanding that ... a reservation"))[0] == "ReservationOrDeclaration"
    assert untc_page.classify(statement("", "The Government declares that ..."))[0] == "ReservationOrDeclaration"


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
    # Indonesia's declaration names article 20 without refusing the competence: no opt-out, and
    # read (the inquiry article alone, unrefused, is no opt-out), so not listed
    problems = report.files[0].problems
    assert not any("Indonesia" in why for line, why in problems)
    assert (act("IDN-CAT-20-opt-out"), None, None) not in g
    # Cuba 'declares, in accordance with article 28' (the opt-out article) that article 20 needs its
    # prior consent: neither an acceptance nor a refusal the rules can read, so kept as unclear
    assert [line for line, why in problems if "Cuba" in why] == [2062]
    cuba = act("CUB-CAT-20-unclear")
    assert g.value(cuba, RDF.type) == HRKG.UnclearProcedureStatement
    assert g.value(cuba, HRKG.procedure) == URIRef(PROC + "CAT-20")
    assert "prior consent of the States Parties" in str(g.value(cuba, HRKG.text))
    assert (act("CUB-CAT-20-opt-out"), None, None) not in g
    assert "cat.html:2062: Cuba" in report.summary()


def test_cat_competence_declarations_whose_articles_are_named_after_the_recognising_sentence(imported):
    """Chile and Cyprus recognise the competence of 'the Committee established under article 17',
    then list (a)/(b) or I./II. with articles 21 and 22; Ghana names both kinds in one sentence and
    the articles in the next; Uruguay writes 'the said articles [21 and 22]'."""
    report, g = imported["cat"]
    for state, when, basis in (("CHL", "2004-03-15", "page"), ("CYP", "1993-04-08", "page"),
                               ("GHA", "2000-09-07", "consent"), ("URY", "1988-07-27", "page")):
        for article in ("21", "22"):
            acceptance = act(f"{state}-CAT-{article}-acceptance")
            assert g.value(acceptance, RDF.type) == HRKG.ProcedureAcceptance, (state, article)
            assert (date(g, acceptance), str(g.value(acceptance, HRKG.dateBasis))) == (when, basis)
    assert [why for _, why in report.files[0].problems if "competence section" in why] == []


def test_procedure_rules_on_sentences():
    entry = untc_page.Entry("dgDecUnderArticle", 2, "Testland", 10, [], [
        untc_page.Block("date", "14 February 2006", 11),
        untc_page.Block("para", "The Government recognizes the competence of the Committee against Torture as provided "
                           "for under article 21 of the Convention.", 12),
        untc_page.Block("para", "It also recognizes the competence of the Committee to receive communications from or on "
                           "behalf of individuals subject to its jurisdiction.", 13)])
    findings, problems = untc_page.procedures("CAT", entry)
    assert sorted((f.code, f.status, f.date) for f in findings) == [("CAT-21", "accepted", "2006-02-14"),
                                                                   ("CAT-22", "accepted", "2006-02-14")]
    assert problems == []
    refusal = untc_page.Entry("dgDec", 3, "Testland", 20, [], [
        untc_page.Block("para", "Testland does not recognize the competence of the Committee provided for in article 20.", 21)])
    assert [(f.code, f.status) for f in untc_page.procedures("CAT", refusal)[0]] == [("CAT-20", "opted-out")]
    unclear = untc_page.Entry("dgDecUnderArticle", 4, "Testland", 30, [], [
        untc_page.Block("para", "Testland takes note of the Committee.", 31)])
    findings, problems = untc_page.procedures("CAT", unclear)
    assert findings == [] and problems[0].line == 31


def _entry(section, *texts, participant="Testland"):
    return untc_page.Entry(section, 5, participant, 40, [], [untc_page.Block("para", t, 41 + i) for i, t in enumerate(texts)])


def test_procedure_rule_articles_named_after_the_recognising_sentence():
    listed = _entry("dgDecUnderArticle",
                    "Testland recognizes the competence of the Committee established under article 17 of the Convention:",
                    "(a) to receive communications that a State Party claims ..., in accordance with article 21 thereof;",
                    "(b) to receive communications from individuals ..., in accordance with article 22 thereof.")
    assert sorted(f.code for f in untc_page.procedures("CAT", listed)[0]) == ["CAT-21", "CAT-22"]
    # must not: a statement that also refuses (here article 21) gives nothing by the statement rule
    refusing = _entry("dgDecUnderArticle",
                      "Testland recognizes the competence of the Committee established under article 17 of the Convention.",
                      "Testland does not recognize the competence of the Committee under article 21.",
                      "This declaration concerns article 22.")
    assert [f.code for f in untc_page.procedures("CAT", refusing)[0]] == []


def test_procedure_rule_bracketed_articles():
    uruguay = _entry("dgDecUnderArticle", "Testland recognizes the competence of the Committee Against Torture to "
                                          "receive and consider communications referring to the said articles [21 and 22].")
    assert sorted(f.code for f in untc_page.procedures("CAT", uruguay)[0]) == ["CAT-21", "CAT-22"]
    assert untc_page.articles_in("the said articles [21 and 22]") == {21, 22}
    assert untc_page.articles_in("the said provisions [21 and 22]") == set()       # must not: no 'article'


def test_procedure_rule_refusals_without_recognizing_and_later_recognition():
    tajik = _entry("dgDec", "Testland ratified the Optional Protocol without recognizing the competence of the "
                            "Committee provided in Articles 8 and 9 of the Protocol.")
    assert [(f.code, f.status) for f in untc_page.procedures("OP-CEDAW", tajik)[0]] == [("OP-CEDAW-8", "opted-out")]
    later = untc_page.Entry("dgDec", 5, "Testland", 40, [], [      # Türkiye's wording, cmw.html
        untc_page.Block("heading", "E) The declaration regarding Articles 76 and 77:", 41),
        untc_page.Block("para", "Testland will recognize the competence of the Committee on the Protection of the Rights "
                           "of All Migrant Workers and Members of Their Families at a later time.", 42)])
    findings, problems = untc_page.procedures("ICMW", later)
    assert findings == [] and problems == []          # read: nothing accepted yet, nothing unclear
    now = _entry("dgDec", "Testland recognizes the competence of the Committee under articles 76 and 77.")
    assert sorted(f.code for f in untc_page.procedures("ICMW", now)[0]) == ["ICMW-76", "ICMW-77"]   # must match


def test_procedure_rule_inquiry_article_alone_is_no_opt_out_but_the_opt_out_article_is_unclear():
    interprets = _entry("dgDec", "Testland declares that the provisions of article 20 of the Convention will have to "
                                 "be implemented in strict compliance with the principles of sovereignty.")
    assert untc_page.procedures("CAT", interprets) == ([], [])
    conditions = _entry("dgDec", "Testland declares, in accordance with article 28 of the Convention, that article 20 "
                                 "will be implemented with the prior consent of the States Parties.")
    findings, problems = untc_page.procedures("CAT", conditions)
    assert findings == [] and [p.codes for p in problems] == [("CAT-20",)]


def test_procedure_rule_national_body_designation_is_not_a_recognition():
    designation = ("Pursuant to article 14, paragraphs 2 and 3, of the Convention, Testland designates the National "
                   "Institute as competent to receive and consider petitions from individuals.")
    findings, problems = untc_page.procedures("ICERD", _entry("dgDecUnderArticle", designation))
    assert findings == [] and [p.codes for p in problems] == [("ICERD-14",)]
    # with a recognition in the same entry (Republic of Moldova, 2013 then 2014): accepted, nothing unclear
    moldova = untc_page.Entry("dgDecUnderArticle", 6, "Testland", 50, [], [
        untc_page.Block("date", "8 May 2013", 51),
        untc_page.Block("para", "According to article 14, paragraph 1, Testland recognizes the competence of the Committee "
                           "to receive and consider communications from individuals.", 52),
        untc_page.Block("date", "6 March 2014", 53),
        untc_page.Block("para", "To designate the Bureau as the body responsible under article 14, paragraph 2.", 54)])
    findings, problems = untc_page.procedures("ICERD", moldova)
    assert [(f.code, f.date) for f in findings] == [("ICERD-14", "2013-05-08")] and problems == []


def test_a_paragraph_opened_inside_an_unclosed_italic_heading_is_text_not_heading():
    """cedaw_op.html, Cuba: '<p align=left><i>Upon signature:<br><p align=left><i>Declaration:<br></i></p>
    text': a browser closes the first <p> (and its <i>) at the second; the text is a paragraph."""
    parser = untc_page.PageParser()
    parser.feed('<div id="x_dgDec_ctl07_divText"><p align=left><i>Upon signature:<br></n><p align=left><i>'
                'Declaration:<br></n></i></p>&nbsp;The Government declares that it does not recognize the competence '
                'of the committee established by virtue of articles 8 and 9.<br></div>')
    (key, capture), = parser.fields
    assert [(b.kind, b.text[:20]) for b in capture.blocks] == [("heading", "Upon signature:"),
                                                               ("heading", "Declaration:"),
                                                               ("para", "The Government decla")]


def test_denunciation_rules_read_only_the_participants_own_sentences():
    note = untc_page.Footnote("1", "On 26 May 1998 the Government of Trinidad and Tobago informed the Secretary-General "
                              "of its decision to denounce the Optional Protocol with effect from 26 August 1998.\n"
                              "\"The Government of Italy finds that the reservation made by the Government of Trinidad "
                              "and Tobago at the time of its re-accession ... denunciation ...\"", 7)
    events = untc_page.denunciations([note], "Trinidad and Tobago")
    assert [(e.kind, e.notified, e.effective) for e in events] == [("denunciation", "1998-05-26", "1998-08-26")]
    assert untc_page.denunciations([note], "Italy") == []
    withdrawal = untc_page.Footnote("2", "On 5 March 2001, the Government of Testland notified the Secretary-General of "
                                    "its decision to withdraw its objection to the reservation made by X.", 9)
    assert untc_page.statement_withdrawals(withdrawal, "Testland") == []
