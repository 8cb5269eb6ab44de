"""The registry of scorers: each scorer class is registered once (in :mod:`alskit.als`), and
everything that must find a scorer by name — model files, the command line, evaluation — asks
here. Model files are read and written through :mod:`alskit.persistence` (a generic archive)
with the state each scorer declares (``_state``/``_restore``)."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .. import persistence
from ..persistence import ModelFileError

if TYPE_CHECKING:
    from ._base import ALSBase

_T = TypeVar("_T", bound="type[ALSBase]")

SCORERS: dict[str, type[ALSBase]] = {}
"""The registered scorer classes by command-line name (``kind``: "biased", "implicit")."""

_BY_CLASS_NAME: dict[str, type[ALSBase]] = {}  # model files name the class


def register(cls: _T) -> _T:
    """Register a scorer class under its ``kind`` (once; a second class of the same kind or
    class name is an error)."""
    kind, name = cls.kind, cls.__name__
    if kind in SCORERS or name in _BY_CLASS_NAME:
        raise ValueError(f"a scorer named {kind!r} or {name!r} is already registered")
    SCORERS[kind] = cls
    _BY_CLASS_NAME[name] = cls
    return cls


def kind_of(model: ALSBase) -> str:
    """The registered name of ``model``'s class (ValueError for an unregistered class)."""
    cls = type(model)
    if _BY_CLASS_NAME.get(cls.__name__) is not cls:
        raise ValueError(f"{cls.__name__} is not a registered scorer")
    return cls.kind


class _Schema:
    """The model-file schema of the registered scorers (see persistence.Schema)."""

    def arrays(self, model: Any) -> Mapping[str, tuple[str, ...]]:
        cls = _BY_CLASS_NAME.get(model) if isinstance(model, str) else None
        if cls is None:
            raise ModelFileError(f"unknown model class {model!r}")
        return cls._archive_arrays()

    def factor_dtype(self, model: str, config: Any) -> np.dtype[Any]:
        try:
            return np.dtype(_BY_CLASS_NAME[model].validate_config(config).dtype)
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"invalid model configuration: {e}") from e


_SCHEMA = _Schema()


def save(model: ALSBase, path: str | PathLike[str]) -> None:
    """Write a trained, registered model to ``path`` (see ``ALSBase.save``)."""
    name = type(model).__name__
    if _BY_CLASS_NAME.get(name) is not type(model):
        raise TypeError(f"cannot save a {name}: only {sorted(_BY_CLASS_NAME)} are supported")
    with model._reading() as snapshot:
        snapshot._check_trained()
        arrays, state = snapshot._state()
        persistence.write_model(path, name, snapshot.dump_config(), state, arrays)


def load(path: str | PathLike[str]) -> ALSBase:
    """Read a model written by ``save``; raises :class:`~alskit.ModelFileError` (a
    ``ValueError``) for a damaged, tampered, foreign or too-new file.

    Memory stays bounded by the file (see :func:`alskit.persistence.read_model`); array names
    and dtypes are checked against what the model class saves, and the model's arrays against
    each other as they enter the model (``_from_state``).
    """
    archive = persistence.read_model(path, _SCHEMA)
    cls = _BY_CLASS_NAME[archive.model]
    try:
        return cls._restore(archive.config, archive.state, archive.arrays)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"inconsistent model file: {type(e).__name__}: {e}") from e
    except MemoryError as e:
        raise persistence.unreadable(path, e) from e
