"""The start-small ladder: climb candidate models smallest first, stopping each rung early.

A rung is one (model, shot count, system prompt) configuration. The ladder evaluates the
user's examples on a rung in a seeded random order and stops as soon as the evidence is
decisive; a rung that falls short sends the climb to the next rung, an accepted rung ends it.
Everything here is pure logic: the runner asks :meth:`Ladder.next_call` what to run, runs it,
and reports the outcome with :meth:`Ladder.record`.

What "meets the bar" means
    The bar applies to the pass rate on the user's examples: a rung meets it when evaluating
    every example would give ``passes / N >= bar``. Early stopping predicts that answer from
    a random prefix of the examples, in two ways:

    - *by count* (no error possible): the passes so far already reach ``bar * N``, or even
      passing every remaining example could no longer reach it;
    - *by bound*: a confidence bound on the model's pass rate is on one side of the bar
      (accept when the lower bound is ``>= bar``, reject when the upper bound is ``< bar``).

How repeated looks are paid for (always-valid error control)
    Looking at a confidence interval after every example and stopping at the first decisive
    one inflates the error far beyond ``1 - confidence``. The bounds are therefore checked only
    at a geometric schedule of looks (``min_examples``, then x ``look_ratio`` each time) and the
    error budget ``alpha = 1 - confidence`` is split over those looks (Bonferroni
    alpha-spending): with a known number of examples N, each of the K looks before N gets
    ``alpha / K``; with no known end, look k gets ``alpha / (k (k + 1))`` (these sum to
    ``alpha``). Each look uses a one-sided bound at its share, so whatever the true rate, the
    chance that any look ever decides wrongly is at most ``alpha`` (union bound). Decisions by
    count need no share. Drawing the examples without replacement from a finite set only makes
    the binomial bounds more conservative (Hoeffding 1963, section 6). The guarantee is exact
    with Clopper-Pearson bounds; Wilson bounds are an approximation (they can cover less than
    claimed at small n or rates near 0 or 1) offered because they stop a little sooner.

Climb order
    For each model in the order given (smallest first), its rungs by shot count ascending
    (rungs with equal shots keep the order given, e.g. system prompts). An accepted rung ends
    the climb; a rejected one moves to the next rung, so more shots are tried on a model before
    a bigger model, and a bigger model only after every cheaper rung was rejected.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Literal, NamedTuple

from llmscout.errors import InvalidValueError

Verdict = Literal["accept", "reject", "continue"]
Basis = Literal["bound", "count", "pending"]
Method = Literal["clopper-pearson", "wilson"]
METHODS: tuple[Method, ...] = ("clopper-pearson", "wilson")

_EPS = 1e-9  # float slack when comparing bar * N with a count


# ---------------------------------------------------------------- intervals


def _check_counts(passes: int, n: int, confidence: float) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidValueError("n", n, "a whole number >= 0")
    if isinstance(passes, bool) or not isinstance(passes, int) or not 0 <= passes <= n:
        raise InvalidValueError("passes", passes, f"a whole number from 0 to n={n}")
    if not 0.0 < confidence < 1.0:
        raise InvalidValueError("confidence", confidence, "a number between 0 and 1, e.g. 0.95")


def wilson_interval(passes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson score interval for a pass rate; ``(0, 1)`` when ``n == 0``.

    Example: ``wilson_interval(7, 10)`` -> ``(0.3968, 0.8922)`` (rounded).
    """
    _check_counts(passes, n, confidence)
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    p = passes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_interval(passes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval for a pass rate; ``(0, 1)`` when ``n == 0``.

    Each end is a beta quantile (Clopper & Pearson 1934): lower = B(a/2; x, n-x+1),
    upper = B(1-a/2; x+1, n-x). Example: ``clopper_pearson_interval(7, 10)`` ->
    ``(0.3475, 0.9333)`` (rounded).
    """
    _check_counts(passes, n, confidence)
    return _cp_cached(passes, n, confidence)


@lru_cache(maxsize=65536)
def _cp_cached(passes: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    tail = (1.0 - confidence) / 2.0
    lower = 0.0 if passes == 0 else beta_quantile(tail, passes, n - passes + 1)
    upper = 1.0 if passes == n else beta_quantile(1.0 - tail, passes + 1, n - passes)
    return lower, upper


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the beta distribution's CDF, by its continued fraction (modified Lentz).

    The fraction converges fast for x < (a + 1) / (a + b + 2); above that the symmetry
    I_x(a, b) = 1 - I_{1-x}(b, a) is used (Abramowitz & Stegun 26.5.8).
    """
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of I_x(a, b) (A&S 26.5.8), evaluated by modified Lentz."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        # even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m))
        coef = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        d = 1.0 + coef * d
        c = 1.0 + coef / c
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = c if abs(c) > tiny else tiny
        result *= d * c
        # odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
        coef = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        d = 1.0 + coef * d
        c = 1.0 + coef / c
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = c if abs(c) > tiny else tiny
        step = d * c
        result *= step
        if abs(step - 1.0) < 1e-15:
            break
    return result


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = q: Newton steps kept inside a shrinking bisection bracket.

    I_x is increasing in x, so the bracket always holds the root; a Newton step that would
    leave it (or barely shrink it) is replaced by a bisection, so this always converges.
    """
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    x = a / (a + b)
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    for _ in range(200):
        err = regularized_beta(x, a, b) - q
        if err < 0.0:
            lo = x
        else:
            hi = x
        density = math.exp(log_norm + (a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x))
        step = err / density if density > 0.0 else math.inf
        nxt = x - step
        if not lo < nxt < hi or abs(step) > (hi - lo) / 2.0:
            nxt = (lo + hi) / 2.0
        if abs(nxt - x) < 1e-14 or hi - lo < 1e-14:
            return nxt
        x = nxt
    return x


def _one_sided_bounds(passes: int, n: int, alpha: float, method: Method) -> tuple[float, float]:
    """Lower and upper bounds that each fail with probability <= alpha (a 1 - 2 alpha interval)."""
    confidence = 1.0 - 2.0 * alpha
    if method == "wilson":
        return wilson_interval(passes, n, confidence)
    return clopper_pearson_interval(passes, n, confidence)


# ---------------------------------------------------------------- one rung: the sequential test


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a sequential test stands after an outcome: the verdict and the current interval.

    ``basis`` says why: "count" (certain from the counts), "bound" (a confidence bound is on
    one side of the bar) or "pending" (no verdict yet). ``interval`` is the always-valid one:
    each end is a one-sided bound at error ``alpha`` (the share of the latest look).
    """

    verdict: Verdict
    n: int
    passes: int
    basis: Basis = "pending"
    alpha: float = 0.025
    method: Method = "clopper-pearson"

    @property
    def done(self) -> bool:
        return self.verdict != "continue"

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        """Computed when read (the tests only need it at their looks)."""
        if self.n == 0:
            return 0.0, 1.0
        return _one_sided_bounds(self.passes, self.n, self.alpha, self.method)


def look_schedule(min_examples: int, max_examples: int | None, ratio: float,
                  limit: int = 1_000_000) -> list[int]:
    """Sample sizes at which bounds are checked: min_examples, then x ratio, all below the end."""
    end = max_examples if max_examples is not None else limit
    looks: list[int] = []
    n = min_examples
    while n < end:
        looks.append(n)
        n = max(n + 1, math.ceil(n * ratio))
    return looks


class SequentialTest:
    """Decide whether a pass rate meets ``bar`` while outcomes arrive one by one.

    Args:
        bar: the pass rate to meet, in (0, 1].
        confidence: 1 - the chance of any wrong verdict by bound over all looks.
        min_examples: the first look; no verdict by bound before it.
        max_examples: the number of examples there are (N), or None for an open-ended stream.
            With N, the last outcome always settles the verdict by count: accept iff
            ``passes >= bar * N``, the same as evaluating every example.
        method: the interval behind the bounds, "clopper-pearson" (exact) or "wilson".
        look_ratio: growth of the look schedule (see the module docstring).

    Example::

        test = SequentialTest(0.8, max_examples=50)
        for passed in outcomes:
            decision = test.update(passed)
            if decision.done:
                break
    """

    def __init__(self, bar: float, confidence: float = 0.95, min_examples: int = 5,
                 max_examples: int | None = None, method: Method = "clopper-pearson",
                 look_ratio: float = 1.5) -> None:
        _check_test_args(bar, confidence, min_examples, max_examples, method, look_ratio)
        self.bar = bar
        self.confidence = confidence
        self.min_examples = min_examples
        self.max_examples = max_examples
        self.method = method
        self.alpha = 1.0 - confidence
        self._looks = look_schedule(min_examples, max_examples, look_ratio)
        self._look_index = {n: k for k, n in enumerate(self._looks)}
        self._needed = None if max_examples is None else math.ceil(bar * max_examples - _EPS)
        self.n = 0
        self.passes = 0
        self.decision = Decision("continue", 0, 0, "pending", self.alpha_now(), method)

    def alpha_at_look(self, k: int) -> float:
        """The error share of look k (0-based), one-sided."""
        if self.max_examples is not None:
            return self.alpha / len(self._looks)
        return self.alpha / ((k + 1) * (k + 2))

    def alpha_now(self) -> float:
        """The one-sided error of the bounds at the current n: the latest look's share.

        Before the first look it is the first look's share; with no look at all
        (``min_examples >= N``) it is ``alpha / 2``, a plain interval at ``confidence``.
        """
        if not self._looks:
            return self.alpha / 2.0
        return self.alpha_at_look(max(0, bisect.bisect_right(self._looks, self.n) - 1))

    def interval(self) -> tuple[float, float]:
        """The always-valid interval now (see :class:`Decision`)."""
        return self.decision.interval

    def update(self, passed: bool) -> Decision:
        """Add one outcome and return the decision; a decided test refuses more outcomes."""
        if self.decision.done:
            raise InvalidValueError("passed", passed,
                                    f"no more outcomes: the test already decided "
                                    f"'{self.decision.verdict}' after {self.n} examples")
        self.n += 1
        self.passes += bool(passed)
        self.decision = self._decide()
        return self.decision

    def _decide(self) -> Decision:
        verdict: Verdict = "continue"
        basis: Basis = "pending"
        if self._needed is not None:
            remaining = self.max_examples - self.n  # type: ignore[operator]
            if self.passes >= self._needed:
                verdict, basis = "accept", "count"
            elif self.passes + remaining < self._needed:
                verdict, basis = "reject", "count"
        alpha = self.alpha_now()
        if verdict == "continue" and self.n in self._look_index:
            lower, upper = _one_sided_bounds(self.passes, self.n, alpha, self.method)
            if lower >= self.bar:
                verdict, basis = "accept", "bound"
            elif upper < self.bar:
                verdict, basis = "reject", "bound"
        return Decision(verdict, self.n, self.passes, basis, alpha, self.method)


def _check_test_args(bar: float, confidence: float, min_examples: int,
                     max_examples: int | None, method: str, look_ratio: float) -> None:
    if not 0.0 < bar <= 1.0:
        raise InvalidValueError("bar", bar, "a pass rate in (0, 1], e.g. 0.8")
    if not 0.0 < confidence < 1.0:
        raise InvalidValueError("confidence", confidence, "a number between 0 and 1, e.g. 0.95")
    if isinstance(min_examples, bool) or not isinstance(min_examples, int) or min_examples < 1:
        raise InvalidValueError("min_examples", min_examples, "a whole number >= 1")
    if max_examples is not None and (not isinstance(max_examples, int) or max_examples < 1):
        raise InvalidValueError("max_examples", max_examples, "a whole number >= 1 or None")
    if method not in METHODS:
        raise InvalidValueError("method", method, " | ".join(METHODS))
    if not look_ratio > 1.0:
        raise InvalidValueError("look_ratio", look_ratio, "a number > 1, e.g. 1.5")


# ---------------------------------------------------------------- the ladder


class Rung(NamedTuple):
    """One configuration to try: a model, a number of few-shot examples, a system prompt."""

    model_key: str
    shots: int = 0
    system_prompt_idx: int = 0

    def label(self) -> str:
        return f"{self.model_key} / {self.shots}-shot / prompt {self.system_prompt_idx}"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_key, "shots": self.shots,
                "system_prompt_idx": self.system_prompt_idx}


def plan_order(example_ids: Iterable[str], seed: int = 0) -> list[str]:
    """The example ids in a seeded random order, the same on every machine and Python version.

    Each id is ranked by a hash of (seed, id), so the order does not depend on the order the
    ids come in, and adding an example does not reorder the others (a resumed run stays valid).
    """
    ids = list(example_ids)
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise InvalidValueError("example_ids", dupes[:5], "unique example ids")

    def rank(example_id: str) -> bytes:
        return hashlib.sha256(f"{seed}\x00{example_id}".encode()).digest()

    return sorted(ids, key=lambda i: (rank(i), i))


def climb_order(rungs: Sequence[Rung | tuple]) -> list[Rung]:
    """Models in the order given (smallest first), each model's rungs by shots ascending."""
    parsed = [r if isinstance(r, Rung) else Rung(*r) for r in rungs]
    if len(set(parsed)) != len(parsed):
        raise InvalidValueError("rungs", [r.label() for r in parsed if parsed.count(r) > 1][:3],
                                "each (model, shots, system prompt) once")
    first_seen: dict[str, int] = {}
    for r in parsed:
        first_seen.setdefault(r.model_key, len(first_seen))
    return sorted(parsed, key=lambda r: (first_seen[r.model_key], r.shots))


@dataclass(frozen=True, slots=True)
class RungResult:
    """What the ladder found on one rung (n = 0 and "continue" for a rung never reached)."""

    rung: Rung
    n: int
    passes: int
    interval: tuple[float, float]
    decision: Verdict
    basis: Basis

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {**self.rung.to_dict(), "n": self.n, "passes": self.passes,
                "pass_rate": self.pass_rate, "interval": list(self.interval),
                "decision": self.decision, "basis": self.basis}


@dataclass(frozen=True, slots=True)
class LadderResult:
    """The smallest rung that meets the bar (``winner``), or None with the ``best`` one found."""

    winner: Rung | None
    best: Rung | None
    rungs: tuple[RungResult, ...]
    calls_used: int
    done: bool
    bar: float
    confidence: float
    examples: int

    def for_rung(self, rung: Rung) -> RungResult:
        return next(r for r in self.rungs if r.rung == rung)

    def to_dict(self) -> dict[str, Any]:
        return {"winner": self.winner.to_dict() if self.winner else None,
                "best": self.best.to_dict() if self.best else None,
                "meets_bar": self.winner is not None, "done": self.done,
                "bar": self.bar, "confidence": self.confidence, "examples": self.examples,
                "calls_used": self.calls_used,
                "rungs": [r.to_dict() for r in self.rungs]}


@dataclass(frozen=True, slots=True)
class LadderStatus:
    """Progress for a display: the rung being evaluated and how far along it is."""

    done: bool
    current: Rung | None
    n: int  # examples evaluated on the current rung
    calls_used: int
    rungs_left: int  # rungs after the current one
    interval: tuple[float, float] = field(default=(0.0, 1.0))


class Ladder:
    """The climb as a state machine the runner drives (see the module docstring for the order).

    Args:
        rungs: the configurations to try, models smallest first.
        bar, confidence, min_examples, method: passed to each rung's :class:`SequentialTest`.
        seed: seeds the example order (:func:`plan_order`), the same order on every rung.
        example_ids: the user's examples (N = their number).
        outcomes: outcomes recorded earlier, as ``(rung, example_id, passed)``; the ladder
            resumes exactly where those leave it, without asking for any of them again.

    Example::

        ladder = Ladder(rungs, bar=0.8, example_ids=ids)
        while (call := ladder.next_call()) is not None:
            rung, example_id = call
            ladder.record(rung, example_id, run_and_score(rung, example_id))
        result = ladder.result()
    """

    def __init__(self, rungs: Sequence[Rung | tuple], bar: float, confidence: float = 0.95,
                 seed: int = 0, *, example_ids: Iterable[str], min_examples: int = 5,
                 method: Method = "clopper-pearson", look_ratio: float = 1.5,
                 outcomes: Iterable[tuple[Rung | tuple, str, bool]] = ()) -> None:
        self.rungs = climb_order(rungs)
        if not self.rungs:
            raise InvalidValueError("rungs", [], "at least one (model, shots, system prompt)")
        self.order = plan_order(example_ids, seed)
        if not self.order:
            raise InvalidValueError("example_ids", [], "at least one example")
        self.bar, self.confidence, self.seed = bar, confidence, seed
        self._tests = {r: SequentialTest(bar, confidence, min(min_examples, len(self.order)),
                                         len(self.order), method, look_ratio)
                       for r in self.rungs}
        self._known = set(self.order)
        self._recorded: dict[Rung, dict[str, bool]] = {r: {} for r in self.rungs}
        self._current = 0
        for rung, example_id, passed in outcomes:
            self._store(rung, example_id, passed)
        self._advance()

    def _store(self, rung: Rung | tuple, example_id: str, passed: bool) -> None:
        key = rung if isinstance(rung, Rung) else Rung(*rung)
        if key not in self._recorded:
            raise InvalidValueError("rung", tuple(key), "one of the ladder's rungs")
        if example_id not in self._known:
            raise InvalidValueError("example_id", example_id, "one of the ladder's example ids")
        self._recorded[key][example_id] = bool(passed)

    def _advance(self) -> None:
        """Feed each rung's test the recorded outcomes in plan order, as far as they go."""
        while self._current < len(self.rungs):
            rung = self.rungs[self._current]
            test, seen = self._tests[rung], self._recorded[rung]
            while not test.decision.done and self.order[test.n] in seen:
                test.update(seen[self.order[test.n]])
            if not test.decision.done:
                return
            if test.decision.verdict == "accept":
                self._current = len(self.rungs) + 1  # an accepted rung ends the climb
                return
            self._current += 1

    @property
    def done(self) -> bool:
        return self._current >= len(self.rungs)

    def next_call(self) -> tuple[Rung, str] | None:
        """The next (rung, example id) to evaluate, or None when the climb is over.

        Asking again before :meth:`record` returns the same call.
        """
        if self.done:
            return None
        rung = self.rungs[self._current]
        return rung, self.order[self._tests[rung].n]

    def record(self, rung: Rung | tuple, example_id: str, passed: bool) -> None:
        """Report an outcome; outcomes may arrive in any order (the tests read them in plan order)."""
        self._store(rung, example_id, passed)
        self._advance()

    def status(self) -> LadderStatus:
        if self.done:
            return LadderStatus(True, None, 0, self.calls_used, 0)
        rung = self.rungs[self._current]
        test = self._tests[rung]
        return LadderStatus(False, rung, test.n, self.calls_used,
                            len(self.rungs) - self._current - 1, test.decision.interval)

    @property
    def calls_used(self) -> int:
        """Outcomes the tests consumed: the calls the climb needed (recorded ones included)."""
        return sum(t.n for t in self._tests.values())

    def result(self) -> LadderResult:
        per_rung = tuple(RungResult(r, t.n, t.passes, t.decision.interval, t.decision.verdict,
                                    t.decision.basis)
                         for r, t in ((r, self._tests[r]) for r in self.rungs))
        winner = next((r.rung for r in per_rung if r.decision == "accept"), None)
        return LadderResult(winner, winner or _best(per_rung), per_rung, self.calls_used,
                            self.done, self.bar, self.confidence, len(self.order))


def _best(per_rung: Sequence[RungResult]) -> Rung | None:
    """Highest pass rate among evaluated rungs; ties go to more examples, then the cheaper rung."""
    tried = [(r.pass_rate, r.n, -i, r.rung) for i, r in enumerate(per_rung) if r.n]
    return max(tried)[3] if tried else None


def outcomes_from_mapping(outcomes_by_rung: Mapping[Rung | tuple, Mapping[str, bool]]
                          ) -> list[tuple[Rung, str, bool]]:
    """Flatten ``{rung: {example_id: passed}}`` into the ``outcomes`` a :class:`Ladder` resumes from."""
    return [(r if isinstance(r, Rung) else Rung(*r), example_id, passed)
            for r, by_id in outcomes_by_rung.items() for example_id, passed in by_id.items()]
