"""Temporal stability against style fidelity, measured on what the engine renders.

    python3 -m training.stability run --styles starry_night --out docs/stability/starry_night.json
    python3 -m training.stability real --video /usr/share/doc/opencv-doc/examples/data/vtest.avi --styles starry_night --out ...
    python3 -m training.stability report --results docs/stability/*.json --chart docs/stability.png --strip docs/ghosting_strip.png

`run` renders each test sequence of `training.sequences` (made on the fly in out/sequences unless they exist)
with the engine CLI, losslessly, in every configuration:

* `per-frame`: smoothing 0, every frame on its own;
* `output s`: smoothing s blended on the stylised image (`--blend Output`);
* `features s`: smoothing s blended on the encoder's features (`--blend Features`, split packs only);
* `compensated s`, `compensated-output s`: the same on features / on the image, with the history warped along the
  camera's estimated motion first (`--motion-compensation true`); `output` and `features` turn it off, so they are
  the blend without motion compensation whatever the engine's default;

and measures, per sequence:

* E_warp, the warping error of Lai et al. 2018: for each pair of frames of the same shot, the previous output
  warped onto the current one with the backward flow, the squared difference with the current output averaged
  over RGB channels (values in [0, 1]) and over the non-occluded pixels (forward-backward check of Ruder et al.
  2016, see `training.sequences.consistency`); then averaged over the pairs. Lower = steadier.
* style distance: the Gram-matrix style loss of the output against the painting, with the training loss network
  (`lossnet.make_loss_net("deep")`, the relative Gram distance summed over its style layers, the same number the
  training minimises), averaged over every 4th frame. Lower = closer to the painting.
* E_warp still background (object sequence, real footage): E_warp over the still scene only (`still_mask`): the
  pixels at least 24 px from where the disc is or was in the last 6 frames; in real footage, where the flow is
  under 0.5 px. Near a moving object the network paints strokes around its edge that move with it;
  by the flow that is background, so E_warp there rewards a blend that holds those strokes back (a ghost).
  Flicker of the still scene is this column; trails are the ghost column.
* ghost (object sequence): mean absolute difference, in 8-bit levels, between this output and the per-frame
  output over the pixels within 8 px of where the moving disc is or was in the last 6 frames: what a trail left
  behind it would show as (noise smoothing there counts too, so it is never quite 0).
* cut leak (cut sequence): the same difference over the whole first frame after the cut: history must not
  survive a new shot.
* E_warp (DIS), for the sequences with true flow: E_warp again with the flow that `real` would use, to show how
  far the DIS-based figure of real footage sits from the true one.

`real` does the same on any video without known motion: the flow is OpenCV's DIS optical flow (preset MEDIUM)
computed on the *input* frames in both directions, then the same forward-backward check; a pair whose mean
colour change exceeds 0.15 (the engine's scene-cut rule) counts as a cut and is skipped.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import torch

from . import engine, losses, sequences
from .lossnet import make_loss_net
from .styles import REPO, style_path

SMOOTHINGS = [0.25, 0.5, 0.75, 0.9]
SCENE_CUT = 0.15  # mean colour change (0..1) that makes a new shot: TemporalBlender.SceneCutThreshold
STYLE_EVERY = 4


def configs(smoothings=SMOOTHINGS, modes=("output", "features")):
    out = [{"label": "per-frame", "mode": "per-frame", "smoothing": 0.0}]
    for m in modes:
        out += [{"label": f"{m} {s:g}", "mode": m, "smoothing": s} for s in smoothings]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Metrics

def warping_error(frames: np.ndarray, backward: np.ndarray, valid: np.ndarray) -> float:
    """Lai et al. 2018 E_warp of N x H x W x 3 uint8 frames (RGB taken to [0, 1]); pairs without valid pixels skip."""
    errs = []
    for t in range(1, len(frames)):
        v = valid[t]
        if not v.any():
            continue
        cur = frames[t].astype(np.float64) / 255
        prev = sequences.warp(frames[t - 1].astype(np.float64) / 255, backward[t])
        errs.append(float(((cur - prev) ** 2)[v].mean()))
    return float(np.mean(errs)) if errs else float("nan")


class StyleDistance:
    """Relative Gram distance to a painting with the training loss network (`losses.style_loss`)."""

    def __init__(self, painting: str):
        from .data import load_image  # noqa: PLC0415
        self.net = make_loss_net("deep")
        with torch.no_grad():
            feats, _ = self.net(load_image(painting, 256).unsqueeze(0))
        self.targets = [losses.gram(f) for f in feats]

    def __call__(self, frames: np.ndarray) -> float:
        vals = []
        with torch.no_grad():
            for f in frames[::STYLE_EVERY]:
                x = torch.from_numpy(f.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
                feats, _ = self.net(x)
                vals.append(float(losses.style_loss(feats, self.targets)))
        return float(np.mean(vals))


TRAIL_FRAMES, TRAIL_MARGIN, STILL_MARGIN = 6, 8, 24


def disc_trail(meta: dict, t: int, margin: float = TRAIL_MARGIN) -> np.ndarray:
    """Where the disc is or was in frames t-6..t, widened by `margin` px: the object and the strokes around its edge."""
    h, w = meta["height"], meta["width"]
    xs, ys = sequences.grid(h, w)
    mask = np.zeros((h, w), bool)
    for k in range(max(0, t - TRAIL_FRAMES), t + 1):
        d = meta["disc"][k]
        mask |= (xs - d["centre"][0]) ** 2 + (ys - d["centre"][1]) ** 2 < (d["radius"] + margin) ** 2
    return mask


def still_mask(flows, meta: dict):
    """The valid pixels of the still scene, or None for a sequence without one: for the moving-object sequence, at
    least 24 px from where the disc is or was in the last 6 frames; for real footage, where the flow is under
    0.5 px (in this frame pair and the one before it)."""
    if meta.get("disc"):
        return flows["valid"] & ~np.stack([disc_trail(meta, t, STILL_MARGIN) for t in range(len(flows["valid"]))])
    if "source" in meta:
        slow = (flows["backward"] ** 2).sum(-1) < 0.25
        slow[1:] &= slow[:-1]
        return flows["valid"] & slow
    return None


def ghost(frames: np.ndarray, per_frame: np.ndarray, meta: dict) -> float:
    diffs = [np.abs(frames[t].astype(np.float64) - per_frame[t])[disc_trail(meta, t)].mean() for t in range(1, len(frames))]
    return float(np.mean(diffs))


def cut_leak(frames: np.ndarray, per_frame: np.ndarray, meta: dict) -> float:
    t = meta["shots"][1]
    return float(np.abs(frames[t].astype(np.float64) - per_frame[t]).mean())


def dis_flows(frames: np.ndarray):
    """Backward and forward DIS flows (OpenCV, preset MEDIUM) between consecutive frames and their valid masks."""
    import cv2  # noqa: PLC0415
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    n, h, w = len(frames), frames.shape[1], frames.shape[2]
    backward = np.zeros((n, h, w, 2), np.float32)
    forward = np.zeros((n, h, w, 2), np.float32)
    valid = np.zeros((n, h, w), bool)
    for t in range(1, n):
        backward[t] = dis.calc(gray[t], gray[t - 1], None)   # frame_t(p) ~ frame_{t-1}(p + backward)
        forward[t] = dis.calc(gray[t - 1], gray[t], None)
        # A hard cut has no flow; DIS would return one anyway. Same rule as the engine's scene-cut detection.
        change = np.abs(frames[t].astype(np.int16) - frames[t - 1]).max(-1).mean() / 255
        valid[t] = sequences.consistency(backward[t], forward[t]) if change <= SCENE_CUT else False
    return backward, forward, valid


# ---------------------------------------------------------------------------------------------------------------
# Rendering

MODES = {  # mode: (--blend, --motion-compensation)
    "per-frame": (None, None),
    "output": ("Output", "false"),
    "features": ("Features", "false"),
    "compensated": ("Features", "true"),
    "compensated-output": ("Output", "true"),
}


def render(clip: str, out: str, style: str, cfg: dict, motion_threshold=None, threads: int = 2) -> np.ndarray:
    blend, compensation = MODES[cfg["mode"]]
    engine.render(clip, out, style, smoothing=cfg["smoothing"], threads=threads, blend=blend, lossless=True,
                  motion_threshold=cfg.get("motion_threshold", motion_threshold), motion_compensation=compensation)
    return sequences.decode(out)


def ensure_sequences(folder: str, kinds) -> list:
    bases = []
    for k in kinds:
        base = os.path.join(folder, k)
        if not all(os.path.isfile(base + ext) for ext in (".mkv", ".flow.npz", ".json")):
            sequences.write_sequence(k, folder)
        bases.append(base)
    return bases


def measure_style(style: str, bases, cfgs, painting: str, motion_threshold=None, log=print) -> dict:
    """{config label: {sequence: metrics}} for one style over sequences given by base paths."""
    distance = StyleDistance(painting)
    tmp = tempfile.mkdtemp(prefix="sf-stab-")
    result = {}
    try:
        inputs, dis, stills = {}, {}, {}
        for base in bases:
            frames, flows, meta = sequences.load(base)
            inputs[base] = (frames, flows, meta)
            stills[meta["name"]] = still_mask(flows, meta)
            if "source" not in meta:   # true flow: also measure with DIS flow, to see what DIS costs on real footage
                b, _, v = dis_flows(frames)
                dis[meta["name"]] = (b, v)
        per_frame = {}
        for cfg in cfgs:
            row = {}
            for base in bases:
                frames, flows, meta = inputs[base]
                name = meta["name"]
                out = render(base + ".mkv", os.path.join(tmp, "out.mkv"), style, cfg, motion_threshold)
                m = {"e_warp": warping_error(out, flows["backward"], flows["valid"]), "style": distance(out)}
                if name in dis:
                    m["e_warp_dis"] = warping_error(out, *dis[name])
                if cfg["mode"] == "per-frame":
                    per_frame[name] = out
                elif name in per_frame:
                    if meta.get("disc"):
                        m["ghost"] = ghost(out, per_frame[name], meta)
                    if len(meta["shots"]) > 1:
                        m["cut_leak"] = cut_leak(out, per_frame[name], meta)
                if stills[name] is not None:
                    m["e_warp_still"] = warping_error(out, flows["backward"], stills[name])
                row[name] = m
                log(f"  {cfg['label']:14s} {name:8s} E_warp {m['e_warp'] * 1e3:7.3f}e-3  style {m['style']:.3f}"
                    + "".join(f"  {k} {m[k]:.2f}" for k in ("ghost", "cut_leak") if k in m))
            result[cfg["label"]] = row
        result["input"] = {}
        for frames, flows, meta in inputs.values():
            m = {"e_warp": warping_error(frames, flows["backward"], flows["valid"]), "style": distance(frames)}
            if stills[meta["name"]] is not None:
                m["e_warp_still"] = warping_error(frames, flows["backward"], stills[meta["name"]])
            if meta["name"] in dis:
                m["e_warp_dis"] = warping_error(frames, *dis[meta["name"]])
            result["input"][meta["name"]] = m
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def prepare_real(video: str, folder: str, frames: int, width: int, start: float = 0.0) -> str:
    """A lossless excerpt of a real video (scaled to `width`), with DIS flows and masks beside it."""
    os.makedirs(folder, exist_ok=True)
    name = os.path.splitext(os.path.basename(video))[0]
    base = os.path.join(folder, name)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", video, "-frames:v", str(frames), "-an",
                    "-vf", f"scale={width}:-2:flags=area", "-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24",
                    base + ".mkv"], check=True)
    clip = sequences.decode(base + ".mkv")
    backward, forward, valid = dis_flows(clip)
    np.savez_compressed(base + ".flow.npz", backward=backward, forward=forward, valid=valid)
    meta = {"name": name, "width": clip.shape[2], "height": clip.shape[1], "frames": len(clip), "shots": [0],
            "source": video, "flow": "OpenCV DIS (preset MEDIUM) on the input frames, forward-backward checked", "disc": None}
    with open(base + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    return base


def painting_of(style: str, painting: str | None) -> str:
    return painting or style_path(os.path.basename(style.rstrip("/")))


# ---------------------------------------------------------------------------------------------------------------
# Report: table, chart, contact strip

def mean_over(row: dict, key: str, names) -> float:
    vals = [row[n][key] for n in names if n in row and key in row[n] and np.isfinite(row[n][key])]
    return float(np.mean(vals)) if vals else float("nan")


def table(result: dict) -> str:
    names = [n for n in result["input"]]
    still = [n for n in names if "e_warp_still" in result["input"][n]]
    head = (["configuration"] + [f"E_warp {n}" for n in names] + [f"E_warp {n}: still part" for n in still]
            + ["E_warp mean", "style distance", "ghost", "cut leak"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, row in result["configs"].items():
        cells = [label] + [f"{row[n]['e_warp'] * 1e3:.3f}" for n in names] + [f"{row[n]['e_warp_still'] * 1e3:.4f}" for n in still]
        cells.append(f"**{mean_over(row, 'e_warp', names) * 1e3:.3f}**")
        cells.append(f"{mean_over(row, 'style', names):.3f}")
        for k in ("ghost", "cut_leak"):
            v = mean_over(row, k, names)
            cells.append("" if np.isnan(v) else f"{v:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    inp = result["input"]
    lines.append("| input (unstyled) | " + " | ".join([f"{inp[n]['e_warp'] * 1e3:.3f}" for n in names] + [f"{inp[n]['e_warp_still'] * 1e3:.4f}" for n in still])
                 + f" | {mean_over(inp, 'e_warp', names) * 1e3:.3f} | {mean_over(inp, 'style', names):.3f} | | |")
    return "\n".join(lines)


MOVING_CAMERA = ("pan", "zoom", "cut")


def panels(result: dict):
    """(title, sequence names, error key) to chart: the still-camera sequences (their still part, where measured)
    and the moving-camera ones."""
    names = list(result["input"])
    still = [n for n in names if n not in MOVING_CAMERA]
    moving = [n for n in names if n in MOVING_CAMERA]
    key = "e_warp_still" if still and all("e_warp_still" in result["input"][n] for n in still) else "e_warp"
    return [(f"{result['label']}: still camera ({', '.join(g)}{', still part' if key != 'e_warp' else ''})", g, key) for g in [still] if g] + \
           [(f"{result['label']}: moving camera ({', '.join(g)})", g, "e_warp") for g in [moving] if g]


def summary(results, labels) -> str:
    """One row per result and configuration: E_warp over all sequences, over the still part, style distance, ghost."""
    lines = ["| style | configuration | E_warp mean (x1e-3) | change | E_warp still part (x1e-3) | change | style distance | change | ghost | cut leak |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        names = list(r["input"])
        still = [n for n in names if "e_warp_still" in r["input"][n]]
        base = r["configs"].get("per-frame")
        for label in labels:
            row = r["configs"].get(label)
            if row is None:
                continue
            cells = [r["label"], label]
            for key, group in (("e_warp", names), ("e_warp_still", still), ("style", names)):
                v = mean_over(row, key, group)
                b = mean_over(base, key, group) if base else float("nan")
                scale = 1 if key == "style" else 1e3
                cells += ["" if np.isnan(v) else f"{v * scale:.4g}", "" if np.isnan(v) or np.isnan(b) or label == "per-frame" else f"{(v / b - 1):+.0%}"]
            for key in ("ghost", "cut_leak"):
                v = mean_over(row, key, names)
                cells.append("" if np.isnan(v) else f"{v:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(results, path: str):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    groups = [(r, title, names, key) for r in results for title, names, key in panels(r)]
    cols = min(3, len(groups))
    rows = (len(groups) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    for ax, (r, title, names, key) in zip(axes.flat, groups):
        pts = {label: (mean_over(row, key, names) * 1e3, mean_over(row, "style", names)) for label, row in r["configs"].items()}
        for mode, colour in (("output", "tab:orange"), ("features", "tab:blue")):
            xs = [(pts[k], k) for k in pts if k.startswith(mode + " ")]
            if xs:
                ax.plot([p[0] for p, _ in xs], [p[1] for p, _ in xs], "o-", color=colour, label=f"{mode}-level blending")
                for p, k in xs:
                    ax.annotate(k.split()[1], p, textcoords="offset points", xytext=(4, 4), fontsize=7, color=colour)
        if "per-frame" in pts:
            ax.plot(*pts["per-frame"], "k*", markersize=12, label="per-frame")
        # At least a +-4% window around the points, so differences of a fraction of a percent do not look large.
        ys = [p[1] for p in pts.values()]
        mid, half = (max(ys) + min(ys)) / 2, max((max(ys) - min(ys)) * 0.6, 0.04 * max(ys))
        ax.set_ylim(mid - half, mid + half)
        ax.set_xlim(left=0)
        ax.set_xlabel("warping error E_warp (x1e-3, lower = steadier)")
        ax.set_ylabel("style distance to the painting (lower = closer)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def strip_rows(style: str, base: str, frames, cfgs, motion_threshold=None) -> list:
    """The rows of a strip: ("input", the clip's frames), then (label, frames rendered) per configuration."""
    tmp = tempfile.mkdtemp(prefix="sf-strip-")
    rows = [("input", frames)]
    try:
        for cfg in cfgs:
            rows.append((cfg["label"], render(base + ".mkv", os.path.join(tmp, "o.mkv"), style, cfg, motion_threshold)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def contact_strip(style: str, base: str, cfgs, path: str, picks=(4, 9, 14, 19), crop=(220, 150), motion_threshold=None):
    """Crops around the moving disc: input and each configuration's output, one row each, a column per frame."""
    from PIL import Image, ImageDraw  # noqa: PLC0415
    frames, _, meta = sequences.load(base)
    rows = strip_rows(style, base, frames, cfgs, motion_threshold)
    cw, ch = crop
    label_w = 110
    sheet = Image.new("RGB", (label_w + cw * len(picks), 20 + ch * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, t in enumerate(picks):
        draw.text((label_w + j * cw + 4, 4), f"frame {t}", fill="black")
        c = meta["disc"][t]["centre"]
        x0 = int(np.clip(c[0] - cw * 0.6, 0, meta["width"] - cw))   # a little more room behind the disc (it moves right)
        y0 = int(np.clip(c[1] - ch / 2, 0, meta["height"] - ch))
        for i, (_, fr) in enumerate(rows):
            sheet.paste(Image.fromarray(fr[t][y0:y0 + ch, x0:x0 + cw]), (label_w + j * cw, 20 + i * ch))
    for i, (label, _) in enumerate(rows):
        draw.text((4, 20 + i * ch + ch // 2), label, fill="black")
    sheet.save(path, optimize=True)


def pan_strip(style: str, base: str, cfgs, path: str, picks=(10, 11, 12, 13), crop=(200, 150), motion_threshold=None):
    """Crops that follow the content of a moving-camera clip (by its true flow), so what changes from one column to
    the next is flicker, not motion: input and each configuration, one row each, a column per consecutive frame, and
    a last column with the difference of the last two crops, amplified 8x."""
    from PIL import Image, ImageDraw  # noqa: PLC0415
    frames, flows, meta = sequences.load(base)
    rows = strip_rows(style, base, frames, cfgs, motion_threshold)
    cw, ch = crop
    h, w = meta["height"], meta["width"]
    # Where the content under the first pick's crop (houses, in the pan clip) is in each later frame: follow the flow.
    pos = {picks[0]: np.array([0.62 * w - cw / 2, 0.75 * h - ch / 2])}
    for t in picks[1:]:
        c = (pos[t - 1] + [cw / 2, ch / 2]).round().astype(int)
        pos[t] = pos[t - 1] - flows["backward"][t][c[1], c[0]]
    label_w = 150
    cols = len(picks) + 1
    sheet = Image.new("RGB", (label_w + cw * cols, 20 + ch * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, t in enumerate(picks):
        draw.text((label_w + j * cw + 4, 4), f"frame {t}", fill="black")
    draw.text((label_w + len(picks) * cw + 4, 4), f"|{picks[-1]} - {picks[-2]}| x8", fill="black")
    for i, (label, fr) in enumerate(rows):
        crops = []
        for j, t in enumerate(picks):
            x0, y0 = (int(round(v)) for v in np.clip(pos[t], 0, [w - cw, h - ch]))
            crops.append(fr[t][y0:y0 + ch, x0:x0 + cw])
            sheet.paste(Image.fromarray(crops[-1]), (label_w + j * cw, 20 + i * ch))
        diff = np.clip(np.abs(crops[-1].astype(np.int16) - crops[-2]) * 8, 0, 255).astype(np.uint8)
        sheet.paste(Image.fromarray(diff), (label_w + len(picks) * cw, 20 + i * ch))
        draw.text((4, 20 + i * ch + ch // 2), label, fill="black")
    sheet.save(path, optimize=True)


# ---------------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["run", "real", "report", "strip"])
    ap.add_argument("--styles", default="starry_night", help="comma-separated bundled names or pack paths")
    ap.add_argument("--painting", help="the painting to measure style distance against (default: training/styles/<style>.jpg)")
    ap.add_argument("--sequences", default=os.path.join(REPO, "out", "sequences"))
    ap.add_argument("--only", default=",".join(sequences.KINDS), help="sequences to use")
    ap.add_argument("--smoothing", default=",".join(f"{s:g}" for s in SMOOTHINGS), help="smoothing strengths to try")
    ap.add_argument("--modes", default="output,features")
    ap.add_argument("--motion-threshold", type=float, help="engine motion threshold (default: the engine's)")
    ap.add_argument("--video", help="real: the video")
    ap.add_argument("--frames", type=int, default=36, help="real: frames to use")
    ap.add_argument("--width", type=int, default=512, help="real: scale the video to this width")
    ap.add_argument("--clip", default="object", help="strip: object (crops around the moving disc) or a moving-camera clip (pan, zoom: crops that follow the content)")
    ap.add_argument("--results", nargs="*", default=[], help="report: result files (globs allowed)")
    ap.add_argument("--out", help="run/real: result JSON; strip: PNG")
    ap.add_argument("--chart")
    ap.add_argument("--markdown")
    ap.add_argument("--summary", help="report: also a one-table summary of these configurations (comma-separated labels)")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    styles = [s for s in a.styles.split(",") if s]
    cfgs = configs([float(s) for s in a.smoothing.split(",") if s], [m for m in a.modes.split(",") if m])

    if a.what in ("run", "real"):
        bases = (ensure_sequences(a.sequences, a.only.split(",")) if a.what == "run"
                 else [prepare_real(a.video, os.path.join(REPO, "out", "real"), a.frames, a.width)])
        results = []
        for s in styles:
            print(f"{s}:")
            r = measure_style(s, bases, cfgs, painting_of(s, a.painting), a.motion_threshold)
            label = s.rstrip("/") if a.what == "run" else f"{s.rstrip('/')} on {os.path.basename(a.video)}"
            results.append({"style": s, "label": label, "motion_threshold": a.motion_threshold,
                            "input": r.pop("input"), "configs": r})
            print(table(results[-1]))
        if a.out:
            os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
            with open(a.out, "w") as f:
                json.dump(results if len(results) > 1 else results[0], f, indent=1)
    elif a.what == "report":
        results = []
        for pattern in a.results:
            for p in sorted(glob.glob(pattern)):
                with open(p) as f:
                    r = json.load(f)
                results += r if isinstance(r, list) else [r]
        md = ("### Summary\n\n" + summary(results, a.summary.split(",")) + "\n\n" if a.summary else "") + "\n\n".join(f"### {r['label']}{' (motion threshold ' + str(r['motion_threshold']) + ')' if r.get('motion_threshold') else ''}\n\n{table(r)}" for r in results)
        print(md)
        if a.markdown:
            with open(a.markdown, "w") as f:
                f.write(md + "\n")
        if a.chart:
            chart(results, a.chart)
    else:
        base = os.path.join(a.sequences, a.clip)
        ensure_sequences(a.sequences, [a.clip])
        strip = contact_strip if a.clip == "object" else pan_strip
        strip(styles[0], base, cfgs, a.out, motion_threshold=a.motion_threshold)
        print(a.out)


if __name__ == "__main__":
    main()
