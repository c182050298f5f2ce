"""Shared test settings.

Hypothesis runs derandomized (the seed is fixed by the test's source, so a
failure reproduces on every machine) with no deadline: sympy's first call in a
process pays for imports and cache warm-up. ``HYPOTHESIS_PROFILE=thorough``
runs more examples.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# fvcore and ptflops import torchvision when it is installed; make that import work first.
from torchvision_loader import load_torchvision  # noqa: E402

load_torchvision()
