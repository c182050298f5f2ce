"""Exact evaluation for arrays of sizes: no float64 anywhere."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symconv import Conv2d, Network, Repeat, symbols
from symconv.evaluate import integer_function

n, k = symbols("n k")


def test_stride_three_is_exact_where_plain_lambdify_is_not():
    expr = sp.floor((n - 1) / 3) + 1
    values = np.arange(1, 10_001)
    exact = (values - 1) // 3 + 1  # integer loop
    assert np.array_equal(integer_function(expr, (n,))(values), exact)
    assert not np.array_equal(sp.lambdify(n, expr, "numpy")(values), exact)  # the pitfall


def test_values_beyond_two_to_the_53():
    expr = sp.floor((n - 1) / 3) + 1
    big = np.array([2**53 + 1, 2**60 + 3], dtype=np.int64)
    got = integer_function(expr, (n,))(big)
    assert [int(v) for v in got] == [(2**53 + 1 - 1) // 3 + 1, (2**60 + 3 - 1) // 3 + 1]


def test_sweep_matches_python_integers_for_a_million_sizes():
    net = Network(input=(3, n, n), layers=[Repeat(5, (Conv2d(k, 3, stride=2, padding=1),))])
    sizes = np.arange(1, 1_000_001)
    macs = net.sweep("macs", n=sizes, k=16)
    for value in (1, 2, 3, 31, 32, 33, 224, 999_999, 1_000_000):
        side, total, channels = value, 0, 3
        for _ in range(5):
            side = (side - 1) // 2 + 1
            total += side * side * 16 * channels * 9
            channels = 16
        assert int(macs[value - 1]) == total


def test_sweep_switches_to_python_integers_past_int64():
    net = Network(input=(k, n, n), layers=[Conv2d(k, 3, padding=1)])
    huge = np.array([2**20, 2**21])
    macs = net.sweep("macs", n=huge, k=2**12)
    assert [int(v) for v in macs] == [9 * 2**24 * int(h) ** 2 for h in huge]
