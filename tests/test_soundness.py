"""solve, domain and prove against brute force: plain Python integers, never symconv's own formulas.

Random chains of convolutions and poolings (with residual and concatenated
branches) have their output sizes and MACs computed here from PyTorch's
documented formulas; the answers of solve and domain must equal the brute
force ones. Random claims are decided by enumeration; a proof must never meet
a counterexample and a counterexample must be one. The share of ``unknown``
is printed (``pytest -s``).
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
import sympy as sp

from symconv import Concat, Conv2d, MaxPool2d, Network, ReLU, Residual, ShapeError, symbols
from symconv.prove import prove
from symconv.queries import SMALLEST_BOX, domain, parse_budget, solve

H, W, s, k, p = symbols("H W s k p")

try:
    import torch
except ImportError:  # the PyTorch cross-check is skipped without it
    torch = None


# --- reference arithmetic (PyTorch's Conv2d and MaxPool2d documentation) ------------------------------------
def conv_out(size: int, kernel: int, stride: int, padding: int) -> int | None:
    out = (size + 2 * padding - kernel) // stride + 1
    return out if size + 2 * padding >= kernel and out >= 1 else None


def pool_out(size: int, kernel: int, stride: int, padding: int) -> int | None:
    if 2 * padding > kernel:
        return None
    return conv_out(size, kernel, stride, padding)


def reference(plan: list[tuple], channels: int, h: int, w: int) -> int | None:
    """The MACs of a plan at (channels, h, w), or None where PyTorch would refuse the input."""
    macs = 0
    for step in plan:
        kind = step[0]
        if kind == "conv":
            _, out_c, kernel, stride, padding = step
            oh, ow = conv_out(h, kernel, stride, padding), conv_out(w, kernel, stride, padding)
            if oh is None or ow is None:
                return None
            macs += out_c * channels * kernel * kernel * oh * ow
            channels, h, w = out_c, oh, ow
        elif kind == "pool":
            _, kernel, stride, padding = step
            oh, ow = pool_out(h, kernel, stride, padding), pool_out(w, kernel, stride, padding)
            if oh is None or ow is None:
                return None
            h, w = oh, ow
        elif kind == "residual":  # a 3x3 convolution, padding 1, same channels, added to its input
            macs += channels * channels * 9 * h * w
        elif kind == "concat":  # a 3x3 (padding 1) and a 1x1 convolution of the same input, concatenated
            _, a, b = step
            macs += (a * 9 + b) * channels * h * w
            channels = a + b
    return macs


def symconv_layers(plan: list[tuple], channels: int) -> list:
    layers = []
    for step in plan:
        kind = step[0]
        if kind == "conv":
            _, out_c, kernel, stride, padding = step
            layers += [Conv2d(out_c, kernel, stride=stride, padding=padding), ReLU()]
            channels = out_c
        elif kind == "pool":
            _, kernel, stride, padding = step
            layers.append(MaxPool2d(kernel, stride=stride, padding=padding))
        elif kind == "residual":
            layers.append(Residual((Conv2d(channels, 3, padding=1, bias=False),)))
        elif kind == "concat":
            _, a, b = step
            layers.append(Concat(([Conv2d(a, 3, padding=1, bias=False)], [Conv2d(b, 1, bias=False)])))
            channels = a + b
    return layers


def random_plan(rng: random.Random) -> list[tuple]:
    plan = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["conv", "conv", "pool", "residual", "concat"])
        if kind == "conv":
            kernel = rng.randint(1, 5)
            plan.append(("conv", rng.randint(1, 6), kernel, rng.randint(1, 3), rng.randint(0, 2)))
        elif kind == "pool":
            kernel = rng.randint(1, 3)
            plan.append(("pool", kernel, rng.randint(1, 3), rng.randint(0, kernel // 2)))
        elif kind == "concat":
            plan.append(("concat", rng.randint(1, 4), rng.randint(1, 4)))
        else:
            plan.append(("residual",))
    return plan


# --- solve ------------------------------------------------------------------------------------------------
def test_solve_matches_brute_force_on_random_networks():
    rng = random.Random(12)
    checked = 0
    while checked < 60:
        plan = random_plan(rng)
        channels = rng.randint(1, 3)
        net = Network((channels, H, 17), symconv_layers(plan, channels))
        size = rng.randint(6, 60)
        at_size = reference(plan, channels, size, 17)
        if at_size is None or at_size == 0:
            continue
        budget = at_size + rng.randint(0, at_size // 3 + 1)
        feasible = [
            h
            for h in range(1, 4 * size + 80)
            if (m := reference(plan, channels, h, 17)) is not None and m <= budget
        ]
        solution = solve(net, "H", [parse_budget(f"macs <= {budget}")])
        assert solution.status == "exact", (plan, solution.note)
        assert solution.value == max(feasible), (plan, budget, solution.value, max(feasible))
        checked += 1


def test_solve_channel_count_is_exact():
    rng = random.Random(3)
    for _ in range(30):
        plan = [("conv", 4, 3, 1, 1), ("conv", 5, rng.randint(1, 4), rng.randint(1, 2), 1)]
        c1 = sp.Symbol("c", integer=True, positive=True)
        layers = [Conv2d(c1, 3, padding=1), ReLU(), Conv2d(5, plan[1][2], stride=plan[1][3], padding=1)]
        net = Network((3, 20, 20), layers)
        budget = rng.randint(10_000, 400_000)

        def macs(c, second=plan[1]):
            oh = conv_out(20, second[2], second[3], 1)
            return c * 3 * 9 * 400 + 5 * c * second[2] ** 2 * oh * oh

        best = max((c for c in range(1, 2000) if macs(c) <= budget), default=None)
        solution = solve(net, "c", [parse_budget(f"macs <= {budget}")])
        if best is None:
            assert solution.status == "none"
        else:
            assert (solution.status, solution.value) == ("exact", best)


def test_solve_says_when_there_is_no_largest():
    net = Network((1, "n", "m"), [Conv2d("k1", 3, padding=1), Conv2d("k2", 5, padding=2)])
    solution = solve(net, "n", [parse_budget("params < 4.2M")], {"k1": 40, "k2": 8, "m": 28})
    assert solution.status == "unbounded" and "no largest" in solution.note
    for n in (1, 10, 10**6, 10**12):  # params do not depend on n: every n meets the budget
        assert net.at(n=n, m=28, k1=40, k2=8).params < 4_200_000


def test_solve_on_a_network_valid_only_at_odd_sizes():
    # a stride-2 3x3 convolution beside a 2x2 pooling: equal sizes floor((H - 1)/2) == floor(H/2) need H odd
    net = Network(
        (2, H, H),
        [Concat(([Conv2d(4, 3, stride=2, bias=False)], [Conv2d(4, 1, bias=False), MaxPool2d(2, 2)]))],
    )

    def brute(h):
        a, b = conv_out(h, 3, 2, 0), pool_out(h, 2, 2, 0)
        if a is None or b is None or a != b:
            return None
        return 4 * 2 * 9 * a * a + 4 * 2 * h * h

    budget = brute(79) + 1
    feasible = [h for h in range(1, 400) if (m := brute(h)) is not None and m <= budget]
    assert all(h % 2 == 1 for h in feasible)
    solution = solve(net, "H", [parse_budget(f"macs <= {budget}")])
    assert (solution.status, solution.value) == ("exact", max(feasible)) == ("exact", 79)


def test_maximising_a_stride_is_a_search_and_says_so():
    net = Network((3, H, H), [Conv2d(8, 3, stride=s), Conv2d(8, 3, stride=s)])

    def brute(stride, h=64):
        a = conv_out(h, 3, stride, 0)
        b = None if a is None else conv_out(a, 3, stride, 0)
        return None if b is None else 8 * 3 * 9 * a * a + 8 * 8 * 9 * b * b

    solution = solve(net, "s", [parse_budget("macs <= 5000")], {"H": 64})
    best = max(v for v in range(1, 1025) if (m := brute(v)) is not None and m <= 5000)
    assert solution.status == "searched" and solution.value == best
    assert "nothing is claimed beyond 1024" in solution.note


# --- domain -----------------------------------------------------------------------------------------------
def test_domain_smallest_input_with_symbolic_strides_paddings_and_kernels():
    rng = random.Random(5)
    for _ in range(25):
        plan = []
        for _ in range(rng.randint(1, 3)):
            plan.append((rng.choice([1, 2, 3, "k"]), rng.choice([1, 2, "s"]), rng.choice([0, 1, "p"])))
        layers = [
            Conv2d(4, kk if kk != "k" else k, stride=ss if ss != "s" else s, padding=pp if pp != "p" else p)
            for kk, ss, pp in plan
        ]
        net = Network((1, H, 11), layers)
        names = sorted({v for step in plan for v in step if isinstance(v, str)})

        def valid(h, values, plan=plan):
            size = h
            for kk, ss, pp in plan:
                kk, ss, pp = (values.get(x, x) if isinstance(x, str) else x for x in (kk, ss, pp))
                size = conv_out(size, kk, ss, pp)
                if size is None:
                    return False
            return True

        boxes = [
            dict(zip(names, values, strict=True))
            for values in itertools.product(range(1, SMALLEST_BOX + 1), repeat=len(names))
        ]
        # the smallest H for which some stride, padding and kernel from 1 to the box make H's axis valid
        expected = next((h for h in range(1, 200) if any(valid(h, box) for box in boxes)), None)
        found = domain(net)
        assert dict(found.smallest).get(H) == expected, (plan, expected)
        if expected is not None and torch is not None:  # PyTorch runs the chain at the witness values
            # symbols H's conditions leave free may take any value: 1
            witness = {"k": 1, "s": 1, "p": 1, **{str(s): v for s, v in dict(found.witnesses).get(H, ())}}
            chain = torch.nn.Sequential(
                *(
                    torch.nn.Conv2d(
                        1 if i == 0 else 4,
                        4,
                        int(witness.get(kk, kk)),
                        int(witness.get(ss, ss)),
                        int(witness.get(pp, pp)),
                    )
                    for i, (kk, ss, pp) in enumerate(plan)
                )
            )
            with torch.no_grad():
                chain(torch.zeros(1, 1, expected, 40))  # width 40: only H's conditions are at stake


# --- prove ------------------------------------------------------------------------------------------------
def random_claims(rng: random.Random) -> list[tuple[str, object]]:
    """Claims as text for prove, each with the same claim as a Python function of (n, s) on exact integers."""
    claims = []
    for _ in range(60):
        a, b, c = rng.randint(1, 6), rng.randint(1, 6), rng.randint(-3, 3)
        extra, r1, r2, shift = rng.randint(0, 2), rng.randint(-2, 8), rng.randint(-2, 8), rng.randint(-1, 2)
        slack, pole, delta = rng.randint(0, 1), rng.randint(1, 4), rng.randint(-1, 1)
        relation = rng.choice([">=", "<=", ">"])
        compare = {">=": lambda x, y: x >= y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y}[relation]
        claims += [
            (
                f"floor(floor((n + {c})/{a})/{b}) == floor((n + {c})/{a * b})",
                lambda n, s, a=a, b=b, c=c: ((n + c) // a) // b == (n + c) // (a * b),
            ),
            (
                f"floor((n + {c})/{a}) + {extra} == floor((n + {c} + {a})/{a})",
                lambda n, s, a=a, c=c, extra=extra: (n + c) // a + extra == (n + c + a) // a,
            ),
            (
                f"(n - {r1})*(n - {r2}) + {shift} >= 0",
                lambda n, s, r1=r1, r2=r2, shift=shift: (n - r1) * (n - r2) + shift >= 0,
            ),
            (f"{a}*floor(n/{a}) <= n - {slack}", lambda n, s, a=a, slack=slack: a * (n // a) <= n - slack),
            (
                f"floor((n + {c})/s)*s <= n + {c + delta}",
                lambda n, s, c=c, delta=delta: ((n + c) // s) * s <= n + c + delta,
            ),
            (
                f"n/(n - {pole}) {relation} 1",
                lambda n, s, pole=pole, compare=compare: n == pole or compare(Fraction(n, n - pole), 1),
            ),
        ]
    return claims


def brute_holds(truth) -> bool:
    """The claim at n = 1..200 and s = 1..12, where defined."""
    return all(truth(n, stride) for n in range(1, 201) for stride in range(1, 13))


def test_prove_never_contradicts_brute_force(capsys):
    rng = random.Random(7)
    claims = random_claims(rng)
    verdicts = {"proved": 0, "disproved": 0, "unknown": 0}
    for claim, function in claims:
        proof = prove(claim, time_budget=5)
        verdicts[proof.status] += 1
        truth = brute_holds(function)
        if proof.status == "proved":
            assert truth, f"proved a false claim: {claim}"
        elif proof.status == "disproved":
            assert not truth, f"disproved a true claim: {claim}"
    with capsys.disabled():
        print(f"\nprove on {len(claims)} random claims: {verdicts}")
    assert verdicts["unknown"] <= len(claims) // 10


@pytest.mark.parametrize(
    "claim",
    [
        "(n-1)*(n-2) >= 0",
        "n**2 - 3*n + 2 >= 0",
        "floor(n/S)*S <= n",
        "floor((n + 2*p - k)/s) + 1 == floor((n + 2*p - k + s)/s)",
        "floor(floor(n/64)/64) == floor(n/4096)",
    ],
)
def test_the_claims_a_competent_prover_settles(claim):
    proof = prove(claim, time_budget=10)
    assert proof.status == "proved", (claim, proof.method, proof.evidence)


def test_a_claim_undefined_somewhere_says_where():
    proof = prove("n/(n - 1) >= 1")
    assert proof.status == "proved"
    assert [str(c) for c in proof.undefined] == ["Eq(n, 1)"]
    n = symbols("n")
    for value in range(2, 300):  # where defined, the claim holds
        assert sp.Rational(value, value - 1) >= 1
    assert proof.undefined == (sp.Eq(n, 1),)


def test_a_rational_size_is_an_integer_wherever_it_is_used():
    alpha = sp.Symbol("alpha", rational=True, positive=True)
    net = Network((3, alpha * H, alpha * H), [Conv2d(8, 3, stride=2, padding=1), MaxPool2d(2)])
    for a in (sp.Rational(1, 4), sp.Rational(1, 3), sp.Rational(1, 2), sp.Rational(3, 4), sp.Integer(1)):
        for h in range(1, 40):
            size = a * h
            if not size.is_integer:  # PyTorch has no tensor of 10/3 rows
                with pytest.raises(ShapeError, match="must be an integer"):
                    net.at(alpha=a, H=h)
                continue
            first = conv_out(int(size), 3, 2, 1)
            expected = None if first is None else pool_out(first, 2, 2, 0)
            if expected is None:
                with pytest.raises(ShapeError):
                    net.at(alpha=a, H=h)
                continue
            assert net.at(alpha=a, H=h).output_shape == (8, expected, expected)
