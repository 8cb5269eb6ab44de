"""model.save / alskit.load: a safe, versioned, pickle-free model file.

Round trips for both scorers (user embeddings kept or dropped, float32/float64, int and
string ids) must give identical state and identical scores; damaged, tampered, foreign or
too-new files must be refused with ``alskit.ModelFileError`` (a ValueError), and loading
must never run code from the file.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import alskit
from alskit import (
    ALSBase,
    BiasedMFScorer,
    Dataset,
    ImplicitMFScorer,
    ItemList,
    ModelFileError,
    RecQuery,
    TrainingOptions,
)
from alskit.persistence import FORMAT_VERSION
from alskit.synthetic import generate

# ---- fixtures ------------------------------------------------------------------------------


def _dataset(kind: str, ids: str) -> Dataset:
    data = generate("tiny", kind=kind, seed=5)  # type: ignore[arg-type]
    if ids == "int":
        return data
    users = np.char.add("u", data.users.ids(data.user_nums).astype(str))
    items = np.char.add("i", data.items.ids(data.item_nums).astype(str))
    return Dataset.from_arrays(users, items, data.ratings)


@pytest.fixture(scope="module")
def datasets() -> dict[tuple[str, str], Dataset]:
    return {(k, i): _dataset(k, i) for k in ("explicit", "implicit") for i in ("int", "str")}


CASES = [
    pytest.param((cls, ue, dtype, ids), id=f"{cls.__name__}-ue={ue}-{dtype}-{ids}")
    for cls in (BiasedMFScorer, ImplicitMFScorer)
    for ue in (True, False)
    for dtype in ("float32", "float64")
    for ids in ("int", "str")
]


@pytest.fixture(scope="module", params=CASES)
def case(request: pytest.FixtureRequest, datasets, tmp_path_factory):  # type: ignore[no-untyped-def]
    cls, ue, dtype, ids = request.param
    data = datasets[("explicit" if cls is BiasedMFScorer else "implicit", ids)]
    model = cls(features=6, epochs=3, dtype=dtype, user_embeddings=ue)
    model.train(data, TrainingOptions(rng=3, threads=2))
    path = tmp_path_factory.mktemp("models") / "model.alskit"
    model.save(path)
    return model, alskit.load(path), data, path


@pytest.fixture(scope="module")
def saved(tmp_path_factory, datasets) -> tuple[BiasedMFScorer, Path]:  # type: ignore[no-untyped-def]
    """A small trained BiasedMF model and its file (for the refusal tests)."""
    model = BiasedMFScorer(features=4, epochs=2)
    model.train(datasets[("explicit", "int")], TrainingOptions(rng=1, threads=1))
    path = tmp_path_factory.mktemp("saved") / "model.alskit"
    model.save(path)
    return model, path


def rewrite(
    src: Path, dst: Path, *, header: Any = None, members: dict[str, bytes] | None = None
) -> Path:
    """Copy a model file, editing model.json with ``header(h)`` and replacing members."""
    with zipfile.ZipFile(src) as archive:
        content = {name: archive.read(name) for name in archive.namelist()}
    if header is not None:
        h = json.loads(content["model.json"])
        header(h)
        content["model.json"] = json.dumps(h).encode()
    content.update(members or {})
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return dst


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


# ---- round trips ---------------------------------------------------------------------------


def test_round_trip_state_identical(case) -> None:  # type: ignore[no-untyped-def]
    model, loaded, _, path = case
    assert type(loaded) is type(model)
    assert loaded.dump_config() == model.dump_config()
    assert loaded.users_ == model.users_ and loaded.items_ == model.items_
    assert loaded.users_.ids().dtype == model.users_.ids().dtype
    np.testing.assert_array_equal(loaded.item_features_, model.item_features_)
    assert loaded.item_features_.dtype == model.item_features_.dtype
    if model.user_features_ is None:
        assert loaded.user_features_ is None
    else:
        assert loaded.user_features_ is not None
        assert loaded.user_features_.dtype == model.user_features_.dtype
        np.testing.assert_array_equal(loaded.user_features_, model.user_features_)
    np.testing.assert_array_equal(loaded.user_items_.indptr, model.user_items_.indptr)
    np.testing.assert_array_equal(loaded.user_items_.indices, model.user_items_.indices)
    if isinstance(model, BiasedMFScorer):
        assert loaded.bias_.global_bias == model.bias_.global_bias
        assert loaded.bias_.damping == model.bias_.damping
        np.testing.assert_array_equal(loaded.bias_.user_biases, model.bias_.user_biases)
        np.testing.assert_array_equal(loaded.bias_.item_biases, model.bias_.item_biases)
    else:
        np.testing.assert_array_equal(loaded.OtOr_, model.OtOr_)
    assert loaded.trained_epochs == model.trained_epochs
    # The file is a zip with a JSON header: nothing pickled in it.
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        header = json.loads(archive.read("model.json"))
    assert "model.json" in names
    assert all(n == "model.json" or n.endswith(".npy") for n in names)
    assert header["version"] == FORMAT_VERSION
    assert not path.with_name(path.name + ".partial").exists()


def test_round_trip_scores_identical(case) -> None:  # type: ignore[no-untyped-def]
    model, loaded, data, _ = case
    users = model.users_.ids()[:10]
    unknown = "no-such-item" if model.items_.ids().dtype.kind == "U" else -5
    items = np.append(model.items_.ids()[:29], unknown)  # one unknown item: NaN on both
    for user_id in users:
        a = model(user_id, items).scores()
        b = loaded(user_id, items).scores()
        np.testing.assert_array_equal(a, b)
    users_pairs = np.repeat(users, 30)
    items_pairs = np.tile(items, 10)
    np.testing.assert_array_equal(
        model.predict(users_pairs, items_pairs), loaded.predict(users_pairs, items_pairs)
    )
    if model.user_features_ is not None:
        a_recs, b_recs = model.recommend(None, n=10), loaded.recommend(None, n=10)
        np.testing.assert_array_equal(a_recs.query_ids, b_recs.query_ids)
        np.testing.assert_array_equal(a_recs.item_ids, b_recs.item_ids)
        np.testing.assert_array_equal(a_recs.scores, b_recs.scores)
    else:
        with pytest.raises(ValueError):
            loaded.recommend(None, n=10)
    a_sim, b_sim = model.similar_items(items[:3], n=5), loaded.similar_items(items[:3], n=5)
    np.testing.assert_array_equal(a_sim.item_ids, b_sim.item_ids)
    np.testing.assert_array_equal(a_sim.scores, b_sim.scores)


def test_loaded_model_folds_in(case) -> None:  # type: ignore[no-untyped-def]
    model, loaded, data, _ = case
    items = model.items_.ids()[:40]
    for user_id in model.users_.ids()[:5]:
        history = data.user_row(user_id)
        assert history is not None
        # As an anonymous user (history only) and as the known user with a history.
        for query in (RecQuery(None, history), RecQuery(user_id, history)):
            a = model(query, items).scores()
            b = loaded(query, items).scores()
            assert a is not None and np.all(np.isfinite(a))
            np.testing.assert_array_equal(a, b)


def test_pickle_round_trip_also_works(saved) -> None:  # type: ignore[no-untyped-def]
    model, _ = saved
    again = pickle.loads(pickle.dumps(model))
    items = model.items_.ids()[:10]
    np.testing.assert_array_equal(model(1, items).scores(), again(1, items).scores())


def test_load_accepts_str_and_path(saved) -> None:  # type: ignore[no-untyped-def]
    model, path = saved
    for p in (path, str(path)):
        loaded = alskit.load(p)
        np.testing.assert_array_equal(loaded.item_features_, model.item_features_)


def test_save_overwrites_existing_file(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, _ = saved
    target = tmp_path / "m.alskit"
    target.write_bytes(b"old content")
    model.save(target)
    np.testing.assert_array_equal(alskit.load(target).item_features_, model.item_features_)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.alskit"]


# ---- refusals ------------------------------------------------------------------------------


def test_newer_format_version_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    newer = FORMAT_VERSION + 1
    bad = rewrite(path, tmp_path / "new.alskit", header=lambda h: h.__setitem__("version", newer))
    with pytest.raises(ModelFileError, match=rf"version {newer}\b") as info:
        alskit.load(bad)
    assert "newer" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_file_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    raw = path.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 10, 100):
        bad = tmp_path / f"cut{cut}.alskit"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            alskit.load(bad)
    empty = tmp_path / "empty.alskit"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError):
        alskit.load(empty)


def test_corrupted_bytes_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A flipped byte inside an array member (zip structure intact) is caught."""
    _, path = saved
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("item_features.npy")
    # Local header is 30 bytes + name + extra; flip a byte well inside the data.
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    raw[offset] ^= 0xFF
    bad = tmp_path / "flipped.alskit"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError):
        alskit.load(bad)


def test_tampered_array_refused_by_checksum(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, path = saved
    changed = model.item_features_.copy()
    changed[3, 1] += 0.5  # same dtype and shape; model.json untouched
    bad = rewrite(path, tmp_path / "t.alskit", members={"item_features.npy": npy_bytes(changed)})
    with pytest.raises(ModelFileError, match="checksum"):
        alskit.load(bad)


def test_array_with_wrong_dtype_or_shape_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, path = saved
    other = np.float64 if model.item_features_.dtype == np.float32 else np.float32
    retyped = model.item_features_.astype(other)
    bad = rewrite(path, tmp_path / "d.alskit", members={"item_features.npy": npy_bytes(retyped)})
    with pytest.raises(ModelFileError, match="dtype"):
        alskit.load(bad)
    short = model.item_features_[:-1]
    bad = rewrite(path, tmp_path / "s.alskit", members={"item_features.npy": npy_bytes(short)})
    with pytest.raises(ModelFileError, match="shape"):
        alskit.load(bad)


def test_missing_array_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        content = {n: archive.read(n) for n in archive.namelist() if n != "item_biases.npy"}
    bad = tmp_path / "m.alskit"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="item_biases"):
        alskit.load(bad)


def test_unknown_model_class_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    for name in ("EvilScorer", "os.system", "alskit.als.ALSBase"):
        bad = rewrite(path, tmp_path / "c.alskit", header=lambda h, n=name: h.update(model=n))
        with pytest.raises(ModelFileError, match="unknown model class"):
            alskit.load(bad)


def test_foreign_format_and_missing_header_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    bad = rewrite(path, tmp_path / "f.alskit", header=lambda h: h.update(format="other"))
    with pytest.raises(ModelFileError, match="format"):
        alskit.load(bad)
    bad = rewrite(path, tmp_path / "j.alskit", members={"model.json": b"{not json"})
    with pytest.raises(ModelFileError, match="JSON"):
        alskit.load(bad)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="model.json"):
        alskit.load(other)


def test_invalid_config_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    bad = rewrite(
        path, tmp_path / "cfg.alskit", header=lambda h: h["config"].update(embedding_size=-3)
    )
    with pytest.raises(ModelFileError, match="configuration"):
        alskit.load(bad)
    bad = rewrite(
        path, tmp_path / "k.alskit", header=lambda h: h["config"].update(embedding_size=5)
    )
    with pytest.raises(ModelFileError, match="item_features"):
        alskit.load(bad)


class _MakeMarker:
    """Unpickling this creates a directory: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def _pickle_payload(marker: Path) -> bytes:
    payload = np.empty(2, dtype=object)
    payload[0] = _MakeMarker(marker)
    payload[1] = "x"
    return npy_bytes(payload, allow_pickle=True)


def test_pickled_object_array_never_executed(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    # The payload is live: loading it with pickle allowed does run code.
    probe = tmp_path / "probe-marker"
    np.load(io.BytesIO(_pickle_payload(probe)), allow_pickle=True)
    assert probe.exists()

    marker = tmp_path / "marker"
    payload = _pickle_payload(marker)

    def claim_object_array(h: dict[str, Any]) -> None:
        # model.json agrees with the crafted member, so only the loader's refusal stops it.
        h["arrays"]["users"] = {"dtype": "|O", "shape": [2], "sha256": "0" * 64}

    for member in ("users", "item_features"):
        bad = tmp_path / f"pickled-{member}.alskit"
        rewrite(path, bad, members={f"{member}.npy": payload})
        with pytest.raises(ModelFileError):
            alskit.load(bad)
        assert not marker.exists()
    bad = rewrite(
        path, tmp_path / "claimed.alskit", header=claim_object_array, members={"users.npy": payload}
    )
    with pytest.raises(ModelFileError):
        alskit.load(bad)
    assert not marker.exists()


def test_not_a_zip_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.alskit"
    bad.write_bytes(b"this is not a model file\n" * 10)
    with pytest.raises(ModelFileError) as info:
        alskit.load(bad)
    assert isinstance(info.value, ValueError)
    pickled = tmp_path / "pickled.alskit"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFileError):
        alskit.load(pickled)
    with pytest.raises(ModelFileError):
        alskit.load(tmp_path)  # a directory


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        alskit.load(tmp_path / "nope.alskit")


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer])
def test_saving_untrained_model_fails(cls: type[ALSBase], tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        cls(features=4).save(tmp_path / "m.alskit")
    assert list(tmp_path.iterdir()) == []


# ---- bugs: model.json is trusted without validating its scalar state -----------------------

BAD_HEADERS = {
    "no-global-bias": lambda h: h["state"].pop("global_bias"),
    "no-config": lambda h: h.pop("config"),
    "epochs-not-int": lambda h: h["state"].update(trained_epochs="x"),
    "damping-not-numbers": lambda h: h["state"].update(damping=["a", 1]),
}


@pytest.mark.parametrize("edit", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
def test_malformed_header_state_refused(saved, tmp_path: Path, edit: Any) -> None:  # type: ignore[no-untyped-def]
    _, path = saved
    bad = rewrite(path, tmp_path / "h.alskit", header=edit)
    with pytest.raises(ModelFileError):
        alskit.load(bad)


def test_inconsistent_user_embeddings_refused(saved, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, path = saved
    assert model.config.user_embeddings is True

    def drop(h: dict[str, Any]) -> None:
        h["arrays"].pop("user_features")

    with zipfile.ZipFile(path) as archive:
        kept = {n: archive.read(n) for n in archive.namelist() if n != "user_features.npy"}
    bad = tmp_path / "noue.alskit"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    rewrite(bad, bad, header=drop)
    with pytest.raises(ModelFileError):
        alskit.load(bad)


def test_item_list_input_after_load(saved) -> None:  # type: ignore[no-untyped-def]
    """Scoring an ItemList built on the original vocabulary works on the loaded model."""
    model, path = saved
    loaded = alskit.load(path)
    items = ItemList(item_nums=np.arange(10), vocabulary=model.items_)
    np.testing.assert_array_equal(model(2, items).scores(), loaded(2, items).scores())
