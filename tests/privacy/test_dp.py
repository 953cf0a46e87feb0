"""privacy.dp on its own, with real Opacus and a tiny real BERT: the DP step, the budget."""
from __future__ import annotations

import copy

import pytest
import torch

from privacy.dp.budget import (
    DPSettingError,
    PRESETS,
    check_budget,
    default_delta,
    epsilon_for,
    noise_for_budget,
    sample_rate_for,
)
from privacy.dp.private import DPSettings, make_private
from tests.engine.tiny_model import make_tiny_bert

torch.set_num_threads(1)


def _tiny_classifier(tmp_path):
    from transformers import AutoModelForSequenceClassification

    folder = make_tiny_bert(tmp_path / "tiny")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=2)
    for m in model.modules():  # dropout off: the two steps must see the same forward pass
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    return model


def _batch(n: int, width: int = 7):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 60, (n, width), generator=g)
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
        "position_ids": torch.arange(width).unsqueeze(0).expand(n, width).contiguous(),
    }, torch.randint(0, 2, (n,), generator=g)


@pytest.mark.parametrize("mode", ["ghost", "hooks"])
def test_noiseless_unclipped_dp_step_equals_a_plain_step(tmp_path, mode) -> None:
    """As Opacus tests itself: σ = 0 and C huge make DP-SGD plain SGD on the mean gradient.

    The logical batch is every row (q = 1) split into two physical micro-batches, so the
    BatchMemoryManager-style accumulation is part of what is checked."""
    plain = _tiny_classifier(tmp_path)
    private_model = copy.deepcopy(plain)
    start = {k: v.clone() for k, v in plain.state_dict().items()}
    inputs, targets = _batch(8)
    criterion = torch.nn.CrossEntropyLoss()

    plain.train()
    opt = torch.optim.SGD(plain.parameters(), lr=0.5)
    criterion(plain(**inputs).logits, targets).backward()
    opt.step()

    settings = DPSettings(epsilon=8.0, delta=1e-3, max_grad_norm=1e6, logical_batch_size=8,
                          accountant="rdp", grad_sample_mode=mode)
    dp = make_private(private_model, torch.optim.SGD(private_model.parameters(), lr=0.5), criterion,
                      n_rows=8, epochs=1, settings=settings, noise_multiplier=0.0)
    assert dp.sample_rate == 1.0 and dp.grad_sample_mode == mode
    dp.optimizer.zero_grad(set_to_none=True)
    for part, last in ((slice(0, 4), False), (slice(4, 8), True)):
        logits = dp.module(**{k: v[part] for k, v in inputs.items()}).logits
        dp.backward(logits, targets[part], last)
    dp.step()
    a, b = plain.state_dict(), private_model.state_dict()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6, rtol=1e-5), name
    assert not torch.equal(a["classifier.weight"], start["classifier.weight"])  # the step moved it
    assert dp.steps_taken == 1


@pytest.mark.parametrize("mode", ["ghost", "hooks"])
def test_the_noise_comes_from_the_runs_secret_and_the_step_never_the_global_generator(tmp_path, mode) -> None:
    """The same batch, one noisy step: the weights follow the secret given (and the step), and
    nothing else; reseeding torch's global generator (what the public --seed does) changes
    nothing, and the global generator is left as it was."""
    base = _tiny_classifier(tmp_path)
    inputs, targets = _batch(8)

    def one_step(secret: int, global_seed: int) -> dict:
        model = copy.deepcopy(base)
        settings = DPSettings(epsilon=8.0, delta=1e-3, max_grad_norm=1.0, logical_batch_size=8,
                              accountant="rdp", grad_sample_mode=mode)
        dp = make_private(model, torch.optim.SGD(model.parameters(), lr=0.5), torch.nn.CrossEntropyLoss(),
                          n_rows=8, epochs=1, settings=settings, noise_multiplier=1.0)
        dp.use_secret(secret)
        dp.optimizer.zero_grad(set_to_none=True)
        dp.backward(dp.module(**inputs).logits, targets, True)
        torch.manual_seed(global_seed)
        state = torch.get_rng_state()
        dp.step()
        assert torch.equal(torch.get_rng_state(), state)  # no draw from the global generator
        return {k: v.clone() for k, v in model.state_dict().items()}

    a, again, other_seed, other_secret = one_step(7, 13), one_step(7, 13), one_step(7, 99), one_step(8, 13)
    assert all(torch.equal(a[k], again[k]) and torch.equal(a[k], other_seed[k]) for k in a)
    assert not torch.equal(a["classifier.weight"], other_secret["classifier.weight"])


def test_clipping_bounds_each_rows_gradient(tmp_path) -> None:
    """With σ = 0, one step with tiny C moves the weights by at most lr·C in L2 norm."""
    model = _tiny_classifier(tmp_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    settings = DPSettings(epsilon=8.0, delta=1e-3, max_grad_norm=1e-3, logical_batch_size=8,
                          accountant="rdp")
    dp = make_private(model, torch.optim.SGD(model.parameters(), lr=1.0), torch.nn.CrossEntropyLoss(),
                      n_rows=8, epochs=1, settings=settings, noise_multiplier=0.0)
    inputs, targets = _batch(8)
    dp.optimizer.zero_grad(set_to_none=True)
    dp.backward(dp.module(**inputs).logits, targets, True)
    dp.step()
    moved = torch.sqrt(sum(((model.state_dict()[k] - v).float() ** 2).sum() for k, v in before.items()))
    assert 0 < float(moved) <= 1e-3 * (1 + 1e-4)


def test_poisson_batches_are_seeded_and_have_the_right_rate(tmp_path) -> None:
    model = _tiny_classifier(tmp_path)
    settings = DPSettings(epsilon=8.0, delta=1e-4, logical_batch_size=50, accountant="rdp")
    dp = make_private(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.nn.CrossEntropyLoss(),
                      n_rows=1000, epochs=1, settings=settings)
    epoch0 = dp.poisson_batches(0, seed=13)
    assert len(epoch0) == 20 and dp.sample_rate == 1 / 20
    assert all(torch.equal(torch.as_tensor(a), torch.as_tensor(b)) for a, b in zip(epoch0, dp.poisson_batches(0, seed=13)))
    assert any(len(a) != len(b) or (a != b).any() for a, b in zip(epoch0, dp.poisson_batches(1, seed=13)))
    sizes = [len(b) for b in epoch0]
    assert len(set(sizes)) > 1 and 35 < sum(sizes) / len(sizes) < 65  # random sizes around 50


def test_epsilon_matches_a_fresh_opacus_accountant() -> None:
    from opacus.accountants import PRVAccountant, RDPAccountant

    q = sample_rate_for(3000, 256)
    assert q == 1 / 12
    for mechanism, cls in (("rdp", RDPAccountant), ("prv", PRVAccountant)):
        acc = cls()
        for _ in range(36):
            acc.step(noise_multiplier=1.1, sample_rate=q)
        ours = epsilon_for(noise_multiplier=1.1, sample_rate=q, steps=36, delta=1e-5, accountant=mechanism)
        assert ours == pytest.approx(acc.get_epsilon(delta=1e-5), rel=1e-9)


def test_noise_is_calibrated_to_the_budget() -> None:
    q = sample_rate_for(2000, 100)
    sigma = noise_for_budget(epsilon=3.0, delta=1e-4, sample_rate=q, steps=60, logical_batch_size=100,
                             accountant="rdp")
    spent = epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=60, delta=1e-4, accountant="rdp")
    assert 2.9 < spent <= 3.0


def test_delta_at_or_above_one_over_n_is_refused_with_the_reason() -> None:
    (problem,) = check_budget(epsilon=8, delta=0.01, n_rows=100, logical_batch_size=10,
                              max_grad_norm=1.0, accountant="prv")
    assert "δ = 0.01 is not below 1/N = 0.01 for N = 100" in problem
    assert "published one randomly chosen row in full" in problem
    assert f"{default_delta(100):.3g}" in problem
    assert default_delta(100) == pytest.approx(100 ** -1.1) and default_delta(100) < 1 / 100


@pytest.mark.parametrize("changes, words", [
    ({"epsilon": float("inf")}, "ε is inf: use a positive, finite budget"),
    ({"epsilon": float("nan")}, "ε is nan: use a positive, finite budget"),
    ({"epsilon": 0.0}, "ε is 0.0: use a positive, finite budget"),
    ({"delta": -1.0}, "δ = -1 is not a probability above 0 and below 1"),
    ({"delta": 0.0}, "δ = 0 is not a probability above 0 and below 1"),
    ({"delta": 2.0, "n_rows": 0}, "δ = 2 is not a probability"),  # refused before the rows are known
    ({"delta": float("nan")}, "δ = nan is not a probability"),
    ({"max_grad_norm": float("inf")}, "clipping norm C is inf"),
    # A huge ε hung the CLI for many minutes in Opacus's search for the noise.
    ({"epsilon": 1e9}, "ε = 1e+09 is a budget that bounds nothing: above 100 the guarantee is empty"),
    ({"n_rows": 1, "logical_batch_size": 1}, "only 1 row to train on"),
    ({"n_rows": 1, "logical_batch_size": 1, "units": "people"}, "only 1 person to train on"),
])
def test_budgets_that_guarantee_nothing_are_refused(changes, words) -> None:
    settings = {"epsilon": 8.0, "delta": None, "n_rows": 100, "logical_batch_size": 10,
                "max_grad_norm": 1.0, "accountant": "prv"} | changes
    (problem,) = check_budget(**settings)
    assert words in problem


def test_logical_batch_larger_than_the_data_is_refused() -> None:
    (problem,) = check_budget(epsilon=8, delta=None, n_rows=100, logical_batch_size=256,
                              max_grad_norm=1.0, accountant="prv")
    assert "logical batch of 256 rows is larger than the 100 training rows" in problem
    assert "use at most 100 (a quarter, 25, gives four noisy steps an epoch)" in problem


def test_too_small_an_epsilon_says_training_cannot_progress() -> None:
    import re

    setting = dict(delta=1e-5, sample_rate=sample_rate_for(500, 16), steps=300,
                   logical_batch_size=16, accountant="rdp")
    with pytest.raises(DPSettingError, match="ε = 0.01 is too small for training to make progress") as refused:
        noise_for_budget(epsilon=0.01, **setting)
    # It names the smallest ε that works with these settings (fewer epochs alone would not do
    # it: the advice once sent users round in circles), and that ε is indeed accepted.
    least = float(re.search(r"ε = ([0-9.]+) or more works", str(refused.value)).group(1))
    assert 0.01 < least < 1
    assert noise_for_budget(epsilon=least, **setting) <= 16


def test_presets_say_what_they_mean() -> None:
    assert set(PRESETS) == {1.0, 3.0, 8.0}
    assert all("e^" in text for text in PRESETS.values())
    assert all("whether any one row was used" in text for text in PRESETS.values())  # the unit


def test_batchnorm_model_gets_an_actionable_message() -> None:
    from privacy.dp.validate import check_model

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4))
    with pytest.raises(DPSettingError, match="choose a model that uses LayerNorm"):
        check_model(model)


def test_the_budget_guard_stops_before_epsilon_passes_the_target() -> None:
    from privacy.dp.budget import steps_within_budget

    q = sample_rate_for(2000, 100)
    sigma = noise_for_budget(epsilon=3.0, delta=1e-4, sample_rate=q, steps=60, logical_batch_size=100,
                             accountant="rdp")
    assert steps_within_budget(noise_multiplier=sigma, sample_rate=q, planned_steps=60, epsilon=3.0,
                               delta=1e-4, accountant="rdp") == 60
    # Less noise than calibrated: the budget runs out early, and the guard says exactly when.
    limit = steps_within_budget(noise_multiplier=sigma * 0.9, sample_rate=q, planned_steps=60,
                                epsilon=3.0, delta=1e-4, accountant="rdp")
    spent = [epsilon_for(noise_multiplier=sigma * 0.9, sample_rate=q, steps=k, delta=1e-4, accountant="rdp")
             for k in (limit, limit + 1)]
    assert 0 < limit < 60 and spent[0] <= 3.0 < spent[1]


def test_live_epsilon_is_never_below_what_is_spent_and_costs_at_most_ten_evaluations(monkeypatch) -> None:
    from opacus.accountants import create_accountant

    import privacy.dp.private as private

    calls = []
    real = private.epsilon_for

    def counted(**kw):
        calls.append(kw["steps"])
        return real(**kw)

    monkeypatch.setattr(private, "epsilon_for", counted)
    q, sigma, planned, delta = sample_rate_for(4000, 128), 0.6, 64, 1e-4
    training = private.PrivateTraining(
        module=None, optimizer=None, criterion=None,
        settings=DPSettings(epsilon=8.0, delta=delta, accountant="rdp"), noise_multiplier=sigma,
        sample_rate=q, n_rows=4000, steps_per_epoch=32, max_steps=planned,
        accountant=create_accountant("rdp"), grad_sample_mode="ghost")
    shown = [training.epsilon_report(k) for k in range(1, planned + 1)]
    spent = [epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=k, delta=delta, accountant="rdp")
             for k in range(1, planned + 1)]
    assert all(s >= e - 1e-12 for s, e in zip(shown, spent))
    assert shown[-1] == pytest.approx(spent[-1], rel=1e-12)  # exact at the end
    assert shown == sorted(shown) and len(set(calls)) == len(calls) <= 10
