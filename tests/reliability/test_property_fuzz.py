"""Property tests (hypothesis): fuzzing the Dataset builders, training and scoring, top-N
recommendation, and model-file loading.

- Dataset.from_arrays on random interaction lists (int ids of any int64 magnitude, or short
  strings; finite ratings) agrees with a dict-based reference for every duplicates policy;
- tiny BiasedMF/ImplicitMF models trained on such data never crash, score known users and
  items with finite numbers and anything unknown with NaN;
- recommend(n) returns at most n items per user, never a seen one, ranked 1..len by
  descending score;
- alskit.load on random bytes, truncations and mutations of a valid model file returns a
  model or raises ModelFileError/ValueError/FileNotFoundError, never anything else.

Example counts are kept small (the whole module runs in well under 30 s); ``derandomize``
makes every run draw the same examples, and no example database is written.
"""

from __future__ import annotations

import math
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import alskit
from alskit import (
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    ItemList,
    ModelFileError,
    TrainingOptions,
)

I64_MIN, I64_MAX = -(2**63), 2**63 - 1

# When a property fails, hypothesis' pytest plugin imports this module to suggest a patch; it
# pulls in libcst -> mypy_extensions, whose DeprecationWarning (an error under this project's
# filterwarnings) turns the failure report into a pytest INTERNALERROR. Import it now.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # libcst is optional
        pass


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---- strategies ----------------------------------------------------------------------------

INT_IDS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([I64_MIN, I64_MIN + 1, I64_MAX, I64_MAX - 1, 2**53 + 1, -(2**62)]),
    st.integers(I64_MIN, I64_MAX),
)
# Short strings over an alphabet of awkward characters (blank, separators, quotes, accents,
# CJK, emoji, zero-width, a non-character). Not NUL: numpy 'U' arrays drop trailing NULs (see
# ids-differing-by-trailing-nul in test_dataset_hostile). A fixed alphabet also keeps
# hypothesis from writing its Unicode cache into the checkout.
STR_IDS = st.lists(st.sampled_from("aZ09 ,;\t\"'\\é漢😀\u200b\uffff"), max_size=3).map("".join)
ANY_RATING = st.floats(allow_nan=False, allow_infinity=False)
MODEST_RATING = st.floats(-5.0, 5.0, allow_nan=False)


@st.composite
def interactions(
    draw: st.DrawFn, rating: st.SearchStrategy[float] = ANY_RATING, max_rows: int = 25
) -> tuple[list[Any], list[Any], list[float]]:
    """Parallel user/item/rating lists; ids from small pools, so that users and items repeat
    and (user, item) pairs are often duplicated."""
    ids = draw(st.sampled_from([INT_IDS, STR_IDS]))
    user_pool = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    item_pool = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(user_pool), st.sampled_from(item_pool), rating),
            min_size=1,
            max_size=max_rows,
        )
    )
    users, items, ratings = (list(column) for column in zip(*rows, strict=True))
    return users, items, ratings


def as_input(values: list[Any], form: str) -> Any:
    """The same ids as a list, a numpy array, or a non-contiguous read-only array."""
    if form == "list":
        return values
    if form == "array":
        return np.array(values)
    doubled = np.repeat(np.array(values), 2)[::2]
    doubled.flags.writeable = False
    return doubled


def last_rating(users: list[Any], items: list[Any], ratings: list[float]) -> dict[Any, float]:
    reference: dict[tuple[Any, Any], float] = {}
    for u, i, r in zip(users, items, ratings, strict=True):
        reference[(u, i)] = r
    return reference


def dataset_pairs(ds: Dataset, dtype: Any = np.float64) -> dict[tuple[Any, Any], float]:
    """The dataset's interactions read back through interaction_matrix()."""
    matrix = ds.interaction_matrix("rating", dtype=dtype)
    matrix.validate()
    assert matrix.shape == (ds.user_count, ds.item_count)
    out: dict[tuple[Any, Any], float] = {}
    for row in range(matrix.nrows):
        cols, values = matrix.row(row)
        assert values is not None
        uid = ds.users.id(row)
        for col, value in zip(ds.items.ids(cols).tolist(), values.tolist(), strict=True):
            assert (uid, col) not in out
            out[(uid, col)] = value
    return out


# ---- (a) Dataset.from_arrays against a dict reference --------------------------------------


@fuzz_settings(300)
@given(data=interactions(), form=st.sampled_from(["list", "array", "strided"]))
def test_from_arrays_last_matches_dict_reference(
    data: tuple[list[Any], list[Any], list[float]], form: str
) -> None:
    users, items, ratings = data
    ds = Dataset.from_arrays(
        as_input(users, form), as_input(items, form), as_input(ratings, form), duplicates="last"
    )
    reference = last_rating(users, items, ratings)
    assert ds.users.ids().tolist() == sorted(set(users))
    assert ds.items.ids().tolist() == sorted(set(items))
    assert ds.interaction_count == len(reference)
    assert dataset_pairs(ds) == reference
    # Interactions are sorted by (user number, item number), one per pair.
    keys = ds.user_nums.astype(np.int64) * ds.item_count + ds.item_nums
    assert bool(np.all(np.diff(keys) > 0))
    assert not ds.user_nums.flags.writeable and not ds.item_nums.flags.writeable


@fuzz_settings(200)
@given(data=interactions(rating=st.integers(-1000, 1000).map(float)))
def test_from_arrays_sum_and_error_policies(
    data: tuple[list[Any], list[Any], list[float]],
) -> None:
    users, items, ratings = data
    sums: dict[tuple[Any, Any], float] = {}
    for u, i, r in zip(users, items, ratings, strict=True):
        sums[(u, i)] = sums.get((u, i), 0.0) + r  # integers: exact in any order
    assert dataset_pairs(Dataset.from_arrays(users, items, ratings, duplicates="sum")) == sums
    if len(sums) < len(users):
        with pytest.raises(ValueError, match=r"duplicate \(user, item\) pairs") as info:
            Dataset.from_arrays(users, items, ratings)
        assert "input row" in str(info.value)
    else:
        ds = Dataset.from_arrays(users, items, ratings)
        assert dataset_pairs(ds) == last_rating(users, items, ratings)


@fuzz_settings(100)
@given(
    # float32-representable ratings: a float32 matrix of doubles beyond its range overflows
    # (see ratings-beyond-float32 in test_training_hostile)
    data=interactions(rating=st.floats(allow_nan=False, allow_infinity=False, width=32)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_interaction_matrix_dtypes_and_structure(
    data: tuple[list[Any], list[Any], list[float]], dtype: Any
) -> None:
    users, items, ratings = data
    ds = Dataset.from_arrays(users, items, ratings, duplicates="last")
    structure = ds.interaction_matrix()
    assert structure.values is None and structure.nnz == ds.interaction_count
    values = ds.interaction_matrix("rating", dtype=dtype)
    assert values.values is not None and values.values.dtype == dtype
    expected = np.asarray([last_rating(users, items, ratings)[k] for k in dataset_pairs(ds)])
    assert np.array_equal(values.values, expected.astype(dtype))


# ---- (b) training and scoring --------------------------------------------------------------

MODELS = st.sampled_from([BiasedMFScorer, ImplicitMFScorer])


@st.composite
def trained_models(draw: st.DrawFn) -> tuple[Any, Dataset]:
    users, items, ratings = draw(interactions(rating=MODEST_RATING, max_rows=20))
    data = Dataset.from_arrays(users, items, ratings, duplicates="last")
    cls = draw(MODELS)
    model = cls(
        features=draw(st.integers(1, 4)),
        epochs=draw(st.integers(1, 2)),
        dtype=draw(st.sampled_from(["float32", "float64"])),
        regularization=draw(st.sampled_from([0.0, 0.01, 0.1, 1.0])),
    )
    model.train(data, TrainingOptions(rng=draw(st.integers(0, 2**32)), threads=1, progress=False))
    return model, data


def unknown_id(vocabulary_ids: list[Any]) -> Any:
    """An id of the vocabulary's kind that it does not hold."""
    if vocabulary_ids and isinstance(vocabulary_ids[0], str):
        return "\uffff" * 4
    candidate = 0
    while candidate in vocabulary_ids:
        candidate += 1
    return candidate


@fuzz_settings(120)
@given(trained=trained_models())
def test_training_never_crashes_and_scores_are_finite(trained: tuple[Any, Dataset]) -> None:
    model, data = trained
    users, items = data.users.ids().tolist(), data.items.ids().tolist()
    stranger, odd_item = unknown_id(users), unknown_id(items)
    assert model.trained_epochs == model.config.epochs
    assert np.isfinite(model.item_features_).all() and np.isfinite(model.user_features_).all()
    for user in users:
        scored = model(user, [*items, odd_item]).scores()
        assert scored is not None
        assert np.isfinite(scored[:-1]).all(), (user, scored)
        assert np.isnan(scored[-1])
        # predict (native, stored embeddings) agrees with the per-user call
        pairs = model.predict([user] * len(items), items)
        np.testing.assert_allclose(pairs, scored[:-1], rtol=1e-4, atol=1e-5)
    unknown = model(stranger, items).scores()
    assert unknown is not None and np.isnan(unknown).all()
    assert np.isnan(model.predict([stranger, users[0]], [items[0], odd_item])).all()
    # A history folds in to a finite embedding, and the scores it gives are finite.
    row = data.user_row(users[0])
    assert row is not None
    history = ItemList(row.ids(), rating=row.field("rating"))
    folded = model(history, items).scores()
    assert folded is not None and np.isfinite(folded).all()


# ---- (c) recommend(n) ----------------------------------------------------------------------


@fuzz_settings(120)
@given(trained=trained_models(), n=st.integers(1, 8), subset=st.booleans())
def test_recommend_lists_are_short_unseen_and_ranked(
    trained: tuple[Any, Dataset], n: int, subset: bool
) -> None:
    model, data = trained
    user_ids = data.users.ids().tolist()
    asked = user_ids[::2] if subset else None
    recs = model.recommend(asked, n=n)
    frame = recs.to_df()
    for user in asked if asked is not None else user_ids:
        rows = frame[frame["user_id"] == user]
        row = data.user_row(user)
        assert row is not None
        seen = set(row.ids().tolist())
        assert len(rows) == min(n, data.item_count - len(seen))
        assert not seen & set(rows["item_id"].tolist())
        assert rows["item_id"].is_unique
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        scores = rows["score"].to_numpy()
        assert np.isfinite(scores).all()
        assert bool(np.all(np.diff(scores) <= 0)), scores
        if len(rows):
            direct = model(user, rows["item_id"].to_numpy()).scores()
            np.testing.assert_allclose(scores, direct, rtol=1e-4, atol=1e-5)
    if asked is not None:
        assert set(frame["user_id"].tolist()) <= set(asked)


# ---- (d) loading random and damaged model files --------------------------------------------

ALLOWED = (ModelFileError, ValueError, FileNotFoundError)


@dataclass
class ModelFile:
    path: Path
    raw: bytes = field(repr=False)  # kept out of hypothesis' falsifying-example reports


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> ModelFile:
    data = Dataset.from_arrays([1, 1, 2, 2, 3], [10, 11, 10, 12, 11], [1.0, 2.0, 3.0, 4.0, 5.0])
    model = BiasedMFScorer(features=2, epochs=1)
    model.train(data, TrainingOptions(rng=1, threads=1, progress=False))
    path = tmp_path_factory.mktemp("fuzz") / "model.alskit"
    model.save(path)
    return ModelFile(path, path.read_bytes())


def load_survives(path: Path, content: bytes) -> None:
    """Write ``content`` and load it: a model (that can score) or an allowed error."""
    path.write_bytes(content)
    try:
        model = alskit.load(path)
    except ALLOWED:
        return
    users, items = model.users_.ids()[:1], model.items_.ids()[:1]
    model.predict(users, items)
    model(users[0], items)


def zip_records(raw: bytes) -> dict[str, list[int]]:
    """Offsets of the zip's central-directory records, local headers and end record."""

    def find(signature: bytes) -> list[int]:
        found, pos = [], raw.find(signature)
        while pos >= 0:
            found.append(pos)
            pos = raw.find(signature, pos + 1)
        return found

    return {
        "central": find(b"PK\x01\x02"),
        "local": find(b"PK\x03\x04"),
        "end": find(b"PK\x05\x06")[-1:],
    }


RECORD_SIZE = {"central": 46, "local": 30, "end": 22}


def mutate(raw: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    """Apply (where, index, byte) mutations: 'anywhere' sets byte ``index % len``; a record
    kind sets a byte inside one of those records (index picks the record and the offset)."""
    data = bytearray(raw)
    records = zip_records(raw)
    for where, index, value in mutations:
        if where == "anywhere" or not records[where]:
            pos = index % len(data)
        else:
            starts = records[where]
            pos = starts[(index // 64) % len(starts)] + index % RECORD_SIZE[where]
        data[pos % len(data)] = value
    return bytes(data)


@fuzz_settings(300)
@given(
    content=st.one_of(st.binary(max_size=3000), st.binary(max_size=500).map(b"PK\x03\x04".__add__))
)
def test_load_random_bytes(model_file: ModelFile, content: bytes) -> None:
    load_survives(model_file.path.with_name("random.alskit"), content)


@fuzz_settings(150)
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_load_truncated(model_file: ModelFile, fraction: float) -> None:
    raw = model_file.raw
    cut = raw[: math.floor(fraction * len(raw))]
    target = model_file.path.with_name("truncated.alskit")
    target.write_bytes(cut)
    with pytest.raises(ModelFileError):
        alskit.load(target)


@fuzz_settings(300)
@example(mutations=[("central", 10, 99)])
@given(
    mutations=st.lists(
        st.tuples(
            st.sampled_from(["anywhere", "central", "local", "end"]),
            st.integers(0, 2**16),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_load_mutated(model_file: ModelFile, mutations: list[tuple[str, int, int]]) -> None:
    target = model_file.path.with_name("mutated.alskit")
    load_survives(target, mutate(model_file.raw, mutations))


def test_mutation_example_hits_the_compression_field(model_file: ModelFile) -> None:
    """The explicit example above really targets model.json's compression method."""
    raw = model_file.raw
    mutated = mutate(raw, [("central", 10, 99)])
    first = zip_records(raw)["central"][0]
    name_length = struct.unpack_from("<H", raw, first + 28)[0]
    assert raw[first + 46 : first + 46 + name_length] == b"model.json"
    assert struct.unpack_from("<H", mutated, first + 10)[0] == 99
