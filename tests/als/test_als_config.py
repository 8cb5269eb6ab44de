"""Configuration of the ALS scorers: defaults, accepted forms, validation, round trips."""

from __future__ import annotations

import math
from typing import Any

import pytest

import alskit
from alskit import (
    ALSConfig,
    BiasedMFConfig,
    BiasedMFScorer,
    ImplicitMFConfig,
    ImplicitMFScorer,
    UIPair,
)

SCORERS = [BiasedMFScorer, ImplicitMFScorer]
CONFIGS = [ALSConfig, BiasedMFConfig, ImplicitMFConfig]


# ---------------------------------------------------------------------------------------------
# Exports and defaults
# ---------------------------------------------------------------------------------------------


def test_als_module_exports() -> None:
    assert sorted(alskit.als.__all__) == sorted(
        [
            "ALSBase",
            "ALSConfig",
            "BiasedMFConfig",
            "BiasedMFScorer",
            "ImplicitMFConfig",
            "ImplicitMFScorer",
        ]
    )
    for name in alskit.als.__all__:
        assert getattr(alskit, name) is getattr(alskit.als, name)


@pytest.mark.parametrize("cls", CONFIGS)
def test_shared_defaults(cls: type[ALSConfig]) -> None:
    cfg = cls()
    assert cfg.embedding_size == 50
    assert cfg.epochs == 10
    assert cfg.regularization == 0.1
    assert cfg.user_reg == 0.1 and cfg.item_reg == 0.1
    assert cfg.user_embeddings is True
    # extensions keep LensKit 2025.1's behaviour by default, except the dtype (DESIGN §2:
    # float32, as LensKit since 2025.3, implicit and Spark)
    assert cfg.dtype == "float32"


def test_biased_defaults() -> None:
    cfg = BiasedMFConfig()
    assert cfg.damping == 5.0
    assert cfg.user_damping == 5.0 and cfg.item_damping == 5.0
    assert isinstance(cfg, ALSConfig)


def test_implicit_defaults() -> None:
    cfg = ImplicitMFConfig()
    assert cfg.weight == 40
    assert cfg.use_ratings is False
    assert cfg.solver == "cholesky"
    assert cfg.cg_steps == 3
    assert (cfg.block_size, cfg.sweeps) == (32, 1)
    assert isinstance(cfg, ALSConfig)


def test_default_dumps() -> None:
    base = {
        "embedding_size": 50,
        "epochs": 10,
        "regularization": 0.1,
        "user_embeddings": True,
        "dtype": "float32",
    }
    assert ALSConfig().model_dump(mode="json") == base
    assert BiasedMFConfig().model_dump(mode="json") == {**base, "damping": 5.0}
    assert ImplicitMFConfig().model_dump(mode="json") == {
        **base,
        "weight": 40.0,
        "use_ratings": False,
        "negative_feedback": False,
        "solver": "cholesky",
        "cg_steps": 3,
        "block_size": 32,
        "sweeps": 1,
    }


@pytest.mark.parametrize("cls", SCORERS)
def test_default_scorer_instance(cls: type[Any]) -> None:
    scorer = cls()
    assert isinstance(scorer, alskit.ALSBase)
    assert isinstance(scorer.config, cls.config_class())
    assert scorer.config == cls.config_class()()
    assert scorer.trained_epochs == 0
    assert scorer.expected_training_epochs == 10
    # every dumped key is an attribute of the config
    for key, value in scorer.dump_config().items():
        assert hasattr(scorer.config, key)
        assert value is not None
    assert cls.__name__ in repr(scorer)


@pytest.mark.parametrize("cls", SCORERS)
def test_untrained_scorer_refuses_to_score(cls: type[Any]) -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        cls()(1, [1, 2])


# ---------------------------------------------------------------------------------------------
# Accepted forms
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CONFIGS)
def test_features_alias(cls: type[ALSConfig]) -> None:
    cfg = cls(features=7)
    assert cfg.embedding_size == 7
    assert cls(embedding_size=7) == cfg
    dumped = cfg.model_dump(mode="json")
    assert dumped["embedding_size"] == 7
    assert "features" not in dumped


@pytest.mark.parametrize("cls", SCORERS)
def test_scorer_kwargs_alias(cls: type[Any]) -> None:
    assert cls(features=3).config.embedding_size == 3
    assert cls(embedding_size=4, epochs=2).config.epochs == 2


@pytest.mark.parametrize("cls", SCORERS)
def test_both_names_of_the_embedding_size_refused(cls: type[Any]) -> None:
    # Each name alone is accepted; both read as "features: Extra inputs are not permitted".
    with pytest.raises(ValueError, match="embedding_size and features are one option"):
        cls(features=10, embedding_size=20)


def test_regularization_float() -> None:
    cfg = ALSConfig(regularization=2)
    assert cfg.regularization == 2.0
    assert cfg.user_reg == 2.0 and cfg.item_reg == 2.0
    assert isinstance(cfg.user_reg, float)
    assert ALSConfig(regularization=0).user_reg == 0.0


def test_regularization_uipair() -> None:
    cfg = ALSConfig(regularization=UIPair(user=2.0, item=0.5))
    assert cfg.user_reg == 2.0
    assert cfg.item_reg == 0.5


def test_regularization_dict() -> None:
    cfg = ImplicitMFConfig(regularization={"user": 2, "item": 1})
    assert isinstance(cfg.regularization, UIPair)
    assert cfg.user_reg == 2.0
    assert cfg.item_reg == 1.0
    assert cfg.model_dump(mode="json")["regularization"] == {"user": 2.0, "item": 1.0}


def test_damping_float() -> None:
    cfg = BiasedMFConfig(damping=3)
    assert cfg.user_damping == 3.0 and cfg.item_damping == 3.0
    assert BiasedMFConfig(damping=0).item_damping == 0.0


def test_damping_dict() -> None:
    cfg = BiasedMFConfig(damping={"user": 2, "item": 0})
    assert cfg.user_damping == 2.0
    assert cfg.item_damping == 0.0
    # a missing key means no damping on that side
    only_user = BiasedMFConfig(damping={"user": 4})
    assert (only_user.user_damping, only_user.item_damping) == (4.0, 0.0)
    only_item = BiasedMFConfig(damping={"item": 4})
    assert (only_item.user_damping, only_item.item_damping) == (0.0, 4.0)


@pytest.mark.parametrize("mode", [True, False, "prefer"])
def test_user_embeddings_modes(mode: bool | str) -> None:
    assert ALSConfig(user_embeddings=mode).user_embeddings == mode


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_choices(dtype: str) -> None:
    assert ALSConfig(dtype=dtype).dtype == dtype
    assert BiasedMFScorer(dtype=dtype).dtype.name == dtype


def test_implicit_extensions() -> None:
    cfg = ImplicitMFConfig(solver="cg", cg_steps=8, weight=0, use_ratings=True)
    assert (cfg.solver, cfg.cg_steps, cfg.weight, cfg.use_ratings) == ("cg", 8, 0.0, True)


# ---------------------------------------------------------------------------------------------
# Rejected values
# ---------------------------------------------------------------------------------------------

INVALID: list[tuple[type[ALSConfig], dict[str, Any], str]] = [
    (ALSConfig, {"embedding_size": 0}, "embedding_size"),
    (ALSConfig, {"embedding_size": -1}, "embedding_size"),
    (ALSConfig, {"embedding_size": True}, "embedding_size"),
    (ALSConfig, {"embedding_size": 2.5}, "embedding_size"),
    (ALSConfig, {"epochs": 0}, "epochs"),
    (ALSConfig, {"epochs": -2}, "epochs"),
    (ALSConfig, {"epochs": True}, "epochs"),
    (ALSConfig, {"regularization": -0.1}, "regularization"),
    (ALSConfig, {"regularization": math.inf}, "regularization"),
    (ALSConfig, {"regularization": math.nan}, "regularization"),
    (ALSConfig, {"regularization": {"user": -1.0, "item": 0.1}}, "regularization"),
    (ALSConfig, {"regularization": {"user": 0.1, "item": math.inf}}, "regularization"),
    (ALSConfig, {"regularization": {"user": 0.1}}, "regularization"),
    (ALSConfig, {"user_embeddings": "always"}, "user_embeddings"),
    (ALSConfig, {"dtype": "float16"}, "dtype"),
    (ALSConfig, {"embeding_size": 10}, "embeding_size"),
    (BiasedMFConfig, {"dampening": 1.0}, "dampening"),
    (BiasedMFConfig, {"damping": -1.0}, "damping"),
    (BiasedMFConfig, {"damping": math.inf}, "damping"),
    (BiasedMFConfig, {"damping": {"user": -2.0}}, "damping"),
    (BiasedMFConfig, {"damping": {"users": 2.0}}, "damping"),
    (ImplicitMFConfig, {"weight": -1.0}, "weight"),
    (ImplicitMFConfig, {"weight": math.inf}, "weight"),
    (ImplicitMFConfig, {"weight": math.nan}, "weight"),
    (ImplicitMFConfig, {"cg_steps": 0}, "cg_steps"),
    (ImplicitMFConfig, {"cg_steps": True}, "cg_steps"),
    (ImplicitMFConfig, {"solver": "lu"}, "solver"),
    (ImplicitMFConfig, {"damping": 5.0}, "damping"),  # a BiasedMF option
]


@pytest.mark.parametrize(
    ("cls", "options", "field"), INVALID, ids=[f"{c.__name__}-{o}" for c, o, _ in INVALID]
)
def test_invalid_values_name_the_field(
    cls: type[ALSConfig], options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        cls(**options)


@pytest.mark.parametrize("value", [0, -1, True])
def test_invalid_features_alias(value: Any) -> None:
    # the message names the option as the user spelled it, or its canonical name
    with pytest.raises(ValueError, match="features|embedding_size"):
        ALSConfig(features=value)


@pytest.mark.parametrize(
    ("cls", "options", "field"),
    [
        (BiasedMFScorer, {"embedding_size": 0}, "embedding_size"),
        (BiasedMFScorer, {"damping": -1}, "damping"),
        (BiasedMFScorer, {"weight": 3.0}, "weight"),
        (ImplicitMFScorer, {"weight": -3.0}, "weight"),
        (ImplicitMFScorer, {"epochs": 0}, "epochs"),
        (ImplicitMFScorer, {"cg_steps": 0}, "cg_steps"),
    ],
)
def test_scorer_validates_kwargs(cls: type[Any], options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        cls(**options)


@pytest.mark.parametrize("cls", SCORERS)
def test_config_and_kwargs_together(cls: type[Any]) -> None:
    with pytest.raises(TypeError):
        cls(config=cls.config_class()(), features=3)
    with pytest.raises(TypeError):
        cls(config={"epochs": 2}, features=3)


@pytest.mark.parametrize("cls", SCORERS)
def test_config_of_the_wrong_class(cls: type[Any]) -> None:
    other = ImplicitMFConfig if cls is BiasedMFScorer else BiasedMFConfig
    with pytest.raises(TypeError):
        cls(config=other())


# ---------------------------------------------------------------------------------------------
# Building from configs and dicts, and round trips
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCORERS)
def test_config_instance(cls: type[Any]) -> None:
    cfg = cls.config_class()(embedding_size=12, epochs=3)
    scorer = cls(config=cfg)
    assert scorer.config is cfg


def test_config_from_dict() -> None:
    scorer = BiasedMFScorer(config={"features": 8, "damping": {"user": 1, "item": 2}})
    assert isinstance(scorer.config, BiasedMFConfig)
    assert scorer.config.embedding_size == 8
    assert (scorer.config.user_damping, scorer.config.item_damping) == (1.0, 2.0)
    implicit = ImplicitMFScorer(config={"weight": 5, "regularization": {"user": 1, "item": 2}})
    assert implicit.config.weight == 5.0
    assert (implicit.config.user_reg, implicit.config.item_reg) == (1.0, 2.0)
    with pytest.raises(ValueError, match="weight"):
        ImplicitMFScorer(config={"weight": -5})


def test_validate_config_classmethod() -> None:
    cfg = BiasedMFScorer.validate_config({"embedding_size": 9})
    assert isinstance(cfg, BiasedMFConfig) and cfg.embedding_size == 9
    same = BiasedMFConfig(epochs=4)
    assert BiasedMFScorer.validate_config(same) is same


ROUND_TRIP: list[tuple[type[Any], dict[str, Any]]] = [
    (BiasedMFScorer, {}),
    (BiasedMFScorer, {"features": 20, "epochs": 3, "damping": {"user": 2, "item": 0}}),
    (BiasedMFScorer, {"regularization": {"user": 0.5, "item": 2}, "user_embeddings": "prefer"}),
    (BiasedMFScorer, {"damping": {"item": 3}, "user_embeddings": False, "dtype": "float32"}),
    (BiasedMFScorer, {"damping": 0, "regularization": 0}),
    (ImplicitMFScorer, {}),
    (
        ImplicitMFScorer,
        {"weight": 5, "use_ratings": True, "regularization": {"user": 2, "item": 1}},
    ),
    (ImplicitMFScorer, {"solver": "cg", "cg_steps": 6, "user_embeddings": "prefer"}),
    (ImplicitMFScorer, {"features": 3, "dtype": "float32", "user_embeddings": False}),
]


@pytest.mark.parametrize(
    ("cls", "options"), ROUND_TRIP, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(ROUND_TRIP)]
)
def test_dump_validate_dump(cls: type[Any], options: dict[str, Any]) -> None:
    scorer = cls(**options)
    dumped = scorer.dump_config()
    restored = cls.validate_config(dumped)
    assert restored == scorer.config
    assert restored.model_dump(mode="json") == dumped
    # a scorer built from the dump dumps the same again
    assert cls(config=dumped).dump_config() == dumped
    assert cls(**dumped).dump_config() == dumped
    for key in dumped:
        assert hasattr(scorer.config, key)


def test_dump_is_json_compatible() -> None:
    import json

    scorer = ImplicitMFScorer(regularization={"user": 2, "item": 1}, user_embeddings="prefer")
    text = json.dumps(scorer.dump_config())
    assert ImplicitMFScorer(config=json.loads(text)).config == scorer.config
