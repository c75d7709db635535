"""The start-small ladder (llmscout.trial.ladder): intervals, the sequential test, the climb.

Reference values: Clopper-Pearson and Wilson for 7/10 at 95% are the textbook figures; the
0/n and n/n ends of Clopper-Pearson have the closed forms 1 - (a/2)^(1/n) and (a/2)^(1/n).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from llmscout.errors import InvalidValueError
from llmscout.trial.ladder import (
    Ladder,
    Rung,
    SequentialTest,
    beta_quantile,
    climb_order,
    clopper_pearson_interval,
    look_schedule,
    outcomes_from_mapping,
    plan_order,
    regularized_beta,
    wilson_interval,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from early_stopping import evaluate_recorded  # noqa: E402

IDS = [f"ex{i:02d}" for i in range(40)]


# ------------------------------------------------------------------ intervals


def test_clopper_pearson_7_of_10_matches_the_reference():
    lower, upper = clopper_pearson_interval(7, 10, 0.95)
    assert (lower, upper) == (pytest.approx(0.3475, abs=1e-4), pytest.approx(0.9333, abs=1e-4))


def test_wilson_7_of_10_matches_the_reference():
    lower, upper = wilson_interval(7, 10, 0.95)
    assert (lower, upper) == (pytest.approx(0.3968, abs=1e-4), pytest.approx(0.8922, abs=1e-4))


def test_clopper_pearson_all_or_nothing_has_closed_forms():
    assert clopper_pearson_interval(0, 10, 0.95) == (0.0, pytest.approx(1 - 0.025 ** 0.1))
    assert clopper_pearson_interval(10, 10, 0.95) == (pytest.approx(0.025 ** 0.1), 1.0)


def test_clopper_pearson_agrees_with_scipy_over_a_grid():
    stats = pytest.importorskip("scipy.stats")
    for n in (1, 5, 30, 200, 1000):
        for passes in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            for conf in (0.8, 0.95, 0.999):
                tail = (1 - conf) / 2
                lower = stats.beta.ppf(tail, passes, n - passes + 1) if passes else 0.0
                upper = stats.beta.ppf(1 - tail, passes + 1, n - passes) if passes < n else 1.0
                got = clopper_pearson_interval(passes, n, conf)
                assert got == (pytest.approx(lower, abs=1e-9), pytest.approx(upper, abs=1e-9))


def test_regularized_beta_matches_closed_forms():
    assert regularized_beta(0.5, 7.0, 7.0) == pytest.approx(0.5)
    assert regularized_beta(0.3, 1.0, 4.0) == pytest.approx(1 - 0.7**4)
    assert beta_quantile(1 - 0.7**4, 1.0, 4.0) == pytest.approx(0.3)


def test_no_examples_give_the_whole_unit_interval():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert clopper_pearson_interval(0, 0) == (0.0, 1.0)


def test_more_passes_than_examples_is_refused_naming_the_field():
    with pytest.raises(InvalidValueError, match="passes=11"):
        clopper_pearson_interval(11, 10)


# ------------------------------------------------------------------ the sequential test


def feed(test: SequentialTest, outcomes) -> None:
    for passed in outcomes:
        if test.update(passed).done:
            return


def test_looks_grow_by_the_ratio_and_stop_before_the_last_example():
    assert look_schedule(5, 50, 1.5) == [5, 8, 12, 18, 27, 41]


def test_error_shares_sum_to_alpha_over_the_planned_looks():
    known = SequentialTest(0.8, 0.95, max_examples=50)
    assert sum(known.alpha_at_look(k) for k in range(6)) == pytest.approx(0.05)
    open_ended = SequentialTest(0.8, 0.95)
    assert sum(open_ended.alpha_at_look(k) for k in range(10_000)) < 0.05


def test_all_passes_accept_by_bound_at_the_first_look_that_clears_the_bar():
    # one-sided share 0.05 / 6 looks: n passes of n give lower bound share^(1/n);
    # look 18 -> 0.766 < 0.8, look 27 -> 0.838 >= 0.8
    test = SequentialTest(0.8, 0.95, max_examples=50)
    feed(test, [True] * 50)
    d = test.decision
    assert (d.verdict, d.n, d.basis) == ("accept", 27, "bound")
    assert d.interval[0] == pytest.approx((0.05 / 6) ** (1 / 27))


def test_all_failures_reject_by_bound_at_the_first_look():
    test = SequentialTest(0.8, 0.95, max_examples=50)
    feed(test, [False] * 50)
    assert (test.decision.verdict, test.decision.n, test.decision.basis) == ("reject", 5, "bound")


def test_no_verdict_by_bound_before_min_examples():
    test = SequentialTest(0.3, 0.95, min_examples=10)
    feed(test, [True] * 9)
    assert test.decision.verdict == "continue"
    assert test.update(True).verdict == "accept"


def test_a_short_set_is_settled_by_count_exactly_like_full_evaluation():
    # 7 of 10 against a bar of 0.8: no bound is decisive, the last outcome settles it
    test = SequentialTest(0.8, 0.95, max_examples=10)
    feed(test, [True] * 7 + [False] * 3)
    assert (test.decision.verdict, test.decision.n, test.decision.basis) == ("reject", 10, "count")


def test_reaching_the_needed_passes_accepts_by_count_before_the_end():
    test = SequentialTest(0.5, 0.95, min_examples=20, max_examples=10)  # no looks at all
    feed(test, [True] * 10)
    assert (test.decision.verdict, test.decision.n, test.decision.basis) == ("accept", 5, "count")


def test_a_decided_test_refuses_more_outcomes():
    test = SequentialTest(0.8, 0.95, max_examples=50)
    feed(test, [False] * 5)
    with pytest.raises(InvalidValueError, match="already decided 'reject'"):
        test.update(True)


def test_a_bar_outside_the_unit_interval_is_refused():
    with pytest.raises(InvalidValueError, match="bar=1.5"):
        SequentialTest(1.5)


def _false_accepts_open_ended(p: float, bar: float, runs: int, cap: int, seed: int):
    """(sequential test, naive rule) false-accept rates on i.i.d. outcomes with true rate p."""
    rng = random.Random(seed)
    sequential = naive = 0
    for _ in range(runs):
        test, passes, naive_hit = SequentialTest(bar, 0.95), 0, False
        for n in range(1, cap + 1):
            passed = rng.random() < p
            passes += passed
            if not test.decision.done:
                test.update(passed)
            # the naive rule: a plain 95% interval checked after every example
            naive_hit = naive_hit or (n >= 5 and clopper_pearson_interval(passes, n)[0] >= bar)
        sequential += test.decision.verdict == "accept"
        naive += naive_hit
    return sequential / runs, naive / runs


def test_false_accepts_stay_within_the_error_budget_when_the_rate_is_just_below_the_bar():
    sequential, naive = _false_accepts_open_ended(0.79, 0.8, runs=600, cap=300, seed=7)
    assert sequential <= 0.05
    # the simulation has teeth: looking after every example without paying for it fails
    assert naive > 0.05


def test_false_accepts_stay_within_budget_on_a_finite_set_just_below_the_bar():
    rng = random.Random(11)
    outcomes = [True] * 79 + [False] * 21  # 79% < 80%: full evaluation rejects
    accepted = 0
    for _ in range(1000):
        rng.shuffle(outcomes)
        test = SequentialTest(0.8, 0.95, max_examples=100)
        feed(test, outcomes)
        accepted += test.decision.verdict == "accept"
    assert accepted / 1000 <= 0.05


# ------------------------------------------------------------------ order


def test_plan_order_is_reproducible_and_independent_of_input_order():
    assert plan_order(IDS, seed=3) == plan_order(list(reversed(IDS)), seed=3)
    assert sorted(plan_order(IDS, seed=3)) == sorted(IDS)
    assert plan_order(IDS, seed=3) != plan_order(IDS, seed=4)


def test_plan_order_is_a_fixed_sequence_for_a_seed():
    # hash ranks, not random.shuffle: the same on every machine and Python version
    assert plan_order(["a", "b", "c", "d"], seed=0) == plan_order(["d", "c", "b", "a"], seed=0)
    # sha256 of "0\x00" + id begins 4aef.. (d), 50f6.. (c), 5f1a.. (a), a8d4.. (b)
    assert plan_order(["a", "b", "c", "d"], seed=0) == ["d", "c", "a", "b"]


def test_adding_an_example_keeps_the_order_of_the_others():
    before = plan_order(IDS, seed=1)
    after = [i for i in plan_order([*IDS, "new"], seed=1) if i != "new"]
    assert after == before


def test_duplicate_example_ids_are_refused():
    with pytest.raises(InvalidValueError, match="unique example ids"):
        plan_order(["a", "b", "a"])


def test_climb_order_keeps_models_in_given_order_with_shots_ascending():
    order = climb_order([("small", 4), ("small", 0), ("big", 2), ("big", 0, 1), ("big", 0, 0)])
    assert order == [Rung("small", 0), Rung("small", 4), Rung("big", 0, 1), Rung("big", 0, 0),
                     Rung("big", 2)]


# ------------------------------------------------------------------ the ladder


SMALL, SMALL_4, BIG = Rung("small", 0), Rung("small", 4), Rung("big", 0)


def oracle(rates: dict[Rung, float], seed: int = 0) -> dict[Rung, dict[str, bool]]:
    """Fixed pass/fail vectors: each rung passes round(rate x N) examples."""
    rng = random.Random(seed)
    vectors = {}
    for rung, rate in rates.items():
        passing = set(rng.sample(IDS, round(rate * len(IDS))))
        vectors[rung] = {i: i in passing for i in IDS}
    return vectors


def drive(ladder: Ladder, vectors, limit: int | None = None) -> list[tuple[Rung, str]]:
    calls = []
    while (call := ladder.next_call()) is not None and (limit is None or len(calls) < limit):
        calls.append(call)
        ladder.record(call[0], call[1], vectors[call[0]][call[1]])
    return calls


def test_the_first_rung_that_meets_the_bar_wins_and_ends_the_climb():
    vectors = oracle({SMALL: 0.1, SMALL_4: 1.0, BIG: 1.0})
    ladder = Ladder([SMALL, SMALL_4, BIG], 0.8, example_ids=IDS)
    drive(ladder, vectors)
    result = ladder.result()
    assert result.winner == SMALL_4
    assert [r.decision for r in result.rungs] == ["reject", "accept", "continue"]
    assert result.for_rung(BIG).n == 0
    assert result.calls_used == result.for_rung(SMALL).n + result.for_rung(SMALL_4).n
    assert ladder.next_call() is None


def test_when_no_rung_meets_the_bar_the_best_one_is_reported():
    vectors = oracle({SMALL: 0.2, SMALL_4: 0.6, BIG: 0.4})
    ladder = Ladder([SMALL, SMALL_4, BIG], 0.9, example_ids=IDS)
    drive(ladder, vectors)
    result = ladder.result()
    assert result.winner is None and result.done
    assert result.best == SMALL_4
    assert all(r.decision == "reject" for r in result.rungs)


def test_next_call_repeats_until_the_outcome_is_recorded():
    ladder = Ladder([SMALL], 0.8, example_ids=IDS, seed=5)
    first = ladder.next_call()
    assert ladder.next_call() == first == (SMALL, plan_order(IDS, 5)[0])


def test_outcomes_recorded_out_of_order_are_used_in_plan_order():
    order = plan_order(IDS, 0)
    ladder = Ladder([SMALL], 0.8, example_ids=IDS)
    ladder.record(SMALL, order[1], True)
    assert ladder.status().n == 0 and ladder.next_call() == (SMALL, order[0])
    ladder.record(SMALL, order[0], True)
    assert ladder.status().n == 2 and ladder.next_call() == (SMALL, order[2])


def test_resuming_from_every_recorded_outcome_reproduces_the_result():
    vectors = oracle({SMALL: 0.5, SMALL_4: 0.75, BIG: 0.95}, seed=2)
    first = Ladder([SMALL, SMALL_4, BIG], 0.8, example_ids=IDS, seed=9)
    calls = drive(first, vectors)
    recorded = [(r, i, vectors[r][i]) for r, i in calls]
    resumed = Ladder([SMALL, SMALL_4, BIG], 0.8, example_ids=IDS, seed=9, outcomes=recorded)
    assert resumed.next_call() is None
    assert resumed.result() == first.result()


def test_resuming_halfway_asks_only_for_the_calls_not_yet_made():
    vectors = oracle({SMALL: 0.5, SMALL_4: 0.75, BIG: 0.95}, seed=2)
    whole = drive(Ladder([SMALL, SMALL_4, BIG], 0.8, example_ids=IDS, seed=9), vectors)
    half = len(whole) // 2
    recorded = [(r, i, vectors[r][i]) for r, i in whole[:half]]
    resumed = Ladder([SMALL, SMALL_4, BIG], 0.8, example_ids=IDS, seed=9, outcomes=recorded)
    assert drive(resumed, vectors) == whole[half:]
    assert resumed.result().calls_used == len(whole)


def test_outcomes_beyond_a_decision_do_not_count_as_calls():
    everything = outcomes_from_mapping(oracle({SMALL: 1.0, BIG: 1.0}))
    ladder = Ladder([SMALL, BIG], 0.8, example_ids=IDS, outcomes=everything)
    result = ladder.result()
    assert result.winner == SMALL and result.calls_used == result.for_rung(SMALL).n < len(IDS)


def test_an_outcome_for_an_unknown_example_is_refused():
    ladder = Ladder([SMALL], 0.8, example_ids=IDS)
    with pytest.raises(InvalidValueError, match="example_id='nope'"):
        ladder.record(SMALL, "nope", True)


def test_an_outcome_for_an_unknown_rung_is_refused():
    ladder = Ladder([SMALL], 0.8, example_ids=IDS)
    with pytest.raises(InvalidValueError, match="rung="):
        ladder.record(BIG, IDS[0], True)


def test_fewer_examples_than_min_examples_are_settled_by_count():
    ladder = Ladder([SMALL], 0.5, example_ids=["a", "b", "c"], min_examples=5)
    drive(ladder, {SMALL: {"a": True, "b": True, "c": False}})
    assert ladder.result().winner == SMALL


def test_result_to_dict_is_json_with_the_winner_and_per_rung_figures():
    vectors = oracle({SMALL: 0.1, BIG: 1.0})
    ladder = Ladder([SMALL, BIG], 0.8, example_ids=IDS)
    drive(ladder, vectors)
    data = json.loads(json.dumps(ladder.result().to_dict()))
    assert data["winner"] == {"model": "big", "shots": 0, "system_prompt_idx": 0}
    assert data["meets_bar"] is True and data["examples"] == 40
    big = data["rungs"][1]
    assert big["pass_rate"] == 1.0 and big["decision"] == "accept" and big["interval"][0] >= 0.8


# ------------------------------------------------------------------ the bench's recorded path


def test_evaluate_recorded_compares_early_stopping_with_full_evaluation():
    vectors = oracle({SMALL: 0.1, SMALL_4: 0.3, BIG: 1.0})
    row = evaluate_recorded(vectors, bar=0.8)
    assert row["winner_full"] == row["winner_early"] == BIG.label()
    assert row["calls_full"] == 3 * len(IDS)
    assert row["calls_early"] < row["calls_full"] / 2
    assert [r["full"] for r in row["rungs"]] == ["reject", "reject", "accept"]


def test_evaluate_recorded_refuses_rungs_over_different_examples():
    with pytest.raises(InvalidValueError, match="same example ids"):
        evaluate_recorded({SMALL: [True, False], BIG: [True]}, bar=0.5)
