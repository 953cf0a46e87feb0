"""A run's model while the run is still being trained: the best point so far, which changes
until the run ends. Exporting it or storing a test report of it is refused; predicting says so."""
from __future__ import annotations

from engine.run_claims import claim_run
from engine.runs import RunStatus, load_run, save_run
from tests.engine.test_delete_runs import cli, trained  # noqa: F401


def test_a_run_being_trained_is_not_exported_or_scored_as_if_it_were_done(
        trained, tmp_path, capsys, caplog) -> None:  # noqa: F811
    # A nightly "export the newest run" exported the best point so far with exit 0, and its
    # test report, scored mid-run, stayed the run's after a cancel kept other weights.
    ws, run_id, root = trained
    save_run(ws, load_run(ws, run_id).updated(status=RunStatus.RUNNING))
    before = ws.read_json(f"runs/{run_id}/report.json")
    with claim_run(ws, run_id):  # a window or command training it now
        code, _, err = cli(root, capsys, "export", run_id, "--out", str(tmp_path / "m"),
                           "--plaintext")
        assert code == 2 and f"run {run_id} is still being trained" in err
        assert "export it when it has finished" in err and not (tmp_path / "m").exists()
        code, _, err = cli(root, capsys, "evaluate", run_id)
        assert code == 2 and "its test report is written when it finishes" in err
        assert ws.read_json(f"runs/{run_id}/report.json") == before
        code, out, _ = cli(root, capsys, "predict", run_id, "--text", "free prize now")
        assert code == 0 and out.strip()  # allowed, with a word that it is a moving target
    assert any(f"run {run_id} is still being trained" in r.getMessage() for r in caplog.records)
