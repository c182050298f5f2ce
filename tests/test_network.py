"""Networks: the seed examples, blocks, naming, assumptions and refusals."""

from __future__ import annotations

import pytest
import sympy as sp

from symconv import (
    BatchNorm2d,
    Concat,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Network,
    ReLU,
    Repeat,
    Residual,
    ShapeError,
    SpecError,
    symbols,
)

n, m, k1, k2 = symbols("n m k1 k2")


def test_keras_example_matches_the_keras_summary():
    # Keras summary quoted in the seed: 400, 2888, 0, 46090; total 49,378;
    # shapes (None, 26, 26, 40), (None, 24, 24, 8), (None, 4608), (None, 10) channels last
    net = Network(input=(1, 28, 28), layers=[Conv2d(40, 3), Conv2d(8, 3), Flatten(), Linear(10)])
    assert [r.params for r in net.layers] == [400, 2888, 0, 46090]
    assert net.params == 49378
    assert [r.output_shape for r in net.layers] == [(40, 26, 26), (8, 24, 24), (4608,), (10,)]


def test_keras_example_macs_by_hand():
    # 26*26*40*9*1 + 24*24*8*9*40 + 4608*10 = 243,360 + 1,658,880 + 46,080
    net = Network(input=(1, 28, 28), layers=[Conv2d(40, 3), Conv2d(8, 3), Flatten(), Linear(10)])
    assert net.macs == 1_948_320
    assert net.flops == 2 * 1_948_320


def test_symbolic_two_layer_example():
    # hand derivation (seed, "type 2.2"): params 3*3*1*k1 + k1 + 5*5*k1*k2 + k2,
    # MACs n*m*k1*9 + n*m*k2*25*k1 with "same"-size padding
    net = Network(
        input=(1, n, m), layers=[Conv2d(k1, kernel_size=3, padding=1), Conv2d(k2, kernel_size=5, padding=2)]
    )
    assert net.output_shape == (k2, n, m)
    assert sp.expand(net.params - (10 * k1 + 25 * k1 * k2 + k2)) == 0
    assert sp.expand(net.macs - (9 * k1 * n * m + 25 * k1 * k2 * n * m)) == 0
    assert net.layers[1].params == 25 * k1 * k2 + k2
    assert net.assumptions == ()


def test_filter_of_layer_two_spans_all_input_channels():
    # seed question: the 8 kernels of layer 2 are 3x3x40 each
    net = Network(input=(1, 28, 28), layers=[Conv2d(40, 3), Conv2d(8, 3)])
    conv = net.graph[1].layer
    assert conv.weight_shapes(net.layers[0].output_shape)["weight"] == (8, 40, 3, 3)


@pytest.mark.parametrize("written", ["out", "repeat"])
def test_five_strided_convolutions_give_a_single_floor(written):
    layer = Conv2d(16, 3, stride=2, padding=1)
    layers = [layer] * 5 if written == "out" else [Repeat(5, (layer,))]
    net = Network(input=(3, n, n), layers=layers)
    assert net.output_shape[1] == sp.floor((n - 1) / 32) + 1
    assert net.output_shape[1].count(sp.floor) == 1


def test_receptive_field_and_jump():
    # r_i = r_{i-1} + (K - 1) j_{i-1}, j_i = j_{i-1} S: 3, 7, 15 and jumps 2, 4, 8
    net = Network(input=(3, n, n), layers=[Repeat(3, (Conv2d(4, 3, stride=2, padding=1),))])
    assert [r.receptive_field for r in net.layers] == [3, 7, 15]
    assert [r.jump for r in net.layers] == [2, 4, 8]
    flat = Network(input=(3, 8, 8), layers=[Conv2d(4, 3), Flatten(), Linear(2)])
    assert flat.layers[1].receptive_field is None and flat.layers[2].jump is None


def test_residual_block_names_and_totals():
    block = Residual(
        body=(Conv2d(k1, 3, padding=1), BatchNorm2d(), ReLU(), Conv2d(k1, 3, padding=1)), name="block"
    )
    net = Network(input=(k1, n, n), layers=[block])
    names = [r.name for r in net.layers]
    assert names == ["block.conv2d_1", "block.batchnorm2d_1", "block.relu_1", "block.conv2d_2", "block.add"]
    # 2 * (9 k1^2 + k1) + 2 k1 (BatchNorm gamma and beta)
    assert sp.expand(net.params - (18 * k1**2 + 4 * k1)) == 0
    assert net.output_shape == (k1, n, n)


def test_residual_with_mismatched_sides_is_refused():
    block = Residual(body=(Conv2d(8, 3, stride=2, padding=1),))
    with pytest.raises(ShapeError, match="sides of the addition differ"):
        _ = Network(input=(8, 32, 32), layers=[block]).report


def test_residual_equal_only_under_a_condition_is_an_assumption():
    block = Residual(body=(Conv2d(k2, 1),))
    net = Network(input=(k1, n, n), layers=[block])
    assert [a.condition for a in net.assumptions] == [sp.Eq(k2, k1)]  # body side first
    with pytest.raises(ShapeError):
        net.at(k1=3, k2=4)
    assert net.at(k1=3, k2=3).params == 12


def test_concat_adds_channels():
    # Inception-style: 1x1 with 64, 3x3 with 128, 5x5 with 32, pool branch 1x1 with 32
    block = Concat(
        branches=(
            (Conv2d(64, 1),),
            (Conv2d(96, 1), Conv2d(128, 3, padding=1)),
            (Conv2d(16, 1), Conv2d(32, 5, padding=2)),
            (MaxPool2d(3, stride=1, padding=1), Conv2d(32, 1)),
        )
    )
    net = Network(input=(192, 28, 28), layers=[block])
    assert net.output_shape == (256, 28, 28)
    # params by hand: 192*64+64 + 192*96+96 + 96*128*9+128 + 192*16+16 + 16*32*25+32 + 192*32+32
    assert net.params == 12352 + 18528 + 110720 + 3088 + 12832 + 6176


def test_concat_with_different_spatial_sizes_is_refused():
    block = Concat(branches=((Conv2d(4, 3),), (Conv2d(4, 1),)))
    with pytest.raises(ShapeError, match="branch 1 differs"):
        _ = Network(input=(3, 8, 8), layers=[block]).report


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([Conv2d(4, 5)], "kernel extent 5 must fit in the padded input 3 along the height"),
        ([Conv2d(4, 3, groups=2)], "input channels \\(3\\) must be divisible by groups"),
        ([Conv2d(4, 3, in_channels=5)], "in_channels is 5"),
        ([Conv2d(-4, 1)], "out_channels is -4"),
        ([Linear(3, in_features=7)], "in_features is 7"),
        ([BatchNorm2d(num_features=4)], "num_features is 4"),
        ([MaxPool2d(3, padding=2)], "at most half the kernel"),
        ([Conv2d(4, 3, stride=0)], "stride is 0"),
    ],
)
def test_impossible_layers_are_refused(layers, message):
    with pytest.raises(ShapeError, match=message):
        _ = Network(input=(3, 3, 3), layers=layers).report


def test_a_ceil_mode_pool_may_overhang_by_stride_less_one_as_pytorch_allows():
    """Kernel 4, stride 3, ceil_mode: PyTorch pools a 2-row input (one window overhanging by 2) and refuses a
    1-row input (it would overhang by 3)."""
    torch = pytest.importorskip("torch")
    pool = torch.nn.MaxPool2d(4, 3, ceil_mode=True)
    assert Network((1, 2, 8), [MaxPool2d(4, 3, ceil_mode=True)]).output_shape == tuple(
        pool(torch.zeros(1, 1, 2, 8)).shape[1:]
    )
    with pytest.raises(RuntimeError):
        pool(torch.zeros(1, 1, 1, 8))
    message = "kernel 4 is longer than the padded input 1 plus stride - 1 = 2 .* along the height"
    with pytest.raises(ShapeError, match=message):
        _ = Network((1, 1, 8), [MaxPool2d(4, 3, ceil_mode=True)]).report


def test_conditions_for_some_values_are_assumptions_then_checked_at_values():
    K = symbols("K")
    net = Network(input=(1, n, n), layers=[Conv2d(4, K)])
    assert len(net.assumptions) == 1 and "K" in str(net.assumptions[0])
    with pytest.raises(ShapeError, match="conv2d_1"):
        net.at(n=2, K=3)
    assert net.at(n=3, K=3).output_shape == (4, 1, 1)


def test_assumptions_that_a_later_bound_implies_are_not_listed():
    """By hand: the 4x4 stride-4 convolution needs n >= 4, the 2x2 pool on floor(n/4) needs n >= 8, and the
    ceil-mode 3x3 stride-2 pool on floor(n/8) has ceil((floor(n/8) - 3)/2) + 1 >= 1 rows exactly when
    floor(n/8) >= 2, so n >= 16: one bound per axis is what the network asks."""
    net = Network(
        input=(1, n, m),
        layers=[
            Conv2d(4, 4, stride=4),
            MaxPool2d(2),
            Conv2d(4, 3, padding=1),
            MaxPool2d(3, stride=2, ceil_mode=True),
        ],
    )
    assert [str(a.condition) for a in net.assumptions] == ["n >= 16", "m >= 16"]
    assert "maxpool2d_2" in net.assumptions[0].message
    for size in range(16, 41):  # every dropped condition holds where the kept ones do
        assert net.at(n=size, m=size).output_shape == (4, size // 16, size // 16)
    with pytest.raises(ShapeError, match="maxpool2d_2"):
        net.at(n=15, m=16)


def test_a_condition_no_bound_implies_stays_listed():
    K = symbols("K")
    net = Network(input=(1, n, n), layers=[Conv2d(4, 4, stride=4), Conv2d(4, K)])
    conditions = [str(a.condition) for a in net.assumptions]
    assert conditions[0] == "n >= 4" and len(conditions) == 2 and "K" in conditions[1]


def test_duplicate_names_are_refused():
    with pytest.raises(SpecError, match="two layers are named"):
        Network(input=(1, 4, 4), layers=[ReLU(name="a"), ReLU(name="a")])


def test_width_multiplier_is_rational_and_exact():
    alpha = symbols("alpha")
    net = Network(input=(3, n, n), layers=[Conv2d(32 * alpha, 3, padding=1)])
    assert sp.expand(net.params - (3 * 9 * 32 * alpha + 32 * alpha)) == 0
    assert net.at(alpha="0.75", n=8).params == 672  # 24 * 27 + 24
    with pytest.raises(ShapeError, match="must be an integer"):
        net.at(alpha="0.3", n=8)


def test_the_garbage_collector_is_restored_after_a_derivation():
    import gc

    from symconv.network import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice stands
    finally:
        gc.enable()
