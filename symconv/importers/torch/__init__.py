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
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from symconv.errors import SpecError, SymconvError
from symconv.importers.torch import rules as torch_rules
from symconv.importers.torch import torchvision_rules
from symconv.importers.torch.build import to_torch
from symconv.importers.torch.environment import torch_module
from symconv.importers.torch.trace import DataValue, ImportFailure, TensorValue, Tracer, describe, reachable
from symconv.layers.base import as_size
from symconv.network import Network

__all__ = ["from_torch", "reachable", "to_torch"]


@cache
def registry() -> torch_rules.Registry:
    """PyTorch's operators, then torchvision's fx-wrapped functions and modules written out."""
    rules = torch_rules.registry()
    rules.named_functions.update(torchvision_rules.RULES)
    rules.named_modules.update(torchvision_rules.MODULE_RULES)
    return rules


def _trace(module: Any, stack_traces: bool = False) -> Any:
    torch = torch_module()
    rules = registry()

    class FxTracer(torch.fx.Tracer):
        def is_leaf_module(self, m: Any, qualified_name: str) -> bool:
            return rules.is_written_out(m) or super().is_leaf_module(m, qualified_name)

    tracer = FxTracer()
    tracer.record_stack_traces = stack_traces  # costs a third of the trace: asked for only to locate an error
    try:
        graph = tracer.trace(module)
    except Exception as error:  # fx raises many kinds for untraceable control flow
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SpecError(
            f"torch.fx cannot trace {type(module).__name__}: {first} (Python control flow reads a traced value)"
        ) from None
    return graph  # the nodes are read directly: no GraphModule (its code generation) is needed


def _model_line(module: Any, node: Any) -> str:
    """The line of model code that made ``node``: the innermost frame of a trace that records them."""
    training = module.training
    module.eval()
    try:
        traced = _trace(module, stack_traces=True)
    finally:
        module.train(training)
    same = [other for other in traced.nodes if other.name == node.name]
    frames = re.findall(r'File "([^"]+)", line (\d+)', (same[0].stack_trace if same else "") or "")
    model = [(file, line) for file, line in frames if "/torch/" not in file]
    return f" at {model[-1][0]}:{model[-1][1]}" if model else ""


def _module_path(node: Any) -> str:
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


def _frozen(module, graph: list) -> list:
    """Mark the nodes of modules whose own parameters all have ``requires_grad=False`` as not trainable."""
    frozen = set()
    for path, sub in module.named_modules():
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


def from_torch(module: Any, input_shape: Sequence[int | str], name: str | None = None) -> Network:
    """Trace ``module`` (in eval mode) into a network whose input is ``input_shape`` (channels first, no batch).

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
    training = module.training
    module.eval()
    try:
        traced = _trace(module)
    finally:
        module.train(training)
    rules = registry()
    modules = dict(module.named_modules())
    tracer = Tracer(module)
    values: dict[Any, Any] = {}
    output: Any = None
    inputs_seen = 0
    for node in traced.nodes:
        label = f"{node.op} {getattr(node.target, '__name__', node.target)}"
        try:
            if node.op == "placeholder":
                if inputs_seen and not node.args:
                    raise SpecError("only modules with one tensor input are supported")
                values[node] = TensorValue(-1, shape) if not inputs_seen else node.args[0]
                inputs_seen += 1
                continue
            if node.op == "output":
                output = torch.fx.node.map_arg(node.args[0], lambda n: values[n])
                continue
            args = torch.fx.node.map_arg(node.args, lambda n: values[n])
            kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: values[n])
            if node.op == "get_attr":
                held = _held(module, node.target)
                values[node] = DataValue(node.target, held) if isinstance(held, torch.Tensor) else held
                continue
            if node.op == "call_module":
                target = modules[node.target]
                rule = rules.module_rule(target)
                label = f"{node.target} ({type(target).__name__})"
                if rule is None:
                    raise SpecError(f"symconv has no rule for {type(target).__name__}")
                if args and isinstance(args[0], DataValue):  # a module applied to a held tensor
                    args = (tracer.materialize(args[0], len(args[0].shape), node.target), *args[1:])
                values[node] = rule(tracer, target, node.target, *args, **kwargs)
            else:
                rule = (
                    rules.function_rule(node.target)
                    if node.op == "call_function"
                    else rules.methods.get(node.target)
                )
                path = _module_path(node)
                label = (
                    f"{path + ': ' if path else ''}{node.op} {getattr(node.target, '__name__', node.target)}"
                )
                if rule is None:
                    raise SpecError("symconv has no rule for it")
                values[node] = rule(tracer, f"{path}.{node.name}" if path else node.name, *args, **kwargs)
        except SymconvError as error:
            raise ImportFailure(
                f"{label}{_model_line(module, node)}: {error.message}; {_partial(tracer, shape)}"
            ) from None
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise ImportFailure(
                f"{label}{_model_line(module, node)}: arguments symconv cannot follow ({error}); {_partial(tracer, shape)}"
            ) from None
    if isinstance(output, (tuple, list)) and len(output) == 1:
        output = output[0]
    if not isinstance(output, TensorValue) or output.index < 0:
        raise SpecError(f"the module's output is {describe(output)}, not a tensor computed from its input")
    graph = _frozen(module, reachable(tracer.nodes, output.index))
    return Network(
        shape,
        graph=graph,
        name=name or type(module).__name__,
        guards=tracer.guards,
        unused=tracer.unused({node.name for node in graph}),
    )
