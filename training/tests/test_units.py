"""Unit tests: flow warping, occlusion mask, losses on known inputs, conditional instance norm mixing."""
import math

import pytest
import torch

from training import losses
from training.flow import add_occlusions, inside_mask, make_pair, warp
from training.lossnet import make_loss_net
from training.net import CondInstanceNorm, StyleNet, one_hot
from training.export import bake


def ramp(b=1, c=3, h=16, w=20):
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    img = torch.stack([xs * 3 + ys * 7 + 11 * k for k in range(c)])
    return img.unsqueeze(0).repeat(b, 1, 1, 1)


def test_warp_integer_shift():
    img = torch.rand(2, 3, 12, 15)
    flow = torch.zeros(2, 2, 12, 15)
    flow[:, 0] = 3.0    # frame2(x, y) = frame1(x + 3, y - 2)
    flow[:, 1] = -2.0
    out = warp(img, flow)
    assert torch.allclose(out[:, :, 2:, :12], img[:, :, :10, 3:], atol=1e-5)
    m = inside_mask(flow)
    assert m[:, :, 2:, :12].eq(1).all()
    assert m[:, :, :2].eq(0).all() and m[:, :, :, 12:].eq(0).all()


def test_warp_subpixel_shift_is_linear_interpolation():
    img = ramp()
    flow = torch.zeros(1, 2, 16, 20)
    flow[:, 0] = 0.5
    out = warp(img, flow)
    # a linear ramp sampled half a pixel to the right is the ramp + 0.5 * slope (away from the border)
    assert torch.allclose(out[..., :-1], img[..., :-1] + 1.5, atol=1e-4)


def test_identity_flow_is_identity():
    img = torch.rand(1, 3, 9, 7)
    assert torch.allclose(warp(img, torch.zeros(1, 2, 9, 7)), img, atol=1e-5)


def test_occlusion_mask_marks_the_pasted_rectangles():
    gen = torch.Generator().manual_seed(3)
    frame = torch.zeros(4, 3, 32, 32)
    source = torch.full((4, 3, 32, 32), 200.0)
    mask = torch.ones(4, 1, 32, 32)
    f2, m2 = add_occlusions(frame, mask, source, gen, max_count=2)
    changed = (f2 != frame).any(1, keepdim=True)
    assert torch.equal(changed, m2 == 0)      # exactly the pasted pixels are masked out
    assert (m2 == 0).any()


def test_make_pair_mask_and_motion():
    gen = torch.Generator().manual_seed(0)
    x1 = ramp(2, 3, 64, 64) % 255
    _, x2, flow, mask = make_pair(x1, gen, noise_std=0.0, occlusions=0)
    # without noise and occlusions frame 2 *is* frame 1 warped: the temporal losses see a perfect pair
    assert torch.allclose(x2, warp(x1, flow).clamp(0, 255), atol=1e-4)
    assert flow.abs().max() > 0.5             # it does move
    assert 0.5 < float(mask.mean()) <= 1.0


def test_gram_of_known_tensor():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    f = torch.cat([f, 2 * f], dim=1)          # 2 channels, 4 positions
    g = losses.gram(f)
    s = 1 + 4 + 9 + 16
    assert torch.allclose(g, torch.tensor([[[s, 2 * s], [2 * s, 4 * s]]]) / 4)


def test_style_and_content_loss_zero_at_target():
    f = torch.rand(2, 4, 5, 5)
    assert float(losses.style_loss([f], [losses.gram(f)])) == pytest.approx(0.0, abs=1e-7)
    assert float(losses.content_loss(f, f)) == 0.0
    # relative: doubling the features quadruples the Gram -> ||4G - G||^2 / ||G||^2 = 9
    assert float(losses.style_loss([2 * f], [losses.gram(f)])) == pytest.approx(9.0, rel=1e-5)


def test_tv_loss_known_values():
    assert float(losses.tv_loss(torch.full((1, 3, 8, 8), 77.0))) == 0.0
    x = torch.zeros(1, 1, 4, 4)
    x[..., 1::2] = 255.0                       # vertical stripes: every horizontal step changes by 1.0
    assert float(losses.tv_loss(x)) == pytest.approx(1.0)


def test_temporal_losses_zero_for_a_perfectly_warped_pair():
    gen = torch.Generator().manual_seed(5)
    h = w = 32
    in1 = torch.rand(2, 3, h, w) * 255
    out1 = torch.rand(2, 3, h, w) * 255
    feat1 = torch.rand(2, 8, h // 4, w // 4)
    _, _, flow, mask = make_pair(in1, gen, noise_std=0, occlusions=0)
    in2, out2 = warp(in1, flow), warp(out1, flow)
    assert float(losses.output_temporal_loss(out1, out2, in1, in2, flow, mask)) == pytest.approx(0, abs=1e-9)
    f = losses.downsample_flow(flow, 4)
    assert float(losses.feature_temporal_loss(feat1, warp(feat1, f), flow, mask)) == pytest.approx(0, abs=1e-9)
    # and positive for an output that flickers
    assert float(losses.output_temporal_loss(out1, out2 + 10, in1, in2, flow, mask)) > 1e-4
    assert float(losses.noise_stability_loss(out1, out1)) == 0.0


def test_output_temporal_loss_ignores_masked_pixels():
    in1 = torch.rand(1, 3, 16, 16) * 255
    flow = torch.zeros(1, 2, 16, 16)
    mask = torch.ones(1, 1, 16, 16)
    mask[..., :8] = 0
    out2 = in1.clone()
    out2[..., :8] = 0                          # wrong only where masked
    assert float(losses.output_temporal_loss(in1, out2, in1, in1, flow, mask)) == pytest.approx(0, abs=1e-9)


def test_cin_mixing_is_weighted_sum_of_params():
    torch.manual_seed(0)
    n = CondInstanceNorm(4, n_styles=3)
    with torch.no_grad():
        n.weight.copy_(torch.randn(3, 4))
        n.bias.copy_(torch.randn(3, 4))
    x = torch.randn(1, 4, 6, 6)
    w = torch.tensor([0.2, 0.5, 0.3])
    y = n(x, w)
    normed = torch.nn.functional.instance_norm(x)
    gamma = (w.view(3, 1) * n.weight).sum(0).view(1, 4, 1, 1)
    beta = (w.view(3, 1) * n.bias).sum(0).view(1, 4, 1, 1)
    assert torch.allclose(y, normed * gamma + beta, atol=1e-5)
    # one-hot picks a style; [N] and [1, N] mix shapes agree
    assert torch.allclose(n(x, torch.tensor([0.0, 1.0, 0.0])), normed * n.weight[1].view(1, 4, 1, 1) + n.bias[1].view(1, 4, 1, 1), atol=1e-5)
    assert torch.allclose(n(x, w), n(x, w.unsqueeze(0)))


def test_bake_matches_mixed_network():
    torch.manual_seed(1)
    net = StyleNet("tiny", 1, n_styles=2).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, CondInstanceNorm):
                m.weight.add_(torch.randn_like(m.weight) * 0.3)
                m.bias.add_(torch.randn_like(m.bias) * 0.3)
    x = torch.rand(1, 3, 16, 16) * 255
    w = torch.tensor([0.7, 0.3])
    single = bake(net, w)
    with torch.no_grad():
        assert torch.allclose(net(x, w)[0], single(x)[0], atol=1e-3)


def test_stylenet_shapes_and_range():
    net = StyleNet("tiny", 2).eval()
    x = torch.rand(2, 3, 20, 28) * 255
    out, feat = net(x)
    assert out.shape == x.shape and feat.shape == (2, 32, 5, 7)
    assert float(out.min()) >= 0 and float(out.max()) <= 255
    net3 = StyleNet("tiny", 1, n_styles=3)
    assert net3(x, one_hot(torch.tensor([0, 2]), 3))[0].shape == x.shape


@pytest.mark.parametrize("kind", ["deep", "multiscale"])
def test_loss_net_is_fixed_and_seeded(kind):
    a, b = make_loss_net(kind, seed=7), make_loss_net(kind, seed=7)
    x = torch.rand(1, 3, 32, 32) * 255
    sa, ca = a(x)
    sb, cb = b(x)
    assert all(torch.equal(u, v) for u, v in zip(sa, sb)) and torch.equal(ca, cb)
    assert not any(p.requires_grad for p in a.parameters())
    assert not torch.equal(make_loss_net(kind, seed=8)(x)[1], ca)


def test_output_temporal_loss_forgives_the_inputs_own_brightness_change():
    """An output that brightens exactly as its input did costs nothing; one that brightens on its own does
    (without the input's term, both would cost the same)."""
    g = torch.Generator().manual_seed(3)
    in1 = torch.rand(1, 3, 16, 16, generator=g) * 200
    out1 = torch.rand(1, 3, 16, 16, generator=g) * 200
    still = torch.zeros(1, 2, 16, 16)
    mask = torch.ones(1, 1, 16, 16)
    followed = losses.output_temporal_loss(out1, out1 + 20, in1, in1 + 20, still, mask)
    on_its_own = losses.output_temporal_loss(out1, out1 + 20, in1, in1, still, mask)
    assert followed.item() < 1e-8
    assert on_its_own.item() == pytest.approx((20 / 255) ** 2, rel=1e-4)
