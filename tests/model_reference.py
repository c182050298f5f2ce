"""A real model imported with symbolic H and W, against PyTorch at several input sizes.

Expected values come from PyTorch itself: ``sum(p.numel())`` for parameters,
``FlopCounterMode`` total / 2 for MACs (attention on its counted path: MHA's
fast path off and the math kernel of scaled dot-product attention), and the
output shape of a real forward pass. Where PyTorch refuses a size, symconv
must refuse it too.
"""

from __future__ import annotations

import pytest

from symconv import SymconvError, from_torch


def pytorch_counts(model, size):
    """Output shape, parameters and MACs as PyTorch counts them, or None where PyTorch refuses the size."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            out = model(torch.zeros(1, 3, *size))
    except (RuntimeError, AssertionError, ValueError):
        return None
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    return tuple(out.shape[1:]), sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def agrees_with_pytorch(model, name, sizes):
    """Import ``model`` (eval mode) with symbolic H and W; compare at every size PyTorch accepts; the network."""
    model = model.eval()
    net = from_torch(model, (3, "H", "W"))
    compared = 0
    for size in sizes:
        expected = pytorch_counts(model, size)
        if expected is None:
            with pytest.raises(SymconvError):  # symconv refuses the size too
                net.at(H=size[0], W=size[1])
            continue
        report = net.at(H=size[0], W=size[1])
        shape, params, macs = expected
        assert tuple(int(d) for d in report.output_shape) == shape, (name, size)
        assert int(report.params) + report.unused_params == params, (name, size)
        assert int(report.macs) == macs, (name, size)
        compared += 1
    assert compared >= 1, f"{name}: PyTorch accepted none of the sizes"
    return net
