# The AVX2+FMA build of the native core has exactly the interface of the portable one.
from ._core import *  # noqa: F403
from ._core import NumericalError as NumericalError
