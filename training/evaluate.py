"""Evaluate styles as the engine runs them: contact sheet, style/content losses, training curves.

    python3 -m training.evaluate sheet    --styles models/starry_night,models/wave,... --out docs/contact_sheet.png
    python3 -m training.evaluate compare  --styles OLD,NEW,... --labels "old compact,new compact" --out docs/compare.png
    python3 -m training.evaluate tiers    --styles models/starry_night,... --out docs/tiers_sheet.png
    python3 -m training.evaluate distances --styles models/starry_night,... [--paintings ...] --out docs/distances.json
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
from .data import HELD_OUT
from .lossnet import make_loss_net
from .styles import REPO, style_path

CONTENT = ["chicago.jpg", "golden_gate.jpg", "hoovertowernight.jpg", "tubingen.jpg"]
TEST_PHOTOS = [os.path.join(REPO, "assets", "content", c) for c in CONTENT]
# photos the training never saw (training.data.HELD_OUT: a face, dogs at a window) and one more outside the list
UNSEEN = HELD_OUT + ["/usr/share/doc/opencv-doc/examples/data/leuvenB.jpg"]
PAINTING_SIDE = 320   # the painting's longer side for its Gram matrices (as in training)


def style_label(style: str) -> str:
    m = os.path.join(style, "manifest.json")
    if os.path.isfile(m):
        with open(m) as f:
            return json.load(f).get("name", os.path.basename(style.rstrip("/")))
    return os.path.splitext(os.path.basename(style.rstrip("/")))[0]


def painting_of(style: str) -> str:
    """The painting a pack was trained on: its folder name, or the style it is a network size of ("tier_of")."""
    name = os.path.splitext(os.path.basename(style.rstrip("/")))[0]
    m = os.path.join(style, "manifest.json")
    if os.path.isfile(m):
        with open(m) as f:
            name = json.load(f).get("tier_of", name)
    return style_path(name)


def cell_image(src: str, dst: str, w: int, h: int):
    """The centre of a picture, scaled to cover w x h."""
    with Image.open(src) as im:
        im = im.convert("RGB")
        k = max(w / im.width, h / im.height)
        im = im.resize((max(w, round(im.width * k)), max(h, round(im.height * k))), Image.BICUBIC)
        x0, y0 = (im.width - w) // 2, (im.height - h) // 2
        im.crop((x0, y0, x0 + w, y0 + h)).save(dst)


def render_cells(photos, styles, w, h, tmp):
    """{(photo, style or None): path}: each photo cropped to w x h, and rendered by the engine with each style."""
    cells = {}
    for i, p in enumerate(photos):
        src = os.path.join(tmp, f"photo{i}.png")
        cell_image(p, src, w, h)
        cells[(p, None)] = src
        for j, s in enumerate(styles):
            out = os.path.join(tmp, f"photo{i}_{j}.png")
            engine.render(src, out, s, smoothing=0.0)
            cells[(p, s)] = out
    return cells


def grid(rows, labels, out, w, h, heads=None):
    """A sheet: `rows` of cell pictures (paths), a label over every column, optional head pictures per column."""
    label_h, head_h = 22, (h if heads else 0)
    cols = len(labels)
    sheet = Image.new("RGB", (w * cols, label_h + head_h + h * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for j, label in enumerate(labels):
        draw.text((j * w + 6, 5), label, fill=(0, 0, 0))
        if heads and heads[j]:
            tmp = out + f".head{j}.png"
            cell_image(heads[j], tmp, w, h)
            with Image.open(tmp) as im:
                sheet.paste(im.convert("RGB"), (j * w, label_h))
            os.remove(tmp)
    for i, row in enumerate(rows):
        for j, path in enumerate(row):
            with Image.open(path) as im:
                sheet.paste(im.convert("RGB"), (j * w, label_h + head_h + i * h))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    sheet.save(out, optimize=True)
    return out


def contact_sheet(styles, out, w=256, h=192, photos=None, paintings=None):
    """Rows: the photos (the four test photos and two never trained on, a face among them); columns: the original,
    then each style, with its painting at the head of the column."""
    photos = photos or TEST_PHOTOS + HELD_OUT
    tmp = tempfile.mkdtemp(prefix="sf-sheet-")
    cells = render_cells(photos, styles, w, h, tmp)
    rows = [[cells[(p, s)] for s in [None] + list(styles)] for p in photos]
    grid(rows, ["photo (last two never trained on)"] + [style_label(s) for s in styles], out, w, h,
         heads=[None] + list(paintings) if paintings else None)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def compare_sheet(styles, labels, out, photo, w=384, h=288):
    """One photo, one column per style (e.g. old compact, new compact, new full)."""
    tmp = tempfile.mkdtemp(prefix="sf-compare-")
    cells = render_cells([photo], styles, w, h, tmp)
    grid([[cells[(photo, s)] for s in [None] + list(styles)]], ["photo"] + list(labels), out, w, h)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def tier_sheet(styles, out, w=224, h=168, photos=None):
    """One row per style: its painting, then for each photo the style's network sizes side by side (fast, compact,
    full; a blank cell where the style has no such size), so what a smaller network loses shows in one glance."""
    photos = photos or [TEST_PHOTOS[0], HELD_OUT[0]]
    order = ["fast", "compact", "full"]
    tiers = {s: tier_packs(s) for s in styles}
    shown = [t for t in order if any(t in v for v in tiers.values())]
    tmp = tempfile.mkdtemp(prefix="sf-tiers-")
    blank = os.path.join(tmp, "blank.png")
    Image.new("RGB", (w, h), (255, 255, 255)).save(blank)
    rows = []
    for i, s in enumerate(styles):
        head = os.path.join(tmp, f"painting{i}.png")
        cell_image(painting_of(s), head, w, h)
        row = [head]
        for k, p in enumerate(photos):
            src = os.path.join(tmp, f"photo{k}.png")
            cell_image(p, src, w, h)
            for t in shown:
                if t not in tiers[s]:
                    row.append(blank)
                    continue
                dst = os.path.join(tmp, f"{i}_{k}_{t}.png")
                engine.render(src, dst, tiers[s][t], smoothing=0.0)
                row.append(dst)
        rows.append(row)
    labels = ["painting"] + [f"photo {k + 1}: {t}" for k in range(len(photos)) for t in shown]
    grid(rows, labels, out, w, h)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def tier_packs(style: str) -> dict:
    """{tier: pack folder} of a bundled style: itself and every pack beside it whose manifest says tier_of it."""
    def manifest(folder):
        with open(os.path.join(folder, "manifest.json")) as f:
            return json.load(f)
    name = os.path.basename(style.rstrip("/"))
    found = {manifest(style).get("tier", "compact"): style}
    parent = os.path.dirname(os.path.abspath(style))
    for other in sorted(os.listdir(parent)):
        folder = os.path.join(parent, other)
        if os.path.isfile(os.path.join(folder, "manifest.json")) and manifest(folder).get("tier_of") == name:
            found.setdefault(manifest(folder).get("tier", "compact"), folder)
    return found


def distances(styles, paintings, photos=None, w=320, h=240):
    """Per style: the ResNet18 Gram style distance of the engine's output to the painting (the training's style
    loss, relative, painting at PAINTING_SIDE), the same for the unstyled photo, and the content distance of the
    output to the photo (relative, layer2), averaged over `photos` (default: photos outside the training set)."""
    from .data import load_image  # noqa: PLC0415
    photos = photos or UNSEEN
    net = make_loss_net("resnet18")
    weights = net.style_weights
    tmp = tempfile.mkdtemp(prefix="sf-dist-")
    cells = render_cells(photos, styles, w, h, tmp)
    rows = []
    with torch.no_grad():
        for s, p in zip(styles, paintings):
            img = load_image(p, PAINTING_SIDE).unsqueeze(0)
            feats, _ = net(img[..., : img.shape[2] // 16 * 16, : img.shape[3] // 16 * 16])
            target = [losses.gram(f) for f in feats]
            r = {"style": s, "label": style_label(s), "painting": os.path.basename(p), "photo_style": [], "style_distance": [],
                 "content_distance": []}
            for ph in photos:
                x, y = (load_image(cells[(ph, k)]).unsqueeze(0) for k in (None, s))
                fx, cx = net(x)
                fy, cy = net(y)
                r["photo_style"].append(float(losses.style_loss(fx, target, weights)))
                r["style_distance"].append(float(losses.style_loss(fy, target, weights)))
                r["content_distance"].append(float(losses.content_loss(cy, cx)))
            for k in ("photo_style", "style_distance", "content_distance"):
                r[k + "_mean"] = float(np.mean(r[k]))
            rows.append(r)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"loss_net": "resnet18 (ImageNet)", "cell": [w, h], "painting_side": PAINTING_SIDE,
            "photos": [os.path.basename(p) for p in photos], "rows": rows}


def curves(runs, out):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    keys = ["style", "content", "temporal", "feature", "noise"]
    fig, ax = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3))
    for i, r in enumerate(runs):
        with open(os.path.join(r, "train.json")) as f:
            info = json.load(f)
        hist = info["history"]
        label = os.path.basename(r.rstrip("/"))
        for a, k in zip(ax, keys):
            pts = [(h["iter"], h[k]) for h in hist if k in h]
            if pts:
                a.plot(*zip(*pts), label=label, color=f"C{i}")   # one colour per run in every panel
    for a, k in zip(ax, keys):
        a.set_title(k)
        a.set_yscale("log")
        a.set_xlabel("iteration")
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["sheet", "tiers", "compare", "distances", "curves"])
    ap.add_argument("--styles", default="", help="comma-separated packs / .onnx files / bundled names")
    ap.add_argument("--paintings", help="the paintings, in the order of --styles (default: training/styles/<pack folder name>.jpg)")
    ap.add_argument("--labels", help="for compare: column labels")
    ap.add_argument("--photo", default=TEST_PHOTOS[0], help="for compare: the photo")
    ap.add_argument("--runs", default="", help="for curves: run folders")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    styles = [s for s in a.styles.split(",") if s]
    if a.paintings:
        paintings = a.paintings.split(",")
    elif a.what in ("sheet", "distances"):
        paintings = [painting_of(s) for s in styles]
    if a.what == "sheet":
        print(contact_sheet(styles, a.out, paintings=paintings))
    elif a.what == "tiers":
        print(tier_sheet(styles, a.out))
    elif a.what == "compare":
        print(compare_sheet(styles, a.labels.split(",") if a.labels else [style_label(s) for s in styles], a.out, a.photo))
    elif a.what == "distances":
        result = distances(styles, paintings)
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
        for r in result["rows"]:
            print(f"{r['style']:40s} style distance photo {r['photo_style_mean']:.3f} -> stylised {r['style_distance_mean']:.3f}; "
                  f"content {r['content_distance_mean']:.3f}")
    else:
        curves([r for r in a.runs.split(",") if r], a.out)
        print(a.out)


if __name__ == "__main__":
    main()
