"""Operator rules of the PyTorch importer: one rule per operation, found in one registry.

A rule receives the tracer, the call's arguments as values (see
:mod:`symconv.importers.torch.trace`) and the name of the node it makes, and
returns the value the operation produces. Modules are looked up by class
(along the method resolution order), functions by object (or, for functions of
libraries that may be absent, by qualified name), tensor methods by name.
Adding an operation is one function here and one line in :func:`registry`.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sympy as sp

from symconv import layers as L
from symconv.errors import SpecError
from symconv.importers.torch.environment import torch_module
from symconv.importers.torch.trace import BATCH, DataValue, TensorValue, Tracer, describe
from symconv.sizes import exact_floor, relation

Rule = Callable[..., Any]


@dataclass
class Registry:
    """Rules by module class, by function and by tensor method name."""

    modules: dict[type, Rule] = field(default_factory=dict)
    functions: dict[Any, Rule] = field(default_factory=dict)
    named_functions: dict[str, Rule] = field(default_factory=dict)
    methods: dict[str, Rule] = field(default_factory=dict)
    named_modules: dict[str, Rule] = field(default_factory=dict)

    looked_up: dict[type, tuple[Rule | None, bool]] = field(default_factory=dict, repr=False)
    """Per module class: its rule, and whether the rule writes it out; emptied whenever rules are added."""
    looked_up_among: tuple[int, int] = (0, 0)

    def _by_class(self, cls: type) -> tuple[Rule | None, bool]:
        among = (len(self.modules), len(self.named_modules))
        if self.looked_up_among != among:  # rules added since: look again
            self.looked_up.clear()
            self.looked_up_among = among
        if cls not in self.looked_up:
            rule, written_out = None, False
            for base in cls.__mro__:
                qualified = f"{base.__module__}.{base.__qualname__}"
                written_out = written_out or qualified in self.named_modules
                if rule is None:
                    rule = self.modules.get(base) or self.named_modules.get(qualified)
            self.looked_up[cls] = (rule, written_out)
        return self.looked_up[cls]

    def module_rule(self, module: Any) -> Rule | None:
        return self._by_class(type(module))[0]

    def is_written_out(self, module: Any) -> bool:
        """A module outside torch.nn whose rule writes it out (fx must not trace into it)."""
        return self._by_class(type(module))[1]

    def function_rule(self, function: Any) -> Rule | None:
        try:
            if function in self.functions:
                return self.functions[function]
        except TypeError:  # an unhashable target
            return None
        qualified = f"{getattr(function, '__module__', '')}.{getattr(function, '__name__', '')}"
        return self.named_functions.get(qualified)


# --- argument helpers ----------------------------------------------------------------
def tensor(value: Any, what: str, moved: bool = False, merged: bool = False) -> TensorValue:
    """``value`` as a tensor of the network; with its batch axis first unless ``moved`` (permutes, indexing),
    and the batch apart from other entries unless ``merged`` (rules that act per entry of the leading axes)."""
    if not isinstance(value, TensorValue):
        raise SpecError(f"{what} is {describe(value)}, not a tensor computed from the input")
    if value.merged and not merged:
        raise SpecError(
            f"{what}: here the batch axis holds the batch merged with {value.shape[value.batch_at]} entries "
            "(a reshape merged them, as window partitions do); symconv follows layers that act on each "
            "entry alike, permutes and reshapes until a reshape separates the batch again"
        )
    if value.batch_at and not moved:
        raise SpecError(
            f"{what}: the batch axis is at position {value.batch_at} here (a permute moved it); symconv follows "
            "permutes and indexing of the axes before it until it is first again"
        )
    return value


def layer_dim(x: TensorValue, dim: int) -> int:
    """symconv's number (the batch axis 0) for PyTorch's axis ``dim`` of ``x``; the batch axis stays 0."""
    axis = dim % x.rank
    if axis == x.batch_at and not x.merged:
        return 0
    return x.batchless(axis) + 1


def with_batch_at(value: TensorValue, position: int) -> TensorValue:
    return value if value.batch_at == position else dataclasses.replace(value, batch_at=position)


def plain(value: Any, what: str) -> Any:
    """A size argument: an integer or a size expression free of the batch size."""
    if isinstance(value, (list, tuple)):
        return [plain(v, what) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, sp.Basic)):
        if isinstance(value, sp.Basic) and value.has(BATCH):
            raise SpecError(f"{what} depends on the batch size ({value})")
        return value
    raise SpecError(f"{what} is {describe(value)}")


def sizes(args: tuple) -> list[Any]:
    """Sizes given as ``f(x, a, b, c)`` or ``f(x, (a, b, c))``."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    return list(args)


def dims(value: Any, rank: int) -> tuple[int, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    if not all(type(v) is int for v in values):
        raise SpecError(f"axes must be integers, got {value!r}")
    return tuple(v % rank for v in values)


def pair(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


# --- layers from modules ----------------------------------------------------------------
def conv_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    x = tensor(x, name)
    cls = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}[module.weight.dim() - 2]
    padding = module.padding if isinstance(module.padding, str) else pair(module.padding)
    layer = cls(
        module.out_channels,
        pair(module.kernel_size),
        stride=pair(module.stride),
        padding=padding,
        dilation=pair(module.dilation),
        groups=module.groups,
        bias=module.bias is not None,
        padding_mode=module.padding_mode,
        in_channels=module.in_channels,
    )
    return tracer.emit(name, layer, [x], [module.weight, module.bias])


def conv_transpose_module(
    tracer: Tracer, module: Any, name: str, x: Any, output_size: Any = None
) -> TensorValue:
    if output_size is not None:
        raise SpecError(f"{name}: a transposed convolution called with output_size is not supported")
    cls = {1: L.ConvTranspose1d, 2: L.ConvTranspose2d, 3: L.ConvTranspose3d}[module.weight.dim() - 2]
    layer = cls(
        module.out_channels,
        pair(module.kernel_size),
        stride=pair(module.stride),
        padding=pair(module.padding),
        output_padding=pair(module.output_padding),
        groups=module.groups,
        bias=module.bias is not None,
        dilation=pair(module.dilation),
        in_channels=module.in_channels,
    )
    return tracer.emit(name, layer, [tensor(x, name)], [module.weight, module.bias])


def _spatial(module: Any) -> int:
    return int(type(module).__name__[-2])


def pool_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    kind = "MaxPool" if "Max" in type(module).__name__ else "AvgPool"
    cls = getattr(L, f"{kind}{_spatial(module)}d")
    arguments = {
        "kernel_size": pair(module.kernel_size),
        "stride": pair(module.stride),
        "padding": pair(module.padding),
        "ceil_mode": module.ceil_mode,
    }
    if kind == "MaxPool":
        if module.return_indices:
            raise SpecError(f"{name}: return_indices=True is not supported")
        arguments["dilation"] = pair(module.dilation)
    else:
        arguments["count_include_pad"] = module.count_include_pad
        if getattr(module, "divisor_override", None) is not None:
            arguments["divisor_override"] = module.divisor_override
    return tracer.emit(name, cls(**arguments), [tensor(x, name)])


def adaptive_pool_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    kind = "AdaptiveMaxPool" if "Max" in type(module).__name__ else "AdaptiveAvgPool"
    if getattr(module, "return_indices", False):
        raise SpecError(f"{name}: return_indices=True is not supported")
    layer = getattr(L, f"{kind}{_spatial(module)}d")(pair(module.output_size))
    return tracer.emit(name, layer, [tensor(x, name)])


def batchnorm_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    cls = (
        getattr(L, type(module).__name__.replace("Lazy", ""), None)
        or {
            1: L.BatchNorm1d,
            2: L.BatchNorm2d,
            3: L.BatchNorm3d,
        }[_spatial(module)]
    )
    layer = cls(num_features=module.num_features, eps=module.eps, affine=module.affine)
    return _batchnorm(tracer, name, x, layer, [module.weight, module.bias])


def _batchnorm(tracer: Tracer, name: str, x: Any, layer: L.Layer, tensors: list[Any]) -> TensorValue:
    """Batch normalisation of ``x``; of rows of a tensor flattened with its batch (LeViT's
    ``bn(x.flatten(0, 1))``): per example the rows are (N, C), each channel scaled alike in every row, which
    is the layer over the channels first, (C, N), between two permutes."""
    x = tensor(x, name, merged=True)
    if not x.merged:
        return tracer.emit(name, layer, [x], tensors)
    if x.rank != 2:
        raise SpecError(
            f"{name}: batch normalisation of a tensor whose batch axis is merged with {x.shape[0]} entries "
            f"is followed for rows (B*N, C), not for rank {x.rank}"
        )
    rows = tracer.emit(name, L.Permute([0, 2, 1]), [x])
    normalised = tracer.emit(name, layer, [rows], tensors)
    return tracer.emit(name, L.Permute([0, 2, 1]), [normalised])


def instancenorm_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    cls = getattr(L, f"InstanceNorm{_spatial(module)}d")
    layer = cls(num_features=module.num_features, eps=module.eps, affine=module.affine)
    return tracer.emit(name, layer, [tensor(x, name)], [module.weight, module.bias])


def layernorm_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    layer = L.LayerNorm(
        list(module.normalized_shape),
        eps=module.eps,
        elementwise_affine=module.elementwise_affine,
        bias=module.bias is not None,
    )
    return tracer.emit(name, layer, [tensor(x, name, merged=True)], [module.weight, module.bias])


def groupnorm_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    layer = L.GroupNorm(module.num_groups, module.num_channels, eps=module.eps, affine=module.affine)
    return tracer.emit(name, layer, [tensor(x, name)], [module.weight, module.bias])


def lrn_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    layer = L.LocalResponseNorm(module.size, alpha=module.alpha, beta=module.beta, k=module.k)
    return tracer.emit(name, layer, [tensor(x, name)])


def linear_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    layer = L.Linear(module.out_features, bias=module.bias is not None, in_features=module.in_features)
    return tracer.emit(name, layer, [tensor(x, name, merged=True)], [module.weight, module.bias])


def flatten_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    return flatten(tracer, name, x, module.start_dim, module.end_dim)


def softmax_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    x = tensor(x, name, merged=True)
    return tracer.emit(name, L.Softmax(dim=layer_dim(x, 1 if module.dim is None else module.dim)), [x])


def identity_module(tracer: Tracer, module: Any, name: str, x: Any, *rest: Any, **kwargs: Any) -> Any:
    return x


def activation_module(layer_class: type) -> Rule:
    def rule(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
        options = {}
        if hasattr(module, "negative_slope"):
            options["negative_slope"] = module.negative_slope
        if layer_class is L.ELU:
            options["alpha"] = module.alpha
        return tracer.emit(name, layer_class(**options), [tensor(x, name, merged=True)])

    return rule


def dropout_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    layer_class = L.Dropout2d if type(module).__name__ == "Dropout2d" else L.Dropout
    return tracer.emit(name, layer_class(p=module.p), [tensor(x, name, merged=layer_class is L.Dropout)])


def multihead_attention_module(
    tracer: Tracer, module: Any, name: str, query: Any, key: Any = None, value: Any = None, **kwargs: Any
) -> tuple:
    if not module.batch_first:
        raise SpecError(f"{name}: MultiheadAttention with batch_first=False puts the batch on axis 1")
    if module.bias_k is not None:
        raise SpecError(f"{name}: MultiheadAttention with add_bias_kv=True is not supported")
    for option in ("key_padding_mask", "attn_mask"):
        if kwargs.get(option) is not None:
            raise SpecError(f"{name}: MultiheadAttention with {option} is not supported")
    inputs = [tensor(query, name)]
    if not (key is query and value is query):
        inputs += [tensor(key, name), tensor(value, name)]
    separate = not module._qkv_same_embed_dim
    layer = L.MultiheadAttention(
        module.embed_dim,
        module.num_heads,
        bias=module.in_proj_bias is not None,
        kdim=module.kdim if separate else None,
        vdim=module.vdim if separate else None,
    )
    out = tracer.emit(name, layer, inputs, list(module.parameters()))
    return (out, None)


# --- functions and methods --------------------------------------------------------------
def flatten(tracer: Tracer, name: str, x: Any, start_dim: int = 0, end_dim: int = -1) -> TensorValue:
    x = tensor(x, name, merged=True)
    start, end = start_dim % x.rank, end_dim % x.rank
    if start == 0:  # the batch merged with the axes flattened into it: a reshape to (-1, the rest)
        return reshape(tracer, name, x, [-1, *x.torch_shape()[end + 1 :]])
    x = tensor(x, name)  # other axes of a merged tensor are not flattened: refused by name
    if start == end:
        return x
    return tracer.emit(name, L.Flatten(start, -1 if end == x.rank - 1 else end), [x])


def activation_function(layer_class: type) -> Rule:
    def rule(tracer: Tracer, name: str, x: Any, *args: Any, **kwargs: Any) -> TensorValue:
        return tracer.emit(name, layer_class(), [tensor(x, name, merged=True)])

    return rule


def stochastic_depth(
    tracer: Tracer, name: str, x: Any, p: Any = None, mode: Any = None, training: Any = True
) -> Any:
    if training:
        raise SpecError(
            f"{name}: stochastic depth in training mode drops samples at random; trace in eval mode"
        )
    return tensor(x, name)


def dropout_function(tracer: Tracer, name: str, x: Any, *args: Any, **kwargs: Any) -> Any:
    return tracer.emit(name, L.Dropout(), [tensor(x, name, merged=True)])


def softmax_function(
    tracer: Tracer, name: str, x: Any, dim: Any = None, *args: Any, **kwargs: Any
) -> TensorValue:
    dim = kwargs.get("dim", dim)
    if dim is None:
        raise SpecError(f"{name}: softmax without dim is not supported (PyTorch deprecates it)")
    x = tensor(x, name, merged=True)
    return tracer.emit(name, L.Softmax(dim=layer_dim(x, dim)), [x])


def arithmetic(layer_class: type, reverse: bool = False) -> Rule:
    """``a op b``: tensors with tensors (broadcast), tensors with held tensors, tensors with scalars, or sizes."""
    python = {L.Add: operator.add, L.Sub: operator.sub, L.Mul: operator.mul, L.Div: operator.truediv}[
        layer_class
    ]

    def rule(tracer: Tracer, name: str, a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        if reverse:
            a, b = b, a
        if kwargs.get("alpha", 1) != 1 or args:
            raise SpecError(f"{name}: {layer_class.kind} with alpha is not supported")
        if not isinstance(a, (TensorValue, DataValue)) and not isinstance(b, (TensorValue, DataValue)):
            return _size_arithmetic(python, a, b)
        if isinstance(a, DataValue) and isinstance(b, TensorValue):
            a = tracer.materialize(a, b.rank, name)
        if isinstance(b, DataValue) and isinstance(a, TensorValue):
            b = tracer.materialize(b, a.rank, name)
        if isinstance(a, TensorValue) and isinstance(b, TensorValue):
            if a.rank != b.rank:
                raise SpecError(f"{name}: {layer_class.kind} of tensors of ranks {a.rank} and {b.rank}")
            a, b = _alike(tracer, name, a, b)
            return tracer.emit(name, layer_class(), [a, b])
        if isinstance(a, TensorValue) and isinstance(b, (int, float)) and not isinstance(b, bool):
            return tracer.emit(name, layer_class(scalar=b), [a])
        if isinstance(b, TensorValue) and isinstance(a, (int, float)) and layer_class in (L.Add, L.Mul):
            return tracer.emit(name, layer_class(scalar=a), [b])
        raise SpecError(f"{name}: {layer_class.kind} of {describe(a)} and {describe(b)} is not supported")

    return rule


def _alike(tracer: Tracer, name: str, a: TensorValue, b: TensorValue) -> tuple[TensorValue, TensorValue]:
    """Two tensors of one PyTorch rank as operands of a broadcast: both with the batch apart, or both merged.

    A constant (computed from held tensors only, its leading axis PyTorch's 1) meets a merged tensor as one
    entry of the leading axis: a bias broadcast over every window alike.
    """
    if a.merged == b.merged:
        if a.batch_at != b.batch_at:
            raise SpecError(f"{name}: tensors whose batch axes stand at {a.batch_at} and {b.batch_at}")
        return a, b
    merged, other = (a, b) if a.merged else (b, a)
    if not other.constant or merged.batch_at:
        raise SpecError(
            f"{name}: a tensor whose batch axis is merged with {merged.shape[merged.batch_at]} entries meets one "
            "whose batch axis is apart"
        )
    lifted = tracer.emit(name, L.Reshape([sp.Integer(1), *tensor(other, name).shape]), [other])
    return (merged, lifted) if a.merged else (lifted, merged)


def _size_arithmetic(function: Callable, a: Any, b: Any) -> Any:
    if isinstance(a, (int, sp.Basic)) and isinstance(b, (int, sp.Basic)):
        if function is operator.truediv:
            return sp.Rational(a, b) if isinstance(a, int) and isinstance(b, int) else sp.sympify(a) / b
        result = function(sp.sympify(a), sp.sympify(b))
        return int(result) if isinstance(result, sp.Integer) else result
    return function(a, b)


def size_operation(function: Callable) -> Rule:
    def rule(tracer: Tracer, name: str, *args: Any) -> Any:
        values = [sp.sympify(a) if isinstance(a, int) and not isinstance(a, bool) else a for a in args]
        if function is operator.floordiv and all(isinstance(v, sp.Basic) for v in values):
            result = exact_floor(values[0] / values[1])
        elif (
            function is operator.mod
            and all(isinstance(v, sp.Basic) for v in values)
            and values[1].is_Integer
            and values[1] > 0
        ):
            # Python's a % b for b > 0 is a - b*floor(a/b): written with the floor, sizes padded to a
            # multiple (H + (w - H % w) % w) come out as w*ceiling(H/w), and their windows cancel exactly
            result = values[0] - values[1] * exact_floor(values[0] / values[1])
        elif function in (
            operator.eq,
            operator.ne,
            operator.lt,
            operator.le,
            operator.gt,
            operator.ge,
        ) and all(isinstance(v, sp.Basic) for v in values):
            kind = {
                operator.eq: sp.Eq,
                operator.ne: sp.Ne,
                operator.lt: sp.Lt,
                operator.le: sp.Le,
                operator.gt: sp.Gt,
                operator.ge: sp.Ge,
            }[function]
            return relation(kind, *values)  # decided by is_true where the model's code asks
        else:
            if any(isinstance(v, (TensorValue, DataValue)) for v in values):
                raise SpecError(f"{name}: {function.__name__} of tensors is not supported")
            result = function(*values)
        if isinstance(result, sp.Float):  # a scale such as head_dim ** -0.5: a float, as in the model's code
            return float(result)
        return int(result) if isinstance(result, sp.Integer) else result

    return rule


def rounding(function: Callable, symbolic: Callable) -> Rule:
    """``math.ceil``/``math.floor``/``math.trunc`` of a size: a number, or the sympy function of the expression."""

    def rule(tracer: Tracer, name: str, value: Any) -> Any:
        if isinstance(value, (TensorValue, DataValue)):
            raise SpecError(f"{name}: {function.__name__} of a tensor is not supported")
        value = sp.sympify(value)
        result = sp.Integer(function(value)) if value.is_Number else symbolic(value)
        return int(result) if isinstance(result, sp.Integer) else result

    return rule


def assert_function(tracer: Tracer, name: str, condition: Any, message: Any = "") -> None:
    tracer.guard(condition, str(message))
    return None


def getattr_function(tracer: Tracer, name: str, value: Any, attribute: str) -> Any:
    if isinstance(value, (TensorValue, DataValue)) and attribute in ("shape", "ndim"):
        shape = value.torch_shape() if isinstance(value, TensorValue) else value.shape
        return tuple(int(s) if s.is_Integer else s for s in shape) if attribute == "shape" else len(shape)
    if isinstance(value, (TensorValue, DataValue)) and attribute in ("dtype", "device"):
        return attribute
    raise SpecError(f"{name}: getattr({describe(value)}, {attribute!r}) is not supported")


def size_method(tracer: Tracer, name: str, x: Any, dim: Any = None) -> Any:
    shape = getattr_function(tracer, name, x, "shape")
    return shape if dim is None else shape[dim]


def dim_method(tracer: Tracer, name: str, x: Any) -> int:
    return getattr_function(tracer, name, x, "ndim")


def held_view(value: DataValue, operation: Callable[[Any], Any]) -> DataValue:
    """A held tensor moved or gathered by ``operation`` (evaluated now: held data only), its parameters still
    those of the tensor the module holds; a gather's probe follows the same operation."""
    probe = None if value.probe is None else operation(value.probe)
    return DataValue(value.target, operation(value.tensor), source=value.held, probe=probe)


def getitem(tracer: Tracer, name: str, value: Any, index: Any) -> Any:
    if isinstance(value, TensorValue):
        return index_tensor(tracer, name, value, index)
    if isinstance(value, DataValue):
        return index_held(name, value, index)
    return value[index]


def index_held(name: str, value: DataValue, index: Any) -> DataValue:
    """A held table indexed by a held index (``table[relative_position_index]``), or by numbers and slices."""
    torch = torch_module()
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, TensorValue) for i in items):
        raise SpecError(f"{name}: the held tensor {value.target} indexed by a tensor computed from the input")
    if not all(isinstance(i, (int, slice, DataValue)) or i is None or i is Ellipsis for i in items):
        raise SpecError(f"{name}: the held tensor {value.target} indexed by {index!r}")
    key = tuple(i.tensor if isinstance(i, DataValue) else i for i in items)
    if value.probe is None and any(isinstance(i, DataValue) for i in items):  # a gather: follow positions
        positions = torch.arange(value.tensor.numel(), dtype=torch.float64).reshape(value.tensor.shape)
        value = DataValue(value.target, value.tensor, source=value.source, probe=positions)
    return held_view(value, lambda t: t[key if len(key) > 1 else key[0]])


def index_tensor(tracer: Tracer, name: str, x: TensorValue, index: Any) -> TensorValue:
    """``x[...]`` with integers and slices; the batch axis must be taken whole (it may stand after others)."""
    x = tensor(x, name, moved=True, merged=True)
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + [slice(None)] * (x.rank - len(items) + 1) + items[at + 1 :]
    if not items:
        raise SpecError(f"{name}: indexing the batch axis is not supported")
    batch, position = x.batch_at, 0  # where the batch axis is, and the axis the next item indexes
    for item in items:
        if position == batch:
            if item != slice(None):
                raise SpecError(f"{name}: indexing the batch axis is not supported")
            position += 1
            continue
        if item == slice(None):
            position += 1
            continue
        axis = position if position < batch or x.merged else position - 1  # in the batchless shape
        dim = axis + 1  # in symconv's numbering, the batch first
        size = x.shape[axis]
        if isinstance(item, int):
            x = tracer.emit(name, L.Select(dim=dim, index=item % size if size.is_Integer else item), [x])
            batch -= position < batch  # an axis before the batch is gone
            x = with_batch_at(x, batch)
            continue
        if isinstance(item, slice) and (item.step is None or type(item.step) is int and item.step > 0):
            start = 0 if item.start is None else item.start
            stop = size if item.stop is None else item.stop
            if isinstance(start, int) and start < 0 or isinstance(stop, int) and stop < 0:
                start, stop = (
                    (start % size if isinstance(start, int) else start),
                    (stop + size if isinstance(stop, int) and stop < 0 else stop),
                )
            step = 1 if item.step is None else item.step
            x = with_batch_at(
                tracer.emit(name, L.Narrow(dim, start, sp.sympify(stop) - start, step), [x]), batch
            )
            position += 1
            continue
        raise SpecError(f"{name}: the index {item!r} is not supported")
    return x


def reshape(tracer: Tracer, name: str, x: Any, *shape: Any) -> TensorValue | DataValue:
    if isinstance(x, DataValue):  # a held tensor reshaped for broadcasting (a layer scale): still held data
        target = [sp.sympify(plain(s, f"{name}: the target shape")) for s in sizes(shape)]
        if not all(s.is_Integer for s in target):
            raise SpecError(f"{name}: a held tensor reshaped to sizes that depend on the input")
        return held_view(x, lambda t: t.reshape(*map(int, target)))
    x = tensor(x, name, merged=True)
    target = [sp.sympify(s) for s in sizes(shape)]
    if not target:
        raise SpecError(f"{name}: reshape to a scalar is not supported")
    head, rest = target[0], [plain(s, f"{name}: the target shape") for s in target[1:]]
    if head == -1:
        if -1 in rest:
            raise SpecError(f"{name}: reshape with two -1 entries")
        windows = sp.cancel(sp.Mul(*x.shape) / sp.Mul(*rest)) if rest else sp.Mul(*x.shape)
        if (
            windows != 1
            and windows.is_integer is not True
            and tracer.equal_under_assumptions(windows, 1, f"{name}: one entry per example")
        ):  # where the sizes an earlier reshape needs hold
            windows = sp.Integer(1)
        if windows != 1 and x.constant:  # a held tensor's leading axis is a true 1, not the batch
            return tracer.emit(name, L.Reshape([windows, *rest]), [x])
    elif head.has(BATCH):
        # x.shape[0] of a merged tensor: the batch times its entries
        windows = sp.Integer(1) if head == BATCH else sp.cancel(head / BATCH)
        if windows.has(BATCH):
            raise SpecError(f"{name}: a reshape to {head} entries on the batch axis")
    else:
        raise SpecError(f"{name}: this reshape does not keep the batch axis first (target {tuple(target)})")
    # the batch is the outermost factor of PyTorch's leading axis: merged with ``windows`` entries, or apart
    shape = [windows, *rest] if windows != 1 else rest
    if shape == list(x.shape) and x.merged == (windows != 1):
        return x
    return dataclasses.replace(tracer.emit(name, L.Reshape(shape), [x]), merged=windows != 1, batch_at=0)


def reshape_as(tracer: Tracer, name: str, x: Any, other: Any) -> TensorValue | DataValue:
    return reshape(tracer, name, x, list(getattr_function(tracer, name, other, "shape")))


def unsqueeze(tracer: Tracer, name: str, x: Any, dim: int) -> TensorValue | DataValue:
    if isinstance(x, DataValue):
        return held_view(x, lambda t: t.unsqueeze(dim))
    x = tensor(x, name)
    at = dim % (x.rank + 1)
    if at == 0:
        raise SpecError(f"{name}: unsqueeze before the batch axis is not supported")
    shape = list(x.shape)
    shape.insert(at - 1, sp.Integer(1))
    return tracer.emit(name, L.Reshape(shape), [x])


def squeeze(tracer: Tracer, name: str, x: Any, dim: Any = None) -> TensorValue:
    x = tensor(x, name)
    axes = range(1, x.rank) if dim is None else dims(dim, x.rank)
    shape = [s for axis, s in enumerate(x.shape, start=1) if not (axis in axes and s == 1)]
    return x if len(shape) == len(x.shape) else tracer.emit(name, L.Reshape(shape), [x])


def permute(tracer: Tracer, name: str, x: Any, *order: Any) -> TensorValue | DataValue:
    """A permutation of PyTorch's axes: of the batchless axes for symconv, the batch axis's place kept aside."""
    if isinstance(x, DataValue):
        return held_view(x, lambda t: t.permute(*sizes(order)))
    x = tensor(x, name, moved=True, merged=True)
    order = dims(sizes(order), x.rank)
    if list(order) == list(range(x.rank)):
        return x
    batch = list(order).index(x.batch_at)
    batchless = [x.batchless(axis) for axis in order if x.merged or axis != x.batch_at]
    if batchless == list(range(len(x.shape))):  # only the batch axis moved: a view, no operation
        return with_batch_at(x, batch)
    return with_batch_at(tracer.emit(name, L.Permute([0, *(a + 1 for a in batchless)]), [x]), batch)


def transpose(tracer: Tracer, name: str, x: Any, dim0: int, dim1: int) -> TensorValue | DataValue:
    if isinstance(x, DataValue):
        return held_view(x, lambda t: t.transpose(dim0, dim1))
    x = tensor(x, name, moved=True, merged=True)
    order = list(range(x.rank))
    a, b = dim0 % x.rank, dim1 % x.rank
    order[a], order[b] = order[b], order[a]
    return permute(tracer, name, x, order)


def expand(tracer: Tracer, name: str, x: Any, *target: Any) -> TensorValue:
    target = sizes(target)
    if isinstance(x, DataValue):
        if not target or sp.sympify(target[0]) != BATCH or x.shape[0] != 1:
            raise SpecError(f"{name}: only expanding a held tensor over the batch is supported")
        x = tracer.materialize(x, len(x.shape), name)
        rest = target[1:]
    else:
        x = tensor(x, name)
        if sp.sympify(target[0]) not in (BATCH, -1):
            raise SpecError(f"{name}: expand must keep the batch axis")
        rest = target[1:]
    if any(s != -1 and sp.sympify(s) != have for s, have in zip(rest, x.shape, strict=True)):
        raise SpecError(f"{name}: expand of {x.shape} to {tuple(rest)} is not supported")
    return x


def repeat_interleave(
    tracer: Tracer, name: str, x: Any, repeats: Any, dim: Any = None, *, output_size: Any = None
) -> TensorValue | DataValue:
    """``x.repeat_interleave(r, dim)``; over the batch axis, each example's copies stand merged with it, as
    GC ViT repeats an image's global query for each of its windows (``B_ // B`` of them)."""
    if dim is None:
        raise SpecError(f"{name}: repeat_interleave without dim flattens the batch into one axis")
    if isinstance(x, DataValue):
        return held_view(x, lambda t: t.repeat_interleave(repeats, dim))
    if isinstance(repeats, (TensorValue, DataValue, list, tuple)):
        raise SpecError(f"{name}: repeat_interleave with repeats given per entry is not supported")
    repeats = sp.sympify(plain(repeats, f"{name}: repeats"))
    x = tensor(x, name, merged=True)
    if layer_dim(x, dim) != 0:  # an axis of each example's part (of a merged tensor's entries, too)
        return tracer.emit(name, L.RepeatInterleave(repeats, layer_dim(x, dim)), [x])
    single = tracer.emit(name, L.Reshape([sp.Integer(1), *x.shape]), [x])
    return dataclasses.replace(tracer.emit(name, L.RepeatInterleave(repeats, 1), [single]), merged=True)


def split_axis(tracer: Tracer, name: str, x: TensorValue, pieces: list[Any], dim: int) -> tuple:
    """Consecutive pieces of PyTorch's axis ``dim``, not the batch axis (nor one merged with it)."""
    if dim % x.rank == x.batch_at:
        raise SpecError(f"{name}: splitting the batch axis is not supported")
    axis = layer_dim(x, dim)
    outputs, start = [], sp.Integer(0)
    for length in pieces:
        outputs.append(tracer.emit(name, L.Narrow(axis, start, length), [x]))
        start = start + length
    return tuple(outputs)


def _split_size(x: TensorValue, dim: int) -> sp.Expr:
    return BATCH if dim % x.rank == x.batch_at else x.shape[layer_dim(x, dim) - 1]


def chunk(tracer: Tracer, name: str, x: Any, chunks: int, dim: int = 0) -> tuple:
    x = tensor(x, name, merged=True)
    size = _split_size(x, dim)
    if size.is_Integer:
        step = math.ceil(int(size) / chunks)
        pieces = [min(step, int(size) - i * step) for i in range(chunks) if i * step < int(size)]
    else:
        tracer.guard(sp.Eq(sp.Mod(size, chunks), 0), f"{name}: chunk({chunks}) of an axis of size {size}")
        pieces = [size / chunks] * chunks
    return split_axis(tracer, name, x, pieces, dim)


def split(tracer: Tracer, name: str, x: Any, split_size: Any, dim: int = 0) -> tuple:
    x = tensor(x, name, merged=True)
    size = _split_size(x, dim)
    if isinstance(split_size, (list, tuple)):
        pieces = list(split_size)
    elif size.is_Integer:
        pieces = [min(split_size, int(size) - s) for s in range(0, int(size), split_size)]
    else:
        raise SpecError(f"{name}: split of the symbolic axis {size} into pieces of {split_size}")
    return split_axis(tracer, name, x, pieces, dim)


def unbind(tracer: Tracer, name: str, x: Any, dim: int = 0) -> tuple:
    x = tensor(x, name, moved=True, merged=True)
    axis = dim % x.rank
    size = BATCH if axis == x.batch_at else x.shape[x.batchless(axis)]
    if not size.is_Integer:
        raise SpecError(f"{name}: unbind of an axis of symbolic size {size}")
    batch = x.batch_at - (axis < x.batch_at)
    select = x.batchless(axis) + 1  # symconv's numbering, the batch first
    return tuple(
        with_batch_at(tracer.emit(name, L.Select(dim=select, index=i), [x]), batch) for i in range(int(size))
    )


def reduction(layer_class: type) -> Rule:
    def rule(
        tracer: Tracer, name: str, x: Any, dim: Any = None, keepdim: bool = False, **kwargs: Any
    ) -> TensorValue:
        x = tensor(x, name)
        dim = kwargs.get("dim", dim)
        keepdim = kwargs.get("keepdim", keepdim)
        if dim is None:
            raise SpecError(f"{name}: a {layer_class.kind} over every axis includes the batch axis")
        return tracer.emit(name, layer_class(list(dims(dim, x.rank)), keepdim=bool(keepdim)), [x])

    return rule


def vector_norm(
    tracer: Tracer,
    name: str,
    x: Any,
    ord: Any = 2,
    dim: Any = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
    out: Any = None,
) -> TensorValue:
    """``torch.linalg.vector_norm``; ``x.norm(p, dim)`` and ``torch.norm`` over axes are the same (``"fro"`` is 2)."""
    x = tensor(x, name)
    if dtype is not None or out is not None:
        raise SpecError(f"{name}: a norm with dtype or out is not supported")
    if ord == "fro" or ord is None:
        ord = 2
    if dim is None:
        raise SpecError(f"{name}: a norm over every axis includes the batch axis")
    return tracer.emit(name, L.VectorNorm(list(dims(dim, x.rank)), keepdim=bool(keepdim), ord=ord), [x])


def norm(
    tracer: Tracer,
    name: str,
    x: Any,
    p: Any = "fro",
    dim: Any = None,
    keepdim: bool = False,
    out: Any = None,
    dtype: Any = None,
) -> TensorValue:
    """``torch.norm(x, p, dim, keepdim)`` and ``x.norm(...)``."""
    return vector_norm(tracer, name, x, p, dim, keepdim, dtype=dtype, out=out)


def addcmul(tracer: Tracer, name: str, x: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> TensorValue:
    """``torch.addcmul(x, t1, t2, value)``: ``x + value * t1 * t2``, as the products and the sum it is."""
    product = arithmetic(L.Mul)(tracer, f"{name}.mul", tensor1, tensor2)
    if value != 1:
        product = arithmetic(L.Mul)(tracer, f"{name}.value", product, value)
    return arithmetic(L.Add)(tracer, name, x, product)


def roll(tracer: Tracer, name: str, x: Any, shifts: Any, *args: Any, **kwargs: Any) -> TensorValue:
    """``torch.roll(x, shifts, dims)`` along axes other than the batch (Swin's shifted windows)."""
    x = tensor(x, name)
    along = kwargs.get("dims", args[0] if args else None)  # PyTorch's keyword ``dims`` names the axes
    if along is None:
        raise SpecError(f"{name}: roll without dims flattens the batch axis into the others")
    shifts = list(shifts) if isinstance(shifts, (list, tuple)) else [shifts]
    if not all(type(s) is int for s in shifts):
        raise SpecError(f"{name}: roll by shifts that depend on the input ({shifts})")
    axes = list(dims(along, x.rank))
    if 0 in axes:
        raise SpecError(f"{name}: rolling the batch axis is not supported")
    return tracer.emit(name, L.Roll(shifts, axes), [x])


def cat(tracer: Tracer, name: str, tensors: Any, dim: int = 0) -> TensorValue:
    values = list(tensors)
    ranks = {v.rank for v in values if isinstance(v, TensorValue)}
    if len(ranks) != 1:
        raise SpecError(f"{name}: cat of tensors of ranks {sorted(ranks)}")
    (rank,) = ranks
    values = [
        tracer.materialize(v, rank, name) if isinstance(v, DataValue) else tensor(v, name) for v in values
    ]
    if len(values) == 1:
        return values[0]
    return tracer.emit(name, L.ChannelConcat(dim=dim % rank if dim % rank else dim), values)


def pad(
    tracer: Tracer, name: str, x: Any, pad: Any, mode: str = "constant", value: Any = None
) -> TensorValue:
    """``F.pad`` (``pad`` lists (before, after) pairs from the last axis backwards), in any of its modes."""
    x = tensor(x, name)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise SpecError(f"{name}: padding mode {mode!r} is not one PyTorch documents")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise SpecError(f"{name}: padding value {describe(value)} is not a number")
    amounts = [sp.sympify(plain(p, f"{name}: pad")) for p in sizes(pad)]
    if all(a == 0 for a in amounts):
        return x
    return tracer.emit(name, L.Pad(amounts, mode=mode, value=0 if value is None else value), [x])


def stack(tracer: Tracer, name: str, tensors: Any, dim: int = 0) -> TensorValue:
    """``torch.stack``: each tensor given a new axis at ``dim``, then concatenated along it."""
    values = [tensor(v, name) for v in tensors]
    if not values:
        raise SpecError(f"{name}: stack of no tensors")
    rank = values[0].rank + 1
    at = dim % rank
    return cat(tracer, name, [unsqueeze(tracer, name, v, at) for v in values], at)


def matmul(tracer: Tracer, name: str, a: Any, b: Any) -> TensorValue:
    if isinstance(b, DataValue):
        raise SpecError(f"{name}: a product with the held tensor {b.target} is not supported; use nn.Linear")
    a, b = _alike(tracer, name, tensor(a, name, merged=True), tensor(b, name, merged=True))
    return tracer.emit(name, L.MatMul(), [a, b])


def einsum(tracer: Tracer, name: str, equation: str, *operands: Any) -> TensorValue:
    """``torch.einsum`` where it is a permutation or a batched matrix product (one index contracted)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    spec = equation.replace(" ", "")
    if "..." in spec or "->" not in spec:
        raise SpecError(f"{name}: einsum {equation!r} needs explicit indices and an output")
    inputs, out = spec.split("->")
    terms = inputs.split(",")
    if len(terms) != len(operands) or any(len(set(term)) != len(term) for term in terms):
        raise SpecError(f"{name}: einsum {equation!r} repeats an index or miscounts its operands")
    values = [tensor(v, name) for v in operands]
    if any(term[0] != out[0] for term in terms):
        raise SpecError(f"{name}: einsum {equation!r} must keep the batch axis first in every operand")
    if len(terms) == 1:
        if sorted(terms[0]) != sorted(out):
            raise SpecError(f"{name}: einsum {equation!r} sums over an axis; write it as a sum")
        return permute(tracer, name, values[0], [terms[0].index(c) for c in out])
    if len(terms) != 2:
        raise SpecError(f"{name}: einsum of {len(terms)} operands is not supported")
    a, b = terms
    contracted = [c for c in a if c in b and c not in out]
    rows, columns = [c for c in a if c not in b], [c for c in b if c not in a]
    batch = [c for c in out if c in a and c in b]
    if (
        len(contracted) != 1
        or len(rows) != 1
        or len(columns) != 1
        or out != "".join(batch) + rows[0] + columns[0]
    ):
        raise SpecError(f"{name}: einsum {equation!r} is not a batched matrix product")
    left = permute(tracer, name, values[0], [a.index(c) for c in (*batch, rows[0], contracted[0])])
    right = permute(tracer, name, values[1], [b.index(c) for c in (*batch, contracted[0], columns[0])])
    return tracer.emit(name, L.MatMul(), [left, right])


def sdpa(
    tracer: Tracer,
    name: str,
    q: Any,
    k: Any,
    v: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: Any = None,
    **kwargs: Any,
) -> TensorValue:
    if attn_mask is not None:
        return _masked_attention(tracer, name, q, k, v, attn_mask, is_causal, scale, **kwargs)
    layer = L.ScaledDotProductAttention(is_causal=bool(is_causal), scale=scale)
    q, k, v = (tensor(t, name, merged=True) for t in (q, k, v))
    if len({(t.merged, t.batch_at) for t in (q, k, v)}) != 1:
        raise SpecError(f"{name}: query, key and value hold the batch differently")
    return tracer.emit(name, layer, [q, k, v])


def _masked_attention(
    tracer: Tracer, name: str, q: Any, k: Any, v: Any, mask: Any, is_causal: Any, scale: Any, **kwargs: Any
) -> TensorValue:
    """``scaled_dot_product_attention`` with an additive ``attn_mask`` (a relative position bias), written out
    as PyTorch's documentation defines it: ``softmax(q kᵀ · scale + mask) v``, the same two products."""
    if is_causal or kwargs.get("enable_gqa"):
        raise SpecError(f"{name}: scaled_dot_product_attention with attn_mask and is_causal or enable_gqa")
    torch = torch_module()
    if isinstance(mask, DataValue) and mask.tensor.dtype == torch.bool:
        raise SpecError(
            f"{name}: a boolean attn_mask (masked positions) is not supported; an additive one is"
        )
    q, k = tensor(q, name, moved=True, merged=True), tensor(k, name, moved=True, merged=True)
    width = q.shape[-1]
    if scale is None:
        if not width.is_Integer:
            raise SpecError(f"{name}: attention over heads of symbolic width {width}")
        scale = 1 / math.sqrt(int(width))
    scores = matmul(tracer, f"{name}.scores", q, transpose(tracer, f"{name}.keys", k, -2, -1))
    scores = arithmetic(L.Mul)(tracer, f"{name}.scale", scores, float(scale))
    scores = arithmetic(L.Add)(tracer, f"{name}.mask", scores, mask)
    weights = softmax_function(tracer, f"{name}.softmax", scores, -1)
    return matmul(tracer, name, weights, v)


def held(value: Any, name: str, what: str) -> Any:
    if value is not None and not isinstance(value, DataValue):
        raise SpecError(f"{name}: the {what} is {describe(value)}, not a tensor the module holds")
    return None if value is None else value.tensor


def _fixed(name: str, *held: Any) -> bool:
    """Whether the held weights are constants (buffers), not parameters; refused when they are some of each."""
    torch = torch_module()
    kinds = {isinstance(t, torch.nn.Parameter) for t in held if t is not None}
    if len(kinds) > 1:
        raise SpecError(f"{name}: its weights are partly parameters and partly buffers")
    return kinds == {False}


def conv_function(
    tracer: Tracer,
    name: str,
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> TensorValue:
    w, b = held(weight, name, "weight"), held(bias, name, "bias")
    cls = {1: L.Conv1d, 2: L.Conv2d, 3: L.Conv3d}[w.dim() - 2]
    layer = cls(
        int(w.shape[0]),
        [int(s) for s in w.shape[2:]],
        stride=pair(stride),
        padding=padding if isinstance(padding, str) else pair(padding),
        dilation=pair(dilation),
        groups=groups,
        bias=b is not None,
        in_channels=int(w.shape[1]) * groups,
        fixed=_fixed(name, w, b),
    )
    return tracer.emit(name, layer, [tensor(x, name)], [w, b])


def linear_function(tracer: Tracer, name: str, x: Any, weight: Any, bias: Any = None) -> TensorValue:
    w, b = held(weight, name, "weight"), held(bias, name, "bias")
    layer = L.Linear(
        int(w.shape[0]), bias=b is not None, in_features=int(w.shape[1]), fixed=_fixed(name, w, b)
    )
    return tracer.emit(name, layer, [tensor(x, name, merged=True)], [w, b])


def affine(
    name: str, what: str, weight: Any, bias: Any, weight_alone: bool = True, bias_alone: bool = True
) -> tuple[Any, Any]:
    """A normalisation's held weight and bias (either may be None), refusing the combinations its layer lacks."""
    w, b = held(weight, name, "weight"), held(bias, name, "bias")
    if (w is None and b is not None and not bias_alone) or (b is None and w is not None and not weight_alone):
        given = "a bias and no weight" if w is None else "a weight and no bias"
        raise SpecError(f"{name}: {what} with {given} is not supported")
    return w, b


def layer_norm_function(
    tracer: Tracer,
    name: str,
    x: Any,
    normalized_shape: Any,
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> TensorValue:
    w, b = affine(name, "layer_norm", weight, bias, bias_alone=False)
    layer = L.LayerNorm(
        list(plain(normalized_shape, name)), eps=eps, elementwise_affine=w is not None, bias=b is not None
    )
    return tracer.emit(name, layer, [tensor(x, name, merged=True)], [w, b])


def group_norm_function(
    tracer: Tracer,
    name: str,
    x: Any,
    num_groups: int,
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> TensorValue:
    w, b = affine(name, "group_norm", weight, bias, weight_alone=False)
    layer = L.GroupNorm(plain(num_groups, name), eps=eps, affine=w is not None)
    return tracer.emit(name, layer, [tensor(x, name)], [w, b])


def batch_norm_function(
    tracer: Tracer,
    name: str,
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> TensorValue:
    w, b = held(weight, name, "weight"), held(bias, name, "bias")
    x = tensor(x, name, merged=True)
    cls = {2: L.BatchNorm1d, 3: L.BatchNorm1d, 4: L.BatchNorm2d, 5: L.BatchNorm3d}[x.rank]
    return _batchnorm(tracer, name, x, cls(eps=eps, affine=w is not None), [w, b])


def pool_function(kind: str, dims_: int) -> Rule:
    def rule(
        tracer: Tracer,
        name: str,
        x: Any,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        *rest: Any,
        **kwargs: Any,
    ) -> TensorValue:
        stride = kernel_size if stride in (None, []) else stride
        arguments = {"kernel_size": pair(kernel_size), "stride": pair(stride), "padding": pair(padding)}
        names = (
            ("dilation", "ceil_mode", "return_indices")
            if kind == "Max"
            else ("ceil_mode", "count_include_pad", "divisor_override")
        )
        options = dict(zip(names[: len(rest)], rest, strict=True)) | kwargs
        if options.pop("return_indices", False):
            raise SpecError(f"{name}: return_indices=True is not supported")
        if kind == "Max" and "dilation" in options:
            options["dilation"] = pair(options["dilation"])
        if options.get("divisor_override") is None:
            options.pop("divisor_override", None)
        layer = getattr(L, f"{kind}Pool{dims_}d")(**arguments, **options)
        return tracer.emit(name, layer, [tensor(x, name)])

    return rule


def adaptive_pool_function(kind: str, dims_: int) -> Rule:
    def rule(tracer: Tracer, name: str, x: Any, output_size: Any, *rest: Any, **kwargs: Any) -> TensorValue:
        if rest and rest[0] or kwargs.get("return_indices"):
            raise SpecError(f"{name}: return_indices=True is not supported")
        return tracer.emit(
            name, getattr(L, f"Adaptive{kind}Pool{dims_}d")(pair(output_size)), [tensor(x, name)]
        )

    return rule


def interpolate(
    tracer: Tracer,
    name: str,
    x: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: Any = None,
    recompute_scale_factor: Any = None,
    antialias: bool = False,
) -> TensorValue:
    if mode not in ("nearest", "bilinear") or antialias:
        raise SpecError(
            f"{name}: interpolation mode {mode!r}{' with antialias' if antialias else ''} is not supported"
        )
    if recompute_scale_factor:
        raise SpecError(f"{name}: recompute_scale_factor=True is not supported")
    x = tensor(x, name)
    if isinstance(size, int):
        size = [size] * (x.rank - 2)
    layer = L.Upsample(
        size=None if size is None else list(plain(size, name)),
        scale_factor=scale_factor,
        mode=mode,
        align_corners=bool(align_corners),
    )
    return tracer.emit(name, layer, [x])


def upsample_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    factor = module.scale_factor
    return interpolate(
        tracer,
        name,
        x,
        module.size,
        list(factor) if isinstance(factor, tuple) else factor,
        module.mode,
        module.align_corners,
        module.recompute_scale_factor,
    )


def pad_module(mode: str) -> Rule:
    """``nn.ZeroPad2d``, ``ConstantPad2d``, ``ReflectionPad2d``, ... (1-D to 3-D): ``F.pad`` with the module's amounts."""

    def rule(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
        return pad(tracer, name, x, list(module.padding), mode, getattr(module, "value", None))

    return rule


def pixel_shuffle_module(tracer: Tracer, module: Any, name: str, x: Any) -> TensorValue:
    return tracer.emit(name, L.PixelShuffle(module.upscale_factor), [tensor(x, name)])


def pixel_shuffle(tracer: Tracer, name: str, x: Any, upscale_factor: int) -> TensorValue:
    return tracer.emit(name, L.PixelShuffle(upscale_factor), [tensor(x, name)])


def identity_method(tracer: Tracer, name: str, x: Any, *args: Any, **kwargs: Any) -> Any:
    """``contiguous``, ``clone``, ``to`` and friends: the same values (wherever the batch axis is)."""
    return x


@cache
def registry() -> Registry:
    """The rules for PyTorch's own operators, built on first use (PyTorch is an optional extra)."""
    torch = torch_module()
    nn, F = torch.nn, torch.nn.functional
    rules = Registry()
    modules = rules.modules
    for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d):
        modules[cls] = conv_module
    for cls in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d):
        modules[cls] = conv_transpose_module
    for cls in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d):
        modules[cls] = pool_module
    for cls in (
        nn.AdaptiveAvgPool1d,
        nn.AdaptiveAvgPool2d,
        nn.AdaptiveAvgPool3d,
        nn.AdaptiveMaxPool1d,
        nn.AdaptiveMaxPool2d,
        nn.AdaptiveMaxPool3d,
    ):
        modules[cls] = adaptive_pool_module
    for cls in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
        modules[cls] = batchnorm_module
    for cls in (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d):
        modules[cls] = instancenorm_module
    modules[nn.LayerNorm] = layernorm_module
    modules[nn.GroupNorm] = groupnorm_module
    modules[nn.LocalResponseNorm] = lrn_module
    modules[nn.Linear] = linear_module
    modules[nn.Flatten] = flatten_module
    modules[nn.Softmax] = softmax_module
    modules[nn.Identity] = identity_module
    padding = nn.modules.padding
    for base, mode in (
        (padding._ConstantPadNd, "constant"),
        (padding._ReflectionPadNd, "reflect"),
        (padding._ReplicationPadNd, "replicate"),
        (padding._CircularPadNd, "circular"),
    ):
        modules[base] = pad_module(mode)
    modules[nn.MultiheadAttention] = multihead_attention_module
    modules[nn.Upsample] = upsample_module
    modules[nn.PixelShuffle] = pixel_shuffle_module
    for cls in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout):
        modules[cls] = dropout_module
    activations = {
        nn.ReLU: L.ReLU,
        nn.ReLU6: L.ReLU6,
        nn.GELU: L.GELU,
        nn.SiLU: L.SiLU,
        nn.Sigmoid: L.Sigmoid,
        nn.Tanh: L.Tanh,
        nn.Hardswish: L.Hardswish,
        nn.Hardsigmoid: L.Hardsigmoid,
        nn.LeakyReLU: L.LeakyReLU,
        nn.ELU: L.ELU,
    }
    for cls, layer_class in activations.items():
        modules[cls] = activation_module(layer_class)

    functions = rules.functions
    unary = {
        L.ReLU: (F.relu, torch.relu, F.relu_, torch.relu_),
        L.ReLU6: (F.relu6,),
        L.Sigmoid: (torch.sigmoid, F.sigmoid),
        L.Tanh: (torch.tanh, F.tanh),
        L.GELU: (F.gelu,),
        L.SiLU: (F.silu,),
        L.Hardswish: (F.hardswish,),
        L.Hardsigmoid: (F.hardsigmoid,),
    }
    for layer_class, targets in unary.items():
        for target in targets:
            functions[target] = activation_function(layer_class)
    for layer_class, targets in {
        L.Add: (operator.add, operator.iadd, torch.add),
        L.Sub: (operator.sub, operator.isub, torch.sub),
        L.Mul: (operator.mul, operator.imul, torch.mul),
        L.Div: (operator.truediv, operator.itruediv, torch.div),
    }.items():
        for target in targets:
            functions[target] = arithmetic(layer_class)
    for target in (
        operator.floordiv,
        operator.mod,
        operator.neg,
        operator.eq,
        operator.ne,
        operator.lt,
        operator.le,
        operator.gt,
        operator.ge,
        operator.pow,
    ):
        functions[target] = size_operation(target)
    functions[operator.getitem] = getitem
    functions[math.ceil] = rounding(math.ceil, sp.ceiling)
    functions[math.floor] = rounding(math.floor, sp.floor)
    functions[math.trunc] = rounding(math.trunc, lambda v: sp.floor(v) if v.is_nonnegative else sp.ceiling(v))
    functions[getattr] = getattr_function
    functions[torch._assert] = assert_function
    functions[torch.flatten] = flatten
    functions[torch.cat] = cat
    functions[torch.stack] = stack
    functions[F.pad] = pad
    functions[torch.concat] = cat
    functions[torch.mean] = reduction(L.Mean)
    functions[torch.sum] = reduction(L.Sum)
    functions[torch.norm] = norm
    functions[torch.linalg.vector_norm] = vector_norm
    functions[torch.addcmul] = addcmul
    functions[torch.roll] = roll
    functions[torch.permute] = permute
    functions[torch.transpose] = transpose
    functions[torch.reshape] = reshape
    functions[torch.chunk] = chunk
    functions[torch.repeat_interleave] = repeat_interleave
    functions[torch.split] = split
    functions[torch.unbind] = unbind
    functions[torch.squeeze] = squeeze
    functions[torch.unsqueeze] = unsqueeze
    for target in (torch.matmul, operator.matmul, torch.bmm):
        functions[target] = matmul
    functions[F.scaled_dot_product_attention] = sdpa
    functions[torch.einsum] = einsum
    functions[F.softmax] = softmax_function
    functions[torch.softmax] = softmax_function
    for target in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d):
        functions[target] = dropout_function
    functions[F.conv1d] = functions[F.conv2d] = functions[F.conv3d] = conv_function
    functions[F.linear] = linear_function
    functions[F.interpolate] = interpolate
    functions[F.pixel_shuffle] = functions[torch.pixel_shuffle] = pixel_shuffle
    functions[F.layer_norm] = layer_norm_function
    functions[F.batch_norm] = batch_norm_function
    functions[F.group_norm] = group_norm_function
    for d in (1, 2, 3):
        functions[getattr(F, f"max_pool{d}d")] = pool_function("Max", d)
        functions[getattr(F, f"avg_pool{d}d")] = pool_function("Avg", d)
        functions[getattr(F, f"adaptive_avg_pool{d}d")] = adaptive_pool_function("Avg", d)
        functions[getattr(F, f"adaptive_max_pool{d}d")] = adaptive_pool_function("Max", d)
    rules.named_functions["torchvision.ops.stochastic_depth.stochastic_depth"] = stochastic_depth
    functions[torch.swapaxes] = functions[torch.swapdims] = transpose

    methods = rules.methods
    for method, layer_class in (
        ("relu", L.ReLU),
        ("relu_", L.ReLU),
        ("sigmoid", L.Sigmoid),
        ("tanh", L.Tanh),
    ):
        methods[method] = activation_function(layer_class)
    for method, layer_class in (
        ("add", L.Add),
        ("add_", L.Add),
        ("sub", L.Sub),
        ("mul", L.Mul),
        ("mul_", L.Mul),
        ("div", L.Div),
    ):
        methods[method] = arithmetic(layer_class)
    methods.update(
        size=size_method,
        dim=dim_method,
        view=reshape,
        reshape=reshape,
        reshape_as=reshape_as,
        view_as=reshape_as,
        permute=permute,
        transpose=transpose,
        flatten=flatten,
        mean=reduction(L.Mean),
        sum=reduction(L.Sum),
        norm=norm,
        addcmul=addcmul,
        roll=roll,
        chunk=chunk,
        split=split,
        unbind=unbind,
        expand=expand,
        repeat_interleave=repeat_interleave,
        softmax=softmax_function,
        matmul=matmul,
        bmm=matmul,
        squeeze=squeeze,
        unsqueeze=unsqueeze,
        contiguous=identity_method,
        clone=identity_method,
        to=identity_method,
        type_as=identity_method,
        float=identity_method,
        detach=identity_method,
    )
    return rules
