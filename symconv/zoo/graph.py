"""Networks written node by node, each node named as torchvision names the module it stands for.

``g = Graph(); x = g.add("conv1", Conv2d(64, 7, stride=2, padding=3, bias=False))``
adds a node reading the previous one (or the network input); ``g.add(name,
layer, a, b)`` reads the nodes ``a`` and ``b``; ``INPUT`` is the network input.
A module that torchvision calls more than once (one ``ReLU`` inside a
bottleneck) is one name used again: the second call is ``relu_1``, as
:func:`symconv.from_torch` names it.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symconv.layers import Add, BatchNorm2d, Conv2d, Layer, ReLU
from symconv.network import Network, Node
from symconv.report import Assumption, tidy
from symconv.sizes import is_true

INPUT = -1


class Graph:
    """The nodes of a network in execution order."""

    def __init__(self, input_shape: tuple | None = None) -> None:
        """With ``input_shape``, every node's output shape is followed (:meth:`shape`), for reshapes."""
        self.nodes: list[Node] = []
        self.taken: set[str] = set()
        self.shapes: dict[int, tuple] = {} if input_shape is None else {INPUT: tuple(input_shape)}

    def shape(self, index: int) -> tuple:
        """The output shape of node ``index`` (the Graph must have been given the input shape)."""
        return self.shapes[index]

    @property
    def last(self) -> int:
        return len(self.nodes) - 1

    def add(self, name: str, layer: Layer, *inputs: int) -> int:
        """A node named ``name`` (``name_1``, ... when called again) reading ``inputs`` (default: the last node)."""
        unique, count = name, 0
        while unique in self.taken:
            count += 1
            unique = f"{name}_{count}"
        self.taken.add(unique)
        if not inputs and layer.arity != 0:
            inputs = (self.last,)
        self.nodes.append(Node(unique, layer, tuple(inputs)))
        if self.shapes:
            self.shapes[self.last] = tuple(
                tidy(d) for d in layer.output_shape(*(self.shapes[i] for i in inputs))
            )
        return self.last

    def network(self, input_shape: tuple, name: str) -> Network:
        return Network(input_shape, graph=tuple(self.nodes), name=name)


def residual_if_widths_agree(
    g: Graph,
    name: str,
    block: int,
    source: int,
    width_in: object,
    width_out: object,
    guards: list,
    source_first: bool = False,
) -> int:
    """torchvision's ``use_res_connect`` at stride 1: ``block + source`` where the widths are the same, else the
    block's output (``source_first`` orders the sum as the model's code writes it).

    Where the widths are formulas of a width multiplier that agree only for some
    multipliers, the network assumes they differ (no residual) and says so in
    ``guards``, so a multiplier that makes them equal is refused, not miscounted.
    """
    if sp.simplify(sp.sympify(width_in) - width_out) == 0:
        return g.add(name, Add(), *((source, block) if source_first else (block, source)))
    if is_true(sp.Eq(width_in, width_out)) is not False:
        message = (
            f"{name.rpartition('.')[0]}: torchvision adds a residual where the input width {width_in} equals the "
            f"output width {width_out}; this network assumes they differ (for such a multiplier, build it with a "
            "number)"
        )
        guards.append(Assumption(sp.Ne(width_in, width_out), message))
    return block


def conv_norm_activation(
    g: Graph,
    x: int,
    name: str,
    out: object,
    kernel: int,
    stride: int = 1,
    padding: int | None = None,
    groups: object = 1,
    activation: Callable[..., Layer] | None = ReLU,
    eps: float = 1e-5,
) -> int:
    """torchvision's ``Conv2dNormActivation``: ``name.0`` conv (no bias), ``name.1`` BatchNorm, ``name.2``."""
    padding = (kernel - 1) // 2 if padding is None else padding
    x = g.add(f"{name}.0", Conv2d(out, kernel, stride=stride, padding=padding, groups=groups, bias=False), x)
    x = g.add(f"{name}.1", BatchNorm2d(eps=eps))
    if activation is not None:
        x = g.add(f"{name}.2", activation())
    return x


__all__ = ["INPUT", "Graph", "conv_norm_activation", "residual_if_widths_agree"]
