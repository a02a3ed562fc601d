"""Compare loss networks quickly: optimise one picture directly (Gatys et al.) under each loss network.

    python3 -m training.probe --style starry_night --content assets/content/chicago.jpg \
        --nets multiscale,deep --size 160 --steps 150 --out /tmp/probe.png

Writes one row per loss network: content | style | result at each style weight. This is how the default loss
network and the style/content weight range were chosen (see docs/training.md); it needs no trained model.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from . import losses
from .data import load_image, save_image
from .lossnet import make_loss_net
from .styles import style_path


def optimise(net, content, style, style_weight, content_weight, tv_weight, steps, lr=4.0):
    with torch.no_grad():
        s_feats, _ = net(style)
        targets = [losses.gram(f) for f in s_feats]
        _, c_target = net(content)
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        feats, c = net(x)
        loss = style_weight * losses.style_loss(feats, targets) + content_weight * losses.content_loss(c, c_target) \
            + tv_weight * losses.tv_loss(x)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 255)
    return x.detach()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--style", default="starry_night")
    ap.add_argument("--content", default="assets/content/chicago.jpg")
    ap.add_argument("--nets", default="multiscale,deep")
    ap.add_argument("--style-weights", default="1,4")
    ap.add_argument("--content-weight", type=float, default=1.0)
    ap.add_argument("--tv-weight", type=float, default=0.0)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--style-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--out", default="/tmp/probe.png")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    content = load_image(a.content, a.size).unsqueeze(0)
    style = load_image(style_path(a.style), a.style_size).unsqueeze(0)
    sw = [float(v) for v in a.style_weights.split(",")]
    rows = []
    for name in a.nets.split(","):
        net = make_loss_net(name)
        t = time.time()
        row = [content, F.interpolate(style, size=content.shape[-2:], mode="bilinear", align_corners=False)]
        for w in sw:
            row.append(optimise(net, content, style, w, a.content_weight, a.tv_weight, a.steps))
        print(f"{name}: {time.time() - t:.1f}s")
        rows.append(torch.cat(row, dim=3))
    save_image(torch.cat(rows, dim=2)[0], a.out)
    print(a.out)


if __name__ == "__main__":
    main()
