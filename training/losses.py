"""Losses: Gram-matrix style, feature content, total variation, and ReCoNet's temporal losses.

Style and content losses are *relative* (divided by the size of the target), so layers with different channel
counts and activation scales (random loss networks have arbitrary scales) count alike, and one set of weights
works across styles.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .flow import warp

LUMA = (0.2126, 0.7152, 0.0722)


def gram(f: torch.Tensor) -> torch.Tensor:
    """B x C x H x W -> B x C x C, normalised by the number of positions: G = F F^T / (H W)."""
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (h * w)


def style_loss(features, targets, weights=None) -> torch.Tensor:
    """sum_l w_l * ||G(f_l) - G_l||^2 / ||G_l||^2 (means over the batch). targets: list of [B or 1, C, C]."""
    total = 0.0
    for i, (f, g) in enumerate(zip(features, targets)):
        gf = gram(f)
        w = 1.0 if weights is None else weights[i]
        num = ((gf - g) ** 2).flatten(1).sum(1)
        den = (g ** 2).flatten(1).sum(1).clamp_min(1e-8)
        total = total + w * (num / den).mean()
    return total


def content_loss(feature: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """sum ||f - t||^2 / sum ||t||^2 over the batch.

    Normalised over the whole batch, not per picture: a smooth crop (sky, bokeh) has tiny content features, and a
    per-picture ratio would blow its small errors up and drown the batch in noise (measured: the network then
    does not learn to keep content at all)."""
    num = ((feature - target) ** 2).sum()
    den = (target ** 2).sum().clamp_min(1e-8)
    return num / den


def structure_loss(output: torch.Tensor, target: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """Coarse luminance layout: the mean squared difference of the two pictures' luminance, average-pooled by
    `factor` and standardised per picture (zero mean, unit variance). Blind to colour, to overall brightness and
    contrast and to detail finer than `factor` pixels, so the style is free to repaint those; it keeps where light
    and dark shapes are. A direct, pixel-level signal that a network learns from in a few hundred iterations,
    where the random loss network's content features alone take thousands (measured; see docs/training.md)."""
    def prep(x):
        y = F.avg_pool2d(luminance(x), factor) if factor > 1 else luminance(x)
        y = y - y.mean(dim=(2, 3), keepdim=True)
        return y / y.std(dim=(2, 3), keepdim=True).clamp_min(1.0)
    return ((prep(output) - prep(target)) ** 2).mean()


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation (mean absolute difference of neighbours) on the 0..1 scale."""
    x = image / 255.0
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def luminance(image: torch.Tensor) -> torch.Tensor:
    r, g, b = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    return LUMA[0] * r + LUMA[1] * g + LUMA[2] * b


def output_temporal_loss(out1, out2, in1, in2, flow, mask) -> torch.Tensor:
    """ReCoNet's output-level temporal loss (Gao et al. 2018, eq. 3), on the 0..1 scale:

        mean over non-occluded pixels of || (O2 - W(O1)) - (I2 - W(I1))_Y ||^2

    W warps frame 1 to frame 2 with the backward flow; the luminance change of the input is allowed to carry
    over to the output (so illumination changes are not punished). Zero for a perfectly warped pair.
    """
    d_out = (out2 - warp(out1, flow)) / 255.0
    d_in = luminance(in2 - warp(in1, flow)) / 255.0
    err = ((d_out - d_in) ** 2).mean(1, keepdim=True)
    return (err * mask).sum() / mask.sum().clamp_min(1.0)


def downsample_flow(flow: torch.Tensor, factor: int):
    """Backward flow (B x 2 x H x W, pixels) at 1/factor resolution (values scaled by 1/factor)."""
    return F.avg_pool2d(flow, factor) / factor


def downsample_mask(mask: torch.Tensor, factor: int):
    """A low-res pixel counts only if every full-res pixel under it is valid (min-pool)."""
    return -F.max_pool2d(-mask, factor)


def feature_temporal_loss(feat1, feat2, flow, mask, factor: int = 4) -> torch.Tensor:
    """ReCoNet's feature-level temporal loss: || F2 - W(F1) ||^2 over non-occluded positions at feature resolution."""
    f = downsample_flow(flow, factor)
    m = downsample_mask(mask, factor)
    err = ((feat2 - warp(feat1, f)) ** 2).mean(1, keepdim=True)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def noise_stability_loss(out_clean, out_noisy) -> torch.Tensor:
    """|| S(I) - S(I + noise) ||^2 on the 0..1 scale: the same picture with sensor noise must style the same."""
    return (((out_clean - out_noisy) / 255.0) ** 2).mean()
