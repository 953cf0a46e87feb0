"""Render every page offscreen with real data into docs/screenshots/*.png (``make screenshots``).

    python -m docs.make_screenshots [--out docs/screenshots] [--rows 600] [--tiny]

Uses a throw-away encrypted workspace in a temporary folder, the SMS Spam Collection from
``../shared/data`` (5,574 real messages), and trains the default MiniLM-L6 on a stratified
sample on the CPU (a couple of minutes on two cores). ``--tiny`` trains a small random model
instead (seconds; for checking the layout, not for the numbers).
"""
from __future__ import annotations

import argparse
import atexit
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a script beside the packages, not part of them
SHARED = REPO.parent / "shared" / "data"
# The screenshot workspace is throw-away and its KDF is cheap (2^12) to keep the run short; the
# vault refuses that below its floor unless told this is not a real vault.
os.environ.setdefault("CLOISTER_UNSAFE_TEST_KDF", "1")
# The throw-away workspaces' anchors go to a temporary folder, not the user's config.
if not os.environ.get("CLOISTER_ANCHOR_DIR"):
    os.environ["CLOISTER_ANCHOR_DIR"] = tempfile.mkdtemp(prefix="cloister-screenshot-anchors-")
    atexit.register(shutil.rmtree, os.environ["CLOISTER_ANCHOR_DIR"], True)
SMS = SHARED / "sms_spam_collection" / "SMSSpamCollection"
SIZE = (1280, 800)


def _sample_csv(folder: Path, rows: int, *, seed: int = 7) -> Path:
    """A stratified sample of the SMS collection as a CSV with a header (kept in the temp dir)."""
    messages: dict[str, list[str]] = {}
    with open(SMS, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            messages.setdefault(label, []).append(text)
    rng = random.Random(seed)
    total = sum(len(v) for v in messages.values())
    chosen = []
    for label, texts in messages.items():
        share = max(20, round(rows * len(texts) / total))
        chosen += [(text, label) for text in rng.sample(texts, min(share, len(texts)))]
    rng.shuffle(chosen)
    path = folder / "sms-sample.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        # A made-up customer id (about three messages each): the Train page offers it as the
        # person column that differential privacy can protect people by.
        writer.writerow(["message", "label", "customer"])
        writer.writerows((text, label, f"customer-{rng.randrange(max(1, len(chosen) // 3)):04d}")
                         for text, label in chosen)
    return path


class Shooter:
    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        self.out = out
        self.app = QApplication.instance()
        out.mkdir(parents=True, exist_ok=True)

    def wait(self, condition, timeout: float = 900.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("screenshot step timed out")
            self.app.processEvents()
            time.sleep(0.02)

    def settle(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)

    def shot(self, widget, name: str) -> Path:  # noqa: ANN001
        # A second for the layout to settle: a scroll area whose word-wrapped text has just
        # grown shows a squeezed form for a few hundred milliseconds before it scrolls.
        self.settle(1.0)
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
        return path


def render_all(out: Path, *, rows: int, tiny: bool) -> list[Path]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import make_application
    from desktop.context import AppContext
    from desktop.dialogs.about import AboutDialog
    from desktop.dialogs.export import ExportDialog
    from desktop.dialogs.settings import SettingsDialog
    from desktop.dialogs.vault import CreateVaultDialog
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    make_application([])
    shooter = Shooter(out)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="cloister-shots-") as temp:
        temp_dir = Path(temp)
        os.environ["CLOISTER_WORKSPACE"] = str(temp_dir / "workspace")
        os.environ["CLOISTER_SETTINGS_DIR"] = str(temp_dir / "settings")
        context = AppContext(Settings(idle_lock_minutes=15), kdf=ScryptParams(log2_n=12))
        window = MainWindow(context)
        window.resize(*SIZE)
        window.show()
        shots.append(shooter.shot(window, "00-locked"))

        create = CreateVaultDialog(context.root, kdf=context.kdf, parent=window)
        create.first.setText("correct horse battery staple")
        create.second.setText("correct horse battery stapl")
        create.show()
        shots.append(shooter.shot(create, "01-create-vault"))
        create.reject()
        context.set_workspace(Workspace.create(context.root, "correct horse battery staple", kdf=context.kdf))

        # Datasets: the full SMS collection as found (tab-separated, 5,574 rows) in the preview.
        window.open_path(SMS)
        shooter.wait(lambda: window.datasets_page.draft is not None)
        page = window.datasets_page
        if page.problems.count():
            page.problems.setCurrentRow(0)
            page._on_problem_clicked(page.problems.item(0))
        shots.append(shooter.shot(window, "02-datasets-preview"))
        page.clear_draft()

        sample = _sample_csv(temp_dir, rows)
        window.open_path(sample)
        shooter.wait(lambda: page.draft is not None)
        page.name_edit.setText("sms-spam")
        page.import_draft()
        shooter.wait(lambda: page.stored.rowCount() == 1)
        page.select_stored("sms-spam")
        shots.append(shooter.shot(window, "03-datasets-stored"))

        model_dir = None
        if tiny:
            sys.path.insert(0, str(REPO))
            from tests.engine.tiny_model import make_tiny_bert

            model_dir = make_tiny_bert(temp_dir / "tiny-bert")
        train = window.train_page
        window.show_page("train")
        train.select_dataset("sms-spam")
        if model_dir is not None:
            train.set_model_folder(model_dir)
        train.epochs.setValue(3)
        train.max_length.setValue(64)
        train.advanced_toggle.setChecked(True)
        shooter.wait(lambda: train.estimate_label.text() not in ("", "Estimating…"), timeout=120)
        shots.append(shooter.shot(window, "04-train-settings"))
        train.advanced_toggle.setChecked(False)
        # The Differential privacy section, protecting each customer (all of their messages).
        train.privacy.enabled.setChecked(True)
        train.privacy.person.setCurrentIndex(train.privacy.person.findData("customer"))
        shooter.wait(lambda: train.people.count is not None, timeout=120)
        shooter.wait(lambda: "with differential privacy" in train.estimate_label.text(), timeout=120)
        shots.append(shooter.shot(train.privacy, "04b-train-privacy"))
        train.privacy.person.setCurrentIndex(0)
        train.privacy.enabled.setChecked(False)

        run_ids = []
        for number, learning_rate in enumerate(("5e-5", "1e-4")):
            train.learning_rate.setCurrentText(learning_rate)
            ended: list[object] = []
            train.training_ended.connect(ended.append)
            train.start()
            if number == 0:
                shooter.wait(lambda: train.monitor.fraction >= 0.55 or ended)
                shots.append(shooter.shot(window, "05-train-live"))
            shooter.wait(lambda: bool(ended))
            train.training_ended.disconnect()
            train.training_ended.connect(lambda _t: None)
            if train.monitor.run_id:
                run_ids.append(train.monitor.run_id)
        shots.append(shooter.shot(window, "06-train-finished"))

        context.run_selected.emit(run_ids[0])
        results = window.results_page
        shots.append(shooter.shot(window, "07-results"))
        results.tabs.setCurrentIndex(1)
        shots.append(shooter.shot(window, "08-results-misclassified"))
        results.tabs.setCurrentIndex(2)
        shots.append(shooter.shot(window, "09-results-curves"))
        results.tabs.setCurrentIndex(0)

        window.show_page("tryit")
        tryit = window.tryit_page
        tryit.select_run(run_ids[0])
        shooter.wait(lambda: tryit.predictor is not None, timeout=300)
        shown: list[bool] = []
        tryit.prediction_shown.connect(lambda: shown.append(True))
        tryit.text.setPlainText("URGENT! You have won a 1 week FREE membership. Call now to claim your prize")
        shooter.wait(lambda: bool(shown), timeout=120)
        shots.append(shooter.shot(window, "10-try-it"))

        window.show_page("runs")
        runs = window.runs_page
        runs.select_runs(run_ids)
        runs.compare_selected()
        shots.append(shooter.shot(window, "11-runs-compare"))

        export = ExportDialog(context, run_ids[0], parent=window)
        export.folder.setText(str(Path.home() / f"cloister-{run_ids[0]}"))
        export.show()
        shots.append(shooter.shot(export, "12-export"))
        export.reject()
        settings = SettingsDialog(context.settings, parent=window)
        settings.show()
        shots.append(shooter.shot(settings, "13-settings"))
        settings.reject()
        about = AboutDialog(parent=window)
        about.show()
        shots.append(shooter.shot(about, "14-about"))
        about.reject()

        window.close()
        QTimer.singleShot(0, QApplication.processEvents)
    return shots


def dark_palette():  # noqa: ANN201 - QPalette
    """A dark palette like a desktop's dark theme, to show that the app follows the system's."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                        (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.AlternateBase, "#333333"),
                        (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#3a3a3a"),
                        (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#3d7ab8"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.Mid, "#555555"),
                        (QPalette.ColorRole.PlaceholderText, "#9a9a9a")):
        palette.setColor(role, QColor(color))
    # setColor(role, ...) sets every group, Disabled included: a blocked button would look
    # enabled. A system dark theme greys them; so does this one.
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText, QPalette.ColorRole.Text):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#777777"))
    return palette


def render_dark(out: Path) -> Path:
    """The Datasets page under a dark palette, previewing banking77 (77 intents, 10,003 rows)."""
    from PySide6.QtWidgets import QStyleFactory

    from desktop.app import make_application
    from desktop.context import AppContext
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from privacy.vault.container import ScryptParams
    from privacy.vault.workspace import Workspace

    app = make_application([])
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(dark_palette())
    shooter = Shooter(out)
    with tempfile.TemporaryDirectory(prefix="cloister-shots-") as temp:
        os.environ["CLOISTER_WORKSPACE"] = str(Path(temp) / "workspace")
        os.environ["CLOISTER_SETTINGS_DIR"] = str(Path(temp) / "settings")
        context = AppContext(Settings(idle_lock_minutes=15))
        context.set_workspace(Workspace.create(context.root, "correct horse battery staple",
                                               kdf=ScryptParams(log2_n=12)))
        window = MainWindow(context)
        window.resize(*SIZE)
        window.show()
        window.open_path(SHARED / "banking77" / "train.csv")
        shooter.wait(lambda: window.datasets_page.draft is not None)
        path = shooter.shot(window, "15-dark-datasets-banking77")
        window.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/make_screenshots.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--rows", type=int, default=600, help="rows of the SMS sample to train on")
    parser.add_argument("--tiny", action="store_true", help="train a tiny random model (layout check)")
    parser.add_argument("--dark-only", action="store_true", help="only the dark-palette screenshot")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from privacy.offline import enforce_offline

    enforce_offline()
    if not SMS.is_file():
        print(f"the SMS Spam Collection is missing at {SMS}; the screenshots need ../shared/data", file=sys.stderr)
        return 1
    if not args.dark_only:
        render_all(args.out, rows=args.rows, tiny=args.tiny)
    # Last: it changes the application's palette and style for the rest of the process.
    render_dark(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
