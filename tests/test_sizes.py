"""Safe parsing of size expressions and floors in normal form."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symconv.errors import UnsafeExpression, ValueSpecError
from symconv.sizes import (
    at_least,
    floor_divide,
    is_true,
    parse_assignment,
    parse_size,
    size_symbol,
    symbols,
)

n = size_symbol("n")

HOSTILE = [
    "__import__('os').system('echo pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "n.__class__",
    "(lambda: 1)()",
    "[x for x in range(3)]",
    "floor.__globals__",
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd')",
    "1 if n else 2",
    "f'{n}'",
    "9**9**9**9",
    "n**n",
    "2**65",
    "1e400",
    "1.5",
    "'abc'",
    "floor(n, base=2)",
    "x" * 3000,
    "-" * 500 + "1",
    "(" * 300 + "1" + ")" * 300,
    "Symbol('n')",
    "n; import os",
    "_n",
    "n[0]",
    "n < 3",
    "getattr(n, 'x')",
    "10**19 * 10**19",
    "*n",
    "",
    "n / 0",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_expressions_are_refused(text):
    with pytest.raises(UnsafeExpression):
        parse_size(text)


def test_hostile_expression_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeExpression):
        parse_size(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n", n),
        ("2*n + 1", 2 * n + 1),
        ("(n - 1)//2 + 1", sp.floor((n - 1) / 2) + 1),
        (
            "floor((n + 2*P - K)/S) + 1",
            sp.floor((n + 2 * size_symbol("P") - size_symbol("K")) / size_symbol("S")) + 1,
        ),
        ("ceil(n/3)", sp.ceiling(n / 3)),
        ("min(n, 7) + max(n, 2)", sp.Min(n, 7) + sp.Max(n, 2)),
        ("n % 4", sp.Mod(n, 4)),
        ("n**2", n**2),
        (28, sp.Integer(28)),
    ],
)
def test_valid_expressions(text, expected):
    assert parse_size(text) == expected


def test_names_carry_assumptions():
    # sympify("n") would give a plain Symbol, unequal to the positive-integer n
    assert parse_size("n") == symbols("n")
    assert parse_size("n").is_integer and parse_size("n").is_positive
    assert parse_size("alpha").is_rational and parse_size("alpha").is_integer is None
    assert parse_size("alpha", {"alpha": "integer"}).is_integer


def test_decimal_values_are_exact_rationals():
    alpha, k = size_symbol("alpha"), size_symbol("k")
    assert parse_assignment("alpha=0.75,k=40") == {alpha: sp.Rational(3, 4), k: 40}
    with pytest.raises(ValueSpecError):
        parse_assignment("k=2.5")
    with pytest.raises(ValueSpecError):
        parse_assignment("k=-3")
    with pytest.raises(ValueSpecError):
        parse_assignment("k=__import__('os')")


def test_five_strided_layers_give_one_floor():
    # hand derivation: each 3x3 s2 p1 layer maps x -> floor((x - 1)/2) + 1, and
    # floor((floor((n-1)/2^i) + 1 - 1)/2) = floor((n-1)/2^(i+1))
    size = n
    for _ in range(5):
        size = floor_divide(size, 2 * 1 - 3, 2) + 1
    assert size == sp.floor((n - 1) / 32) + 1
    assert size.count(sp.floor) == 1


@given(
    st.lists(
        st.tuples(st.integers(1, 7), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3)),
        min_size=1,
        max_size=8,
    )
)
def test_composed_floor_equals_integer_loop(layers):
    size = n
    for k, s, p, d in layers:
        size = floor_divide(size, 2 * p - d * (k - 1) - 1, s) + 1
    assert size.count(sp.floor) <= 1
    for value in range(1, 200):
        loop = value
        for k, s, p, d in layers:
            loop = (loop + 2 * p - d * (k - 1) - 1) // s + 1
        assert size.xreplace({n: value}) == loop


def test_symbolic_strides_compose_into_one_floor():
    K1, S1, P1, K2, S2, P2 = symbols("K1 S1 P1 K2 S2 P2")
    first = floor_divide(n, 2 * P1 - K1, S1) + 1
    second = floor_divide(first, 2 * P2 - K2, S2) + 1
    assert second.count(sp.floor) == 1
    for values in [(3, 2, 1, 3, 2, 1), (5, 3, 2, 2, 2, 0), (7, 2, 3, 3, 3, 1)]:
        k1, s1, p1, k2, s2, p2 = values
        for v in range(8, 60):
            loop = (((v + 2 * p1 - k1) // s1 + 1) + 2 * p2 - k2) // s2 + 1
            got = second.xreplace(dict(zip((K1, S1, P1, K2, S2, P2, n), (*values, v), strict=True)))
            assert got == loop


def test_at_least_removes_the_floor():
    size = sp.floor((n - 1) / 4) + 1
    assert is_true(at_least(size, 1)) is True
    assert is_true(at_least(size, 3)) is None  # needs n >= 9
    assert at_least(size, 3) == sp.Ge(n - 1, 8)


_H, _W = sp.Symbol("H", integer=True, positive=True), sp.Symbol("W", integer=True, positive=True)
_polynomials = st.lists(
    st.tuples(
        st.fractions(min_value=-20, max_value=20, max_denominator=9),
        st.sampled_from([sp.Integer(1), _H, _W, _H * _W, _H**2]),
    ),
    min_size=1,
    max_size=4,
).map(lambda terms: sp.Add(*(sp.Rational(c.numerator, c.denominator) * m for c, m in terms)))


@given(_polynomials)
def test_exact_floor_is_what_sympy_writes(polynomial):
    from symconv.sizes import exact_floor

    assert exact_floor(polynomial) == sp.floor(polynomial)  # the same expression, term for term


@given(_polynomials, st.sampled_from([sp.Ge, sp.Gt, sp.Le, sp.Lt, sp.Eq, sp.Ne]))
def test_is_true_agrees_with_every_positive_integer_it_is_tried_at(polynomial, relation):
    """A verdict of True or False holds at every point of a 12 x 12 grid of positive integers (brute force)."""
    _verdict_holds_on_grid(polynomial, relation, 12)


def _verdict_holds_on_grid(expression, relation, side):
    """is_true's verdict on ``expression (relation) 0``, if any, at every H, W in 1..side (brute force)."""
    from symconv.sizes import is_true

    verdict = is_true(relation(expression, 0, evaluate=False))
    if verdict is None:
        return
    for h in range(1, side + 1):
        for w in range(1, side + 1):
            assert bool(relation(expression.xreplace({_H: h, _W: w}), 0)) is verdict, (h, w)


_rationals = st.fractions(min_value=-6, max_value=6, max_denominator=7).map(
    lambda f: sp.Rational(f.numerator, f.denominator)
)
_linear = st.lists(
    st.tuples(_rationals, st.sampled_from([sp.Integer(1), _H, _W])), min_size=1, max_size=3
).map(lambda terms: sp.Add(*(c * m for c, m in terms)))
_rounded = st.builds(lambda f, x: f(x), st.sampled_from([sp.floor, sp.ceiling]), _linear)
_nested = st.builds(
    lambda f, x, q: f(x / q), st.sampled_from([sp.floor, sp.ceiling]), _rounded, st.integers(2, 7)
)
_with_floors = st.lists(
    st.tuples(st.integers(-7, 7), st.one_of(_linear, _rounded, _nested)), min_size=1, max_size=3
).map(lambda terms: sp.Add(*(c * e for c, e in terms)))


@given(_with_floors, st.sampled_from([sp.Ge, sp.Gt, sp.Le, sp.Lt]))
def test_is_true_on_floors_agrees_with_every_size_it_is_tried_at(expression, relation):
    """Verdicts reached through bounds on floors hold at every point of a 30 x 30 grid (brute force)."""
    _verdict_holds_on_grid(expression, relation, 30)


_chains = st.builds(
    lambda inner, steps: _chain(inner, steps),
    _rounded,
    st.lists(st.tuples(st.sampled_from([sp.floor, sp.ceiling]), st.integers(2, 7)), min_size=1, max_size=4),
)


def _chain(inner, steps):
    for rounding, divisor in steps:
        inner = rounding(inner / divisor)
    return inner


@given(_chains, st.integers(1, 7), st.integers(-9, 9), st.sampled_from([sp.Ge, sp.Gt, sp.Le, sp.Lt]))
def test_a_chain_of_roundings_unwraps_to_an_equivalent_condition(chain, scale, offset, relation):
    """Undoing a chain's floors and ceilings keeps the condition: it holds at exactly the same sizes (brute force)."""
    from symconv.sizes import _unwrapped

    original = difference = scale * chain + offset
    kind = relation
    while (unwrapped := _unwrapped(difference, kind)) is not None:
        difference, kind = unwrapped
    for h in range(1, 41):
        for w in range(1, 8):
            point = {_H: h, _W: w}
            assert bool(kind(difference.xreplace(point), 0)) is bool(relation(original.xreplace(point), 0)), (
                h,
                w,
            )
    _verdict_holds_on_grid(scale * chain + offset, relation, 30)


@given(_rounded, _rounded, st.integers(-3, 3), st.sampled_from([sp.Ge, sp.Gt]))
def test_is_true_on_products_of_floors_agrees_with_every_size(a, b, offset, relation):
    """Verdicts on a product of two rounded sizes hold at every point of a 30 x 30 grid (brute force)."""
    _verdict_holds_on_grid(a * b + offset, relation, 30)


def test_a_swin_window_count_needs_four_pixels():
    """7⌈⌈⌈⌊H/4⌋/2⌉/2⌉/7⌉ >= 1 holds exactly when ⌊H/4⌋ >= 1, that is H >= 4 (by hand): not for every H."""
    from symconv.sizes import _unwrapped

    size = 7 * sp.ceiling(sp.ceiling(sp.ceiling(sp.floor(_H / 4) / 2) / 2) / 7)
    difference, kind = size - 1, sp.GreaterThan
    while (unwrapped := _unwrapped(difference, kind)) is not None:
        difference, kind = unwrapped
    assert (difference, kind) == (_H / 4 - 1, sp.GreaterThan)
    assert is_true(sp.Ge(size, 1, evaluate=False)) is None
    assert is_true(sp.Ge(size, 0, evaluate=False)) is True
    rows = sp.ceiling(sp.floor(_H / 4) / 7)
    assert is_true(sp.Ge(rows * sp.ceiling(sp.floor(_W / 4) / 7), 1, evaluate=False)) is None
    assert is_true(sp.Ge(rows * sp.ceiling(_W / 7), 0, evaluate=False)) is True


_with_rounded_terms = st.lists(
    st.tuples(_rationals, st.one_of(st.sampled_from([sp.Integer(1), _H, _W]), _rounded)),
    min_size=1,
    max_size=3,
).map(lambda terms: sp.Add(*(c * m for c, m in terms)))


@given(_with_rounded_terms)
def test_exact_floor_and_ceiling_are_what_sympy_writes(argument):
    from symconv.sizes import exact_ceiling, exact_floor

    assert exact_floor(argument) == sp.floor(argument)
    assert exact_ceiling(argument) == sp.ceiling(argument)


@given(
    st.one_of(st.integers(-5, 5), _linear),
    st.one_of(st.integers(-5, 5), _linear),
    st.sampled_from([sp.Eq, sp.Ne, sp.Le, sp.Lt, sp.Ge, sp.Gt]),
)
def test_relation_is_sympys_relation(lhs, rhs, kind):
    """Between numbers, sympy's verdict; otherwise sympy's relation left unevaluated (or decided, if the same)."""
    from symconv.sizes import relation

    built = relation(kind, lhs, rhs)
    if sp.sympify(lhs).is_Number and sp.sympify(rhs).is_Number:
        assert built == kind(lhs, rhs)
    elif sp.sympify(lhs) == sp.sympify(rhs):
        assert built == kind(lhs, rhs)
    else:
        assert built == kind(lhs, rhs, evaluate=False)


@given(_chains, st.integers(1, 7), st.integers(-9, 9), st.sampled_from([sp.Ge, sp.Gt]))
def test_a_lower_bound_read_from_a_condition_is_where_it_starts_to_hold(chain, scale, offset, relation):
    """``lower_bound`` gives (H, c) only for a condition that holds exactly from H = c on (brute force)."""
    from symconv.sizes import lower_bound

    expression = scale * chain + offset
    condition = relation(expression, 0, evaluate=False)
    found = lower_bound(condition)
    if found is None:
        return
    symbol, least = found
    assert condition.free_symbols == {symbol}
    for size in range(1, max(least, 1) + 40):
        assert bool(relation(expression.xreplace({symbol: size}), 0)) is (size >= least), size


@given(
    _with_floors,
    st.sampled_from([sp.Ge, sp.Gt, sp.Le, sp.Lt]),
    st.integers(1, 12),
    st.integers(1, 12),
)
def test_a_condition_implied_by_bounds_holds_at_every_size_they_allow(expression, relation, h0, w0):
    """Where ``implied_by_bounds`` says H >= h0 and W >= w0 imply a condition, it holds on the grid above them."""
    from symconv.sizes import implied_by_bounds

    condition = relation(expression, 0, evaluate=False)
    if not implied_by_bounds(condition, {_H: h0, _W: w0}):
        return
    for h in range(h0, h0 + 30):
        for w in range(w0, w0 + 30):
            assert bool(relation(expression.xreplace({_H: h, _W: w}), 0)), (h, w)


def test_window_counts_are_implied_by_the_patch_size():
    """By hand: H >= 4 makes floor(H/4) >= 1, so every ceiling of it over a positive divisor is >= 1; a
    count that must reach 2 (H >= 8), a decreasing term, or a size without a bound is not implied."""
    from symconv.sizes import implied_by_bounds

    rows, columns = sp.ceiling(sp.floor(_H / 4) / 7), sp.ceiling(sp.floor(_W / 4) / 7)
    bounds = {_H: 4, _W: 4}
    assert implied_by_bounds(sp.Ge(rows, 1, evaluate=False), bounds)
    assert implied_by_bounds(sp.Ge(rows * columns, 1, evaluate=False), bounds)
    assert implied_by_bounds(sp.Ge(2 * sp.ceiling(sp.floor(_H / 4) / 2) - 1, 1, evaluate=False), bounds)
    assert implied_by_bounds(sp.Le(1, 7 * rows, evaluate=False), bounds)
    assert not implied_by_bounds(sp.Ge(sp.floor(_H / 4), 2, evaluate=False), bounds)
    assert not implied_by_bounds(sp.Ge(8 - sp.floor(_H / 4), 1, evaluate=False), bounds)
    assert not implied_by_bounds(sp.Ge(sp.floor(_W / 4), 1, evaluate=False), {_H: 4})
