"""Guards the sanitizer CI job: when it runs, the module under test must be the sanitized
build from its scratch directory, not the regular install."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(
    not os.environ.get("ALSKIT_EXPECT_SANITIZED"), reason="only in the sanitizer job"
)
def test_sanitized_module_is_under_test() -> None:
    import alskit._core as core

    assert os.environ.get("PYTHONPATH", "") in core.__file__
    assert core.isa() == "baseline"
