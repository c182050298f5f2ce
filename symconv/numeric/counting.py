"""How the reference backend counts what it does.

Two modes, so that a count is a measurement and not a formula restated:

* ``enumerate``: every output element and every kernel tap is visited in
  Python and each multiply-add is counted one by one (padding taps included);
* ``fast``: the work is done by matrix products (im2col, BLAS), and the count
  is read from the shapes of the products actually executed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("enumerate", "fast")


@dataclass
class MacCounter:
    """Multiply-accumulates performed; a measuring device local to one forward pass."""

    mode: str
    macs: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")

    @property
    def enumerating(self) -> bool:
        return self.mode == "enumerate"

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``a @ b`` for 2-D ``a`` (m x k) and ``b`` (k x n), counting ``m*k*n`` multiply-adds."""
        rows, inner = a.shape
        inner_b, columns = b.shape
        if inner != inner_b:
            raise ValueError(f"matmul of {a.shape} and {b.shape}")
        self.macs += int(rows) * int(inner) * int(columns)
        return a @ b

    def dot(self, pairs: list[tuple[float, float]]) -> float:
        """Sum of products, one multiply-add counted per pair visited."""
        total = 0.0
        for x, w in pairs:
            total += x * w
            self.macs += 1
        return total
