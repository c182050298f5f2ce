"""The ``symconv`` command: argument parsing and dispatch; all work happens elsewhere.

Exit status: 0 success, 1 a check failed, 2 bad input (a located message,
never a traceback).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from symconv.errors import SpecError, SymconvError, Where
from symconv.network import Network
from symconv.render import REPORT_FORMATS
from symconv.sizes import parse_assignment
from symconv.spec import load, loads, read_bounded

MAX_SAMPLES = 200
"""``check --samples`` at most: each sample runs every layer in NumPy."""


def load_spec(spec: str) -> Network:
    """A network from a path, ``-`` for standard input, or ``zoo:NAME``."""
    if spec == "-":
        return loads(read_bounded(sys.stdin.buffer, "<stdin>"), "<stdin>")
    if spec.startswith("zoo:"):
        from symconv import zoo

        return zoo.build(spec[4:])
    return load(spec)


def run_zoo(args: argparse.Namespace) -> int:
    from symconv import zoo

    width = max(map(len, zoo.names()))
    for name in zoo.names():
        print(f"{name.ljust(width)}  {zoo.ENTRIES[name].source}")
    return 0


def emit(text: str, args: argparse.Namespace, title: str | None = None) -> None:
    """Print, or write ``-o FILE`` atomically; LaTeX with ``--standalone`` becomes a whole document."""
    if getattr(args, "standalone", False):
        if args.format != "latex":
            raise SpecError("--standalone goes with --format latex", Where(field="--standalone"))
        from symconv.render.latex import standalone

        text = standalone(text, title)
    if not text.endswith("\n"):
        text += "\n"
    output = getattr(args, "output", None)
    if output is None:
        sys.stdout.write(text)
        return
    write_file(output, lambda path: path.write_text(text, encoding="utf-8"))


def _kind_of(mode: int) -> str | None:
    """What a path that is not a regular file is, for the refusal."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "a device or special file"


def write_file(output: str, write: Callable[[Path], None]) -> None:
    """Write ``-o FILE`` whole or not at all.

    The content goes to a fresh temporary file beside the target, which then
    replaces it: a reader never sees half a file, and the temporary file is
    removed on every error and on Ctrl-C. An existing target keeps its mode; a
    new one gets the usual ``0666`` less the umask. A target that is a
    symbolic link, directory, FIFO or device is refused, not followed.
    """
    if not output:
        raise SpecError("empty file name", Where(field="-o"))
    target = Path(output)
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror or error}", Where(str(target))) from None
    if existing is not None and (kind := _kind_of(existing.st_mode)):
        raise SpecError(f"is {kind}; -o writes only regular files (remove it first)", Where(str(target)))
    if existing is not None:
        mode = stat.S_IMODE(existing.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    temporary = None
    try:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:200]}.", suffix=".partial")
        os.close(handle)
        temporary = Path(name)
        write(temporary)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise SpecError(f"cannot write: {error.strerror or error}", Where(str(target))) from None
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def values_from(text: str | None, network: Network) -> dict:
    if not text:
        return {}
    domains = {s.name: ("integer" if s.is_integer else "rational") for s in network.report.free_symbols()}
    return parse_assignment(text, domains, Where(field="--at"))


def run_derive(args: argparse.Namespace) -> int:
    network = load_spec(args.spec)
    if args.depth is not None and args.depth < 1:
        raise SpecError("must be at least 1", Where(field="--depth"))
    if args.pass_ != "forward" and args.convention not in ("torchvision", "flopcounter"):
        raise SpecError("--pass combines with --convention flopcounter only", Where(field="--convention"))
    if args.pass_ != "forward":
        from symconv.training import report_for_pass

        convention = "flopcounter" if args.convention == "flopcounter" else "exact"
        report = report_for_pass(network, args.pass_, convention)
    elif args.convention != "torchvision":
        from symconv.conventions import report_for_convention

        report = report_for_convention(network, args.convention)
    else:
        report = network.report
    values = report.at(values_from(args.at, network)) if args.at else None
    if args.format != "latex":
        for option in ("caption", "label"):
            if getattr(args, option) is not None:
                raise SpecError("goes with --format latex", Where(field=f"--{option}"))
        if args.wide or args.table != "tabular":
            raise SpecError("goes with --format latex", Where(field="--wide" if args.wide else "--table"))
    if args.format == "latex":
        from symconv.render.latex import LABEL, TABULAR_ROWS, report_table

        depth = args.depth
        if depth is None and args.table == "tabular" and len(report.rows) > TABULAR_ROWS:
            depth = 1  # a float holds one page: stages, as the ResNet paper's Table 1
        if args.label is not None and not LABEL.match(args.label):
            raise SpecError(
                f"{args.label!r} is not a LaTeX label (letters, digits and : . _ / + -)",
                Where(field="--label"),
            )
        if args.table == "longtable" and (args.caption or args.label or args.wide):
            raise SpecError(
                "a longtable is not a float: --caption, --label and --wide go with --table tabular",
                Where(field="--table"),
            )
        text = report_table(
            report,
            columns=("activations", "receptive_field") if args.table == "longtable" else (),
            values=values,
            depth=depth,
            layout=args.table,
            caption=args.caption,
            label=args.label,
            wide=args.wide,
        )
    elif args.format == "text":
        from symconv.render.text import render_report

        text = render_report(values if values is not None else report, terminal_width(args), args.depth)
    else:
        text = REPORT_FORMATS[args.format](values if values is not None else report)
    emit(text, args, network.name)
    return 0


def terminal_width(args: argparse.Namespace) -> int | None:
    """``--width``, else the terminal's when printing to one (``COLUMNS`` overrides it), else no limit."""
    if args.width is not None:
        if args.width < 40:
            raise SpecError("must be at least 40 columns", Where(field="--width"))
        return args.width
    if getattr(args, "output", None) is None and sys.stdout.isatty():
        return max(40, shutil.get_terminal_size().columns)
    return None


def run_check(args: argparse.Namespace) -> int:
    from symconv.check import check_network
    from symconv.render.check import CHECK_FORMATS

    network = load_spec(args.spec)
    if args.samples < 1 or args.samples > MAX_SAMPLES:
        raise SpecError(f"must be between 1 and {MAX_SAMPLES}", Where(field="--samples"))
    if args.seed < 0:
        raise SpecError("must be a non-negative integer", Where(field="--seed"))
    if args.memory_budget <= 0:
        raise SpecError("must be a positive number of MiB", Where(field="--memory-budget"))
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if time.monotonic() - started > 2 and sys.stderr.isatty():
            print(f"\rchecked {done} of {total} samples", end="" if done < total else "\n", file=sys.stderr)

    result = check_network(
        network,
        values_from(args.at, network),
        samples=args.samples,
        seed=args.seed,
        mode=args.mode,
        memory_budget=int(args.memory_budget * 2**20),
        progress=progress,
    )
    print(CHECK_FORMATS[args.format](result))
    return 0 if result.ok else 1


def run_explain(args: argparse.Namespace) -> int:
    from symconv.explain import explain
    from symconv.render.reasoning import DERIVATION_FORMATS

    network = load_spec(args.spec)
    if args.depth is not None and args.depth < 1:
        raise SpecError("must be at least 1", Where(field="--depth"))
    depth = args.depth
    if args.format == "latex" and depth is None and args.layer is None:
        from symconv.render.latex import TABULAR_ROWS

        if len(network.graph) > TABULAR_ROWS:
            depth = 1  # a paper summarises by stage; --layer NAME or --depth derives further
    derivations = explain(network, args.layer, args.quantity, depth)
    if args.format == "latex":
        from symconv.render.latex import derivations as latex_derivations
        from symconv.render.shorthand import abbreviations

        text = latex_derivations(derivations, network.report.legend, abbreviations(network.report))
    else:
        text = DERIVATION_FORMATS[args.format](derivations, network.report.legend)
    emit(text, args, network.name)
    return 0


def run_prove(args: argparse.Namespace) -> int:
    from symconv.prove import prove
    from symconv.render.reasoning import PROOF_FORMATS
    from symconv.sizes import parse_claim

    assumptions = []
    for text in args.assume or ():
        try:
            parse_claim(text)
        except SymconvError as error:
            error.where = Where(field="--assume")
            raise
        assumptions.append(text)
    if args.time_budget <= 0:
        raise SpecError("must be a positive number of seconds", Where(field="--time-budget"))
    try:
        proof = prove(args.claim, assume=tuple(assumptions), time_budget=args.time_budget)
    except SymconvError as error:
        error.where = error.where or Where(field="CLAIM")
        raise
    if args.format == "latex":
        from symconv.render.latex import proof as latex_proof

        text = latex_proof(proof)
    else:
        text = PROOF_FORMATS[args.format](proof)
    emit(text, args, "Claim")
    return 0 if proof.status == "proved" else 1


def run_scale(args: argparse.Namespace) -> int:
    from symconv.render.scaling import SCALING_FORMATS
    from symconv.scaling import scale

    network = load_spec(args.spec)
    names = [name.strip() for name in args.symbols.split(",") if name.strip()]
    result = scale(network, names, args.factor, values_from(args.at, network))
    if args.format == "latex":
        from symconv.render.latex import scaling

        text = scaling(result)
    else:
        text = SCALING_FORMATS[args.format](result)
    emit(text, args, f"Why the cost of {network.name or 'this network'} grows quadratically")
    return 0 if all(m.macs == m.expected_macs for m in result.measured) else 1


def run_exercise(args: argparse.Namespace) -> int:
    from symconv.exercises import exercise
    from symconv.render.exercise import EXERCISE_FORMATS

    item = exercise(args.kind, args.seed)
    if args.format == "latex":
        from symconv.render.latex import exercise as latex_exercise

        text = latex_exercise(item)
    else:
        text = EXERCISE_FORMATS[args.format](item)
    emit(text, args, "Exercise")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from symconv.importers.onnx import import_onnx
    from symconv.spec import dumps

    network = import_onnx(args.model)
    emit(dumps(network), args)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from symconv.importers.onnx import export_onnx

    network = load_spec(args.spec)
    values = values_from(args.at, network)
    write_file(args.output, lambda path: export_onnx(network, path, values))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from symconv.conventions import compare
    from symconv.render.queries import FORMATS

    network = load_spec(args.spec)
    emit(FORMATS["compare"][args.format](compare(network, values_from(args.at, network))), args)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from symconv.queries import diff
    from symconv.render.queries import FORMATS

    first, second = load_spec(args.first), load_spec(args.second)
    values = {}
    if args.at:
        values = {**values_from(args.at, second), **values_from(args.at, first)}
    result = diff(first, second, values)
    if args.format == "text":
        from symconv.render.shorthand import abbreviations

        short = {} if values else {**abbreviations(second.report), **abbreviations(first.report)}
        names = (first.name or "first", second.name or "second")
        if names[0] == names[1]:
            names = ("first", "second")
        emit(FORMATS["diff"]["text"](result, terminal_width(args), short, names), args)
    else:
        emit(FORMATS["diff"][args.format](result), args)
    return 0


def run_domain(args: argparse.Namespace) -> int:
    from symconv.queries import domain
    from symconv.render.queries import FORMATS

    network = load_spec(args.spec)
    emit(FORMATS["domain"][args.format](domain(network, values_from(args.at, network))), args)
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from symconv.queries import parse_budget, solve
    from symconv.render.queries import FORMATS

    network = load_spec(args.spec)
    budgets = [parse_budget(text) for text in args.subject_to]
    if args.time_budget <= 0:
        raise SpecError("must be a positive number of seconds", Where(field="--time-budget"))
    solution = solve(
        network, args.maximize, budgets, values_from(args.at, network), time_budget=args.time_budget
    )
    emit(FORMATS["solve"][args.format](solution), args)
    return 0 if solution.value is not None else 1


def run_memory(args: argparse.Namespace) -> int:
    from symconv.queries import memory
    from symconv.render.queries import FORMATS

    network = load_spec(args.spec)
    emit(
        FORMATS["memory"][args.format](
            memory(network, args.batch, args.dtype, values_from(args.at, network))
        ),
        args,
    )
    return 0


def run_roofline(args: argparse.Namespace) -> int:
    from symconv.render.roofline import ROOFLINE_FORMATS
    from symconv.render.shorthand import abbreviations
    from symconv.roofline import device_value, roofline

    network = load_spec(args.spec)
    device: dict[str, str] = {}
    sizes = []
    for entry in (args.at or "").split(","):
        key = entry.partition("=")[0].strip()
        if key in ("P", "beta"):  # the device's symbols may be given with the sizes
            device[key] = entry.partition("=")[2].strip()
        elif entry.strip():
            sizes.append(entry)
    values = values_from(",".join(sizes), network)
    peak_text = args.peak if args.peak is not None else device.get("P")
    bandwidth_text = args.bandwidth if args.bandwidth is not None else device.get("beta")
    peak = None if peak_text is None else device_value(peak_text, "--peak")
    bandwidth = None if bandwidth_text is None else device_value(bandwidth_text, "--bandwidth")
    result = roofline(network, args.batch, args.dtype, values, peak, bandwidth)
    report = network.report.at(values) if values else network.report
    text = ROOFLINE_FORMATS[args.format](result, terminal_width(args), abbreviations(report))
    emit(text, args, network.name)
    return 0


def add_output(command: argparse.ArgumentParser) -> None:
    command.add_argument("--standalone", action="store_true", help="with --format latex: a complete document")
    command.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symconv", description="Derive and check the arithmetic of convolutional networks, exactly."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    derive = commands.add_parser("derive", help="shapes, parameters and MACs of every layer, in closed form")
    derive.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    derive.add_argument("--at", help="values for symbols, e.g. k1=40,n=28 (decimals are exact: alpha=0.75)")
    derive.add_argument("--format", choices=[*sorted(REPORT_FORMATS), "latex"], default="text")
    derive.add_argument(
        "--width", type=int, help="fit the text table to this many columns (default: the terminal's)"
    )
    derive.add_argument(
        "--depth",
        type=int,
        help="one row per group of this many name parts (1: stages such as layer1, 2: blocks such as layer1.0)",
    )
    derive.add_argument(
        "--pass",
        dest="pass_",
        choices=("forward", "backward", "training"),
        default="forward",
        help="MACs of the forward pass, the backward pass, or both (a training step)",
    )
    derive.add_argument(
        "--convention",
        default="torchvision",
        choices=("torchvision", "flopcounter", "flopcounter-eval", "fvcore", "torchinfo", "ptflops"),
        help="count as this tool does (the MACs column then holds its number)",
    )
    derive.add_argument(
        "--table",
        choices=("tabular", "longtable"),
        default="tabular",
        help="with --format latex: a tabularx for a table or table* float (default), or a longtable that "
        "breaks across pages (one-column documents only)",
    )
    derive.add_argument("--caption", help="with --format latex: write the table float with this caption")
    derive.add_argument("--label", help="with --format latex: write the table float with this \\label")
    derive.add_argument(
        "--wide", action="store_true", help="with --format latex: a table* float, across both columns"
    )
    add_output(derive)
    derive.set_defaults(run=run_derive)

    check = commands.add_parser("check", help="run every layer in NumPy and compare with the formulas")
    check.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    check.add_argument("--at", help="values for symbols; symbols left free are sampled")
    check.add_argument("--samples", type=int, default=3, help="random assignments of the free symbols")
    check.add_argument(
        "--memory-budget",
        type=float,
        default=512,
        metavar="MIB",
        help="the most the NumPy backend may allocate for one sample, in MiB (default 512)",
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the sampler (recorded in the report)")
    check.add_argument(
        "--mode",
        choices=("auto", "enumerate", "fast"),
        default="auto",
        help="count by visiting every multiply-add, or from the products executed",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=run_check)

    explain = commands.add_parser(
        "explain", help="derivations: each formula from its general rule, with sources"
    )
    explain.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    explain.add_argument("--layer", help="only this layer (its name as derive prints it)")
    explain.add_argument("--quantity", choices=("shape", "params", "macs"), help="only this quantity")
    explain.add_argument(
        "--depth",
        type=int,
        help="summarise groups of this many name parts as sums of their layers (1: stages); "
        "the LaTeX of a network of more than 40 layers is summarised by stage unless this is given",
    )
    explain.add_argument("--format", choices=("text", "markdown", "json", "latex"), default="text")
    add_output(explain)
    explain.set_defaults(run=run_explain)

    prove = commands.add_parser(
        "prove", help="prove a claim about sizes for all positive integers, or refute it"
    )
    prove.add_argument("claim", help='e.g. "floor(floor((n - 1)/2)/2) == floor((n - 1)/4)"')
    prove.add_argument("--assume", action="append", help='an assumption such as "n>=3" (repeatable)')
    prove.add_argument(
        "--time-budget", type=float, default=20.0, metavar="SECONDS", help="then answer unknown (default 20)"
    )
    prove.add_argument("--format", choices=("text", "markdown", "json", "latex"), default="text")
    add_output(prove)
    prove.set_defaults(run=run_prove)

    scale = commands.add_parser(
        "scale", help="why is it quadratic: growth of every quantity when widths scale"
    )
    scale.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    scale.add_argument("--symbols", required=True, help="the widths to scale, e.g. k1,k2")
    scale.add_argument("--factor", default="alpha", help="name of the factor (default alpha)")
    scale.add_argument("--at", help="base values for the measured table (free symbols get small defaults)")
    scale.add_argument("--format", choices=("text", "json", "markdown", "latex"), default="text")
    add_output(scale)
    scale.set_defaults(run=run_scale)

    from symconv.exercises import KINDS as EXERCISES

    exercise = commands.add_parser("exercise", help="a generated exercise with a worked, checked solution")
    exercise.add_argument("kind", choices=EXERCISES)
    exercise.add_argument("--seed", type=int, default=0, help="the same seed gives the same exercise")
    exercise.add_argument("--format", choices=("text", "markdown", "json", "latex"), default="text")
    add_output(exercise)
    exercise.set_defaults(run=run_exercise)

    zoo = commands.add_parser("zoo", help="list the built-in networks (use them as SPEC: zoo:NAME)")
    zoo.set_defaults(run=run_zoo)

    comparer = commands.add_parser(
        "compare-conventions", help="each tool's count as a formula, and why they differ"
    )
    comparer.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    comparer.add_argument("--at", help="values for symbols")
    comparer.add_argument("--format", choices=("text", "json"), default="text")
    comparer.set_defaults(run=run_compare)

    differ = commands.add_parser("diff", help="every total of two networks: difference and ratio as formulas")
    differ.add_argument("first", help="a spec, - or zoo:NAME")
    differ.add_argument("second", help="a spec, - or zoo:NAME")
    differ.add_argument(
        "--at", help="values for symbols, e.g. H=224,W=224: the totals and their ratio as numbers"
    )
    differ.add_argument("--format", choices=("text", "json"), default="text")
    differ.add_argument(
        "--width", type=int, help="wrap the text to this many columns (default: the terminal's)"
    )
    differ.set_defaults(run=run_diff)

    validity = commands.add_parser(
        "domain", help="where every layer is valid, the smallest input, and exact cases"
    )
    validity.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    validity.add_argument("--at", help="values for symbols held fixed")
    validity.add_argument("--format", choices=("text", "json"), default="text")
    validity.set_defaults(run=run_domain)

    solver = commands.add_parser("solve", help="the largest width, size or channel count under budgets")
    solver.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    solver.add_argument("--maximize", required=True, help="the symbol to make as large as possible")
    solver.add_argument(
        "--subject-to",
        action="append",
        required=True,
        help="a budget such as 'macs <= 300e6' or 'params < 4.2M' (repeatable)",
    )
    solver.add_argument("--at", help="values for every other symbol")
    solver.add_argument(
        "--time-budget",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="then report what was searched (default 60)",
    )
    solver.add_argument("--format", choices=("text", "json"), default="text")
    solver.set_defaults(run=run_solve)

    memory = commands.add_parser(
        "memory", help="activation and parameter memory, and the forward pass's peak"
    )
    memory.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    memory.add_argument("--batch", default="B", help="batch size: a number or a symbol (default B)")
    memory.add_argument("--dtype", default="float32", help="float32, float16, bfloat16, float64 or int8")
    memory.add_argument("--at", help="values for symbols")
    memory.add_argument("--format", choices=("text", "json"), default="text")
    memory.set_defaults(run=run_memory)

    roof = commands.add_parser(
        "roofline",
        help="operations, bytes moved and arithmetic intensity of every layer; which are memory-bound",
    )
    roof.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    roof.add_argument("--batch", default="B", help="batch size: a number or a symbol (default B)")
    roof.add_argument("--dtype", default="float32", help="float32, float16, bfloat16, float64 or int8")
    roof.add_argument(
        "--at", help="values for symbols, e.g. H=224,W=224; the device's P and beta too (P=312T,beta=2T)"
    )
    roof.add_argument(
        "--peak", help="the device's peak in operations per second, e.g. 312T (default: the symbol P)"
    )
    roof.add_argument(
        "--bandwidth",
        help="the device's memory bandwidth in bytes per second, e.g. 2T (default: the symbol beta)",
    )
    roof.add_argument("--format", choices=("text", "json", "latex"), default="text")
    roof.add_argument(
        "--width", type=int, help="fit the text table to this many columns (default: the terminal's)"
    )
    add_output(roof)
    roof.set_defaults(run=run_roofline)

    importer = commands.add_parser(
        "import", help="read an ONNX model and write it as a spec (dim_params as symbols)"
    )
    importer.add_argument("model", help="an .onnx file")
    importer.add_argument("-o", "--output", help="the spec file to write (default: standard output)")
    importer.set_defaults(run=run_import)

    exporter = commands.add_parser("export", help="write a spec as an ONNX model (channels must be numbers)")
    exporter.add_argument("spec", help="a YAML spec file, - for standard input, or zoo:NAME")
    exporter.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    exporter.add_argument("--at", help="values for symbols that must be numbers in ONNX (channels, alpha)")
    exporter.set_defaults(run=run_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SymconvError as error:
        print(f"symconv: error: {error}", file=sys.stderr)
        return 2
    except RecursionError:
        print("symconv: error: input nested too deeply", file=sys.stderr)
        return 2
    except MemoryError:
        print("symconv: error: the input asks for more memory than this machine has", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symconv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``symconv derive ... | head``): nothing more to say, and nowhere to say it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
