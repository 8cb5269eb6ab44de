"""Without LensKit, ``import alskit.lenskit`` fails with an ImportError naming the extra
(checked in a real interpreter where the ``lenskit`` module cannot be imported)."""

from __future__ import annotations

import subprocess
import sys

HIDE_LENSKIT = """
import sys
class _NoLenskit:
    def find_spec(self, name, path=None, target=None):
        if name == "lenskit" or name.startswith("lenskit."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, _NoLenskit())
import alskit  # the rest of alskit does not need LensKit
try:
    import alskit.lenskit
except ImportError as error:
    print(error)
else:
    raise SystemExit("alskit.lenskit imported without LensKit")
"""


def test_import_without_lenskit_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HIDE_LENSKIT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'alskit[lenskit]'" in result.stdout
