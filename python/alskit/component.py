"""Components: objects configured by a validated pydantic model (LensKit's ``Component``)."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

C = TypeVar("C", bound=BaseModel)


class Component(Generic[C]):
    """Base class of configurable objects.

    Build with either ``Component(config=...)`` (a config instance or a dict) or keyword
    options (``Component(embedding_size=20)``), never both; either way the options are
    validated by :attr:`config_class` and invalid values raise a ``ValueError`` (pydantic's
    ``ValidationError``) naming the field.
    """

    config_class: ClassVar[type[BaseModel]]
    config: C

    def __init__(self, config: C | dict[str, Any] | None = None, **kwargs: Any) -> None:
        if config is not None and kwargs:
            raise TypeError(
                f"{type(self).__name__}: pass either config= or keyword options, not both "
                f"(got config and {sorted(kwargs)})"
            )
        if config is None:
            config = self.validate_config(kwargs)
        elif isinstance(config, dict):
            config = self.validate_config(config)
        elif not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__}: config must be a {self.config_class.__name__} or a "
                f"dict, got {type(config).__name__}"
            )
        self.config = config

    @classmethod
    def validate_config(cls, data: Any) -> C:
        """Validate a dict (e.g. from :meth:`dump_config`) into this component's config."""
        if isinstance(data, cls.config_class):
            return data  # type: ignore[return-value]
        return cls.config_class.model_validate(data)  # type: ignore[return-value]

    def dump_config(self) -> dict[str, Any]:
        """The configuration as JSON-compatible data; ``validate_config`` reverses it."""
        return self.config.model_dump(mode="json")

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.dump_config().items())
        return f"{type(self).__name__}({options})"
