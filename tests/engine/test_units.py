from __future__ import annotations

from engine.units import human_size


def test_sizes_use_binary_units_and_stop_at_gib() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1023) == "1023 B"
    assert human_size(1024) == "1.0 KiB"
    assert human_size(29.2 * 1024) == "29.2 KiB"
    assert human_size(3 * 1024**2) == "3.0 MiB"
    assert human_size(5 * 1024**4) == "5120.0 GiB"
