"""An erasure with --match-all in a reversibly anonymized copy where one of the person's
pseudonyms also stands for someone else: the row may be about either, so it stays, and the user
is told so and how to get a clean copy (it used to say "nothing found")."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from privacy.pii.pseudonym import Pseudonymizer
from tests.engine.test_forget_cli import PASSPHRASE, _anonymize, _people, _texts

RULE = '{ action = "pseudonym", entity = "PERSON", reversible = true }'


def _distinct(real, given: dict[str, str]):  # noqa: ANN202 - a Pseudonymizer.surrogate
    """Every value its own surrogate: the natural draw collides now and then (see below)."""

    def surrogate(self: Pseudonymizer, entity: str, value: str) -> str:
        key, out, n = value.strip().lower(), real(self, entity, value), 0
        while given.setdefault(out, key) != key:
            n += 1
            out = real(self, entity, f"{value} {n}")
        return out

    return surrogate


def _roes_and_doe(tmp_path: Path) -> None:
    johns = "".join(f"John,Roe{i},note {i},{'ab'[i % 2]}\n" for i in range(30))
    _people(tmp_path, "Jane,Doe,late parcel,a\nJohn,Doe,refund,b\nJane,Smith,card lost,a\n"
            + johns)
    _anonymize(tmp_path, f'scan_columns = ["text"]\n[columns]\nfirst_name = {RULE}\n'
               f'last_name = {RULE}\n', "people", "anon")


def test_a_pseudonym_shared_with_someone_else_is_said_not_passed_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    monkeypatch.setattr(Pseudonymizer, "surrogate", _distinct(Pseudonymizer.surrogate, {}))
    distinct = Pseudonymizer.surrogate

    def colliding(self: Pseudonymizer, entity: str, value: str) -> str:
        # Surnames are drawn from a list of about a thousand: "Roe7" getting Doe's is what
        # happened in one anonymization out of eight here (every other value its own).
        return distinct(self, entity, "Doe" if value.strip() == "Roe7" else value)

    monkeypatch.setattr(Pseudonymizer, "surrogate", colliding)
    _roes_and_doe(tmp_path)
    capsys.readouterr()
    assert cli(["forget", "John", "Doe", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0
    said = capsys.readouterr().out
    assert "refund" not in _texts("people") and len(_texts("people")) == 32
    # John Doe and John Roe7 read the same in the copy: neither row goes, and that is said.
    assert len(_texts("anon")) == 33
    assert ("  anon: nothing found\n    2 rows there may be about them: they hold these values "
            "only through a pseudonym that also stands for someone else, so none is removed; if "
            "one is about them, delete anon and anonymize people again afterwards\n") in said
    # Asked again of the copy alone: nothing is removed, and not as if nothing were there.
    assert cli(["forget", "John", "Doe", "--dataset", "anon", "--column", "first_name",
                "--column", "last_name", "--match-all", "--yes"]) == 0
    assert capsys.readouterr().out.endswith(
        "Nothing removed: no row is surely about them (see above).\n")
    # A person none of whose pseudonyms is shared gets no such note.
    assert cli(["forget", "Jane", "Roe12", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0
    said = capsys.readouterr().out
    assert "may be about them" not in said and said.endswith(
        "Nothing to remove: no stored row names them.\n")


def test_without_a_shared_pseudonym_the_row_goes_from_the_copy_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOISTER_PASSPHRASE", PASSPHRASE)
    assert cli(["init", "--kdf-cost", "10"]) == 0
    monkeypatch.setattr(Pseudonymizer, "surrogate", _distinct(Pseudonymizer.surrogate, {}))
    _roes_and_doe(tmp_path)
    capsys.readouterr()
    assert cli(["forget", "John", "Doe", "--column", "first_name", "--column", "last_name",
                "--match-all", "--yes"]) == 0
    assert "also stand" not in capsys.readouterr().out
    assert len(_texts("anon")) == 32 and "refund" not in _texts("anon")  # through pseudonyms
