"""ALS on a Dask cluster (extra ``alskit[dask]``): the same scorers, configs and native
kernels, trained on row blocks held by the workers, bit-identical to local training.

>>> from distributed import Client
>>> from alskit.distributed import DaskTrainer
>>> trainer = DaskTrainer(Client(...))
>>> trainer.train(model, data, TrainingOptions(rng=42))   # data: Dataset or Dask DataFrame
>>> trainer.recommend(model, n=10).to_parquet("recs/")      # (user_id, item_id, score, rank)
"""

from ..data._compat import require_module

require_module("distributed", "alskit.distributed")

from ._trainer import DaskTrainer, RunStats  # noqa: E402

__all__ = ["DaskTrainer", "RunStats"]
