"""Evaluate styles as the engine runs them: contact sheet, style/content losses, training curves.

    python3 -m training.evaluate sheet   --styles models/starry_night,models/wave,... --out docs/contact_sheet.png
    python3 -m training.evaluate losses  --styles models/starry_night,... --out docs/losses.json [--figure docs/losses.png]
    python3 -m training.evaluate curves  --runs runs/a,runs/b --out docs/training_curves.png

Everything is rendered by the engine CLI (`out/cli/stylefilter.dll render`), per frame (`--smoothing 0`) unless
said otherwise, so the numbers describe what users get.

Temporal stability (warping error against style distance) is measured by `training.stability`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

import numpy as np
import torch
from PIL import Image, ImageDraw

from . import engine, losses
from .lossnet import make_loss_net
from .styles import REPO

CONTENT = ["chicago.jpg", "golden_gate.jpg", "hoovertowernight.jpg", "tubingen.jpg"]


def style_label(style: str) -> str:
    m = os.path.join(style, "manifest.json")
    if os.path.isfile(m):
        with open(m) as f:
            return json.load(f).get("name", os.path.basename(style.rstrip("/")))
    return os.path.splitext(os.path.basename(style.rstrip("/")))[0]


def cell_image(src: str, dst: str, w: int, h: int):
    with Image.open(src) as im:
        im = im.convert("RGB")
        k = max(w / im.width, h / im.height)
        im = im.resize((max(w, round(im.width * k)), max(h, round(im.height * k))), Image.BICUBIC)
        x0, y0 = (im.width - w) // 2, (im.height - h) // 2
        im.crop((x0, y0, x0 + w, y0 + h)).save(dst)


def render_cells(styles, w, h, tmp):
    """{(content, style or None): path} rendered by the engine."""
    cells = {}
    for c in CONTENT:
        src = os.path.join(tmp, c.replace(".jpg", ".png"))
        cell_image(os.path.join(REPO, "assets", "content", c), src, w, h)
        cells[(c, None)] = src
        for i, s in enumerate(styles):
            out = os.path.join(tmp, f"{c[:-4]}_{i}.png")
            engine.render(src, out, s, smoothing=0.0)
            cells[(c, s)] = out
    return cells


def contact_sheet(styles, out, w=320, h=240):
    tmp = tempfile.mkdtemp(prefix="sf-sheet-")
    cells = render_cells(styles, w, h, tmp)
    cols = [None] + list(styles)
    head = 28
    sheet = Image.new("RGB", (w * len(cols), head + h * len(CONTENT)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for j, s in enumerate(cols):
        label = "original" if s is None else style_label(s)
        draw.text((j * w + 6, 8), label, fill=(0, 0, 0))
        for i, c in enumerate(CONTENT):
            with Image.open(cells[(c, s)]) as im:
                sheet.paste(im.convert("RGB"), (j * w, head + i * h))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    sheet.save(out, optimize=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def loss_table(styles, paintings, out_json, figure=None, w=320, h=240):
    """Style loss (Gram, relative) of the original photo and of the engine's output against each painting, and
    content loss (relative) of the output against the photo; the default random loss network."""
    from .data import load_image  # noqa: PLC0415
    net = make_loss_net("deep")
    tmp = tempfile.mkdtemp(prefix="sf-loss-")
    cells = render_cells(styles, w, h, tmp)
    rows = []
    for s, p in zip(styles, paintings):
        with torch.no_grad():
            feats, _ = net(load_image(p, 256).unsqueeze(0))
            target = [losses.gram(f) for f in feats]
            r = {"style": style_label(s), "painting": os.path.relpath(p, REPO), "photo_style": [], "output_style": [], "content": []}
            for c in CONTENT:
                x = load_image(cells[(c, None)]).unsqueeze(0)
                y = load_image(cells[(c, s)]).unsqueeze(0)
                fx, cx = net(x)
                fy, cy = net(y)
                r["photo_style"].append(float(losses.style_loss(fx, target)))
                r["output_style"].append(float(losses.style_loss(fy, target)))
                r["content"].append(float(losses.content_loss(cy, cx)))
        for k in ("photo_style", "output_style", "content"):
            r[k + "_mean"] = float(np.mean(r[k]))
        rows.append(r)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w") as f:
        json.dump({"loss_net": "deep (random, seed 20240611)", "cell": [w, h], "content": CONTENT, "rows": rows}, f, indent=1)
    if figure:
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
        names = [r["style"].split(" (")[0] for r in rows]
        x = np.arange(len(rows))
        fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        ax[0].bar(x - 0.2, [r["photo_style_mean"] for r in rows], 0.4, label="photo (unstyled)")
        ax[0].bar(x + 0.2, [r["output_style_mean"] for r in rows], 0.4, label="stylised (engine)")
        ax[0].set_title("style loss vs the painting (lower = closer)")
        ax[0].set_yscale("log")
        ax[1].bar(x, [r["content_mean"] for r in rows], 0.5, color="tab:green")
        ax[1].set_title("content loss vs the photo (lower = closer)")
        for a in ax:
            a.set_xticks(x)
            a.set_xticklabels(names, rotation=15, fontsize=8)
        ax[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(figure, dpi=90)
    return rows


def curves(runs, out):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    keys = ["style", "content", "temporal", "feature", "noise"]
    fig, ax = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3))
    for r in runs:
        with open(os.path.join(r, "train.json")) as f:
            info = json.load(f)
        hist = info["history"]
        label = os.path.basename(r.rstrip("/"))
        for a, k in zip(ax, keys):
            pts = [(h["iter"], h[k]) for h in hist if k in h]
            if pts:
                a.plot(*zip(*pts), label=label)
    for a, k in zip(ax, keys):
        a.set_title(k)
        a.set_yscale("log")
        a.set_xlabel("iteration")
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["sheet", "losses", "curves"])
    ap.add_argument("--styles", default="", help="comma-separated packs / .onnx files / bundled names")
    ap.add_argument("--paintings", help="for losses: the paintings, in the order of --styles (default: training/styles/<pack folder name>.jpg)")
    ap.add_argument("--runs", default="", help="for curves: run folders")
    ap.add_argument("--out", required=True)
    ap.add_argument("--figure")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    styles = [s for s in a.styles.split(",") if s]
    if a.what == "sheet":
        print(contact_sheet(styles, a.out))
    elif a.what == "losses":
        from .styles import style_path  # noqa: PLC0415
        paintings = a.paintings.split(",") if a.paintings else [style_path(os.path.basename(s.rstrip("/"))) for s in styles]
        for r in loss_table(styles, paintings, a.out, a.figure):
            print(f"{r['style']:48s} style loss photo {r['photo_style_mean']:.3f} -> stylised {r['output_style_mean']:.3f}; content {r['content_mean']:.3f}")
    else:
        curves([r for r in a.runs.split(",") if r], a.out)
        print(a.out)


if __name__ == "__main__":
    main()
