"""Vault dialogs and locking: first launch creates, later launches unlock, a wrong passphrase
is reported and can be retried, Ctrl+L and the idle timeout lock and drop decrypted state."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence

from desktop.dialogs.vault import CreateVaultDialog, UnlockDialog
from privacy.passphrase_strength import Strength, assess
from privacy.vault.workspace import Workspace
from tests.desktop.conftest import FAST_KDF, PASSPHRASE


def test_wrong_passphrase_shows_an_error_and_the_user_can_retry(qtbot, tmp_path):
    root = tmp_path / "ws"
    Workspace.create(root, PASSPHRASE, kdf=FAST_KDF).lock()
    dialog = UnlockDialog(root)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.passphrase, "not the passphrase")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    # Said as a person would: no vault file path (the dialog names the workspace already).
    assert dialog.error.text().startswith("Wrong passphrase. Try again.\nIt was set or last changed on ")
    assert "cloister.vault" not in dialog.error.text()
    # The whole message is shown: the dialog grew to the wrapped label's height.
    assert dialog.error.height() >= dialog.error.heightForWidth(dialog.error.width())
    assert dialog.workspace is None and dialog.isVisible()  # still open for another try
    assert dialog.passphrase.text() == "" and dialog.passphrase.isEnabled()

    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClicks(dialog.passphrase, PASSPHRASE)
        qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    assert isinstance(dialog.workspace, Workspace) and not dialog.workspace.locked
    dialog.workspace.lock()


def test_create_dialog_needs_matching_acceptable_passphrases(qtbot, tmp_path, monkeypatch):
    root = tmp_path / "new"
    dialog = CreateVaultDialog(root, kdf=FAST_KDF)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.first, "short")
    assert not dialog.create_button.isEnabled() and "at least" in dialog.hint.text()
    # The advice is in a label the keyboard never reaches: the field and the meter carry it.
    assert dialog.first.accessibleDescription() == dialog.hint.text().strip()
    assert dialog.meter.accessibleDescription() == "too short"
    dialog.first.setText(PASSPHRASE)
    qtbot.keyClicks(dialog.second, PASSPHRASE[:-1] + "X")
    assert not dialog.create_button.isEnabled() and "do not match" in dialog.hint.text()
    assert dialog.second.accessibleDescription() == "The two passphrases do not match."
    from tests.desktop.test_accessibility import _listening

    heard = _listening(monkeypatch)
    qtbot.keyClick(dialog.second, Qt.Key.Key_Return)  # did nothing and said nothing
    assert len(heard) == 1 and "do not match" in heard[0][1] and not Workspace.exists(root)
    monkeypatch.undo()
    assert dialog.meter.value() == int(assess(PASSPHRASE).strength) >= int(Strength.FAIR)
    dialog.second.setText(PASSPHRASE)
    assert dialog.create_button.isEnabled()
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert Workspace.exists(root)
    dialog.workspace.lock()
    Workspace.unlock(root, PASSPHRASE).lock()  # the passphrase typed is the one that opens it


def test_passphrase_strength_ranks_obvious_ones_low():
    assert assess("password1").strength <= Strength.WEAK
    assert assess("aaaaaaaaaaaaaaaa").strength <= Strength.WEAK
    assert assess("short").strength is Strength.TOO_SHORT
    assert assess("correct horse battery staple").strength >= Strength.GOOD
    assert assess("Tr0ub4dor&3-plus-some-words").strength is Strength.STRONG


def test_first_launch_creates_the_vault_then_later_launches_unlock(qtbot, context):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application([])
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    assert window.current_page_key() == "locked" and not window.nav.isEnabled()
    # Behind the first launch's dialog too: no "Cloister is locked / Unlock…" before any vault.
    assert (window.lock_screen.title.text(), window.lock_screen.button.text()) == \
        ("No vault yet", "Create vault…")

    # Cancelled, the first dialog leaves a window that says there is no vault yet, not that
    # Cloister is locked (with an Unlock button that then offered to create one).
    from tests.desktop.helpers import when_modal_opens

    when_modal_opens(CreateVaultDialog, lambda dialog: dialog.reject())
    assert not window.open_vault()
    screen = window.lock_screen
    assert (screen.title.text(), screen.button.text()) == ("No vault yet", "Create vault…")

    def fill_create(dialog: CreateVaultDialog) -> None:
        dialog.first.setText(PASSPHRASE)
        dialog.second.setText(PASSPHRASE)
        dialog.create_button.click()

    when_modal_opens(CreateVaultDialog, fill_create)
    assert window.open_vault()
    assert window.current_page_key() == "datasets" and context.unlocked

    window.lock()
    assert window.current_page_key() == "locked" and context.workspace is None
    assert (screen.title.text(), screen.button.text()) == ("Cloister is locked", "Unlock…")

    from tests.desktop.helpers import unlock_from_the_lock_screen

    unlock_from_the_lock_screen(qtbot, window, PASSPHRASE)
    assert context.unlocked and window.current_page_key() == "datasets"


def test_ctrl_l_locks_and_drops_the_preview(qtbot, window, spam_csv):
    from tests.desktop.helpers import drop_files

    drop_files(window, spam_csv)
    qtbot.waitUntil(lambda: window.datasets_page.draft is not None, timeout=30_000)
    workspace = window.context.workspace
    assert window.lock_action.shortcut() == QKeySequence("Ctrl+L")
    window.lock_action.trigger()
    assert workspace.locked and window.context.workspace is None
    assert window.datasets_page.draft is None and window.datasets_page.model.rowCount() == 0
    assert window.current_page_key() == "locked"
    window.show_page("train")  # page shortcuts do nothing while locked
    assert window.current_page_key() == "locked"
    # Nothing that needs the vault is offered while it is locked (the folder action was).
    assert not any(a.isEnabled() for a in (window.open_action, window.open_folder_action,
                                           window.export_action, window.lock_action))


def test_idle_timeout_locks_but_waits_for_a_running_job(qtbot, window):
    from desktop.worker import Job
    from engine.events import Cancelled

    window.context.settings = window.context.settings.__class__(idle_lock_minutes=5)
    window._restart_idle_timer()
    assert window.idle_timer.isActive() and window.idle_timer.interval() == 5 * 60_000

    def busy(cancel):
        while not cancel.cancelled:
            time.sleep(0.01)
        yield Cancelled(step=0)

    job = Job(busy, name="train")
    window.context.start(job, long=True)
    window.idle_timer.timeout.emit()
    assert window.context.unlocked and window.idle_timer.isActive()  # deferred, not locked
    with qtbot.waitSignal(job.ended, timeout=10_000):
        job.cancel()
    window.idle_timer.timeout.emit()
    assert not window.context.unlocked and window.current_page_key() == "locked"


def test_the_passphrase_is_changed_from_the_file_menu(qtbot, window):
    """Only `cloister passwd` could change it, though the unlock dialog speaks of a change."""
    from desktop.dialogs.vault import ChangePassphraseDialog
    from privacy.errors import WrongPassphrase
    from tests.desktop.helpers import when_modal_opens

    new = "a brand new passphrase for the vault 42"
    seen: list[str] = []

    def change(dialog: ChangePassphraseDialog) -> None:
        dialog.current.setText("not the passphrase at all 99")
        dialog.first.setText(new)
        dialog.second.setText(new)
        assert dialog.create_button.isEnabled()
        dialog.create_button.click()

        deadline = time.monotonic() + 30

        def after_wrong() -> None:
            if not dialog.error.isVisible():
                if time.monotonic() > deadline:
                    dialog.reject()  # fails below instead of hanging in the dialog's loop
                    return
                QTimer.singleShot(20, after_wrong)
                return
            seen.append(dialog.error.text())
            dialog.current.setText(PASSPHRASE)
            dialog.create_button.click()

        QTimer.singleShot(20, after_wrong)

    root = window.context.workspace.root
    when_modal_opens(ChangePassphraseDialog, change)
    window.passphrase_action.trigger()
    # With when it was last set: a `cloister passwd` meanwhile is why the old one fails.
    assert len(seen) == 1 and seen[0].startswith(
        "The current passphrase is wrong: nothing was changed. It was set or last changed on ")
    window.lock()
    with pytest.raises(WrongPassphrase):
        Workspace.unlock(root, PASSPHRASE)
    Workspace.unlock(root, new).lock()


def test_unlocking_comes_back_to_the_page_and_run_that_were_shown(
        qtbot, window, spam_csv, tiny_model_dir) -> None:
    """It landed on Datasets, and Results showed the newest run instead of the one open."""
    from engine.runs import list_runs
    from tests.desktop.test_accessibility import _trained
    from tests.desktop.conftest import PASSPHRASE
    from tests.desktop.helpers import unlock_from_the_lock_screen

    _trained(qtbot, window, spam_csv, tiny_model_dir)
    [older] = [r.run_id for r in list_runs(window.context.workspace)]
    train = window.train_page
    with qtbot.waitSignal(train.training_ended, timeout=120_000):  # a newer run
        qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    assert len(list_runs(window.context.workspace)) == 2
    window.context.run_selected.emit(older)
    assert window.current_page_key() == "results" and window.results_page.run_id == older
    window.lock()
    assert window.results_page.report is None  # nothing decrypted kept
    unlock_from_the_lock_screen(qtbot, window, PASSPHRASE)
    assert window.current_page_key() == "results"
    qtbot.waitUntil(lambda: window.results_page.run_id == older, timeout=10_000)


def test_any_key_or_click_postpones_the_idle_lock(qtbot, window):
    """The README's idle lock counts from the last input: a key or a click starts the wait
    again (the other tests fire the timer by hand, which would pass with no input counted)."""
    from PySide6.QtCore import QPoint

    window.context.settings = window.context.settings.__class__(idle_lock_minutes=1)
    window.show()
    qtbot.waitExposed(window)
    window._restart_idle_timer()
    window.idle_timer.start(400)  # as if the minute had nearly run out
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Shift)
    assert window.idle_timer.remainingTime() > 50_000  # a whole minute again
    window.idle_timer.start(400)
    qtbot.mouseClick(window.stack.currentWidget(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert window.idle_timer.remainingTime() > 50_000
    window.idle_timer.start(400)  # no input: it runs out, and the window locks
    qtbot.waitUntil(lambda: not window.context.unlocked, timeout=5_000)
    assert window.current_page_key() == "locked"
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Shift)
    assert not window.idle_timer.isActive()  # locked: input starts no wait
