"""symconv: derive, prove and typeset the arithmetic of convolutional networks.

>>> from symconv import symbols, Network, Conv2d
>>> n, m, k1, k2 = symbols("n m k1 k2")
>>> net = Network(input=(1, n, m), layers=[Conv2d(k1, kernel_size=3, padding=1),
...                                        Conv2d(k2, kernel_size=5, padding=2)])
>>> net.macs
25*k1*k2*m*n + 9*k1*m*n
"""

# The renderers and the checker register the core's conveniences (notebook display,
# ``net.check()``) when imported, so the package imports them here.
from symconv import render as _render  # noqa: F401
from symconv.check import check_network
from symconv.errors import ShapeError, SpecError, SymconvError, UnsafeExpression, ValueSpecError
from symconv.importers.onnx import import_onnx
from symconv.importers.torch import from_torch, to_torch
from symconv.layers import *  # noqa: F403 - the layer classes are the public API
from symconv.layers import __all__ as _layer_names
from symconv.network import Concat, Network, Repeat, Residual, Sequential
from symconv.render import latex as _latex  # noqa: F401
from symconv.render import reasoning as _reasoning  # noqa: F401
from symconv.render import scaling as _scaling  # noqa: F401
from symconv.report import LayerRow, Report
from symconv.scaling import scale
from symconv.sizes import parse_size, symbols
from symconv.zoo import build

__version__ = "0.1.0"

__all__ = [
    *_layer_names,
    "Concat",
    "LayerRow",
    "Network",
    "Repeat",
    "Report",
    "Residual",
    "Sequential",
    "ShapeError",
    "SpecError",
    "SymconvError",
    "UnsafeExpression",
    "ValueSpecError",
    "build",
    "check_network",
    "from_torch",
    "import_onnx",
    "parse_size",
    "scale",
    "symbols",
    "to_torch",
]
