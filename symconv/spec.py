"""Spec files: YAML in, a :class:`~symconv.network.Network` out, errors that point at the line.

The YAML is composed with PyYAML's safe loader and walked node by node, so
every value keeps its line. Sizes go through :func:`symconv.sizes.parse_size`;
nothing a spec holds is evaluated.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

import sympy as sp
import yaml

from symconv.errors import SpecError, SymconvError, Where
from symconv.layers import KINDS, Layer, MultiheadAttention
from symconv.layers.merge import ElementwiseArithmetic
from symconv.network import Concat, Network, Node, Repeat, Residual, Sequential
from symconv.notation import to_text
from symconv.sizes import DOMAINS, RATIONAL_BY_DEFAULT, parse_size

MAX_NODES = 100_000
TOP_LEVEL = ("name", "input", "symbols", "layers", "description")


class Located:
    """A YAML value with the line it starts on (1-based)."""

    __slots__ = ("value", "line", "key_lines")

    def __init__(self, value: Any, line: int, key_lines: dict | None = None) -> None:
        self.value = value
        self.line = line
        self.key_lines = key_lines or {}


def _walk(loader: yaml.SafeLoader, node: yaml.Node, budget: list[int], file: str | None) -> Located:
    budget[0] -= 1
    if budget[0] < 0:
        raise SpecError(f"spec too large (more than {MAX_NODES} YAML nodes, aliases included)", Where(file))
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Located] = {}
        key_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = _walk(loader, key_node, budget, file)
            if not isinstance(key.value, (str, int)):
                raise SpecError("mapping keys must be plain names", Where(file, key.line))
            if key.value in mapping:
                raise SpecError(f"duplicate key {key.value!r}", Where(file, key.line))
            mapping[key.value] = _walk(loader, value_node, budget, file)
            key_lines[key.value] = key.line
        return Located(mapping, line, key_lines)
    if isinstance(node, yaml.SequenceNode):
        return Located([_walk(loader, child, budget, file) for child in node.value], line)
    try:
        return Located(loader.construct_object(node), line)
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise SpecError(f"{node.value[:20]}...: a number too large to read", Where(file, line)) from None


def read_yaml(text: str, file: str | None = None) -> Located:
    """Parse YAML text into :class:`Located` values; syntax errors name their line."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise SpecError("the spec is empty", Where(file))
        return _walk(loader, node, [MAX_NODES], file)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        context = ""
        if error.context and error.context_mark and error.context_mark.line + 1 != line:
            context = f" ({error.context} that starts on line {error.context_mark.line + 1})"
        raise SpecError(f"YAML syntax error: {error.problem or error}{context}", Where(file, line)) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1 if isinstance(text, str) else None
        raise SpecError(
            f"character {error.character:#x} is not allowed in a spec (control characters and undecodable "
            f"bytes are refused)",
            Where(file, line),
        ) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML error: {error}", Where(file)) from None
    except RecursionError:
        raise SpecError("YAML nested too deeply", Where(file)) from None

    finally:
        if loader is not None:
            loader.dispose()


class _SpecReader:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.domains: dict[str, str] = {}
        self.wiring: dict[int, tuple[list[str], Where]] = {}  # id(layer) -> names of its inputs
        self.sharing: dict[int, str] = {}  # id(layer) -> the earlier layer whose parameters it uses

    def where(self, located: Located, field: str) -> Where:
        return Where(self.file, located.line, field)

    def mapping(self, located: Located, field: str) -> dict[Any, Located]:
        if not isinstance(located.value, dict):
            raise SpecError(f"expected a mapping, got {_describe(located.value)}", self.where(located, field))
        return located.value

    def sequence(self, located: Located, field: str) -> list[Located]:
        if not isinstance(located.value, list):
            raise SpecError(f"expected a list, got {_describe(located.value)}", self.where(located, field))
        return located.value

    def network(self, root: Located) -> Network:
        top = self.mapping(root, "spec")
        for key, value in top.items():
            if key not in TOP_LEVEL:
                raise SpecError(
                    f"unknown key {key!r}; expected one of {', '.join(TOP_LEVEL)}",
                    Where(self.file, root.key_lines.get(key, value.line), str(key)),
                )
        legend = self.symbols(top["symbols"]) if "symbols" in top else {}
        if "input" not in top:
            raise SpecError("missing 'input' (e.g. input: [1, n, m])", self.where(root, "input"))
        if "layers" not in top:
            raise SpecError("missing 'layers'", self.where(root, "layers"))
        input_shape = [
            parse_size(d.value, self.domains, self.where(d, f"input[{i}]"))
            for i, d in enumerate(self.sequence(top["input"], "input"))
        ]
        name = top["name"].value if "name" in top else None
        if name is not None and not isinstance(name, str):
            raise SpecError("name must be a string", self.where(top["name"], "name"))
        layers = self.layers(top["layers"], "layers")
        if not layers:
            raise SpecError("a network needs at least one layer", self.where(top["layers"], "layers"))
        graph = self.graph(layers) if self.wiring else None
        try:
            return Network(
                input_shape,
                () if graph else layers,
                name=name,
                legend=legend,
                where=self.where(top["input"], "input"),
                graph=graph,
            )
        except SymconvError as error:
            if error.where is None:
                error.where = Where(self.file)
            raise

    def graph(self, items: list) -> list[Node]:
        """The graph form: top-level layers, each reading the previous one unless it names its ``inputs``."""
        top_level = {id(item) for item in items}
        for key, (_, where) in self.wiring.items():
            if key not in top_level:
                raise SpecError("inputs: may only be used by layers at the top level", where)
        nodes: list[Node] = []
        index_of: dict[str, int] = {"input": -1}
        counters: dict[str, int] = {}
        for item in items:
            if not isinstance(item, Layer):
                raise SpecError(
                    "a spec that wires layers with inputs: cannot also use blocks; write the block's layers out",
                    item.where,
                )
            counters[item.kind] = counters.get(item.kind, 0) + 1
            name = item.name or f"{item.kind}_{counters[item.kind]}"
            if name in index_of:
                raise SpecError(f"two layers are named {name!r}", item.where)
            names, where = self.wiring.get(id(item), ([], item.where))
            if names:
                unknown = [n for n in names if n not in index_of]
                if unknown:
                    raise SpecError(f"inputs: {', '.join(unknown)} not an earlier layer (or 'input')", where)
                inputs = tuple(index_of[n] for n in names)
            else:
                inputs = () if item.arity == 0 else (len(nodes) - 1,)
            shares = self.sharing.get(id(item))
            if shares is not None and (
                shares not in index_of or nodes[index_of[shares]].layer.kind != item.kind
            ):
                raise SpecError(f"shares: {shares} is not an earlier {item.kind} layer", where)
            nodes.append(Node(name, item, inputs, shares))
            index_of[name] = len(nodes) - 1
        return nodes

    def symbols(self, located: Located) -> dict[str, str]:
        legend: dict[str, str] = {}
        for name, entry in self.mapping(located, "symbols").items():
            field = f"symbols.{name}"
            parse_size(str(name), where=self.where(entry, field))  # a valid name
            if isinstance(entry.value, str):
                legend[str(name)] = entry.value
                continue
            details = self.mapping(entry, field)
            unknown = set(details) - {"meaning", "domain"}
            if unknown:
                raise SpecError(
                    f"unknown keys {sorted(unknown)}; use meaning and domain", self.where(entry, field)
                )
            if "domain" in details:
                domain = details["domain"].value
                if domain not in DOMAINS:
                    raise SpecError(
                        f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}",
                        self.where(details["domain"], f"{field}.domain"),
                    )
                self.domains[str(name)] = domain
            if "meaning" in details:
                legend[str(name)] = str(details["meaning"].value)
        return legend

    def layers(self, located: Located, field: str) -> list:
        return [self.item(entry, f"{field}[{i}]") for i, entry in enumerate(self.sequence(located, field))]

    def item(self, entry: Located, field: str) -> Layer | Residual | Concat | Repeat | Sequential:
        if isinstance(entry.value, str):
            kind, arguments, line = entry.value, {}, entry.line
        else:
            mapping = self.mapping(entry, field)
            if len(mapping) != 1:
                raise SpecError(
                    f"a layer is one key (its kind) with its arguments, got keys {sorted(map(str, mapping))}",
                    self.where(entry, field),
                )
            ((kind, body),) = mapping.items()
            line = entry.key_lines.get(kind, body.line)
            arguments = {} if body.value is None else self.mapping(body, f"{field}.{kind}")
        where = Where(self.file, line, f"{field}.{kind}")
        name = arguments.pop("name", None) if isinstance(arguments, dict) else None
        if name is not None and not isinstance(name.value, str):
            raise SpecError("name must be a string", self.where(name, f"{field}.{kind}.name"))
        name = None if name is None else name.value
        wired = arguments.pop("inputs", None) if isinstance(arguments, dict) else None
        shares = arguments.pop("shares", None) if isinstance(arguments, dict) else None
        item = self.block_or_layer(str(kind), arguments, where, name, wired is not None)
        if wired is not None:
            names = wired.value if isinstance(wired.value, list) else None
            if not names or not all(isinstance(v.value, str) for v in names):
                raise SpecError(
                    "inputs: expected a list of layer names", self.where(wired, f"{where.field}.inputs")
                )
            self.wiring[id(item)] = ([v.value for v in names], self.where(wired, f"{where.field}.inputs"))
        elif isinstance(item, Layer) and _needs_inputs(item):
            raise SpecError(f"{kind} as a layer needs inputs: [a, b, ...]", where)
        if shares is not None:
            if not isinstance(shares.value, str) or not isinstance(item, Layer):
                raise SpecError(
                    "shares: expected the name of an earlier layer",
                    self.where(shares, f"{where.field}.shares"),
                )
            self.sharing[id(item)] = shares.value
            self.wiring.setdefault(id(item), ([], where))
        return item

    def block_or_layer(self, kind: str, arguments: dict, where: Where, name: str | None, wired: bool):
        if kind == "residual":
            self.only(arguments, ("body", "shortcut"), where)
            body = self.layers(arguments["body"], f"{where.field}.body") if "body" in arguments else []
            shortcut = (
                self.layers(arguments["shortcut"], f"{where.field}.shortcut")
                if "shortcut" in arguments
                else []
            )
            return Residual(tuple(body), tuple(shortcut), name, where)
        if kind == "concat" and not (wired and "branches" not in arguments):
            self.only(arguments, ("branches",), where)
            if "branches" not in arguments:
                raise SpecError("concat needs branches: [[...], [...]]", where)
            branches = self.sequence(arguments["branches"], f"{where.field}.branches")
            return Concat(
                tuple(tuple(self.layers(b, f"{where.field}.branches[{i}]")) for i, b in enumerate(branches)),
                name,
                where,
            )
        if kind == "sequential":
            self.only(arguments, ("layers",), where)
            if "layers" not in arguments:
                raise SpecError("sequential needs layers: [...]", where)
            return Sequential(tuple(self.layers(arguments["layers"], f"{where.field}.layers")), name, where)
        if kind == "repeat":
            self.only(arguments, ("times", "layers"), where)
            if "times" not in arguments or "layers" not in arguments:
                raise SpecError("repeat needs times: N and layers: [...]", where)
            times = arguments["times"]
            if type(times.value) is not int or times.value < 1:
                raise SpecError(
                    f"times must be a positive integer, got {times.value!r}",
                    self.where(times, f"{where.field}.times"),
                )
            return Repeat(
                times.value, tuple(self.layers(arguments["layers"], f"{where.field}.layers")), name, where
            )
        return self.layer(kind, arguments, where, name)

    def only(self, arguments: dict, allowed: tuple[str, ...], where: Where) -> None:
        for key, value in arguments.items():
            if key not in allowed:
                raise SpecError(
                    f"unknown argument {key!r}; expected "
                    + (", ".join(allowed) + " or name" if allowed else "name or inputs"),
                    Where(self.file, value.line, f"{where.field}.{key}"),
                )

    def layer(self, kind: str, arguments: dict[str, Located], where: Where, name: str | None) -> Layer:
        if kind not in KINDS:
            close = difflib.get_close_matches(
                kind, [*KINDS, "residual", "concat", "repeat", "sequential"], n=3
            )
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise SpecError(f"unknown layer kind {kind!r}{hint}", where)
        cls = KINDS[kind]
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in ("name", "where")}
        aliases = getattr(cls, "aliases", {})
        kwargs: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key, located in arguments.items():
            target = aliases.get(key, key)
            field_where = Where(self.file, located.line, f"{where.field}.{key}")
            if target not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=2)
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                raise SpecError(
                    f"{kind} has no argument {key!r}{hint} (arguments: {', '.join(fields)})", field_where
                )
            if target in kwargs:
                raise SpecError(f"{target} is given twice", field_where)
            kwargs[target] = self.argument(fields[target].metadata.get("kind"), located.value, field_where)
            lines[target] = located.line
        missing = [
            f.name
            for f in fields.values()
            if f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
            and f.name not in kwargs
        ]
        if missing:
            raise SpecError(f"{kind} needs {', '.join(missing)}", where)
        where = dataclasses.replace(where, field_lines=tuple(lines.items()))
        try:
            return cls(**kwargs, name=name, where=where)
        except SymconvError as error:
            if error.where is None:
                error.where = where
            raise

    def argument(self, kind: str | None, value: Any, where: Where) -> Any:
        if kind == "size":
            return None if value is None else parse_size(value, self.domains, where)
        if kind in ("sizes", "optional_sizes"):
            if isinstance(value, str) and value in ("same", "valid"):
                return value
            if isinstance(value, list):
                return tuple(self.argument(kind, v.value, where) for v in value)
            if value is None and kind == "optional_sizes":
                return None
            return parse_size(value, self.domains, where)
        if kind == "flag":
            if not isinstance(value, bool):
                raise SpecError(f"expected true or false, got {_describe(value)}", where)
            return value
        if kind == "shape":
            values = value if isinstance(value, list) else [Located(value, where.line)]
            return tuple(-1 if v.value == -1 else parse_size(v.value, self.domains, where) for v in values)
        if kind == "ints":
            values = value if isinstance(value, list) else [Located(value, where.line)]
            if not all(type(v.value) is int for v in values):
                raise SpecError(f"expected a list of integers, got {_describe(value)}", where)
            return tuple(v.value for v in values)
        if kind == "int":
            if type(value) is not int:
                raise SpecError(f"expected an integer, got {_describe(value)}", where)
            return value
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"expected a number, got {_describe(value)}", where)
            return value
        if not isinstance(value, str):
            raise SpecError(f"expected a word, got {_describe(value)}", where)
        return value


def _needs_inputs(layer: Layer) -> bool:
    """A layer that reads several tensors, which only the graph form can name."""
    if isinstance(layer, ElementwiseArithmetic):
        return layer.scalar is None
    return layer.arity > 1 or (layer.arity == -1 and not isinstance(layer, MultiheadAttention))


def _describe(value: Any) -> str:
    if isinstance(value, Located):
        value = value.value
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def loads(text: str, file: str | None = None) -> Network:
    """Build a network from spec text; ``file`` names it in error messages."""
    return _SpecReader(file).network(read_yaml(text, file))


MAX_SPEC_BYTES = 4 * 2**20
"""A spec larger than this (4 MiB) is refused before it is parsed."""


def decode(data: bytes, file: str) -> str:
    """Spec bytes as text: at most :data:`MAX_SPEC_BYTES`, UTF-8, or a located refusal."""
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"larger than {MAX_SPEC_BYTES // 2**20} MiB: not a spec", Where(file))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SpecError(f"not UTF-8 text (byte {data[error.start]:#x})", Where(file, line)) from None


def read_bounded(stream: Any, file: str) -> str:
    """Read a binary stream up to one byte past the limit, and decode it."""
    return decode(stream.read(MAX_SPEC_BYTES + 1), file)


def load(path: str | Path) -> Network:
    """Build a network from a spec file."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            text = read_bounded(stream, str(path))
    except FileNotFoundError:
        raise SpecError("no such file", Where(str(path))) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", Where(str(path))) from None
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", Where(str(path))) from None
    return loads(text, str(path))


def _spec_value(value: Any, collapse: bool = True) -> Any:
    """A layer argument as YAML: integers stay integers, expressions become their text.

    Per-axis values that agree collapse to one (``kernel_size: 3``), unless the
    argument is a list in its own right (a shape, a list of axes).
    """
    if isinstance(value, tuple):
        values = [_spec_value(v) for v in value]
        return values[0] if collapse and len(set(map(str, values))) == 1 else values
    if isinstance(value, sp.Basic):
        return int(value) if value.is_Integer else to_text(value)
    return value


def dumps(network: Network) -> str:
    """The network as a spec file in graph form (every layer, ``inputs:`` where it is not the previous one)."""
    lines = []
    if network.name:
        lines.append(yaml.safe_dump({"name": network.name}, default_flow_style=False).rstrip())
    shape = [_spec_value(d) for d in network.input_shape]
    lines.append("input: " + yaml.safe_dump(shape, default_flow_style=True, width=10_000).rstrip())
    symbols: dict[str, Any] = dict(network.legend)
    for symbol in sorted(network.report.free_symbols(), key=lambda s: s.name):
        usual = "rational" if symbol.name in RATIONAL_BY_DEFAULT else "integer"
        domain = "integer" if symbol.is_integer else "rational"
        if domain != usual:
            symbols[symbol.name] = {"meaning": network.legend.get(symbol.name, symbol.name), "domain": domain}
    if symbols:
        lines.append(yaml.safe_dump({"symbols": symbols}, default_flow_style=False, sort_keys=False).rstrip())
    lines.append("layers:")
    names = {-1: "input"}
    for index, node in enumerate(network.graph):
        arguments: dict[str, Any] = {}
        for f in dataclasses.fields(node.layer):
            value = getattr(node.layer, f.name)
            if f.name in ("name", "where") or value is None:
                continue
            shown = _spec_value(value, collapse=f.metadata.get("kind") not in ("shape", "ints"))
            if f.default is not dataclasses.MISSING and shown == f.default:
                continue
            arguments[f.name] = shown
        arguments["name"] = node.name
        if node.inputs != (index - 1,) and node.inputs:
            arguments["inputs"] = [names[i] for i in node.inputs]
        if node.shares is not None:
            arguments["shares"] = node.shares
        names[index] = node.name
        body = yaml.safe_dump(arguments, default_flow_style=True, width=10_000, sort_keys=False).rstrip()
        lines.append(f"  - {node.layer.kind}: {body}")
    return "\n".join(lines) + "\n"
