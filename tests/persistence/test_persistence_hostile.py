"""Hostile inputs at ``load`` and ``save``: one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import alskit
from alskit import (
    BiasedMFScorer,
    ModelFileError,
)
from hostile import (
    Ctx,
    bad,
    cd,
    deep_json,
    eocd,
    header_edit,
    lh,
    npy_header_only,
    npy_with_shape,
    patched,
    rehashed,
    verify,
    with_member,
    zip_bytes,
)

# ---- 7. load and save ----------------------------------------------------------------------

LOAD_TABLE = [
    bad(
        lambda c: alskit.load(c.tmp / "missing.alskit"),
        FileNotFoundError,
        r"missing\.alskit",
        id="missing-file",
    ),
    bad(
        lambda c: alskit.load(c.tmp / "no-such-dir" / "m.alskit"),
        FileNotFoundError,
        r"no-such-dir",
        id="missing-directory",
    ),
    bad(lambda c: alskit.load(c.tmp), ModelFileError, r"Is a directory|directory", id="directory"),
    bad(
        lambda c: alskit.load(c.write("empty.alskit", b"")),
        ModelFileError,
        r"empty\.alskit: not a readable alskit model file",
        id="empty-file",
    ),
    bad(
        lambda c: alskit.load(c.write("text.alskit", "hello")),
        ModelFileError,
        r"text\.alskit",
        id="text-file",
    ),
    bad(
        lambda c: alskit.load(
            c.write(
                "noise.alskit",
                bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
            )
        ),
        ModelFileError,
        r"noise\.alskit",
        id="random-bytes",
    ),
    bad(
        lambda c: alskit.load(c.write("pk.alskit", b"PK\x03\x04" + b"\x00" * 100)),
        ModelFileError,
        r"pk\.alskit",
        id="zip-magic-then-zeros",
    ),
    bad(
        lambda c: alskit.load(c.write("t1.alskit", c.raw[:1])),
        ModelFileError,
        r"t1\.alskit",
        id="truncated-to-1-byte",
    ),
    bad(
        lambda c: alskit.load(c.write("t100.alskit", c.raw[:100])),
        ModelFileError,
        r"t100\.alskit",
        id="truncated-to-100-bytes",
    ),
    bad(
        lambda c: alskit.load(c.write("half.alskit", c.raw[: len(c.raw) // 2])),
        ModelFileError,
        r"half\.alskit",
        id="truncated-to-half",
    ),
    bad(
        lambda c: alskit.load(c.write("less1.alskit", c.raw[:-1])),
        ModelFileError,
        r"less1\.alskit",
        id="truncated-by-1-byte",
    ),
    bad(
        lambda c: alskit.load(c.write("z.alskit", zip_bytes({"other.txt": b"x"}))),
        ModelFileError,
        r"no model\.json",
        id="zip-without-header",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"{not json")),
        ModelFileError,
        r"model\.json is not valid JSON",
        id="header-not-json",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"\xff\xfe\x00")),
        ModelFileError,
        r"model\.json",
        id="header-not-utf8",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", b"[1, 2]")),
        ModelFileError,
        r"wrong format tag",
        id="header-a-list",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h.update(model="ALSBase"))),
        ModelFileError,
        r"unknown model class 'ALSBase'",
        id="header-abstract-class",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h.update(version=1.0))),
        ModelFileError,
        r"invalid format version 1\.0",
        id="header-float-version",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["config"].update(embedding_size=10**12))),
        ModelFileError,
        r"item_features must be \(5, 1000000000000\)",
        id="header-absurd-embedding-size",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(c, lambda h: h["arrays"]["users"].update(shape=[10**20]))
        ),
        ModelFileError,
        r"array 'users' has shape",
        id="header-absurd-shape",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(
                c,
                lambda h: h["arrays"].update(
                    {"../evil": {"dtype": "<f8", "shape": [1], "sha256": "0"}}
                ),
            )
        ),
        ModelFileError,
        r"'\.\./evil' is missing",
        id="header-path-traversal-array",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "model.json", deep_json())),
        ModelFileError,
        r"model\.json",
        id="header-deeply-nested",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 10), "<H", 99)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-unknown-compression-method",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 8), "<H", 1)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-encrypted-flag",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("item_features.npy", 8), "<H", 64)),
        ModelFileError,
        r"patched\.alskit|item_features",
        id="zip-strong-encryption-flag",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 6), "<H", 255)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-version-needed",
    ),
    bad(
        lambda c: alskit.load(patched(c, cd("model.json", 10), "<H", 12)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-header-bzip2-method",
    ),
    bad(
        lambda c: alskit.load(patched(c, eocd(16), "<I", 0xFFFFFFF0)),
        ModelFileError,
        r"patched\.alskit",
        id="zip-central-directory-offset",
    ),
    bad(
        lambda c: alskit.load(patched(c, lh("model.json", 28), "<H", 0xFFFF)),
        ModelFileError,
        r"patched\.alskit|model\.json",
        id="zip-local-extra-length",
    ),
    bad(
        lambda c: alskit.load(
            with_member(
                c,
                "users.npy",
                npy_header_only(b"{'descr': 'O', 'fortran_order': False, 'shape': (1,), }"[:40]),
            )
        ),
        ModelFileError,
        r"users",
        id="npy-malformed-header",
    ),
    bad(
        lambda c: alskit.load(with_member(c, "users.npy", npy_with_shape("(10000000000000,)"))),
        ModelFileError,
        r"users",
        id="npy-absurd-shape",
    ),
    bad(
        lambda c: alskit.load(
            header_edit(c, lambda h: h["state"].update(global_bias=float("nan")))
        ),
        ModelFileError,
        r"global_bias",
        id="state-global-bias-nan",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["state"].update(trained_epochs=-5))),
        ModelFileError,
        r"trained_epochs",
        id="state-negative-epochs",
    ),
    bad(
        lambda c: alskit.load(header_edit(c, lambda h: h["state"].update(damping=[-1, -1]))),
        ModelFileError,
        r"damping",
        id="state-negative-damping",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "item_features", np.full((5, 3), np.nan))),
        ModelFileError,
        r"item_features",
        id="non-finite-item-features",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "users", np.array([True, False, True, False]))),
        ModelFileError,
        r"booleans",
        id="boolean-user-ids",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "users", np.array([1, 1, 2, 3]))),
        ModelFileError,
        r"duplicate id 1",
        id="duplicate-user-ids",
    ),
    bad(
        lambda c: alskit.load(
            rehashed(c, "seen_indices", np.array([0, 1, 0, 2, 1, 3, 0, 3, 99], np.int32))
        ),
        ModelFileError,
        r"indices\[8\] = 99",
        id="seen-index-out-of-range",
    ),
    bad(
        lambda c: alskit.load(rehashed(c, "item_features", c.biased.item_features_.astype(">f8"))),
        ModelFileError,
        r"item_features",
        id="big-endian-features",
    ),
    bad(
        lambda c: alskit.load(None),
        TypeError,
        r"path|NoneType",
        id="path-none",
    ),
    bad(
        lambda c: alskit.load(123),
        TypeError,
        r"path|int",
        id="path-int",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), LOAD_TABLE)
def test_load(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


def _save_into_directory(c: Ctx) -> None:
    target = c.path("existing-dir")
    target.mkdir()
    c.biased.save(target)


SAVE_TABLE = [
    bad(
        lambda c: c.biased.save(c.tmp / "no-such-dir" / "m.alskit"),
        FileNotFoundError,
        r"no-such-dir",
        id="missing-directory",
    ),
    bad(_save_into_directory, OSError, r"existing-dir", id="onto-a-directory"),
    bad(lambda c: c.biased.save(None), TypeError, r"NoneType", id="path-none"),
    bad(
        lambda c: BiasedMFScorer().save(c.path("u.alskit")),
        RuntimeError,
        r"not trained",
        id="untrained",
    ),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), SAVE_TABLE)
def test_save(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)


def test_failed_save_leaves_no_partial_file(ctx: Ctx) -> None:
    target = ctx.path("dir-target")
    target.mkdir()
    with pytest.raises(OSError, match="dir-target"):
        ctx.biased.save(target)
    assert not target.with_name(target.name + ".partial").exists()
