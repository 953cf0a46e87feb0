"""The training loop: a generator of events, resumable from the exact step.

The entry points (``train``, ``resume``) live in ``engine.training.entry``. The loop is plain
PyTorch, written to be read: the loss comes from the logits through a criterion (not the model's own loss) so a differential-privacy wrapper can compute per-sample
gradients, and the optimizer, schedule and batch plan come from ``parts_factory``, the one
thing such a wrapper replaces.
"""
from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TYPE_CHECKING

import numpy as np

from engine.events import (
    CheckpointSaved,
    Cancelled,
    CancelToken,
    Evaluated,
    Event,
    FailureKind,
    Finished,
    Started,
    Step,
)
from engine.errors import InputError
from engine.models.weights import load_state_dict, save_model
from engine.runs import RunRecord, RunStatus, save_run, utc_now
from engine.training import checkpoint as ckpt_io
from engine.training.data import class_weight_vector, collate, encode_texts, sorted_batches
from engine.training.devices import DeviceChoice, choose_device
from engine.failures import TrainingFailure
from engine.training.optim import TrainingParts
from engine.training.prepare import Prepared

if TYPE_CHECKING:
    from engine.vault import Vault

log = logging.getLogger(__name__)
PartsFactory = Callable[..., TrainingParts]
EARLY_STOPPING_METRIC = "macro_f1"  # higher is better; robust to class imbalance


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    def __init__(self, ws: Vault, prep: Prepared, run: RunRecord, *, cancel: CancelToken | None,
                 parts_factory: PartsFactory) -> None:
        self.ws, self.prep, self.run, self.cancel = ws, prep, run, cancel or CancelToken()
        self.config = prep.config
        self.parts_factory = parts_factory
        self.device: DeviceChoice | None = None

    # ---- set-up -------------------------------------------------------------------------
    def setup(self, resume_from: ckpt_io.Checkpoint | None) -> None:
        import torch

        from engine.models.folders import load_for_training

        config, prep = self.config, self.prep
        self.device = choose_device(config.device)
        seed_everything(config.seed)  # the new head's initial weights depend on it
        try:
            model, self.tokenizer = load_for_training(prep.model.path, prep.coding.names,
                                                      multi_label=config.multi_label)
        except InputError as exc:
            raise TrainingFailure(FailureKind.BAD_MODEL, str(exc)) from exc
        self.model = model.to(self.device.device)
        self.encoded = encode_texts(self.tokenizer, prep.texts, max_length=config.max_length)
        self.targets = torch.as_tensor(prep.coding.targets)
        self.parts = self.parts_factory(
            self.model, config=config, train_lengths=self.encoded.lengths[prep.train],
            device_type=self.device.device.type,
        )
        weight = None
        if config.class_weights:
            weight = torch.as_tensor(class_weight_vector(prep.coding, prep.train)).to(self.device.device)
        self.criterion = (torch.nn.BCEWithLogitsLoss(pos_weight=weight) if config.multi_label
                          else torch.nn.CrossEntropyLoss(weight=weight))
        self.scaler = torch.amp.GradScaler("cuda") if self.device.use_grad_scaler else None
        self.progress = ckpt_io.Progress()
        if resume_from is not None:
            self.model.load_state_dict(resume_from.model_state)
            self.parts.optimizer.load_state_dict(resume_from.optimizer_state)
            self.parts.scheduler.load_state_dict(resume_from.scheduler_state)
            if self.scaler is not None and resume_from.scaler_state:
                self.scaler.load_state_dict(resume_from.scaler_state)
            ckpt_io.restore_rng(resume_from.rng)
            self.progress = resume_from.progress

    def _autocast(self) -> Any:
        import torch

        if self.device is None or self.device.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.device.type, dtype=self.device.autocast_dtype)

    def _batch(self, rows: np.ndarray) -> tuple[dict[str, Any], Any]:
        dev = self.device.device  # type: ignore[union-attr]
        # Padding to a multiple of 8 lets tensor cores work; on CPU it only adds work.
        inputs = collate(self.encoded, rows, pad_to_multiple=8 if dev.type == "cuda" else 1)
        inputs = {k: v.to(dev, non_blocking=True) for k, v in inputs.items()}
        return inputs, self.targets[rows].to(dev, non_blocking=True)

    # ---- evaluation ---------------------------------------------------------------------
    def predict_proba(self, rows: np.ndarray) -> tuple[np.ndarray, float]:
        """Probabilities for ``rows`` (in their order) and the mean loss."""
        import torch

        self.model.eval()
        out = np.zeros((len(rows), len(self.prep.coding.names)), dtype=np.float32)
        loss_sum, batch = 0.0, max(32, 2 * self.config.batch_size)
        with torch.inference_mode():
            for positions in sorted_batches(self.encoded.lengths[rows], batch_size=batch):
                inputs, targets = self._batch(rows[positions])
                with self._autocast():
                    logits = self.model(**inputs).logits.float()
                loss_sum += float(self.criterion(logits, targets)) * len(positions)
                probs = torch.sigmoid(logits) if self.config.multi_label else torch.softmax(logits, -1)
                out[positions] = probs.cpu().numpy()
        self.model.train()
        return out, loss_sum / max(1, len(rows))

    def report(self, rows: np.ndarray, *, with_texts: bool) -> Any:
        from engine.evaluation.report import compute_report

        probs, loss = self.predict_proba(rows)
        texts = [self.prep.texts[i] for i in rows] if with_texts else None
        report = compute_report(
            self.prep.coding.targets[rows], probs, self.prep.coding.names, texts,
            multi_label=self.config.multi_label, max_misclassified=None if with_texts else 0,
        )
        return report, loss

    def validate(self, epoch: float) -> Iterator[Event]:
        """Evaluate on the validation split; keep the best weights; count patience."""
        p = self.progress
        if len(self.prep.validation) == 0:
            return
        report, loss = self.report(self.prep.validation, with_texts=False)
        metrics = {"loss": loss, **report.headline()}
        p.history.append({"step": p.global_step, "epoch": epoch, "split": "validation", **metrics})
        yield Evaluated(step=p.global_step, epoch=epoch, split="validation", metrics=metrics)
        value = metrics[EARLY_STOPPING_METRIC]
        if p.best_metric is None or value > p.best_metric + 1e-9:
            p.best_metric, p.best_step, p.evals_without_improvement = value, p.global_step, 0
            save_model(self.ws, f"runs/{self.run.run_id}/model", self.model, self.tokenizer)
        else:
            p.evals_without_improvement += 1
            patience = self.config.early_stopping_patience
            if patience is not None and p.evals_without_improvement >= patience:
                p.stopped_early = True

    # ---- checkpoints ----------------------------------------------------------------------
    def save_checkpoint(self, elapsed: float) -> str:
        self.progress.elapsed_seconds = elapsed
        state = ckpt_io.Checkpoint(
            progress=self.progress,
            model_state=self.model.state_dict(),
            optimizer_state=self.parts.optimizer.state_dict(),
            scheduler_state=self.parts.scheduler.state_dict(),
            scaler_state=self.scaler.state_dict() if self.scaler is not None else None,
            rng=ckpt_io.capture_rng(),
        )
        key = ckpt_io.save_checkpoint(self.ws, self.run.run_id, state)
        log.info("run %s: checkpoint at step %d", self.run.run_id, self.progress.global_step)
        self.run = self.run.updated(history=list(self.progress.history), duration_seconds=elapsed,
                                    best_step=self.progress.best_step)
        save_run(self.ws, self.run)
        return key

    # ---- the loop -------------------------------------------------------------------------
    def train_step(self, group: list[np.ndarray], loss_acc: Any) -> int:
        """One optimizer step over ``group`` (its micro-batches); returns the rows it used.

        The loss is added to ``loss_acc`` on the device: reading it back would wait for the
        GPU, so that happens only when a ``Step`` event is due.
        """
        import torch

        optimizer, clip = self.parts.optimizer, self.config.grad_clip
        group_rows = sum(len(b) for b in group)
        optimizer.zero_grad(set_to_none=True)
        for positions in group:
            inputs, targets = self._batch(self.prep.train[positions])
            with self._autocast():
                logits = self.model(**inputs).logits
            # Weighted by rows so accumulated micro-batches equal one large batch.
            loss = self.criterion(logits.float(), targets) * (len(positions) / group_rows)
            (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
            loss_acc += loss.detach()
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        self.parts.scheduler.step()
        return group_rows

    def run_loop(self) -> Iterator[Event]:
        import torch

        config, parts, p = self.config, self.parts, self.progress
        dev = self.device.device  # type: ignore[union-attr]
        total = parts.total_steps
        t_start = time.perf_counter() - p.elapsed_seconds
        last_ckpt = loop_start = time.monotonic()
        report_every = max(1, total // 200)
        resumed_step = p.global_step
        window_rows, window_start = 0, time.perf_counter()
        loss_acc = torch.zeros((), device=dev)
        loss_n = 0
        yield Started(run_id=self.run.run_id, device=self.device.description,  # type: ignore[union-attr]
                      epochs=config.epochs, total_steps=total, train_rows=len(self.prep.train),
                      validation_rows=len(self.prep.validation), labels=self.prep.coding.names,
                      resumed_from_step=resumed_step)
        log.info("run %s: %d steps on %s, from step %d", self.run.run_id, total,
                 self.device.description, resumed_step)  # type: ignore[union-attr]
        self.model.train()
        while p.epoch < config.epochs and not p.stopped_early:
            batches = parts.batches_for_epoch(p.epoch)
            while p.batch_in_epoch < len(batches):
                if self.cancel.cancelled:
                    key = self.save_checkpoint(time.perf_counter() - t_start)
                    self.run = self.run.updated(status=RunStatus.CANCELLED)
                    save_run(self.ws, self.run)
                    yield Cancelled(step=p.global_step, checkpoint_key=key)
                    return
                group = batches[p.batch_in_epoch : p.batch_in_epoch + config.grad_accumulation]
                group_rows = self.train_step(group, loss_acc)
                p.batch_in_epoch += len(group)
                p.global_step += 1
                loss_n += 1
                window_rows += group_rows
                epoch_f = p.epoch + p.batch_in_epoch / len(batches)
                if p.global_step % report_every == 0 or p.global_step == total:
                    # The one host sync per report: the loss is summed on the device meanwhile.
                    mean_loss = float(loss_acc) / loss_n
                    now = time.perf_counter()
                    speed = window_rows / max(now - window_start, 1e-9)
                    steps_done = p.global_step - resumed_step
                    eta = (time.monotonic() - loop_start) / max(1, steps_done) * (total - p.global_step)
                    lr = parts.scheduler.get_last_lr()[0]
                    p.history.append({"step": p.global_step, "epoch": epoch_f, "loss": mean_loss, "lr": lr})
                    yield Step(step=p.global_step, total_steps=total, epoch=epoch_f, loss=mean_loss,
                               learning_rate=lr, samples_per_second=speed, eta_seconds=eta)
                    loss_acc.zero_()
                    loss_n, window_rows, window_start = 0, 0, time.perf_counter()
                if config.eval_every_steps and p.global_step % config.eval_every_steps == 0 \
                        and p.batch_in_epoch < len(batches):
                    yield from self.validate(epoch_f)
                    if p.stopped_early:
                        break
                if time.monotonic() - last_ckpt >= config.checkpoint_every_minutes * 60 \
                        and p.batch_in_epoch < len(batches):
                    key = self.save_checkpoint(time.perf_counter() - t_start)
                    last_ckpt = time.monotonic()
                    yield CheckpointSaved(step=p.global_step, epoch=epoch_f, key=key)
            if p.batch_in_epoch >= len(batches):
                p.epoch += 1
                p.batch_in_epoch = 0
                yield from self.validate(float(p.epoch))
            key = self.save_checkpoint(time.perf_counter() - t_start)
            last_ckpt = time.monotonic()
            yield CheckpointSaved(step=p.global_step, epoch=float(p.epoch), key=key)
        yield from self.finish(time.perf_counter() - t_start)

    def finish(self, elapsed: float) -> Iterator[Event]:
        from engine.evaluation.report import save_report

        p, run_id = self.progress, self.run.run_id
        model_prefix = f"runs/{run_id}/model"
        if self.config.select_best and p.best_step is not None:
            self.model.load_state_dict(load_state_dict(self.ws, model_prefix))
        else:
            save_model(self.ws, model_prefix, self.model, self.tokenizer)
        metrics: dict[str, float] = {}
        if len(self.prep.test):
            report, loss = self.report(self.prep.test, with_texts=True)
            save_report(self.ws, run_id, report)
            metrics = {**report.headline(), "loss": loss}
            yield Evaluated(step=p.global_step, epoch=float(p.epoch), split="test", metrics=metrics)
        best_val = next((h for h in p.history if h.get("split") == "validation"
                         and h["step"] == p.best_step), {})
        self.run = self.run.updated(
            status=RunStatus.FINISHED, finished=utc_now(), duration_seconds=elapsed, metrics=metrics,
            history=list(p.history), best_step=p.best_step,
            validation_metrics={k: v for k, v in best_val.items() if k not in ("step", "epoch", "split")},
        )
        save_run(self.ws, self.run)
        # A finished run needs no resume state; its optimizer moments are the bulk of the vault.
        if self.ws.has(ckpt_io.checkpoint_key(run_id)):
            self.ws.delete(ckpt_io.checkpoint_key(run_id))
        log.info("run %s finished in %.1f s (best step %s)", run_id, elapsed, p.best_step)
        yield Finished(run_id=run_id, duration_seconds=elapsed, metrics=metrics, best_step=p.best_step)
