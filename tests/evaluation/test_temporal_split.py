"""Tests for alskit.evaluation.temporal_split (global temporal split)."""

from __future__ import annotations

import numpy as np
import pytest

from alskit.data import Dataset
from alskit.evaluation import TrainTestSplit, temporal_split


def _data(n: int = 400, seed: int = 3, ratings: bool = True) -> Dataset:
    rng = np.random.default_rng(seed)
    pairs = rng.choice(30 * 40, size=n, replace=False)
    users, items = pairs // 40 + 100, pairs % 40 + 1000
    timestamps = rng.integers(0, 60, size=n)  # many ties
    values = rng.integers(1, 6, size=n).astype(float) if ratings else None
    # Extra vocabulary entries without interactions must survive the split.
    return Dataset.from_arrays(
        users,
        items,
        values,
        timestamps,
        users=np.arange(95, 135),
        items=np.arange(990, 1045),
    )


def _pairs(data: Dataset) -> set[tuple[int, int]]:
    u = data.users.ids(data.user_nums).tolist()
    i = data.items.ids(data.item_nums).tolist()
    return set(zip(u, i, strict=True))


def _test_pairs(split: TrainTestSplit) -> set[tuple[int, int]]:
    return {(u, i) for u, il in split.test.items() for i in il.ids().tolist()}


def _timestamp_of(data: Dataset) -> dict[tuple[int, int], int]:
    assert data.timestamps is not None
    return {
        (u, i): t
        for u, i, t in zip(
            data.users.ids(data.user_nums).tolist(),
            data.items.ids(data.item_nums).tolist(),
            data.timestamps.tolist(),
            strict=True,
        )
    }


def _check_partition(data: Dataset, split: TrainTestSplit) -> None:
    train, test = _pairs(split.train), _test_pairs(split)
    assert not train & test
    assert train | test == _pairs(data)
    assert split.train.users is data.users and split.train.items is data.items
    assert all(len(il) > 0 for il in split.test.values())
    ts = _timestamp_of(data)
    assert max(ts[p] for p in train) <= min(ts[p] for p in test)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5, 0.9])
def test_fraction(fraction: float) -> None:
    data = _data()
    split = temporal_split(data, fraction)
    _check_partition(data, split)
    assert len(_test_pairs(split)) == round(fraction * data.interaction_count)


def test_default_fraction_is_a_fifth() -> None:
    data = _data()
    assert len(_test_pairs(temporal_split(data))) == 80


def test_fraction_ties_in_dataset_order() -> None:
    # All timestamps equal: the last interactions in (user, item) order are held out.
    data = Dataset.from_arrays([1, 1, 2, 2, 3], [5, 6, 5, 7, 6], timestamps=[7, 7, 7, 7, 7])
    split = temporal_split(data, 0.4)
    assert _test_pairs(split) == {(2, 7), (3, 6)}
    assert list(split.test) == [2, 3]


def test_latest_interactions_are_held_out() -> None:
    data = Dataset.from_arrays(
        [1, 1, 2, 2, 3], [5, 6, 5, 7, 6], [1, 2, 3, 4, 5], [50, 10, 40, 20, 30]
    )
    split = temporal_split(data, 0.4)
    assert _test_pairs(split) == {(1, 5), (2, 5)}
    assert split.test[1].field("rating").tolist() == [1.0]  # type: ignore[union-attr]
    assert split.train.interaction_count == 3
    assert split.train.timestamps is not None
    assert sorted(split.train.timestamps.tolist()) == [10, 20, 30]


@pytest.mark.parametrize("cutoff", [5, 30, 59])
def test_cutoff(cutoff: int) -> None:
    data = _data()
    split = temporal_split(data, cutoff=cutoff)
    _check_partition(data, split)
    ts = _timestamp_of(data)
    assert _test_pairs(split) == {p for p, t in ts.items() if t >= cutoff}


def test_cutoff_after_everything_gives_empty_test() -> None:
    data = _data()
    split = temporal_split(data, cutoff=10_000)
    assert split.test == {}
    assert split.train.interaction_count == data.interaction_count


def test_datetime_timestamps_and_cutoff() -> None:
    when = np.array(["2020-01-03", "2020-01-01", "2020-02-01"], dtype="datetime64[D]")
    data = Dataset.from_arrays([1, 2, 3], [1, 1, 1], timestamps=when)
    split = temporal_split(data, cutoff=np.datetime64("2020-01-02"))
    assert _test_pairs(split) == {(1, 1), (3, 1)}
    assert _test_pairs(temporal_split(data, 1 / 3)) == {(3, 1)}


def test_deterministic() -> None:
    data = _data()
    a, b = temporal_split(data, 0.3), temporal_split(data, 0.3)
    assert _test_pairs(a) == _test_pairs(b)
    assert list(a.test) == list(b.test)
    assert np.array_equal(a.train.item_nums, b.train.item_nums)


def test_without_ratings() -> None:
    data = _data(ratings=False)
    split = temporal_split(data, 0.25)
    _check_partition(data, split)
    assert split.train.ratings is None
    assert all(il.field("rating") is None for il in split.test.values())


def test_test_lists_carry_ratings() -> None:
    data = _data()
    split = temporal_split(data, 0.2)
    for user, il in split.test.items():
        row = data.user_row(user)
        assert row is not None
        stored = dict(zip(row.ids().tolist(), row.field("rating").tolist(), strict=True))  # type: ignore[union-attr]
        assert il.field("rating").tolist() == [stored[i] for i in il.ids().tolist()]  # type: ignore[union-attr]


def test_errors() -> None:
    no_ts = Dataset.from_arrays([1, 2], [1, 1], [3.0, 4.0])
    with pytest.raises(ValueError, match="timestamps"):
        temporal_split(no_ts)
    data = _data()
    with pytest.raises(ValueError, match="either fraction or cutoff"):
        temporal_split(data, 0.2, cutoff=10)
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="fraction"):
            temporal_split(data, bad)
    small = Dataset.from_arrays([1, 2], [1, 1], timestamps=[1, 2])
    with pytest.raises(ValueError, match="holds out 0"):
        temporal_split(small, 0.2)
    with pytest.raises(ValueError, match="no training data"):
        temporal_split(data, cutoff=-1)
    with pytest.raises(TypeError, match="cutoff"):
        temporal_split(data, cutoff="soon")
    nan = Dataset.from_arrays([1, 2], [1, 1], timestamps=[1.0, np.nan])
    with pytest.raises(ValueError, match="missing"):
        temporal_split(nan)
