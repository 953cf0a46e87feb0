from __future__ import annotations

from engine.units import count_of, human_size, rate_text


def test_sizes_use_binary_units_and_stop_at_gib() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1023) == "1023 B"
    assert human_size(1024) == "1.0 KiB"
    assert human_size(29.2 * 1024) == "29.2 KiB"
    assert human_size(3 * 1024**2) == "3.0 MiB"
    assert human_size(5 * 1024**4) == "5120.0 GiB"


def test_counts_take_the_noun_in_the_right_number() -> None:
    assert [count_of(n, "row") for n in (0, 1, 2, 12_345)] == ["0 rows", "1 row", "2 rows", "12,345 rows"]
    assert (count_of(1, "class"), count_of(3, "class"), count_of(2, "person", "people")) == \
        ("1 class", "3 classes", "2 people")
    assert (count_of(10, "epoch"), count_of(2, "batch")) == ("10 epochs", "2 batches")  # "epoches"


def test_small_rates_read_as_the_train_page_spells_them() -> None:
    assert [rate_text(v) for v in (1e-4, 5e-5, 5e-3, 2e-3, 1e-5)] == ["1e-4", "5e-5", "5e-3", "2e-3", "1e-5"]
    # Two significant digits, or 0.1 and above, keep the plain form rather than lose digits.
    assert [rate_text(v) for v in (2.5e-4, 0.02, 0.1, 1.0)] == ["0.00025", "2e-2", "0.1", "1"]


def test_wide_characters_take_two_columns_in_a_table() -> None:
    from engine.units import pad, shown_width

    assert shown_width("投诉") == 4 and shown_width("Frage") == 5
    assert shown_width("Re\u0301") == 2  # a combining accent takes no column
    assert pad("投诉", 6) + "|" == "投诉  |" and pad("Frage", 6) + "|" == "Frage |"
    assert pad("7", 3, right=True) == "  7"
