"""Guards the sanitizer CI job: when it runs, the module under test must be the sanitized,
portable build, not a regular install."""

from __future__ import annotations

import os

import pytest


@pytest.mark.skipif(
    not os.environ.get("ALSKIT_EXPECT_SANITIZED"), reason="only in the sanitizer job"
)
def test_sanitized_module_is_under_test() -> None:
    from alskit._native import core

    assert core.isa() == "baseline"
    assert "asan" in os.environ.get("LD_PRELOAD", "")
    with open(core.__file__, "rb") as shared_object:
        assert b"__asan_init" in shared_object.read()
