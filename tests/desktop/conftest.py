"""Fixtures for the desktop tests: real widgets (offscreen), a real vault with a cheap KDF, a
tiny random BERT folder, and a main window already unlocked."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from privacy.vault.container import ScryptParams  # noqa: E402

FAST_KDF = ScryptParams(log2_n=10, r=8, p=1)  # same code path as the real 2^17, ~1 ms
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.engine.tiny_model import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture
def spam_csv(tmp_path: Path, real_data: Path) -> Path:
    """A small labelled CSV cut from the real SMS spam collection (40 rows, both classes)."""
    import csv

    rows = []
    with open(real_data / "sms_spam_collection" / "SMSSpamCollection", encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("ham", "spam"):
                rows.append((text, label))
    ham = [r for r in rows if r[1] == "ham"][:24]
    spam = [r for r in rows if r[1] == "spam"][:16]
    mixed = [row for pair in zip(ham, spam + ham[16:]) for row in pair][:40]
    path = tmp_path / "messages.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "label"])
        writer.writerows(mixed)
    return path


@pytest.fixture(autouse=True)
def gc_on_gui_thread(qapp) -> Iterator[None]:
    """As in the app (desktop/app.py): cycles are collected on the GUI thread only, so a job's
    thread never frees a Qt object it does not own."""
    from desktop.gui_gc import GuiThreadGarbageCollector

    collector = GuiThreadGarbageCollector()
    yield
    collector.stop()


@pytest.fixture
def context(isolated_dirs: dict[str, Path]):
    from desktop.context import AppContext
    from desktop.settings import Settings

    return AppContext(Settings(idle_lock_minutes=0), kdf=FAST_KDF)


@pytest.fixture
def window(qtbot, context) -> Iterator[object]:
    """The main window with a freshly created, unlocked vault."""
    from desktop.app import make_application
    from desktop.main_window import MainWindow
    from privacy.vault.workspace import Workspace

    make_application([])
    context.set_workspace(Workspace.create(context.root, PASSPHRASE, kdf=FAST_KDF))
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    yield win
    context.jobs.cancel_all_and_wait()
