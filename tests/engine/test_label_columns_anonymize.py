"""``import --anonymize POLICY --label-columns``: the policy names the file's columns as the user
knows them; a 0/1 column read as a label, or the text column under [columns], is refused
before anything is stored, saying what to do; otherwise the labels are stored as read and the
texts anonymized."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main as cli
from tests.engine.test_label_columns import LABELS, stored_names, workspace, write_csv  # noqa: F401


def rows(n: int = 20) -> list[tuple]:
    """(id, text with a phone number, toxic, obscene, insult, severe_toxic)."""
    return [(f"c{i:03d}", f"comment {i} says call 555-123-{4000 + i} now", i % 2, (i // 2) % 2,
             (i // 3) % 2, (i // 4) % 2) for i in range(n)]


HEADER = ("id", "comment_text", *LABELS, "severe_toxic")


def policy(tmp_path: Path, body: str, top: str = "") -> Path:
    """PHONE tagged; ``top``: settings before the tables, ``body``: tables after [entities]."""
    path = tmp_path / "policy.toml"
    path.write_text(f'version = 1\n{top}[entities]\nPHONE = "tag"\n{body}', encoding="utf-8")
    return path


def imported(tmp_path: Path, body: str, top: str = "") -> int:
    source = write_csv(tmp_path / "comments.csv", rows(), HEADER)
    return cli(["import", str(source), "--name", "anon", "--text-column", "comment_text",
                "--label-columns", "toxic,obscene,insult", "--anonymize", str(policy(tmp_path, body, top))])


@pytest.mark.parametrize("body, top, said", [
    ('[columns]\ntoxic = "drop"\n', "",
     "policy.toml line 5: columns names column 'toxic', which --label-columns reads as a label"),
    ("", 'scan_columns = ["comment_text", "insult"]\n',
     "policy.toml line 2: scan_columns names column 'insult', which --label-columns reads as a label"),
    # The column Cloister joins the labels into is not the file's: not one the policy can mean.
    ('[columns]\nlabels = "redact"\n', "",
     "columns names column 'labels', which the data does not have; its columns are 'id', "
     "'comment_text', 'toxic', 'obscene', 'insult', 'severe_toxic'"),
    ('[columns]\ncomment_text = { action = "pseudonym", entity = "PERSON" }\n', "",
     "policy.toml line 5: [columns] names the text column 'comment_text' (pseudonym), and a rule "
     "under [columns] replaces each whole cell"),
])
def test_a_policy_that_would_spoil_the_labels_or_texts_stores_nothing(
        tmp_path: Path, workspace: Path, capsys, body: str, top: str, said: str) -> None:  # noqa: F811
    assert imported(tmp_path, body, top) == 2
    assert said in capsys.readouterr().err
    assert stored_names(capsys) == []


def test_the_text_column_under_columns_is_refused_with_a_plain_label_column_too(
        tmp_path: Path, workspace: Path, capsys) -> None:  # noqa: F811
    source = write_csv(tmp_path / "plain.csv", [(f"t{i}", f"text {i} call 555-123-{4000 + i}",
                                                 ("a", "b")[i % 2]) for i in range(20)],
                       ("id", "text", "label"))
    path = policy(tmp_path, '[columns]\ntext = "redact"\n')
    assert cli(["import", str(source), "--name", "plain", "--text-column", "text",
                "--label-column", "label", "--anonymize", str(path)]) == 2
    assert "Take 'text' out of [columns]: a text is scanned span by span" in capsys.readouterr().err
    assert stored_names(capsys) == []
    # "keep" leaves the texts unscanned, as it says: not refused.
    path.write_text('version = 1\n[columns]\ntext = "keep"\nid = "drop"\n', encoding="utf-8")
    assert cli(["import", str(source), "--name", "plain", "--text-column", "text",
                "--label-column", "label", "--anonymize", str(path)]) == 0


def test_labels_are_stored_as_read_and_the_texts_anonymized(tmp_path: Path, workspace: Path,
                                                            capsys) -> None:  # noqa: F811
    # A 0/1 column that is not among --label-columns is a column like any other: dropped here.
    assert imported(tmp_path, '[columns]\nid = "pseudonym"\nsevere_toxic = "drop"\n') == 0
    capsys.readouterr()
    assert cli(["import", str(tmp_path / "comments.csv"), "--name", "plain", "--text-column",
                "comment_text", "--label-columns", "toxic,obscene,insult"]) == 0
    from engine.data.store import load_dataset
    from privacy.vault.workspace import Workspace

    with Workspace.unlock(workspace, "cli test passphrase") as ws:
        anon, plain = load_dataset(ws, "anon"), load_dataset(ws, "plain")
    assert anon.labels == plain.labels and anon.labels[:4] == ["|", "toxic", "obscene", "toxic|obscene|insult"]
    assert anon.info.label_delimiter == "|"
    assert anon.table.column_names == ["id", "comment_text", "labels"]
    assert all("555-123" not in t and "<PHONE>" in t for t in anon.texts)
    assert all(i.startswith("c0") is False for i in anon.table.column("id").to_pylist())
