import copy

import pytest
import torch
from torch import nn

from ferlib.models.backbones import FrameTrunk, freeze_leading_convs, small_cnn


def _calls(module: nn.Module) -> list[int]:
    sizes: list[int] = []
    module.register_forward_hook(lambda m, args, out: sizes.append(len(out)))
    return sizes


def _pair(chunk: int = 8) -> tuple[FrameTrunk, nn.Sequential]:
    torch.manual_seed(0)
    trunk = small_cnn(width=8, depth=3).trunk
    trunk.chunk_frames = chunk
    for m in trunk.modules():  # statistics that are not the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return trunk, nn.Sequential(*copy.deepcopy(list(trunk)))


def test_evaluation_runs_in_chunks_with_the_numbers_of_one_call():
    trunk, plain = _pair(chunk=8)
    trunk.eval(), plain.eval()
    x = torch.rand(20, 3, 32, 32)
    first = _calls(trunk[0])
    with torch.no_grad():
        out, ref = trunk(x), plain(x)
    assert first == [8, 8, 4]
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    first.clear()
    trunk(x).sum().backward()  # gradients wanted (Grad-CAM in eval mode): one call, as built
    assert first == [20]


def test_training_runs_the_frozen_stem_in_chunks_without_autograd_and_the_rest_at_once():
    trunk, plain = _pair(chunk=8)
    assert freeze_leading_convs(trunk, 1) == freeze_leading_convs(plain, 1) == ["0", "1"]
    trunk.train(), plain.train()
    stem, second = _calls(trunk[0]), _calls(trunk[4])
    x = torch.rand(20, 3, 32, 32)
    out, ref = trunk(x), plain(x)
    assert stem == [8, 8, 4] and second == [20]  # batch statistics of block 2 over all frames at once
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    out.square().mean().backward()
    ref.square().mean().backward()
    grads = [(a.grad, b.grad) for a, b in zip(trunk.parameters(), plain.parameters()) if a.requires_grad]
    assert len(grads) == 6 and all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in grads)
    for a, b in zip(trunk.buffers(), plain.buffers()):  # the running statistics moved alike
        torch.testing.assert_close(a, b)


def test_a_trunk_without_a_frozen_stem_trains_on_all_frames_at_once():
    trunk, _ = _pair(chunk=8)
    trunk.train()
    first = _calls(trunk[0])
    trunk(torch.rand(20, 3, 32, 32)).sum().backward()
    assert first == [20] and trunk[0].weight.grad is not None


@pytest.mark.parametrize("chunk", [0, 64])
def test_chunk_frames_zero_or_larger_than_the_batch_is_one_call(chunk):
    trunk, _ = _pair(chunk=chunk)
    trunk.eval()
    first = _calls(trunk[0])
    with torch.no_grad():
        trunk(torch.rand(20, 3, 32, 32))
    assert first == [20]


def test_the_trunk_keeps_the_sequential_state_dict_keys():
    trunk, plain = _pair()
    assert list(trunk.state_dict()) == list(plain.state_dict())
    assert isinstance(trunk, nn.Sequential)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_max_pool_2x2_has_max_pool2d_values_nan_and_ties_included(dtype):
    from ferlib.models.backbones import max_pool_2x2

    torch.manual_seed(0)
    x = torch.randint(-3, 3, (5, 7, 12, 10)).to(dtype)  # few values: many ties
    x[0, 0, 0, 1] = float("nan")
    x[1, 2, 5, 5] = float("-inf")
    x = x.contiguous(memory_format=torch.channels_last)
    out, ref = max_pool_2x2(x), torch.nn.functional.max_pool2d(x, 2)
    assert out.shape == ref.shape == (5, 7, 6, 5) and out.dtype == dtype
    assert torch.isnan(out[0, 0, 0, 0]) and torch.equal(torch.isnan(out), torch.isnan(ref))
    assert torch.equal(out.nan_to_num(0.0), ref.nan_to_num(0.0))
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_pools_without_autograd_on_channels_last_maps_take_the_maxima_with_the_kernels_numbers(monkeypatch):
    import ferlib.models.backbones as backbones

    calls: list[tuple[int, ...]] = []
    real = backbones.max_pool_2x2
    monkeypatch.setattr(backbones, "max_pool_2x2", lambda x: calls.append(tuple(x.shape)) or real(x))
    trunk, plain = _pair(chunk=8)
    trunk.eval(), plain.eval()
    x = torch.rand(20, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out, ref = trunk(x), plain(x)
    assert len(calls) == 3 * 3 and calls[0] == (8, 8, 32, 32)  # three pools in each of three chunks
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    calls.clear()
    with torch.no_grad():
        trunk(torch.rand(4, 3, 30, 30).contiguous(memory_format=torch.channels_last))  # 30 → 15: odd, the kernel's
        trunk(torch.rand(4, 3, 32, 32))  # NCHW maps: the kernel's
    assert calls == [(4, 8, 30, 30)]
    calls.clear()
    trunk.maxima_pool = False
    with torch.no_grad():
        torch.testing.assert_close(trunk(x), ref, rtol=1e-5, atol=1e-6)
    assert calls == []
    trunk.maxima_pool = True
    freeze_leading_convs(trunk, 1)
    trunk.train()
    trunk(x).sum().backward()  # training: the frozen stem's pool only (its gradient is not needed)
    assert calls == [(8, 8, 32, 32), (8, 8, 32, 32), (4, 8, 32, 32)]
