"""Column inference by name and content, explicit choices, and joined text columns."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from engine.data.columns import ColumnMapping, infer_mapping, texts_and_labels
from engine.errors import InputError
from engine.data.importing import ImportedTable


def imported(columns: dict[str, list[str | None]]) -> ImportedTable:
    return ImportedTable(table=pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}),
                         source=Path("data.csv"), format="csv")


REVIEWS = [f"review number {i} says the film was {'good' if i % 2 else 'bad'} overall" for i in range(40)]


def test_names_win_over_position() -> None:
    data = imported({"id": [str(i) for i in range(40)], "Sentiment": ["pos", "neg"] * 20,
                     "Review Text": REVIEWS})
    assert infer_mapping(data) == ColumnMapping(text_columns=("Review Text",), label_column="Sentiment")


def test_content_decides_when_names_say_nothing() -> None:
    data = imported({"a": ["x", "y"] * 20, "b": REVIEWS, "c": [str(i) for i in range(40)]})
    mapping = infer_mapping(data)
    assert mapping.text_columns == ("b",)
    assert mapping.label_column == "a"  # 'c' has 40 distinct values in 40 rows: an id, not a class


def test_mostly_empty_named_column_is_not_the_label() -> None:
    # The CFPB export has "Tags" (mostly blank) beside "Product".
    data = imported({"narrative": REVIEWS, "Tags": [None] * 38 + ["Older American", "x"],
                     "Product": ["Mortgage", "Credit card"] * 20})
    assert infer_mapping(data).label_column == "Product"


def test_a_label_column_of_long_repeated_values_is_still_the_label() -> None:
    """Category paths and written-out diagnoses run past 80 characters but repeat: a column
    named 'label' was passed over for their length alone ('no label column was found')."""
    path = "Billing and payments / refunds and chargebacks / disputed card transactions / "
    data = imported({"text": REVIEWS, "label": [path + "domestic", path + "abroad"] * 20})
    assert infer_mapping(data).label_column == "label"
    # Long values that do not repeat under such a name are free text, still passed over.
    notes = imported({"text": REVIEWS, "label": [path + f"case {i}" for i in range(40)]})
    assert infer_mapping(notes).label_column is None
    halves = imported({"text": REVIEWS, "label": [path + f"case {i // 2}" for i in range(40)]})
    assert infer_mapping(halves).label_column is None  # each value twice: still free text


def test_no_label_candidate_gives_none() -> None:
    assert infer_mapping(imported({"text": REVIEWS})).label_column is None


def test_choose_fills_in_the_unnamed_part_and_checks_names() -> None:
    data = imported({"title": [f"t{i}" for i in range(40)], "body": REVIEWS, "kind": ["a", "b"] * 20})
    assert ColumnMapping.choose(data, label_column="kind").text_columns == ("body",)
    chosen = ColumnMapping.choose(data, text_columns=["title", "body"])
    assert chosen == ColumnMapping(text_columns=("title", "body"), label_column="kind")
    with pytest.raises(InputError, match=r"column 'Body' is not in data.csv: did you mean 'body'\?"):
        ColumnMapping.choose(data, text_columns=["Body"])
    with pytest.raises(InputError, match=r"column 'bod' is not in data.csv; the columns are: 'title', 'body', 'kind'"):
        ColumnMapping.choose(data, text_columns=["bod"])
    with pytest.raises(InputError, match="cannot be both a text column and the label column"):
        ColumnMapping.choose(data, text_columns=["body"], label_column="body")
    with pytest.raises(InputError, match="named twice"):
        ColumnMapping.choose(data, text_columns=["body", "body"])


def test_texts_and_labels_join_columns_and_trim_labels() -> None:
    data = imported({"title": ["Hi", None, "Yo"], "body": ["there", "only body", ""],
                     "label": [" spam", "ham ", None]})
    mapping = ColumnMapping(text_columns=["title", "body"], label_column="label", separator=" | ")
    texts, labels = texts_and_labels(data.table, mapping)
    assert texts == ["Hi | there", "only body", "Yo"]
    assert labels == ["spam", "ham", ""]
    assert texts_and_labels(data.table, mapping, skip_incomplete=True) == (
        ["Hi | there", "only body"], ["spam", "ham"])


def test_texts_and_labels_needs_a_label_column() -> None:
    data = imported({"text": ["a"]})
    with pytest.raises(InputError, match="no label column is chosen"):
        texts_and_labels(data.table, ColumnMapping(text_columns=("text",), label_column=None))


def test_mapping_needs_a_text_column() -> None:
    with pytest.raises(InputError, match="at least one text column"):
        ColumnMapping(text_columns=(), label_column="label")


def test_named_label_column_is_taken_even_in_a_tiny_table() -> None:
    data = imported({"text": ["good film", "bad film", "fine film"], "label": ["pos", "neg", "mid"]})
    assert infer_mapping(data).label_column == "label"


GERMAN = [f"Meine Bestellung Nr. {i} kam {'beschädigt' if i % 2 else 'pünktlich'} an" for i in range(40)]


@pytest.mark.parametrize(("text_name", "label_name"), [
    ("Nachricht", "Kategorie"), ("Beschreibung", "Produkt"), ("Libellé", "Catégorie"),
    ("Commentaire", "Étiquette"), ("Descripción", "Categoría"), ("RÜCKMELDUNG", "Thema")])
def test_german_french_and_spanish_headers_name_the_columns(text_name: str, label_name: str) -> None:
    # Before, none was known: the label came from content, and a postcode column (few values)
    # or the contact persons' names won it.
    data = imported({"PLZ": ["10115", "04109", "50667", "80331"] * 10, text_name: GERMAN,
                     "Ansprechpartner": ["Jürgen Müller", "Hélène Dupont"] * 20,
                     label_name: ["Beschwerde", "Lob", "Anfrage", "Lob"] * 10})
    assert infer_mapping(data) == ColumnMapping(text_columns=(text_name,), label_column=label_name)


def test_a_text_name_over_single_tokens_yields_to_a_column_of_words() -> None:
    # "E-Mail" names a column of addresses in most exports, not of message bodies.
    data = imported({"E-Mail": [f"kunde{i}@example.de" for i in range(40)], "Anliegen": GERMAN,
                     "Typ": ["a", "b"] * 20})
    assert infer_mapping(data).text_columns == ("Anliegen",)
    # With no column of words beside it, the name still decides.
    codes = imported({"x": ["a", "b"] * 20, "email": [f"kunde{i}@example.de" for i in range(40)],
                      "n": [str(i % 7) for i in range(40)]})
    assert infer_mapping(codes).text_columns == ("email",)


def test_a_german_customer_number_with_several_rows_is_offered_as_the_person() -> None:
    from engine.data.columns import person_column_candidates

    data = imported({"Nachricht": GERMAN, "Kategorie": ["Lob", "Beschwerde"] * 20,
                     "Kundennummer": [f"K-{i % 12}" for i in range(40)]})
    assert person_column_candidates(data.table, infer_mapping(data)) == [("Kundennummer", 12)]


@pytest.mark.parametrize("other, values", [
    ("created", [f"2024-01-{i % 28 + 1:02d} 10:00:00" for i in range(40)]),  # words? timestamps
    ("author", [f"John Smith {i}" for i in range(40)]),
])
def test_a_named_text_column_without_spaces_keeps_its_claim(other: str, values: list[str]) -> None:
    # Chinese text has no spaces, nor do one-word messages: a timestamp or a person's name beside
    # them took the text column once "words" meant "spaces".
    chinese = [f"这个产品很好用，我非常满意第{i}次购买" for i in range(40)]
    data = imported({"text": chinese, "label": ["好", "差"] * 20, other: values})
    assert infer_mapping(data).text_columns == ("text",)
    short = imported({"text": ["ok", "thanks", "no", "yes"] * 10, "label": ["a", "b"] * 20,
                      other: values})
    assert infer_mapping(short).text_columns == ("text",)


def test_a_foreign_word_inside_an_english_name_does_not_make_it_the_label() -> None:
    # "theme" (French) and "tema" (Spanish) inside "theme_id" took the label from "is_spam".
    data = imported({"text": REVIEWS, "theme_id": [str(i % 5) for i in range(40)],
                     "is_spam": ["yes", "no"] * 20})
    assert infer_mapping(data).label_column != "theme_id"


def test_chinese_and_arabic_headers_name_the_text_and_the_category() -> None:
    # The priority column (高/中/低, three values) won the label by content over the category.
    tickets = [f"订单{i}的发票有误，请尽快处理" for i in range(40)]
    chinese = imported({"工单编号": [f"T{i}" for i in range(40)], "优先级": ["高", "中", "低", "中"] * 10,
                        "工单内容": tickets, "类别": ["投诉", "咨询", "表扬", "退款", "投诉"] * 8})
    assert infer_mapping(chinese) == ColumnMapping(text_columns=("工单内容",), label_column="类别")
    arabic = imported({"الأولوية": ["عالية", "منخفضة"] * 20, "النص": [f"طلب رقم {i} لم يصل بعد" for i in range(40)],
                       "التصنيف": ["شكوى", "استفسار", "شكر", "استرداد", "شكوى"] * 8})
    assert infer_mapping(arabic) == ColumnMapping(text_columns=("النص",), label_column="التصنيف")


def test_a_customer_number_is_not_the_text_beside_repeated_short_messages() -> None:
    # A chat desk's export: the messages repeat, the customer number is unique in every row.
    messages = ["Kartım kayboldu lütfen bloke edin", "Şubeniz cumartesi açık mı?", "Param iade edilmedi",
                "Kredi faizi ne kadar?", "Teşekkürler"] * 8
    data = imported({"musteri_no": [f"M{1000 + i}" for i in range(40)], "yazi": messages,
                     "durum": ["Şikayet", "Soru", "Şikayet", "Soru", "Soru"] * 8})
    assert infer_mapping(data).text_columns == ("yazi",)


def test_an_amount_column_is_not_the_text() -> None:
    data = imported({"Treść zgłoszenia": [f"Proszę o zwrot opłaty {i}" for i in range(40)],
                     "Rodzaj": ["Reklamacja", "Pytanie"] * 20,
                     "Kwota": [f"{100 + i * 10.5:.2f}" for i in range(40)]})
    assert infer_mapping(data) == ColumnMapping(text_columns=("Treść zgłoszenia",), label_column="Rodzaj")


@pytest.mark.parametrize(("text", "label"), [("Treść", "Kategoria"), ("mesaj", "etiket"),
                                             ("Текст", "Категория"), ("Mensagem", "Rótulo"),
                                             ("내용", "분류")])
def test_polish_turkish_russian_portuguese_and_korean_headers_are_known(text: str, label: str) -> None:
    data = imported({"x": [str(i) for i in range(40)], label: ["a", "b"] * 20,
                     text: [f"w {i}" for i in range(40)]})
    assert infer_mapping(data) == ColumnMapping(text_columns=(text,), label_column=label)


@pytest.mark.parametrize("column", ["Assuré", "Versicherter", "Patientin", "müşteri_no", "Klient"])
def test_person_columns_named_in_other_languages_are_hinted(column: str) -> None:
    from engine.data.columns import person_column_candidates

    data = imported({"text": REVIEWS, "label": ["a", "b"] * 20, column: [f"P{i % 12}" for i in range(40)]})
    assert person_column_candidates(data.table, infer_mapping(data)) == [(column, 12)]


def test_chinese_text_is_words_and_a_timestamp_is_not_text() -> None:
    # Chinese writes no spaces: a label with spaces, or a date and time, was taken for the text.
    chinese = [f"我的信用卡被多扣了钱请退款第{i}次" for i in range(40)]
    data = imported({"column_1": chinese, "column_2": ["credit card", "bank account"] * 20})
    assert infer_mapping(data) == ColumnMapping(text_columns=("column_1",), label_column="column_2")
    data = imported({"问题": chinese, "时间": [f"2024-01-{i % 28 + 1:02d} 10:04:00" for i in range(40)],
                     "类别": ["a", "b"] * 20})
    assert infer_mapping(data).text_columns == ("问题",)
