"""Derivations: every formula as a chain of equalities, each step with its rule and source.

A derivation starts from the general formula of the layer's documentation,
written in textbook symbols (``n``, ``K``, ``S``, ``P``, ``d``, ``C_in``, ``C_out``,
``g``), substitutes the layer's values, and ends at the result symconv's rule
computes. Every step is verified when it is built: symbolically where the
algebra allows (expansion; the proof engine for floors) and numerically at
sample values in every case. A step that fails verification is an error, not
a footnote.
"""

from symconv.explain import tensor_templates  # noqa: F401 - registers the templates of tensor layers
from symconv.explain.derivation import explain, layer_derivations, total_derivation
from symconv.explain.steps import Derivation, Step
from symconv.explain.templates import WRITTEN

__all__ = ["WRITTEN", "Derivation", "Step", "explain", "layer_derivations", "total_derivation"]
