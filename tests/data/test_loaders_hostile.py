"""Hostile inputs at the loaders (``load_csv``, ``load_interactions``,
``load_movielens``): one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from alskit import (
    load_csv,
    load_interactions,
    load_movielens,
)
from hostile import (
    CSV_HEAD,
    I64_MAX,
    I64_MIN,
    Ctx,
    _truncated_gzip,
    bad,
    ok,
    verify,
)

# ---- 2. loaders ----------------------------------------------------------------------------

LOADER_TABLE = [
    bad(lambda c: load_csv(c.tmp / "nope.csv"), FileNotFoundError, r"nope\.csv", id="missing-file"),
    bad(
        lambda c: load_csv(c.tmp / "no-dir" / "r.csv"),
        FileNotFoundError,
        r"no-dir",
        id="missing-directory",
    ),
    bad(lambda c: load_csv(c.tmp), IsADirectoryError, r"directory", id="directory"),
    bad(
        lambda c: load_interactions(c.tmp),
        IsADirectoryError,
        r"directory",
        id="interactions-directory",
    ),
    bad(
        lambda c: load_csv(c.write("e.csv", "")),
        ValueError,
        r"e\.csv: no interactions",
        id="empty-file",
    ),
    bad(
        lambda c: load_csv(c.write("h.csv", CSV_HEAD)),
        ValueError,
        r"h\.csv: no interactions",
        id="header-only",
    ),
    bad(
        lambda c: load_csv(c.write("a.csv", CSV_HEAD + "1,2,x\n")),
        ValueError,
        r"line 2: column 'rating' has non-numeric value 'x'",
        id="non-numeric-rating",
    ),
    bad(
        lambda c: load_csv(c.write("n.csv", CSV_HEAD + "1,2,3\n1,3,nan\n")),
        ValueError,
        r"n\.csv: rating at line 3 is nan",
        id="nan-rating",
    ),
    bad(
        lambda c: load_csv(c.write("i.csv", CSV_HEAD + "1,2,3\n1,3,-inf\n")),
        ValueError,
        r"rating at line 3 is -inf",
        id="inf-rating",
    ),
    bad(
        lambda c: load_csv(c.write("b.csv", CSV_HEAD + "1,2,\n")),
        ValueError,
        r"line 2: column 'rating' is empty",
        id="empty-rating",
    ),
    bad(
        lambda c: load_csv(c.write("c.csv", CSV_HEAD + ",2,1\n")),
        ValueError,
        r"line 2: column 'user_id' is empty",
        id="empty-id",
    ),
    bad(
        lambda c: load_csv(c.write("g.csv", CSV_HEAD + "1,2,1\n1,2,3,4,5\n")),
        ValueError,
        r"g\.csv: malformed",
        id="ragged-rows",
    ),
    bad(
        lambda c: load_csv(c.write("f.csv", CSV_HEAD + "1.5,2,1\n")),
        ValueError,
        r"line 2: column 'user_id' has non-integer id",
        id="fractional-id",
    ),
    bad(
        lambda c: load_csv(c.write("k.csv", CSV_HEAD + "9223372036854775808,2,1\n")),
        ValueError,
        r"user ids contain 9223372036854775808, beyond the int64 range",
        id="id-above-int64",
    ),
    ok(
        lambda c: load_csv(
            c.write("x.csv", CSV_HEAD + f"{I64_MAX},{I64_MIN},1\n{I64_MIN},{I64_MAX},2\n")
        ),
        lambda d: (
            d.users.ids().tolist() == [I64_MIN, I64_MAX]
            and d.items.ids().tolist() == [I64_MIN, I64_MAX]
        ),
        id="int64-extreme-ids",
    ),
    bad(
        lambda c: load_csv(c.write("d.csv", CSV_HEAD + "1,2,3\n1,2,4\n")),
        ValueError,
        r"duplicate \(user, item\) pairs.*line 2 and line 3",
        id="duplicate-rows",
    ),
    bad(
        lambda c: load_csv(c.write("p.csv", CSV_HEAD + "1,2,3\n"), duplicates="x"),
        ValueError,
        r"duplicates must be",
        id="bad-duplicates-policy",
    ),
    bad(
        lambda c: load_csv(c.write("bin.csv", bytes(range(256)) * 8)),
        ValueError,
        r"bin\.csv",
        id="binary-garbage",
    ),
    bad(
        lambda c: load_csv(c.write("l.csv.gz", b"\x1f\x8b\x08garbage")),
        ValueError,
        r"l\.csv\.gz",
        id="corrupt-gzip",
    ),
    bad(
        lambda c: load_csv(c.write("t.csv.gz", _truncated_gzip())),
        ValueError,
        r"t\.csv\.gz",
        id="truncated-gzip",
    ),
    bad(
        lambda c: load_csv(c.write("s.csv", CSV_HEAD + "1,2,3\n"), sep=5),
        TypeError,
        r"sep",
        id="separator-not-a-string",
    ),
    bad(
        lambda c: load_csv(c.write("s.csv", CSV_HEAD + "1,2,3\n"), sep=""),
        ValueError,
        r"sep \(the field separator\) must not be empty",
        id="separator-empty",
    ),
    bad(
        lambda c: load_interactions(c.write("n.parquet", b"not parquet")),
        (ValueError, ImportError),
        r"n\.parquet",
        id="garbage-parquet",
    ),
    bad(
        lambda c: load_movielens(c.write_named("u.data", "1,2,3\n")),
        ValueError,
        r"not a MovieLens u\.data file",
        id="movielens-wrong-layout",
    ),
    bad(
        lambda c: load_movielens(c.write_named("x.data", "1\t2\t3\t4\n")),
        ValueError,
        r"not a MovieLens ratings file name 'x\.data'",
        id="movielens-wrong-name",
    ),
    bad(lambda c: load_csv(None), TypeError, r"NoneType", id="path-none"),
]


@pytest.mark.parametrize(("call", "errors", "pattern", "check"), LOADER_TABLE)
def test_loaders(ctx: Ctx, call: Any, errors: Any, pattern: Any, check: Any) -> None:
    verify(ctx, call, errors, pattern, check)
