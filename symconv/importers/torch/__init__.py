"""PyTorch in and out: trace an ``nn.Module`` into a symbolic network, or build a module from one.

:func:`from_torch` traces the module with ``torch.fx`` (in evaluation mode, the
mode whose counts torchvision publishes) and interprets the graph value by
value: operations on tensors become layers, shape arithmetic and shape guards
of the model's own code are evaluated symbolically, a module called twice is
two nodes sharing one set of parameters, and parameters that the forward pass
never reads are reported apart. The input shape may be symbolic
(``(3, "H", "W")``). An operation symconv does not know is refused with its
module path and the line of model code that called it, and the message says
how much was counted before it. :func:`to_torch` builds the module that runs a
network at concrete values.
"""

from __future__ import annotations

import dataclasses
import dis
import re
import sys
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import sympy as sp

from symconv.errors import SpecError, SymconvError
from symconv.importers.torch import rules as torch_rules
from symconv.importers.torch import torchvision_rules
from symconv.importers.torch.build import to_torch
from symconv.importers.torch.environment import torch_module
from symconv.importers.torch.trace import DataValue, ImportFailure, TensorValue, Tracer, describe, reachable
from symconv.layers.base import as_size
from symconv.network import Network, collector_paused
from symconv.sizes import is_true

__all__ = ["from_torch", "reachable", "to_torch"]


@cache
def registry() -> torch_rules.Registry:
    """PyTorch's operators, then torchvision's fx-wrapped functions and modules written out."""
    rules = torch_rules.registry()
    rules.named_functions.update(torchvision_rules.RULES)
    rules.named_modules.update(torchvision_rules.MODULE_RULES)
    return rules


@cache
def _unpacked(code: Any) -> dict[int, int]:
    """The offsets of ``code``'s ``UNPACK_SEQUENCE`` instructions, with the count each unpacks."""
    return {i.offset: i.argval for i in dis.get_instructions(code) if i.opname == "UNPACK_SEQUENCE"}


class Recorded:
    """One operation of a symbolic trace: what symconv reads of a ``torch.fx.Node``, made without a graph."""

    __slots__ = ("args", "kwargs", "meta", "module", "name", "op", "stack_trace", "target")

    def __init__(self, name: str, op: str, target: Any, args: tuple, kwargs: dict, module: str) -> None:
        self.name, self.op, self.target, self.args, self.kwargs = name, op, target, args, kwargs or {}
        self.module = module  # the path of the innermost module being called, "" at the top
        self.meta: dict[str, Any] = {}
        self.stack_trace = None

    def __repr__(self) -> str:
        return self.name


@cache
def _fx_node() -> type:
    return torch_module().fx.Node


def _mapped(value: Any, function: Any) -> Any:
    """``value`` with every operation (recorded, or an fx node) replaced by ``function`` of it, as fx's
    ``map_arg`` does."""
    kind = type(value)
    if kind is Recorded or kind is _fx_node():
        return function(value)
    if isinstance(value, tuple):
        mapped = tuple(_mapped(item, function) for item in value)
        return kind(*mapped) if hasattr(value, "_fields") else mapped
    if isinstance(value, list):
        return [_mapped(item, function) for item in value]
    if isinstance(value, dict):
        return {key: _mapped(item, function) for key, item in value.items()}
    if kind is slice:
        return slice(*(_mapped(v, function) for v in (value.start, value.stop, value.step)))
    return value


def _target_name(graph: Any, target: Any) -> str:
    """fx's name for a node calling ``target`` (``_snake_case`` of it), computed once per target."""
    try:
        return _named_target(target)
    except TypeError:  # an unhashable target
        return graph._target_to_str(target)


@lru_cache(maxsize=65536)
def _named_target(target: Any) -> str:
    return torch_module().fx.Graph()._target_to_str(target)


@cache
def _tracer_base() -> tuple[type, type]:
    """torch.fx's proxy and tracer with symconv's leaf rule, and the costs of the plain classes that a
    symbolic trace read by symconv does not need removed.

    - Operations are recorded as :class:`Recorded`, named as fx names them,
      without a graph: no code is generated from the trace. Only a trace that
      locates an error (``record_stack_traces``) builds fx's own graph.
    - ``Proxy.__iter__`` disassembles the calling function at every
      ``a, b = x.size()``; here each function is read once.
    - ``Proxy.__torch_function__`` walks every argument to find the tracer; a
      proxy among the top-level arguments is taken first.
    - ``Tracer.create_arg`` tests every argument against parameters, buffers
      and modules before it looks at its type; here numbers, proxies and plain
      tuples go first.
    - ``Tracer.getattr`` finds a parameter's name by walking every parameter
      of the model at each read; here by one dictionary.
    - ``Tracer`` wraps every function of ``math`` at every trace; here only
      the ones symconv has rules for.
    """
    torch = torch_module()
    rules = registry()

    class Proxy(torch.fx.Proxy):
        @classmethod
        def __torch_function__(
            cls, orig_method: Any, types: Any, args: Any = None, kwargs: Any = None
        ) -> Any:
            # fx finds the tracer with a pytree walk over every argument; a proxy among the top-level
            # arguments is the one tracer of a symbolic trace. Other cases go to fx as they are.
            args, kwargs = args or (), kwargs or {}
            tracer = next(
                (a.tracer for a in (*args, *kwargs.values()) if isinstance(a, torch.fx.Proxy)), None
            )
            special = (torch._C.ScriptMethod, torch._ops.HigherOrderOperator)
            if tracer is None or isinstance(orig_method, special):
                return super().__torch_function__(orig_method, types, args, kwargs)
            if torch.overrides.is_tensor_method_or_property(orig_method):
                return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
            name = _target_name(tracer.graph, orig_method.__name__)
            return tracer.create_proxy("call_function", orig_method, args, kwargs, name=name)

        def __iter__(self) -> Any:
            caller = sys._getframe(1)
            count = _unpacked(caller.f_code).get(caller.f_lasti)
            if count is not None:
                return (self[i] for i in range(count))
            return self.tracer.iter(self)

    plain = (int, float, bool, str, type(None))

    class FxTracer(torch.fx.Tracer):
        def __init__(self) -> None:
            super().__init__()
            # fx wraps every function of ``math`` at each trace, and each module's calls of them; the ones
            # symconv has rules for are enough: any other call on a traced size leaves the plain trace, and
            # the eager trace computes it from the sizes symconv knows
            self._autowrap_function_ids = {
                id(f) for f in rules.functions if getattr(f, "__module__", None) == "math"
            }

        def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
            return rules.is_written_out(m) or super().is_leaf_module(m, qualified_name)

        def call_module(self, m: Any, forward: Any, args: tuple, kwargs: dict) -> Any:
            if self.record_stack_traces:  # locating an error: fx's own bookkeeping, scopes and all
                return super().call_module(m, forward, args, kwargs)
            # fx's call, less the scope it copies at every call: only the module stack is read
            path = self.path_of_module(m)
            calls = self.num_calls.get(path, 0)
            self.module_stack[f"{path}@{calls}" if calls else path] = (path, type(m))
            self.num_calls[path] = calls + 1
            try:
                if not self.is_leaf_module(m, path):
                    return forward(*args, **kwargs)
                return self.create_proxy("call_module", path, args, kwargs)
            finally:
                self.module_stack.popitem(last=True)

        def proxy(self, node: Any) -> Any:
            return Proxy(node, self)

        def trace(self, root: Any, concrete_args: Any = None) -> Any:
            self.recorded: list[Recorded] = []
            return super().trace(root, concrete_args)

        def create_node(
            self, kind: str, target: Any, args: Any, kwargs: Any, name: Any = None, type_expr: Any = None
        ) -> Any:
            if self.record_stack_traces:  # locating an error: fx's own graph, frames and all
                return super().create_node(kind, target, args, kwargs, name, type_expr)
            # the operation as symconv reads it, named as fx names it: no graph is built, since no code
            # is generated from it, and the innermost module is all that is read of the module stack
            graph = self.graph
            candidate = name if name is not None else _target_name(graph, target)
            module = next(reversed(self.module_stack.values()))[0] if self.module_stack else ""
            node = Recorded(
                graph._graph_namespace.create_name(candidate, None), kind, target, args, kwargs, module
            )
            self.recorded.append(node)
            return node

        def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
            # fx finds a parameter's name by walking every parameter of the model, at every read
            if isinstance(attr_val, torch.nn.Parameter):
                names = self.__dict__.get("_parameter_names")
                if names is None:
                    names = self._parameter_names = {id(p): n for n, p in self.root.named_parameters()}
                found = names.get(id(attr_val))
                if found is not None:
                    if found not in parameter_proxy_cache:
                        parameter_proxy_cache[found] = self.create_proxy("get_attr", found, (), {})
                    return parameter_proxy_cache[found]
            return super().getattr(attr, attr_val, parameter_proxy_cache)

        def create_arg(self, a: Any) -> Any:
            kind = type(a)
            if kind in plain:
                return a
            if isinstance(a, torch.fx.Proxy):
                return a.node
            if kind is tuple:
                return tuple(self.create_arg(e) for e in a)
            return super().create_arg(a)

    return Proxy, FxTracer


def _trace(module: Any, stack_traces: bool = False) -> Any:
    tracer = _tracer_base()[1]()
    tracer.record_stack_traces = stack_traces  # costs a third of the trace: asked for only to locate an error
    try:
        graph = tracer.trace(module)
        nodes = list(graph.nodes) if stack_traces else tracer.recorded
    except Exception as error:  # fx raises many kinds for untraceable control flow
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(
            f"torch.fx cannot trace {type(module).__name__}: {first} (Python control flow reads a traced value)"
        ) from None
    return nodes  # read directly: no GraphModule (its code generation) is needed


def _model_line(module: Any, node: Any) -> str:
    """The line of model code that made ``node``: the innermost frame of a trace that records them."""
    training = module.training
    module.eval()
    try:
        traced = _trace(module, stack_traces=True)
    finally:
        module.train(training)
    same = [other for other in traced if other.name == node.name]
    return _frames_line((same[0].stack_trace if same else "") or "")


def _module_path(node: Any) -> str:
    if type(node) is Recorded:
        return node.module
    stack = node.meta.get("nn_module_stack") or {}
    paths = [value[0] if isinstance(value, tuple) else str(key) for key, value in stack.items()]
    return paths[-1] if paths else ""


def _held(root: Any, target: str) -> Any:
    value = root
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _partial(tracer: Tracer, input_shape: tuple) -> str:
    if not tracer.nodes:
        return "nothing was counted before it"
    try:
        report = Network(input_shape, graph=reachable(tracer.nodes, len(tracer.nodes) - 1)).report
    except SymconvError:
        return f"{len(tracer.nodes)} operations were followed before it"
    return (
        f"before it, {len(tracer.nodes)} operations were followed: params {report.params}, MACs {report.macs}"
    )


def _frozen(modules: dict[str, Any], graph: list) -> list:
    """Mark the nodes of modules whose own parameters all have ``requires_grad=False`` as not trainable."""
    frozen = set()
    for path, sub in modules.items():
        own = list(sub.parameters(recurse=False))
        if own and not any(p.requires_grad for p in own):
            frozen.add(path)
    if not frozen:
        return graph
    return [
        dataclasses.replace(node, layer=dataclasses.replace(node.layer, trainable=False))
        if node.name in frozen or node.shares in frozen
        else node
        for node in graph
    ]


class _Interpreter:
    """Each fx node of the module's trace as a symconv value: a tensor (a network node), held data or a size."""

    def __init__(self, module: Any, shape: tuple) -> None:
        self.module = module
        self.shape = shape
        self.rules = registry()
        self.modules = dict(module.named_modules())
        self.tracer = Tracer(module)
        self.values: dict[Any, Any] = {}
        self.inputs_seen = 0
        self.eager = False
        self.busy = 0

    def ensure(self, node: Any) -> Any:
        """The node's value; the nodes it reads are interpreted as its arguments are read."""
        if node in self.values:
            return self.values[node]
        torch = torch_module()
        self.busy += 1  # while a rule reads the module, an eager trace hands it plain attributes
        try:
            self.values[node] = self.interpret(node, torch)
        finally:
            self.busy -= 1
        return self.values[node]

    def read(self, value: Any) -> Any:
        return _mapped(value, self.ensure)

    def interpret(self, node: Any, torch: Any) -> Any:
        tracer, rules = self.tracer, self.rules
        try:
            if node.op == "placeholder":
                if self.inputs_seen and not node.args:
                    raise SpecError("only modules with one tensor input are supported")
                value = TensorValue(-1, self.shape) if not self.inputs_seen else node.args[0]
                self.inputs_seen += 1
                return value
            args, kwargs = self.read(node.args), self.read(node.kwargs)
            if node.op == "output":
                return args[0]
            if node.op == "get_attr":
                held = _held(self.module, node.target)
                return DataValue(node.target, held) if isinstance(held, torch.Tensor) else held
            if node.op == "call_module":
                target = self.modules[node.target]
                rule = rules.module_rule(target)
                if rule is None:
                    raise SpecError(f"symconv has no rule for {type(target).__name__}")
                if args and isinstance(args[0], DataValue):  # a module applied to a held tensor
                    args = (tracer.materialize(args[0], len(args[0].shape), node.target), *args[1:])
                return rule(tracer, target, node.target, *args, **kwargs)
            rule = (
                rules.function_rule(node.target)
                if node.op == "call_function"
                else rules.methods.get(node.target)
            )
            path = _module_path(node)
            if rule is None:
                raise SpecError("symconv has no rule for it")
            return rule(tracer, f"{path}.{node.name}" if path else node.name, *args, **kwargs)
        except ImportFailure:
            raise
        except SymconvError as error:
            raise ImportFailure(
                f"{self.label(node)}{self.line(node)}: {error.message}; {_partial(tracer, self.shape)}"
            ) from None
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise ImportFailure(
                f"{self.label(node)}{self.line(node)}: arguments symconv cannot follow ({error}); "
                f"{_partial(tracer, self.shape)}"
            ) from None

    def label(self, node: Any) -> str:
        """The operation as a message names it: a module with its class, else the calling module's path."""
        if node.op == "call_module" and node.target in self.modules:
            return f"{node.target} ({type(self.modules[node.target]).__name__})"
        name = f"{node.op} {getattr(node.target, '__name__', node.target)}"
        if node.op in ("call_function", "call_method"):
            path = _module_path(node)
            return f"{path}: {name}" if path else name
        return name

    def line(self, node: Any) -> str:
        if self.eager:  # the eager trace records every frame; the code is not traced again
            return _frames_line(node.stack_trace or "")
        return _model_line(self.module, node)

    def decide(self, node: Any) -> bool:
        """A branch of the model's code on a traced value: decided for every input size, or refused."""
        value = self.ensure(node)
        if isinstance(value, (bool, int, float)) or (isinstance(value, sp.Basic) and value.is_Number):
            return bool(value)
        if isinstance(value, (sp.Rel, sp.logic.boolalg.BooleanAtom)):
            decided = is_true(value)
            if decided is not None:
                return decided
            raise ImportFailure(
                f"the model's code branches on {value}{self.line(node)}, which holds for some input sizes "
                "and not others: give the sizes as numbers"
            )
        raise ImportFailure(f"the model's code branches on {describe(value)}{self.line(node)}")


def _frames_line(stack_trace: str) -> str:
    frames = re.findall(r'File "([^"]+)", line (\d+)', stack_trace)
    model = [(file, line) for file, line in frames if "/torch/" not in file]
    return f" at {model[-1][0]}:{model[-1][1]}" if model else ""


def _trace_eagerly(module: Any, interpreter: _Interpreter) -> Any:
    """Trace with every value known as it is made, so that the model's code may branch on sizes.

    ``torch.fx`` alone cannot follow ``if pad > 0`` or ``int(h / 2)``: it records
    operations without values. Here each operation is interpreted the moment
    fx records it, so a condition on sizes is decided by symconv (for every
    input size, or refused), and ``int()``, ``len()`` and iteration read the
    sizes symconv knows.
    """
    proxy_base, tracer_base = _tracer_base()

    class KnownProxy(proxy_base):
        def __len__(self) -> int:
            value = interpreter.ensure(self.node)
            if isinstance(value, (list, tuple)):
                return len(value)
            raise ImportFailure(
                f"the model's code takes len() of {describe(value)}{interpreter.line(self.node)}"
            )

        def __int__(self) -> int:
            return _number(interpreter, self.node, int)

        def __index__(self) -> int:
            return _number(interpreter, self.node, int)

        def __float__(self) -> float:
            return _number(interpreter, self.node, float)

    class EagerTracer(tracer_base):
        def proxy(self, node: Any) -> Any:
            return KnownProxy(node, self)

        def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
            if interpreter.busy:  # a rule reading a module's weight: the tensor, not a traced attribute
                return attr_val
            return super().getattr(attr, attr_val, parameter_proxy_cache)

        def create_proxy(self, *args: Any, **kwargs: Any) -> Any:
            proxy = super().create_proxy(*args, **kwargs)
            interpreter.ensure(proxy.node)
            return proxy

        def to_bool(self, obj: Any) -> bool:
            return interpreter.decide(obj.node)

        def iter(self, obj: Any) -> Any:
            value = interpreter.ensure(obj.node)
            if isinstance(value, (list, tuple)):
                return iter([obj[i] for i in range(len(value))])
            raise ImportFailure(
                f"the model's code iterates over {describe(value)}{interpreter.line(obj.node)}"
            )

    tracer = EagerTracer()
    tracer.record_stack_traces = True
    interpreter.eager = True
    try:
        return list(tracer.trace(module).nodes)
    except SymconvError:
        raise
    except Exception as error:  # fx raises many kinds for code it cannot follow
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(f"torch.fx cannot trace {type(module).__name__}: {first}") from None


def _number(interpreter: _Interpreter, node: Any, kind: type) -> Any:
    value = interpreter.ensure(node)
    if isinstance(value, (int, float)) or (isinstance(value, sp.Basic) and value.is_Number):
        return kind(value)
    raise ImportFailure(
        f"the model's code needs {value} as a number{interpreter.line(node)}, but it depends on the input size: "
        "give the sizes as numbers"
    )


def from_torch(module: Any, input_shape: Sequence[int | str], name: str | None = None) -> Network:
    """Trace ``module`` (in eval mode) into a network whose input is ``input_shape`` (channels first, no batch).

    ``torch.fx`` traces the module; where the model's own code branches on a
    traced size (``if pad > 0``), the trace is taken again with every value
    known as it is recorded, and symconv decides each branch.

    ```pycon
    >>> import torch  # doctest: +SKIP
    >>> from_torch(torch.nn.Conv2d(3, 8, 3), (3, "H", "W")).output_shape  # doctest: +SKIP
    (8, H - 2, W - 2)

    ```
    """
    torch = torch_module()
    if not isinstance(module, torch.nn.Module):
        raise SpecError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    shape = tuple(as_size(d, "input") for d in input_shape)
    with collector_paused():
        return _traced_network(module, shape, name)


def _traced_network(module: Any, shape: tuple, name: str | None) -> Network:
    interpreter = _Interpreter(module, shape)
    training = [sub for sub in interpreter.modules.values() if sub.training]
    if training:  # traced in eval mode, and each module left in the mode it was in
        module.eval()
    try:
        try:
            traced = _trace(module)
        except SpecError:  # control flow on a traced value: trace again, interpreting as fx records
            traced = _trace_eagerly(module, interpreter)
    finally:
        for sub in training:
            sub.training = True
    output: Any = None
    for node in traced:
        value = interpreter.ensure(node)
        if node.op == "output":
            output = value
    tracer = interpreter.tracer
    if isinstance(output, (tuple, list)) and len(output) == 1:
        output = output[0]
    if not isinstance(output, TensorValue) or output.index < 0:
        raise SpecError(f"the module's output is {describe(output)}, not a tensor computed from its input")
    graph = _frozen(interpreter.modules, reachable(tracer.nodes, output.index))
    return Network(
        shape,
        graph=graph,
        name=name or type(module).__name__,
        guards=tracer.guards,
        unused=tracer.unused({node.name for node in graph}),
    )
