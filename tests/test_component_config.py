"""Component.config_class() and validate_config() with LensKit's semantics."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from alskit import BiasedMFConfig, BiasedMFScorer, ImplicitMFConfig, ImplicitMFScorer
from alskit.component import Component


class SizeConfig(BaseModel):
    size: int = 3


class Annotated(Component[SizeConfig]):
    config: SizeConfig


class Legacy(Component[SizeConfig]):
    config_class = SizeConfig  # alskit's earlier way of declaring it


class Child(Annotated):
    pass


class Unconfigured(Component[SizeConfig]):
    pass


@pytest.mark.parametrize(
    ("cls", "config"), [(BiasedMFScorer, BiasedMFConfig), (ImplicitMFScorer, ImplicitMFConfig)]
)
def test_config_class_is_a_classmethod_giving_the_class(cls: type, config: type) -> None:
    assert cls.config_class() is config
    assert cls().config_class() is config


@pytest.mark.parametrize("cls", [Annotated, Legacy, Child])
def test_declared_either_way(cls: type[Component[SizeConfig]]) -> None:
    assert cls.config_class() is SizeConfig
    component = cls(size=5)
    assert component.config == SizeConfig(size=5)
    assert cls.validate_config(component.dump_config()) == component.config


@pytest.mark.parametrize("cls", [BiasedMFScorer, ImplicitMFScorer, Annotated, Legacy])
def test_validate_config_none_is_the_default(cls: type[Component[BaseModel]]) -> None:
    default = cls.validate_config(None)
    assert default == cls.config_class()()
    assert cls.validate_config() == default


def test_no_config_class() -> None:
    with pytest.raises(TypeError, match="declares no config class"):
        Unconfigured.config_class()


def test_training_options_device_as_lenskit() -> None:
    from alskit import TrainingOptions
    from alskit.data import ItemList, RecQuery

    assert TrainingOptions(device="cpu").device == "cpu"
    assert TrainingOptions().device is None
    with pytest.raises(ValueError, match="CPU"):
        TrainingOptions(device="cuda")
    history = ItemList([1, 2])
    assert RecQuery(5, history).query_items is history
