"""The one message a missing LensKit gives (every module of the adapter raises it)."""

MISSING = "alskit.lenskit requires LensKit: install it with pip install 'alskit[lenskit]'"
