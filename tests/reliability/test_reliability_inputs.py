"""Issue 14, inputs: memory proportional to the input for long string ids (checked under a
bounded address space), a MemoryError as a one-line CLI error, one rule for NUL-ended ids and
surrounding spaces in the CSV path and ``from_arrays``, and a bounded ``cg_steps``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import alskit
from alskit import Dataset, ImplicitMFScorer
from isolated import BOUNDED_ADDRESS_SPACE, run_python


def _csv_with_one_long_id(path: Path, rows: int, length: int) -> Path:
    rng = np.random.default_rng(1)
    cells = rng.choice(900 * 1600, rows, replace=False)  # distinct (user, item) pairs
    users, items = np.divmod(cells, 1600)
    lines = ["user_id,item_id,rating"]
    lines += [f"u{u},i{i},{1 + (u + i) % 5}" for u, i in zip(users, items, strict=True)]
    lines.append(f"u{'x' * length},i1,3")
    path.write_text("\n".join(lines) + "\n")
    return path


@BOUNDED_ADDRESS_SPACE
@pytest.mark.parametrize("length", [2_000, 10_000])
def test_one_long_id_in_a_csv_loads_in_bounded_memory(tmp_path: Path, length: int) -> None:
    """Today ids become a rows × longest-id fixed-width array: 2.4 GiB (2,000 characters) or
    over 8 GiB (10,000) for a 1.3 MB file. Here: loaded and trained within 600 MiB."""
    csv = _csv_with_one_long_id(tmp_path / "long.csv", 80_000, length)
    assert csv.stat().st_size < 2 * 2**20
    code = f"""
        import resource
        import alskit
        size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 600 * 2**20, resource.RLIM_INFINITY))
        data = alskit.load_csv({str(csv)!r})
        model = alskit.BiasedMFScorer(features=4, epochs=1)
        model.train(data, alskit.TrainingOptions(rng=1, threads=1))
        print(data.user_count, max(map(len, data.users.ids().tolist())))
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    users, longest = map(int, result.stdout.split())
    assert longest == length + 1 and users == 901


@BOUNDED_ADDRESS_SPACE
def test_from_arrays_with_one_long_id_in_bounded_memory() -> None:
    code = """
        import resource
        import numpy as np
        import alskit
        n = 200_000
        users = [f"u{i % 1000}" for i in range(n)]
        users[7] = "u" + "x" * 10_000
        items = [f"i{i % 777}" for i in range(n)]
        size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 500 * 2**20, resource.RLIM_INFINITY))
        data = alskit.Dataset.from_arrays(users, items, duplicates="last")
        print(data.user_count)
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1001"


def test_out_of_proportion_fixed_width_vocabulary_is_a_clear_error() -> None:
    ids = [f"u{i}" for i in range(300_000)] + ["x" * 100_000]
    with pytest.raises(ValueError, match=r"user ids: .*distinct ids with lengths up to 100000"):
        Dataset.from_arrays(ids, ["i"] * len(ids))


@BOUNDED_ADDRESS_SPACE
def test_memory_error_is_a_one_line_cli_error(tmp_path: Path) -> None:
    """Training under address-space limits just too small for the data: each run either
    works or fails with one line (today: a MemoryError traceback)."""
    rng = np.random.default_rng(1)
    users, items = np.divmod(rng.choice(6000 * 4000, 400_000, replace=False), 4000)
    csv = tmp_path / "d.csv"
    body = "\n".join(f"{u},{i},{1 + (u + i) % 5}" for u, i in zip(users, items, strict=True))
    csv.write_text("user_id,item_id,rating\n" + body + "\n")
    failures = 0
    for extra in (30, 34, 38, 44):
        code = f"""
            import resource, sys
            import numpy, pandas
            import alskit.cli
            size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size + {extra} * 2**20, resource.RLIM_INFINITY))
            sys.exit(alskit.cli.main(["train", {str(csv)!r}, "-o", {str(tmp_path / "m")!r},
                                      "--epochs", "1", "--threads", "1"]))
        """
        result = run_python(code)
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        if result.returncode != 0:
            failures += 1
            assert result.returncode == 2
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert failures > 0, "no limit was tight enough to exercise the out-of-memory path"


# ---- one rule for ids: CSV path and from_arrays -------------------------------------------


def test_nul_ended_id_refused_by_the_csv_path_as_by_from_arrays(tmp_path: Path) -> None:
    """Today the CSV path merges 'a\\0' with 'a' (numpy strings drop trailing NULs)."""
    with pytest.raises(ValueError, match="NUL"):
        Dataset.from_arrays(["a\0", "a"], ["x", "y"])
    csv = tmp_path / "nul.csv"
    csv.write_bytes(b"user_id,item_id,rating\na\x00,x,1\na,y,2\n")
    with pytest.raises(ValueError, match="NUL"):
        alskit.load_csv(csv)


def test_surrounding_spaces_one_rule(tmp_path: Path) -> None:
    """A CSV field's surrounding spaces are formatting, whichever reader runs; from_arrays
    takes ids verbatim. Today the pandas reader keeps a trailing space ('a ' ≠ 'a')."""
    csv = tmp_path / "spaces.csv"
    csv.write_text("user_id,item_id,rating\na ,x,1\n a,y,2\nb,x,3\n")
    data = alskit.load_csv(csv)
    assert data.users.ids().tolist() == ["a", "b"]
    assert data.interaction_count == 3
    verbatim = Dataset.from_arrays(["a ", "a"], ["x", "y"])
    assert verbatim.users.ids().tolist() == ["a", "a "]


def test_numeric_ids_with_spaces_stay_integers(tmp_path: Path) -> None:
    csv = tmp_path / "ints.csv"
    csv.write_text("user_id,item_id,rating\n1 ,7,1\n2,8 ,2\n")
    data = alskit.load_csv(csv)
    assert data.users.ids().dtype == np.int64 and data.users.ids().tolist() == [1, 2]
    assert data.items.ids().tolist() == [7, 8]


# ---- config bounds -----------------------------------------------------------------------


def test_cg_steps_bounded_in_the_config() -> None:
    """Today 3,000,000,000 passes the config and reaches pybind11 as a raw 'incompatible
    function arguments' TypeError."""
    with pytest.raises(ValueError, match="cg_steps"):
        ImplicitMFScorer(solver="cg", cg_steps=3_000_000_000)
    assert ImplicitMFScorer(solver="cg", cg_steps=10_000).config.cg_steps == 10_000
