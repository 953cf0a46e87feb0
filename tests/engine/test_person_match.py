"""How a value that identifies a person matches cells (``engine.data.person_match``): whole,
whatever its case or the spaces in it, never inside a longer name, address or number."""
from __future__ import annotations

import pyarrow as pa
import pytest

from engine.data.person_match import check_values, rows_matching
from engine.errors import InputError


@pytest.mark.parametrize(("value", "text", "found"), [
    ("Jane Doe", "Call from JANE  doe today", True),
    ("Jane Doe", "Call from Jane\u00a0Doe today", True),  # a no-break space, as Word writes
    ("Jane Doe", "Call from Jane Doerr today", False),
    ("Jane Doe", "Mary-Jane Doe called", False),
    ("Jane Doe", "Jane Doe-Smith called", False),
    ("Jane Doe", "Jane Doe's order", True),
    ("Ali", "Alison rang", False),
    ("José Núñez", "escribió josé núñez ayer", True),
    ("José", "Josépha", False),
    ("jane@example.com", "mail: Jane@Example.com.", True),  # the full stop ends the sentence
    ("jane@example.com", "mary.jane@example.com", False),
    ("jane@example.com", "jane@example.com.au", False),
    ("+49 30 1234567", "Tel. 49-30-123 4567", True),
    ("030 1234567", "Tel. 0301234567", True),
    ("030 1234567", "Tel. 030\u20131234567", True),  # an en dash
    ("030 1234567", "Tel. 90301234567", False),
    ("日本太郎", "日本太郎さんから電話", True),  # no spaces between words in Japanese
    # Other spellings of one name: accents, German transliterations, surname first.
    ("Amelie Dubois", "Amélie Dubois wrote", True),
    ("Klaus Müller", "Klaus Mueller rief an", True),
    ("Klaus Mueller", "Klaus Müller rief an", True),
    ("Strauss", "Johann Strauß", True),
    ("Søren Kierkegaard", "Soren Kierkegaard", True),
    ("Jane Doe", "Name: Doe, Jane", True),
    ("Klaus Müller", "Klaus Möller rief an", False),
    # A number with its country code is not its national form: "+33 6 12 34 56 78" would
    # take a Rome landline (06 1234 5678) and a Spanish mobile (612 345 678) with it.
    ("+33 6 12 34 56 78", "Giuseppe: 06 1234 5678", False),
    ("+33 6 12 34 56 78", "José: 612 345 678", False),
    ("+49 30 12345678", "Schadennummer 3012345678", False),
    ("+49 30 12345678", "Tel. +49 (30) 1234-5678", True),
    ("030 12345678", "Tel. 030/123 456 78", True),
    ("1234567 89", "Tel. +90 532 123 45 67 89", False),  # not groups of a longer number
    ("978 645 9740", "Call (978)645-9740 today", True),
    # Other spellings: plain letters for umlauts, codes in groups, leading zeros.
    ("Hans Müller", "Mr Hans Mueller wrote", True),
    ("Anna Baur", "Anna Bauer wrote", False),  # a plain letter is no umlaut: another surname
    ("Jan Kuhn", "Jan Kühn wrote", True),  # but it is the letter with its accents
    ("JG103795B", "NI JG 10 37 95 B", True),
    ("1234567L", "DNI 01234567 L", True),
    ("JG103795B", "JG103795BX", False),
    # Not part of a longer code.
    ("AB123456", "ref AB123456-7", False),
    ("AB123456", "ref XY-AB123456", False),
    ("POL123456", "policy POL123456/02", False),
    ("JG103795", "NI JG 10 37 95 B", False),
    ("AB123456", "policy AB123456 was renewed", True),
    # Full stops and quotes after a name end it; a letter after a dot continues an address.
    ("Jane Doe", '"I am Jane Doe."', True),
    ("Jane Doe", "Jane Doe... she said", True),
    ("jane@example.com", "(mail jane@example.com.)", True),
    ("İsmail", "İsmail aradı", True),  # "İ".lower() is two characters
    ("김민수", "김민수님이 전화했습니다", True),  # a Korean particle joins the name
    ("Lee Wong", "Wong Lee called", False),  # surname first only with its comma
    ("120356", "born 12/03/56", False),  # a bare id is no date
    ("120356", "customer 120 356", True),
])
def test_values_match_whole(value: str, text: str, found: bool) -> None:
    checked = check_values([value])
    mask, counts = rows_matching(pa.table({"text": [text, "nothing"]}), checked)
    assert list(mask) == [found, False] and counts[checked[0]] == int(found)


def test_short_or_empty_values_are_refused_unless_a_column_is_named() -> None:
    with pytest.raises(InputError, match="too short"):
        check_values(["Al"])
    with pytest.raises(InputError, match="identifies nobody"):
        check_values(["  "])
    assert check_values(["42"], whole_cells=True) == ("42",)
    assert check_values(["Jane  Doe", "jane doe"]) == ("Jane Doe",)
    with pytest.raises(InputError, match="short number"):  # "account 00042" is anyone's
        check_values(["00042"])
    # What a mail program writes is a name and an address: each is looked for.
    assert check_values(['"Jane Doe" <jane@example.com>']) == ("Jane Doe", "jane@example.com")


def test_a_column_matches_whole_cells_only() -> None:
    table = pa.table({"id": [42, 420, None], "name": ["Jane  Doe", "jane doe ", "Jane Doe Jr"]})
    mask, _ = rows_matching(table, ["42"], ["id"])
    assert list(mask) == [True, False, False]
    ids = pa.table({"id": ["0042", "00042", "420", "42a"]})
    assert list(rows_matching(ids, ["42"], ["id"])[0]) == [True, True, False, False]
    zeros = pa.table({"id": ["0", "", "00", "10"]})
    assert list(rows_matching(zeros, ["0"], ["id"])[0]) == [True, False, True, False]
    people = pa.table({"first": ["Jane", "John", "Jane"], "last": ["Doe", "Doe", "Smith"]})
    mask, counts = rows_matching(people, ["Jane", "Doe"], ["first", "last"], match_all=True)
    assert list(mask) == [True, False, False] and counts == {"Jane": 2, "Doe": 2}
    mask, _ = rows_matching(table, check_values(["Jane Doe"]), ["name"])
    assert list(mask) == [True, True, False]  # spaces and case as written do not matter
    with pytest.raises(InputError, match="no column 'nope'"):
        rows_matching(table, ["42"], ["nope"])


def test_a_mapping_keeps_the_pairs_kept_rows_still_hold_as_a_whole() -> None:
    from engine.erasure_traces import without_removed_rows

    mapping = {"format": 1, "pairs": {"Guy": [["PERSON", "Karl"]], "Ann Lee": [["PERSON", "Jo"]],
                                      "Rita Moe": [["PERSON", "Bea"]]}}
    removed = pa.table({"text": ["Guy and Ann Lee and Rita Moe wrote"]})
    kept = pa.table({"text": ["a trip to Guyana", "Ann Leeds called", "Rita Moe again"],
                     "n": [1, 2, 3]})
    left, gone = without_removed_rows(mapping, removed, kept)
    # "Guyana" and "Ann Leeds" are not the pseudonyms: their originals came from removed rows.
    assert sorted(left["pairs"]) == ["Rita Moe"] and gone == 2


def test_a_date_a_surname_first_and_a_name_in_two_columns() -> None:
    with pytest.raises(InputError, match="many people share a birth date"):
        check_values(["12.03.1956"])
    assert check_values(["12.03.1956"], whole_cells=True) == ("12.03.1956",)
    assert check_values(["Müller, Hans"]) == ("Hans Müller",)  # as typed from a CRM
    assert check_values(["Hauptstraße 12, Berlin"]) == ("Hauptstraße 12, Berlin",)  # an address
    assert check_values(['Jane "Doe"', '"Ann Lee"']) == ('Jane "Doe"', "Ann Lee")
    with pytest.raises(InputError, match="is a text"):
        check_values(["9" * 400])
    people = pa.table({"first_name": ["Petra", "Hans", "Petra"],
                       "Nachname": ["Brand", "Brand", "Lang"], "city": ["Kiel", "Petra", "Brand"],
                       "text": ["water damage", "a claim by Petra", "Brand new roof"]})
    assert list(rows_matching(people, ["Petra Brand"])[0]) == [True, False, False]
    reversed_order = people.select(["Nachname", "first_name", "city", "text"])
    assert list(rows_matching(reversed_order, ["Petra Brand"])[0]) == [True, False, False]
    # A city beside a surname is no first name: "Paris Jackson" is not Tom Jackson of Paris.
    tom = pa.table({"first_name": ["Tom"], "last_name": ["Jackson"], "city": ["Paris"]})
    assert list(rows_matching(tom, ["Paris Jackson"])[0]) == [False]


def test_the_label_column_is_not_searched_unless_named() -> None:
    table = pa.table({"text": ["Thomas Klein rang", "a small dent"], "label": ["Gross", "Klein"]})
    assert list(rows_matching(table, ["Klein"], skip=["label"])[0]) == [True, False]
    assert list(rows_matching(table, ["Klein"], ["label"])[0]) == [False, True]


def test_the_spellings_found_are_what_a_one_way_copy_holds_the_pseudonyms_of() -> None:
    from engine.data.person_match import found_spellings

    table = pa.table({"id": ["00042", "7"], "text": ["Mr Hans Mueller wrote", "Hans MÜLLER"]})
    assert found_spellings(table, "Hans Müller") == ["Hans Mueller", "Hans MÜLLER"]
    assert found_spellings(table, "42", ["id"]) == ["00042"]


def test_a_phone_in_its_column_is_found_with_its_plus_and_brackets() -> None:
    phones = pa.table({"phone": ["+49 30 1234567", "(030) 7654321", "+49 30 1234568"]})
    assert list(rows_matching(phones, ["+49 30 1234567"], ["phone"])[0]) == [True, False, False]
    assert list(rows_matching(phones, ["(030) 7654321"], ["phone"])[0]) == [False, True, False]


@pytest.mark.parametrize(("value", "text", "found"), [
    # Someone else's: an address around it, a longer code, a name joined by an en dash.
    ("brien@example.com", "mail o'brien@example.com", False),
    ("jane@example.com", "x/jane@example.com", False),
    ("müller@example.de", "muller@example.de", False),  # another mailbox
    ("AB123456", "policy AB 123 456 789", False),
    ("01234567L", "NIE X 1234567 L", False),
    ("Jane Doe", "Mary\u2013Jane Doe rang", False),
    # Theirs: a code before a short word, letters of other alphabets, apostrophes, "(0)".
    ("JG103795B", "NI number JG103795B is on file", True),
    ("12345678Z", "DNI 12345678Z es válido", True),
    ("Nguyễn Văn An", "anh Nguyễn Văn An gọi", True),
    ("Nguyen Van An", "anh Nguyễn Văn An gọi", True),
    ("Sean O'Brien", "Sean O’Brien wrote", True),
    ("+49 30 1234567", "Tel. +49 (0)30 1234567", True),
    ("+49 (0)30 1234567", "Tel. +49 30 1234567", True),
    ("van der Berg, Anna", "Kundin: van der Berg, Anna", True),
])
def test_third_walk_cases(value: str, text: str, found: bool) -> None:
    checked = check_values([value])
    mask, _ = rows_matching(pa.table({"text": [text]}), checked)
    assert bool(mask[0]) is found


def test_a_name_is_split_only_over_the_one_first_and_last_name_columns() -> None:
    crm = pa.table({"first_name": ["Bob"], "last_name": ["Doe"], "contact_first_name": ["Jane"],
                    "contact_last_name": ["Smith"]})
    assert not rows_matching(crm, ["Jane Doe"])[0][0]
    fr = pa.table({"prenom": ["Jane"], "nom": ["Dupont"], "nom_entreprise": ["Renault"]})
    assert not rows_matching(fr, ["Jane Renault"])[0][0]
    assert rows_matching(fr, ["Jane Dupont"])[0][0]


def test_numbers_in_their_column_keep_a_phone_s_zeros_and_an_id_s_spaces() -> None:
    table = pa.table({"phone": ["00301234567", "030 1234567"], "id": ["1234 5678", "012345678"]})
    assert list(rows_matching(table, ["0301234567"], ["phone"])[0]) == [False, True]
    assert list(rows_matching(table, ["12345678"], ["id"])[0]) == [True, True]
    for date in ("19560312", "1956.03.12", "1956年3月12日"):
        with pytest.raises(InputError, match="is a date"):
            check_values([date])
    with pytest.raises(InputError, match="too short"):
        check_values(["李"])
