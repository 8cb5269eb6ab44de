"""Issue 14, limits: no silent wrong result from overflowing values, no hang after fork, no
crash from absurd thread counts, and memory checks that read the limits that really apply
(the memory and fork cases run in subprocesses with a bounded address space / a timeout)."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

from alskit import BiasedMFScorer, Dataset, ImplicitMFScorer, TrainingOptions
from alskit._native import core
from alskit.synthetic import generate
from isolated import BOUNDED_ADDRESS_SPACE, LIMIT_ADDRESS_SPACE, run_python, run_script

# ---- overflowing values ------------------------------------------------------------------


def _scaled(scale: float) -> Dataset:
    data = generate("tiny", kind="explicit", seed=1)
    assert data.ratings is not None
    users = data.users.ids(data.user_nums)
    items = data.items.ids(data.item_nums)
    return Dataset.from_arrays(users, items, data.ratings * scale)


@pytest.mark.parametrize(("dtype", "scale"), [("float32", 1e20), ("float64", 1e160)])
def test_ratings_whose_squares_overflow_are_refused(dtype: str, scale: float) -> None:
    """Today: the systems overflow to inf, the robust fallback returns 0 for every row, and
    the 'trained' model is the bias baseline, with no error."""
    model = BiasedMFScorer(features=4, epochs=2, dtype=dtype)
    with pytest.raises(ValueError, match=rf"too large for {dtype}.*overflow"):
        model.train(_scaled(scale), TrainingOptions(rng=1, threads=1))


def test_large_but_safe_ratings_still_train() -> None:
    model = BiasedMFScorer(features=4, epochs=2, dtype="float32")
    model.train(_scaled(1e6), TrainingOptions(rng=1, threads=1))
    assert model.user_features_ is not None and np.abs(model.user_features_).max() > 0


def test_implicit_weight_overflowing_float32_is_refused() -> None:
    """Today: weight=1e30 in float32 trains and every score is silently 0.0."""
    data = generate("tiny", kind="implicit", seed=1)
    model = ImplicitMFScorer(features=4, epochs=2, dtype="float32", weight=1e30)
    with pytest.raises(ValueError, match=r"weight.*float32|float32.*weight"):
        model.train(data, TrainingOptions(rng=1, threads=1))
    fine = ImplicitMFScorer(features=4, epochs=2, dtype="float64", weight=1e30)
    fine.train(data, TrainingOptions(rng=1, threads=1))  # float64 has the range
    scores = fine(data.users.ids()[0], data.items.ids()).scores()
    assert scores is not None and np.isfinite(scores).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_system_in_the_robust_fallback_raises(dtype: type) -> None:
    """A row whose normal equations overflow: today solve_robust returns x = 0."""
    big = np.sqrt(np.finfo(dtype).max) * 4  # finite, but its square is not
    right = np.array([[big, 0.0], [0.0, big]], dtype=dtype)
    left = np.zeros((1, 2), dtype=dtype)
    indptr = np.array([0, 2], dtype=np.int64)
    indices = np.array([0, 1], dtype=np.int32)
    values = np.ones(2, dtype=dtype)
    with pytest.raises(core.NumericalError, match=r"row 0: .*overflowed"):
        core.explicit_half_epoch(indptr, indices, values, left, right, 0.1, threads=1)


# ---- fork --------------------------------------------------------------------------------

FORK_CHILD = """
    import multiprocessing as mp
    import numpy as np
    import alskit
    from alskit.synthetic import generate

    data = generate("small", kind="explicit", seed=1)

    def work(kind, threads):
        model = (alskit.BiasedMFScorer if kind == "explicit" else alskit.ImplicitMFScorer)(
            features=8, epochs=2, dtype="float32"
        )
        model.train(data, alskit.TrainingOptions(rng=1, threads=threads))
        users = data.users.ids()[:40]
        recs = model.recommend(users, n=5, threads=threads)
        pred = model.predict(users, data.items.ids()[:40], threads=threads)
        return model.item_features_.tobytes(), recs.item_ids.tobytes(), pred.tobytes()

    def child(queue, kind):
        queue.put(work(kind, 2))  # asks for 2 threads, as the parent did

    if __name__ == "__main__":
        for kind in ("explicit", "implicit"):
            expected = work(kind, 2)  # multi-threaded in the parent: the OpenMP pool exists
            ctx = mp.get_context("fork")
            queue = ctx.Queue()
            proc = ctx.Process(target=child, args=(queue, kind))
            proc.start()
            got = queue.get(timeout=60)
            proc.join(60)
            assert proc.exitcode == 0, proc.exitcode
            assert got == expected, "the forked child computed different results"
            print(kind, "ok", flush=True)
"""


def test_forked_child_trains_recommends_predicts_after_multithreaded_parent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Today the child hangs forever (libgomp's pool does not survive fork)."""
    script = tmp_path / "fork_child.py"
    script.write_text(textwrap.dedent(FORK_CHILD))
    result = run_script(script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["explicit", "ok", "implicit", "ok"]


FORK_WHILE_ANOTHER_THREAD_READS = """
    import multiprocessing as mp, threading
    import numpy as np
    import alskit
    from alskit._concurrency import guard_of
    from alskit.synthetic import generate

    data = generate("tiny", kind="explicit", seed=1)
    model = alskit.BiasedMFScorer(features=4, epochs=2)
    model.train(data, alskit.TrainingOptions(rng=1, threads=2))
    expected = model.item_features_.copy()
    holding, release = threading.Event(), threading.Event()

    def reader():  # a read in progress in another thread when the process forks
        guard_of(model).lock.acquire_shared()
        holding.set()
        release.wait()
        guard_of(model).lock.release_shared()

    def child(queue):
        model.train(data, alskit.TrainingOptions(rng=2, threads=2))  # needs the write side
        queue.put((model.trained_epochs, model.recommend(n=2).item_ids.tolist()[:2]))

    if __name__ == "__main__":
        thread = threading.Thread(target=reader)
        thread.start()
        holding.wait()
        ctx = mp.get_context("fork")
        queue = ctx.Queue()
        proc = ctx.Process(target=child, args=(queue,))
        proc.start()
        epochs, recs = queue.get(timeout=60)
        proc.join(60)
        release.set()
        thread.join()
        assert proc.exitcode == 0 and epochs == 2 and len(recs) == 2
        assert np.array_equal(model.item_features_, expected)
        print("ok")
"""


def test_forked_child_can_train_a_model_another_thread_was_reading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A lock held by a parent thread at fork would otherwise block the child forever."""
    script = tmp_path / "fork_reader.py"
    script.write_text(textwrap.dedent(FORK_WHILE_ANOTHER_THREAD_READS))
    result = run_script(script)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# ---- threads -----------------------------------------------------------------------------


@BOUNDED_ADDRESS_SPACE
def test_absurd_thread_count_is_an_error_not_a_dead_interpreter() -> None:
    """threads=256 on a small machine under ulimit -v: today libgomp cannot create the
    threads and exit(1)s the interpreter, with no exception."""
    code = (
        LIMIT_ADDRESS_SPACE
        + """
    import alskit
    from alskit.synthetic import generate
    data = generate("tiny", kind="explicit", seed=1)
    limit_address_space(300 * 2**20)
    model = alskit.BiasedMFScorer(features=4, epochs=1)
    try:
        model.train(data, alskit.TrainingOptions(rng=1, threads=256))
    except ValueError as e:
        print("refused:", e)
    model.train(data, alskit.TrainingOptions(rng=1, threads=1))
    print("alive")
    """
    )
    if len(__import__("os").sched_getaffinity(0)) * 4 >= 256:
        pytest.skip("this machine allows 256 threads")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "refused: threads must be" in result.stdout
    assert result.stdout.strip().endswith("alive")


@BOUNDED_ADDRESS_SPACE
def test_thread_stacks_beyond_the_address_space_are_refused_beforehand() -> None:
    """An allowed count whose stacks do not fit under ulimit -v: refused with a ValueError
    naming threads before libgomp would try (and exit the process)."""
    code = (
        LIMIT_ADDRESS_SPACE
        + """
    import resource
    import alskit
    from alskit._threads import max_threads
    from alskit.synthetic import generate
    data = generate("tiny", kind="explicit", seed=1)
    alskit.BiasedMFScorer(features=4, epochs=1).train(
        data, alskit.TrainingOptions(rng=1, threads=1)
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    limit_address_space(32 * 2**20)
    model = alskit.BiasedMFScorer(features=4, epochs=1)
    try:
        model.train(data, alskit.TrainingOptions(rng=1, threads=max_threads()))
    except ValueError as e:
        print("refused:", e)
    model.train(data, alskit.TrainingOptions(rng=1, threads=1))
    print("alive")
    """
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "refused: threads=" in result.stdout and "address-space" in result.stdout
    assert result.stdout.strip().endswith("alive")


def test_default_threads_are_the_available_cpus() -> None:

    from alskit._threads import resolve_threads

    assert resolve_threads(None) == len(os.sched_getaffinity(0))


# ---- memory ------------------------------------------------------------------------------


@BOUNDED_ADDRESS_SPACE
def test_memory_check_reads_the_address_space_limit() -> None:
    """10 M users, 10 interactions: 4 GB of factors. Under ulimit -v the check must refuse
    with a ValueError (today it compares with physical RAM, then numpy fails)."""
    code = (
        LIMIT_ADDRESS_SPACE
        + """
    import numpy as np
    import alskit
    users = np.arange(10_000_000)
    data = alskit.Dataset.from_arrays(np.arange(10), np.arange(10), np.ones(10), users=users)
    limit_address_space(1024 * 2**20)
    model = alskit.BiasedMFScorer(features=50, epochs=1, dtype="float64")
    try:
        model.train(data, alskit.TrainingOptions(rng=1, threads=1))
    except ValueError as e:
        print("refused:", e)
    except MemoryError:
        print("MemoryError")
    """
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "refused: embedding_size=50 needs" in result.stdout, result.stdout
    assert "address-space limit" in result.stdout


@BOUNDED_ADDRESS_SPACE
def test_memory_limit_reports_the_tightest_limit() -> None:
    code = (
        LIMIT_ADDRESS_SPACE
        + """
    from alskit._threads import memory_limit
    limit_address_space(200 * 2**20)
    left, what = memory_limit()
    print(left <= 200 * 2**20, what)
    """
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True address-space limit")
