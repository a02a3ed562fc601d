"""Synthetic video pairs with known motion, for the temporal losses.

Convention: a *backward* flow `flow` (B x 2 x H x W, in pixels, channel 0 = x, channel 1 = y) says where each
pixel of frame 2 comes from in frame 1:

    frame2(x, y) = frame1(x + flow_x(x, y), y + flow_y(x, y))

`warp(frame1, flow)` builds that (bilinear, pixel centres at integer coordinates). A pixel whose source lies
outside frame 1, or that an occluding object covers in frame 2, has mask 0 (nothing to compare it with).

`make_pair` takes a batch of crops and returns (frame1, frame2, flow, mask): frame 2 is frame 1 moved by a
random affine motion (small rotation, zoom and shift) plus a smooth local motion field (a coarse random grid,
bicubically upsampled), with a few occluding patches (cut from elsewhere in the batch, moving on their own) and
a little Gaussian noise (camera noise; the temporal losses see it as part of the motion to be stable against).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def base_grid(b: int, h: int, w: int, device=None, dtype=torch.float32) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=dtype), torch.arange(w, device=device, dtype=dtype), indexing="ij")
    return torch.stack([xs, ys]).unsqueeze(0).expand(b, 2, h, w)


def warp(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample `image` at (x + flow_x, y + flow_y) for every pixel; out-of-frame samples repeat the border."""
    b, _, h, w = image.shape
    pos = base_grid(b, h, w, image.device, image.dtype) + flow
    gx = 2.0 * pos[:, 0] / max(w - 1, 1) - 1.0
    gy = 2.0 * pos[:, 1] / max(h - 1, 1) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True)


def inside_mask(flow: torch.Tensor) -> torch.Tensor:
    """1 where the flow's source position lies inside the frame (B x 1 x H x W)."""
    b, _, h, w = flow.shape
    pos = base_grid(b, h, w, flow.device, flow.dtype) + flow
    ok = (pos[:, 0] >= 0) & (pos[:, 0] <= w - 1) & (pos[:, 1] >= 0) & (pos[:, 1] <= h - 1)
    return ok.unsqueeze(1).to(flow.dtype)


def affine_flow(b: int, h: int, w: int, gen: torch.Generator, max_shift: float, max_rot_deg: float, max_zoom: float) -> torch.Tensor:
    """Backward flow of a random similarity transform about the frame centre."""
    u = lambda *s: torch.rand(*s, generator=gen) * 2 - 1  # noqa: E731  uniform -1..1
    ang = u(b) * math.radians(max_rot_deg)
    zoom = 1 + u(b) * max_zoom
    tx, ty = u(b) * max_shift, u(b) * max_shift
    grid = base_grid(b, h, w)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    x, y = grid[:, 0] - cx, grid[:, 1] - cy
    cos, sin = (torch.cos(ang) / zoom).view(b, 1, 1), (torch.sin(ang) / zoom).view(b, 1, 1)
    sx = cos * x - sin * y + cx + tx.view(b, 1, 1)
    sy = sin * x + cos * y + cy + ty.view(b, 1, 1)
    return torch.stack([sx - grid[:, 0], sy - grid[:, 1]], dim=1)


def smooth_flow(b: int, h: int, w: int, gen: torch.Generator, magnitude: float, cells: int = 4) -> torch.Tensor:
    """Smooth local motion: random displacements on a coarse grid, bicubically upsampled."""
    coarse = (torch.rand(b, 2, cells, cells, generator=gen) * 2 - 1) * magnitude
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)


def random_flow(b: int, h: int, w: int, gen: torch.Generator, max_shift: float = None, max_rot_deg: float = 2.0,
                max_zoom: float = 0.03, local: float = None) -> torch.Tensor:
    s = min(h, w)
    max_shift = s * 0.04 if max_shift is None else max_shift
    local = s * 0.015 if local is None else local
    return affine_flow(b, h, w, gen, max_shift, max_rot_deg, max_zoom) + smooth_flow(b, h, w, gen, local)


def add_occlusions(frame2: torch.Tensor, mask: torch.Tensor, source: torch.Tensor, gen: torch.Generator,
                   max_count: int = 2, min_frac: float = 0.1, max_frac: float = 0.3):
    """Paste up to `max_count` rectangles cut from `source` (another picture) into frame 2; mask 0 under them."""
    b, _, h, w = frame2.shape
    frame2, mask = frame2.clone(), mask.clone()
    for i in range(b):
        n = int(torch.randint(0, max_count + 1, (1,), generator=gen))
        for _ in range(n):
            rh = int(h * (min_frac + (max_frac - min_frac) * float(torch.rand(1, generator=gen))))
            rw = int(w * (min_frac + (max_frac - min_frac) * float(torch.rand(1, generator=gen))))
            y0 = int(torch.randint(0, h - rh + 1, (1,), generator=gen))
            x0 = int(torch.randint(0, w - rw + 1, (1,), generator=gen))
            sy = int(torch.randint(0, h - rh + 1, (1,), generator=gen))
            sx = int(torch.randint(0, w - rw + 1, (1,), generator=gen))
            j = (i + 1) % source.shape[0]
            frame2[i, :, y0:y0 + rh, x0:x0 + rw] = source[j, :, sy:sy + rh, sx:sx + rw]
            mask[i, :, y0:y0 + rh, x0:x0 + rw] = 0
    return frame2, mask


def make_pair(frame1: torch.Tensor, gen: torch.Generator, noise_std: float = 3.0, occlusions: int = 2, **flow_args):
    """frame1 (B x 3 x H x W, 0..255) -> frame1, frame2, backward flow, mask (B x 1 x H x W)."""
    b, _, h, w = frame1.shape
    flow = random_flow(b, h, w, gen, **flow_args).to(frame1.device)
    frame2 = warp(frame1, flow)
    mask = inside_mask(flow)
    if occlusions:
        frame2, mask = add_occlusions(frame2, mask, frame1.flip(2), gen, occlusions)
    if noise_std > 0:
        sigma = torch.rand(b, 1, 1, 1, generator=gen) * noise_std
        frame2 = frame2 + sigma.to(frame1.device) * torch.randn(frame2.shape, generator=gen).to(frame1.device)
    return frame1, frame2.clamp(0, 255), flow, mask
