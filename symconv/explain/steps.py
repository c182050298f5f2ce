"""The pieces of a derivation: textbook symbols, the sources rules cite, steps, derivations and templates."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symconv.display import provided

QUANTITIES = ("shape", "params", "macs")
NUMERIC_POINTS = 12

TORCH_CONV = "PyTorch documentation, torch.nn.Conv2d (shape and weight of Conv1d/2d/3d)"
DUMOULIN = "Dumoulin & Visin (2016), A guide to convolution arithmetic for deep learning, relationship 6"
TORCH_TRANSPOSE = "PyTorch documentation, torch.nn.ConvTranspose2d"
DUMOULIN_TRANSPOSE = "Dumoulin & Visin (2016), relationship 14"
TORCH_POOL = "PyTorch documentation, torch.nn.MaxPool2d / AvgPool2d; ATen pooling_output_shape (ceil_mode)"
TORCH_LINEAR = "PyTorch documentation, torch.nn.Linear"
TORCH_BN = "PyTorch documentation, torch.nn.BatchNorm2d (weight and bias are the learnable gamma and beta)"
TF_SAME = "TensorFlow documentation, tf.nn.convolution: padding 'SAME' gives ceil(n/S)"
MOBILENET = "Howard et al. (2017), MobileNets, section 3.1, eq. (5)"
KERAS_SEPARABLE = "Keras documentation, SeparableConv2D / DepthwiseConv2D"
CONCRETE = (
    "Graham, Knuth & Patashnik, Concrete Mathematics, eq. (3.11): floor((floor(x) + m)/n) = floor((x + m)/n)"
)
CONVENTION = "symconv's counting convention (the Conventions page): MACs count products with learned weights"
RESNET = "He et al. (2015), Deep Residual Learning, eq. (1)"
INCEPTION = "Szegedy et al. (2014), Going Deeper with Convolutions, section 5 (filter concatenation)"


def textbook(name: str) -> sp.Symbol:
    """A display symbol of the general formulas (no assumptions: it never meets user symbols)."""
    return sp.Symbol(name)


n_in = textbook("n")
K, S, P, d, op = textbook("K"), textbook("S"), textbook("P"), textbook("d"), textbook("p_out")
C_in, C_out, g = textbook("C_in"), textbook("C_out"), textbook("g")
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass(frozen=True)
class Step:
    """``left = right``, justified by ``rule`` (from ``source``), verified as ``checked`` says."""

    left: sp.Expr
    right: sp.Expr
    rule: str
    source: str | None = None
    checked: str = ""
    written: tuple[str, str] | None = None  # the general formula as textbooks write it: (text, LaTeX)
    # the right side as a sum in this order (layers in network order)
    terms: tuple[sp.Expr, ...] | None = None
    # what the rule substitutes, for notes that typeset the equations
    substitutions: tuple[tuple[sp.Expr, sp.Expr], ...] = ()


@dataclass(frozen=True)
class Derivation:
    """How one quantity of one layer (or the network total) follows from its general formula."""

    layer: str
    kind: str
    quantity: str
    steps: tuple[Step, ...]

    @property
    def result(self) -> sp.Expr:
        return self.steps[-1].right

    def _repr_latex_(self) -> str:
        return provided("derivation.latex")(self)

    def _repr_markdown_(self) -> str:
        return provided("derivations.markdown")([self])


@dataclass(frozen=True)
class Template:
    """A general formula, what to substitute into it, and where it comes from."""

    left: sp.Expr
    general: sp.Expr
    bindings: dict
    rule: str
    source: str
    written: tuple[str, str] | None = None


def _nothing(quantity: str, reason: str) -> Template:
    left = textbook("params" if quantity == "params" else "MACs")
    return Template(left, sp.Integer(0), {}, reason, CONVENTION if quantity == "macs" else None)


def _same_shape(source: str | None = None) -> Template:
    return Template(textbook("shape"), textbook("same"), {}, "the output has the input's shape", source)
