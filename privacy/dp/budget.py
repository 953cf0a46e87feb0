"""The privacy budget: ε presets and their meaning, δ, the noise it takes, the steps it allows.

Everything here is a pure function of (ε, δ, N, sampling rate, steps) computed with Opacus's own
accountants, so the figures a user is shown are the ones the accountant will report.
"""
from __future__ import annotations

import math
import warnings

from privacy.errors import PrivacyError

ACCOUNTANTS = ("prv", "rdp")  # PRV is tighter (Gopi et al. 2021); RDP is the classic bound

# ε is a bound on how much more likely any output becomes because one row was in the training
# set: at most e^ε times. The meanings below say that in words a data owner can weigh.
# Each says its unit ("any one row") whole, for the Train page to say it of a person instead,
# and claims nothing an auditor could not check (an earlier text cited unnamed attacks).
PRESETS: dict[float, str] = {
    1.0: "Strong: whether any one row was used changes the chance of anything the model can "
         "reveal by at most e^1 ≈ 2.7 times. Costs the most accuracy; needs many thousands of rows.",
    3.0: "Moderate: whether any one row was used changes it by at most e^3 ≈ 20 times. A common "
         "choice for sensitive records when there are tens of thousands of rows.",
    8.0: "Common in published deep-learning work: whether any one row was used changes it by at "
         "most e^8 ≈ 3000 times. A worst-case bound; costs the least accuracy of the three.",
}

# When the noise added to a step's average gradient is larger than that gradient can be (each
# row contributes at most C, so the average is at most C), training cannot make progress.
MAX_NOISE_TO_SIGNAL = 1.0
MAX_EPSILON = 100.0  # the app's ε box stops here too


class DPSettingError(PrivacyError):
    """A differential-privacy setting that cannot work; the message says what to change."""

    exit_code = 2


def default_delta(n_rows: int) -> float:
    """1/N^1.1: below 1/N (see ``check_budget``), shrinking faster than 1/N as data grows."""
    return 1.0 / float(n_rows) ** 1.1


def sample_rate_for(n_rows: int, logical_batch_size: int) -> float:
    """Opacus's rate for a logical batch: 1/len(loader), the loader being ceil(N/B) batches."""
    return 1.0 / math.ceil(n_rows / logical_batch_size)


def check_budget(*, epsilon: float, delta: float | None, n_rows: int, logical_batch_size: int,
                 max_grad_norm: float, accountant: str, units: str = "training rows") -> list[str]:
    """Every problem with these DP settings, each saying what to change. Empty when fine.

    ``n_rows`` counts the units of privacy, named by ``units`` in the messages: training rows,
    or the people in them when one person's rows are grouped (``engine.training.private``)."""
    problems: list[str] = []
    noun = units.split()[-1]  # "rows", "people"
    one = "row" if noun == "rows" else "person's rows"
    if not 0 < epsilon < math.inf:  # inf would pass as "DP" with no guarantee at all; nan is never > 0
        problems.append(f"ε is {epsilon}: use a positive, finite budget such as 8 (standard), 3 or "
                        "1 (strong)")
    elif epsilon > MAX_EPSILON:
        # e^ε bounds how much likelier any outcome becomes with one row in: past this, nothing
        # (and Opacus's PRV search for the noise runs for many minutes before giving up).
        problems.append(f"ε = {epsilon:g} is a budget that bounds nothing: above {MAX_EPSILON:g} "
                        "the guarantee is empty; use 8 (standard) or less, or train without --dp")
    if 0 < n_rows < 2:
        problems.append(f"only {n_rows} {noun[:-1] if noun == 'rows' else 'person'} to train on: "
                        f"DP protects each of many {noun} by hiding them among the others; use a "
                        "dataset (or a person column) with many more")
    if accountant not in ACCOUNTANTS:
        problems.append(f"accountant '{accountant}' is unknown: use {' or '.join(ACCOUNTANTS)}")
    if not 0 < max_grad_norm < math.inf:
        problems.append(f"clipping norm C is {max_grad_norm}: use a small positive value such as 1.0")
    if logical_batch_size < 1:
        problems.append(f"logical batch size is {logical_batch_size}: use 1 or more (256 to 1024 suit DP)")
    elif n_rows > 0 and logical_batch_size > n_rows:
        problems.append(
            f"the logical batch of {logical_batch_size} {noun} is larger than the {n_rows} "
            f"{units}: each step would sample all of them; use at most {n_rows} (a quarter, "
            f"{max(1, n_rows // 4)}, gives four noisy steps an epoch) or add data"
        )
    if delta is not None and not 0 < delta < 1:
        problems.append(f"δ = {delta:g} is not a probability above 0 and below 1: leave it out for "
                        "the default 1/N^1.1, or give a small positive value such as 1e-6")
    elif delta is not None and n_rows > 0:
        if not delta < 1.0 / n_rows:
            problems.append(
                f"δ = {delta:g} is not below 1/N = {1.0 / n_rows:g} for N = {n_rows} {units}. "
                "δ is the chance that the guarantee fails outright; with δ ≥ 1/N a method that "
                f"published one randomly chosen {one} in full would pass, so it protects no one. "
                f"Use the default 1/N^1.1 = {default_delta(n_rows):.3g} or smaller"
            )
    return problems


def _accountant(mechanism: str):
    from opacus.accountants import create_accountant

    return create_accountant(mechanism=mechanism)


def epsilon_for(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                accountant: str) -> float:
    """ε after ``steps`` Poisson-sampled steps, from a fresh Opacus accountant."""
    if steps <= 0:
        return 0.0
    acc = _accountant(accountant)
    acc.history = [(noise_multiplier, sample_rate, steps)]
    return float(acc.get_epsilon(delta=delta))


def noise_for_budget(*, epsilon: float, delta: float, sample_rate: float, steps: int,
                     logical_batch_size: int, accountant: str) -> float:
    """The noise multiplier σ that spends exactly (about) ``epsilon`` over ``steps``.

    Raises ``DPSettingError`` when the budget is so small that the noise would swamp the
    gradient (σ above the expected logical batch size), or Opacus finds no σ at all.
    """
    from opacus.accountants.utils import get_noise_multiplier

    def refused() -> DPSettingError:
        return DPSettingError(too_small(epsilon, delta=delta, sample_rate=sample_rate, steps=steps,
                                        logical_batch_size=logical_batch_size, accountant=accountant))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sigma = float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta,
                                               sample_rate=sample_rate, steps=steps,
                                               accountant=accountant))
    except (ValueError, RuntimeError) as exc:  # no σ at all spends so little (PRV: RuntimeError)
        raise refused() from exc
    if sigma / logical_batch_size > MAX_NOISE_TO_SIGNAL:
        raise refused()
    return sigma


def smallest_workable_epsilon(*, delta: float, sample_rate: float, steps: int,
                              logical_batch_size: int, accountant: str) -> float | None:
    """The ε these steps spend at the most noise training can take (σ = the logical batch
    times MAX_NOISE_TO_SIGNAL): any smaller budget is refused. None if the accountant fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # RDP's "optimal order is the largest alpha"
            least = epsilon_for(noise_multiplier=MAX_NOISE_TO_SIGNAL * logical_batch_size,
                                sample_rate=sample_rate, steps=steps, delta=delta,
                                accountant=accountant)
        # Opacus's search for σ stops within 0.01 of the target ε, erring on more noise; past
        # that, rounded up to two significant figures, the ε shown is one that works.
        least += 0.02
        step = 10.0 ** (math.floor(math.log10(least)) - 1)
        return round(math.ceil(least / step - 1e-9) * step, 10)
    except (ValueError, ArithmeticError):
        return None


def too_small(epsilon: float, *, delta: float, sample_rate: float, steps: int,
              logical_batch_size: int, accountant: str) -> str:
    """Why ``epsilon`` is refused, with the smallest ε that these settings can train with. The
    σ Opacus gives back for a hopeless ε is its search's ceiling, not what the ε needs, so it is
    not quoted."""
    least = smallest_workable_epsilon(delta=delta, sample_rate=sample_rate, steps=steps,
                                      logical_batch_size=logical_batch_size, accountant=accountant)
    floor = (f" With these rows, batch and epochs, ε = {least:g} or more works; "
             if least is not None else " ")
    return (
        f"ε = {epsilon:g} is too small for training to make progress: it needs more noise on "
        f"every step than the average gradient of a {logical_batch_size}-row batch can bear."
        f"{floor}use a larger ε (8 is standard), or more rows"
    )


def steps_within_budget(*, noise_multiplier: float, sample_rate: float, planned_steps: int,
                        epsilon: float, delta: float, accountant: str) -> int:
    """The most steps, up to ``planned_steps``, whose ε stays at or below ``epsilon``.

    The noise is calibrated for ``planned_steps``, so this is normally all of them; the search
    guards against the accountant's numerical tolerance ever letting ε pass the target.
    """
    def eps(k: int) -> float:
        return epsilon_for(noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=k,
                           delta=delta, accountant=accountant)

    if eps(planned_steps) <= epsilon:
        return planned_steps
    lo, hi = 0, planned_steps  # eps(lo) <= epsilon < eps(hi); ε grows with the steps
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if eps(mid) <= epsilon else (lo, mid)
    return lo
