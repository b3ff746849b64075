"""The bundled UN Treaty Collection ledger (data/treaties/untc-2026-02-03.ttl, generated from the
pages in sources/untc/2026-02-03/) and the stored queries that read it. Every value asserted here
was checked against the page text."""
import re

import pytest

from hrkg import ledger
from hrkg.importers.untc_page import PageParser

from conftest import by, rows

PAGES = ledger.PAGES
AS_OF = "2026-02-03"
CODES = {"cerd": "ICERD", "icescr": "ICESCR", "icescr_op": "OP-ICESCR", "iccpr": "ICCPR", "iccpr_op1": "ICCPR-OP1",
         "iccpr_op2": "ICCPR-OP2", "cedaw": "CEDAW", "cedaw_op": "OP-CEDAW", "cat": "CAT", "cat_op": "OPCAT",
         "crc": "CRC", "crc_op_ac": "OP-CRC-AC", "crc_op_sc": "OP-CRC-SC", "crc_op_ic": "OP-CRC-IC", "cmw": "ICMW",
         "crpd": "CRPD", "crpd_op": "OP-CRPD", "ced": "CPED"}


def test_the_bundled_ledger_is_what_the_pages_give():
    assert ledger.OUTPUT.read_text(encoding="utf-8") == ledger.generate(), \
        "data/treaties/untc-2026-02-03.ttl is stale: run python -m hrkg.ledger"


def test_the_pages_are_the_ones_listed_in_sha256sums():
    import hashlib
    listed = dict(reversed(line.split()) for line in (PAGES / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert sorted(listed) == sorted(f"{name}.html" for name in CODES)
    for name, digest in listed.items():
        assert hashlib.sha256((PAGES / name).read_bytes()).hexdigest() == digest, name


def parties_line(page):
    parser = PageParser()
    parser.feed((PAGES / f"{page}.html").read_text(encoding="utf-8"))
    return int(re.search(r"Parties\s*:\s*(\d+)", parser.page().status).group(1))


@pytest.mark.parametrize("page", sorted(CODES))
def test_parties_as_at_the_status_date_are_the_pages_parties_line(kg, page):
    found = rows(kg, "parties", instrument=CODES[page], as_of=AS_OF)
    states = [r["state"] for r in found]
    assert len(states) == len(set(states)) == parties_line(page)


def test_crpd_parties_include_the_european_union_and_cook_islands_once(kg):
    found = by(rows(kg, "parties", instrument="CRPD", as_of=AS_OF), "state")
    assert found["EU"]["consent_type"] == "formal confirmation" and str(found["EU"]["consented"]) == "2010-12-23"
    assert found["COK"]["consent_type"] == "accession" and str(found["COK"]["consented"]) == "2009-05-08"


def test_france_party_to_cat_since_18_february_1986_and_to_8_core_treaties(kg):
    status = by(rows(kg, "treaty-status", state="FRA", as_of=AS_OF), "instrument")
    assert status["CAT"]["status"] == "party" and str(status["CAT"]["consented"]) == "1986-02-18"
    assert status["CAT"]["consent_type"] == "ratification" and str(status["CAT"]["known_as_of"]) == AS_OF
    assert status["ICMW"]["status"] == "none"          # the page lists no action by France
    assert rows(kg, "core-treaty-count", state="FRA", as_of=AS_OF)[0]["core"] == 8


def test_belarus_iccpr_op1_party_until_its_denunciation_took_effect(kg):
    before = by(rows(kg, "treaty-status", state="BLR", as_of="2023-02-07"), "instrument")["ICCPR-OP1"]
    after = by(rows(kg, "treaty-status", state="BLR", as_of="2023-02-08"), "instrument")["ICCPR-OP1"]
    assert before["status"] == "party" and after["status"] == "none"
    assert "BLR" in {r["state"] for r in rows(kg, "parties", instrument="ICCPR-OP1", as_of="2023-02-07")}
    assert "BLR" not in {r["state"] for r in rows(kg, "parties", instrument="ICCPR-OP1", as_of="2023-02-08")}


def test_france_ilo_c087_is_unknown_not_unratified(kg):
    assert by(rows(kg, "ilo-ratifications", state="FRA"), "convention")["C087"]["status"] == "unknown"
    assert by(rows(kg, "ilo-ratifications", state="VNM"), "convention")["C087"]["status"] == "not-ratified"
    assert by(rows(kg, "ilo-ratifications", state="VNM"), "convention")["C029"]["status"] == "ratified"


def test_viet_nam_reservations_readable_and_the_withdrawn_one_says_so(kg):
    found = rows(kg, "reservations", state="VNM")
    op_sc = [r for r in found if r["instrument"] == "OP-CRC-SC"]
    assert len(op_sc) == 1 and str(op_sc[0]["withdrawn"]) == "2009-03-26"     # crc_op_sc.html, footnote 12
    cedaw = [r for r in found if r["instrument"] == "CEDAW"][0]
    assert "will not be bound by the provisions of paragraph 1 article 29" in cedaw["text"]
    ac = [r for r in found if r["instrument"] == "OP-CRC-AC"]
    assert [r["type"] for r in ac] == ["binding declaration"]
    assert "only male citizens at the age of 18 and over" in ac[0]["text"]


def procedures(kg, state, as_of=AS_OF):
    return {p: (r["status"], str(r.get("accepted", ""))) for p, r in
            by(rows(kg, "complaint-procedures", state=state, as_of=as_of), "procedure").items()}


def test_complaint_procedures_viet_nam_opted_out_of_cat_article_20(kg):
    vnm = procedures(kg, "VNM")
    assert vnm["CAT-20"] == ("opted-out", "")      # cat.html: 'does not recognize the competence ... article 20'
    assert all(status == "not-accepted" for p, (status, _) in vnm.items()
               if p not in ("CAT-20", "ICERD-11"))
    assert vnm["ICERD-11"] == ("accepted", "1982-06-09")   # binding on every ICERD party (acceded 9 Jun 1982)


def test_complaint_procedures_france_accepts_most(kg):
    fra = procedures(kg, "FRA")
    assert fra["ICERD-14"] == ("accepted", "1982-08-16")
    assert fra["CAT-22"] == ("accepted", "1988-06-23") and fra["CAT-21"] == ("accepted", "1988-06-23")
    assert fra["CAT-20"] == ("accepted", "1986-02-18")      # no opt-out: open from ratification
    assert fra["ICCPR-OP1"] == ("accepted", "1984-02-17")
    assert fra["OP-ICESCR-11"][0] == fra["ICCPR-41"][0] == fra["ICMW-77"][0] == "not-accepted"


def test_complaint_procedures_finland_accepts_all_but_the_migrant_workers_convention(kg):
    fin = procedures(kg, "FIN")
    assert {p for p, (s, _) in fin.items() if s != "accepted"} == {"ICMW-76", "ICMW-77"}   # not party to ICMW


def test_complaint_procedures_myanmar_accepts_none(kg):
    assert {s for s, _ in procedures(kg, "MMR").values()} == {"not-accepted"}


def test_complaint_procedures_afghanistan_withdrew_its_cat_article_20_opt_out(kg):
    # cat.html footnote 14: 'On 17 April 2018, the Government of Afghanistan notified ... withdraw ... article 20'
    assert procedures(kg, "AFG")["CAT-20"] == ("accepted", "2018-04-17")
    assert procedures(kg, "AFG", "2018-04-16")["CAT-20"] == ("opted-out", "")


def test_complaint_procedures_italy_had_accepted_icerd_article_14_only_in_mid_1978(kg):
    # cerd.html: Italy's article 14 declaration is dated 5 May 1978; iccpr_op1.html: ratified 15 Sep 1978
    ita = procedures(kg, "ITA", "1978-06-30")
    assert {p for p, (s, _) in ita.items() if s == "accepted"} == {"ICERD-14", "ICERD-11"}
    assert ita["ICERD-14"] == ("accepted", "1978-05-05")
    assert procedures(kg, "ITA", "1978-09-15")["ICCPR-OP1"] == ("accepted", "1978-09-15")


def test_complaint_procedures_read_the_declarations_the_rules_once_missed(kg):
    assert procedures(kg, "CHL")["CAT-22"] == ("accepted", "2004-03-15")       # (a)/(b) items name 21 and 22
    assert procedures(kg, "URY")["CAT-21"] == ("accepted", "1988-07-27")       # 'the said articles [21 and 22]'
    bel = procedures(kg, "BEL")                                                 # '- to receive ... article 10'
    assert bel["OP-ICESCR-10"] == bel["OP-ICESCR-11"] == ("accepted", "2014-05-20")
    assert procedures(kg, "TJK")["OP-CEDAW-8"] == ("opted-out", "")             # 'without recognizing'
    assert procedures(kg, "TUR")["ICMW-77"] == ("not-accepted", "")             # 'will recognize ... at a later time'
    assert procedures(kg, "IDN")["CAT-20"] == ("accepted", "1998-10-28")        # interprets art. 20, no opt-out
    assert procedures(kg, "MDA")["ICERD-14"] == ("accepted", "2013-05-08")      # the 2014 text names a body


def test_complaint_procedures_unknown_where_the_page_holds_a_statement_the_rules_cannot_read(kg):
    # Cuba declares 'in accordance with article 28' that article 20 needs prior consent; Argentina's
    # entry in the article 14 section only designates a national body (art. 14(2)): unknown, citing the page
    cub = rows(kg, "complaint-procedures", state="CUB", as_of=AS_OF)
    cat20 = by(cub, "procedure")["CAT-20"]
    assert (cat20["status"], cat20.get("accepted")) == ("unknown", None)
    assert str(cat20["source"]).endswith("/source/untc-cat-2026-02-03")
    assert procedures(kg, "ARG")["ICERD-14"] == ("unknown", "")
    assert procedures(kg, "ARG")["CAT-22"] == ("accepted", "1986-09-24")


def test_opt_out_withdrawals_notified_in_a_communication_received_on_a_date(kg):
    # cat.html footnote 20: 'In a communication received on 7 September 1990, the Government of Chile
    # notified ... withdraw the declaration made by virtue of article 28 (1)'; Hungary likewise (13 Sep 1989)
    assert procedures(kg, "CHL", "1990-01-01")["CAT-20"] == ("opted-out", "")
    assert procedures(kg, "CHL")["CAT-20"] == ("accepted", "1990-09-07")
    assert procedures(kg, "HUN", "1989-01-01")["CAT-20"] == ("opted-out", "")
    assert procedures(kg, "HUN")["CAT-20"] == ("accepted", "1989-09-13")
