"""Components: objects configured by a validated pydantic model (LensKit's ``Component``)."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar, get_type_hints

from pydantic import BaseModel

C = TypeVar("C", bound=BaseModel)


class Component(Generic[C]):
    """Base class of configurable objects.

    Build with either ``Component(config=...)`` (a config instance or a dict) or keyword
    options (``Component(embedding_size=20)``), never both; either way the options are
    validated by :meth:`config_class` and invalid values raise a ``ValueError`` (pydantic's
    ``ValidationError``) naming the field.

    A subclass declares its config class as LensKit's components do, by annotating
    ``config: MyConfig``; a class attribute ``config_class = MyConfig`` (alskit's earlier
    way) is accepted too.
    """

    config: C
    #: The config class, once resolved (per class).
    _config_type: ClassVar[type[BaseModel] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("config_class")
        if isinstance(declared, type) and issubclass(declared, BaseModel):
            cls._config_type = declared
            del cls.config_class  # the classmethod below, inherited
        elif "_config_type" not in cls.__dict__:
            cls._config_type = None  # resolved from this class's own annotations

    @classmethod
    def config_class(cls) -> type[BaseModel]:
        """The component's config class (a classmethod, as in LensKit: call it for the
        class; ``cls.config_class()()`` is the default config)."""
        found = cls.__dict__.get("_config_type")
        if found is None:
            hint = get_type_hints(cls).get("config")
            if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
                raise TypeError(
                    f"{cls.__name__} declares no config class: annotate config: MyConfig"
                )
            found = hint
            cls._config_type = found
        return found

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
        elif not isinstance(config, self.config_class()):
            raise TypeError(
                f"{type(self).__name__}: config must be a {self.config_class().__name__} or "
                f"a dict, got {type(config).__name__}"
            )
        self.config = config

    @classmethod
    def validate_config(cls, data: Any = None) -> C:
        """Validate a dict (e.g. from :meth:`dump_config`) into this component's config;
        None gives the default config (as in LensKit)."""
        config_type = cls.config_class()
        if isinstance(data, config_type):
            return data  # type: ignore[return-value]
        return config_type.model_validate({} if data is None else data)  # type: ignore[return-value]

    def dump_config(self) -> dict[str, Any]:
        """The configuration as JSON-compatible data; ``validate_config`` reverses it."""
        return self.config.model_dump(mode="json")

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.dump_config().items())
        return f"{type(self).__name__}({options})"
