"""Test sequences with known motion, for measuring temporal stability.

    python3 -m training.sequences --out out/sequences [--width 640 --height 360 --frames 24]

Each sequence NAME is written as three files:

* `NAME.mkv`: the frames, lossless RGB (H.264 RGB at QP 0), so the engine reads exactly what was made;
* `NAME.flow.npz`: `backward[t]` (H x W x 2, float32, pixels, x then y) says where pixel p of frame t was in frame
  t-1 (frame_t(p) ~ frame_{t-1}(p + backward[t](p))); `forward[t]` says where pixel p of frame t-1 goes in frame t;
  `valid[t]` (bool) marks the pixels of frame t that can be compared with frame t-1: their source lies inside
  frame t-1 and they pass the forward-backward check of Ruder et al. 2016 (not occluded, see `consistency`).
  Index 0 and the first frame of a new shot have no flow and no valid pixels.
* `NAME.json`: size, frame count, fps, the shot boundaries and, for the moving-object sequence, the object's
  centre and radius in every frame (used to crop contact strips and to measure ghosting).

Sequences (every motion is exact: frames are sampled from a larger canvas made of a photo, bilinearly, at the
positions the flow says):

* `pan`: the camera pans right and a little down over a photo, 4 px and 1 px a frame.
* `zoom`: the camera zooms into the centre of a photo, 1.0x to 1.25x.
* `object`: a still photo with a small disc (cut from another photo) moving across it on an arc, ~9 px a frame.
* `cut`: half the frames pan over one photo, then a hard cut to another, panning the other way.

Every frame then gets its own camera noise (Gaussian, sigma `--noise` 8-bit levels, default 2, fixed seed): a
webcam never delivers the same pixels twice, and that noise is what makes per-frame stylisation flicker in still
areas. The flow is unaffected by it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess

import numpy as np
from PIL import Image

from .styles import REPO

CONTENT = os.path.join(REPO, "assets", "content")
CANVAS_MARGIN = 1.35  # the canvas is this much larger than the frame, so the window can move


# ---------------------------------------------------------------------------------------------------------------
# Flow helpers (numpy, H x W x C arrays)

def sample(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear sample of `image` (H x W x C) at float positions (pixel centres at integers); the border repeats."""
    h, w = image.shape[:2]
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), w - 2) if w > 1 else np.zeros_like(x, np.int64)
    y0 = np.minimum(np.floor(y).astype(np.int64), h - 2) if h > 1 else np.zeros_like(y, np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def grid(h: int, w: int):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return xs, ys


def warp(previous: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Frame t-1 moved onto frame t: out(p) = previous(p + backward(p))."""
    xs, ys = grid(*backward.shape[:2])
    return sample(previous, xs + backward[..., 0], ys + backward[..., 1])


def inside(backward: np.ndarray) -> np.ndarray:
    h, w = backward.shape[:2]
    xs, ys = grid(h, w)
    px, py = xs + backward[..., 0], ys + backward[..., 1]
    return (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)


def consistency(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Ruder et al. 2016: pixel p of frame t is occluded when, with w = backward(p) and w' = forward(p + w),
    |w + w'|^2 > 0.01 (|w|^2 + |w'|^2) + 0.5. Returns True where the pixel is *not* occluded and its source lies
    inside frame t-1."""
    w = backward.astype(np.float64)
    xs, ys = grid(*w.shape[:2])
    w2 = sample(forward.astype(np.float64), xs + w[..., 0], ys + w[..., 1])
    lhs = ((w + w2) ** 2).sum(-1)
    rhs = 0.01 * ((w ** 2).sum(-1) + (w2 ** 2).sum(-1)) + 0.5
    return (lhs <= rhs) & inside(w)


# ---------------------------------------------------------------------------------------------------------------
# Scenes: a frame shows a canvas through a window (zoom, offset), optionally with a disc on top.

def load_canvas(name: str, w: int, h: int) -> np.ndarray:
    with Image.open(os.path.join(CONTENT, name)) as im:
        im = im.convert("RGB")
        k = max(CANVAS_MARGIN * w / im.width, CANVAS_MARGIN * h / im.height)
        im = im.resize((math.ceil(im.width * k), math.ceil(im.height * k)), Image.BICUBIC)
        return np.asarray(im, dtype=np.float64)


class Shot:
    """Frames of one shot: pixel p shows canvas(p / zoom + offset); a disc of `sprite` (centre c, radius r) on top
    shows sprite(p - c + sprite centre)."""

    def __init__(self, canvas: np.ndarray, zooms, offsets, sprite=None, centres=None, radius=0.0):
        self.canvas, self.zooms, self.offsets = canvas, list(zooms), [np.asarray(o, np.float64) for o in offsets]
        self.sprite, self.centres, self.radius = sprite, centres, radius

    def __len__(self):
        return len(self.zooms)

    def in_disc(self, t, xs, ys):
        if self.sprite is None:
            return np.zeros(xs.shape, bool)
        c = self.centres[t]
        return (xs - c[0]) ** 2 + (ys - c[1]) ** 2 < self.radius ** 2

    def frame(self, t: int, w: int, h: int, noise: np.ndarray | None = None) -> np.ndarray:
        xs, ys = grid(h, w)
        z, o = self.zooms[t], self.offsets[t]
        img = sample(self.canvas, xs / z + o[0], ys / z + o[1])
        if self.sprite is not None:
            disc = self.in_disc(t, xs, ys)
            sc = (np.array(self.sprite.shape[1::-1]) - 1) / 2
            c = self.centres[t]
            obj = sample(self.sprite, xs - c[0] + sc[0], ys - c[1] + sc[1])
            img = np.where(disc[..., None], obj, img)
        if noise is not None:
            img = img + noise
        return np.clip(np.round(img), 0, 255).astype(np.uint8)

    def flow(self, src: int, dst: int, w: int, h: int) -> np.ndarray:
        """Where each pixel of frame `src` is in frame `dst` (H x W x 2)."""
        xs, ys = grid(h, w)
        zs, os_, zd, od = self.zooms[src], self.offsets[src], self.zooms[dst], self.offsets[dst]
        fx = (xs / zs + os_[0] - od[0]) * zd - xs
        fy = (ys / zs + os_[1] - od[1]) * zd - ys
        if self.sprite is not None:
            disc = self.in_disc(src, xs, ys)
            d = np.asarray(self.centres[dst]) - np.asarray(self.centres[src])
            fx, fy = np.where(disc, d[0], fx), np.where(disc, d[1], fy)
        return np.stack([fx, fy], -1).astype(np.float32)


def max_offset(canvas, frame, zoom):
    return max(0.0, canvas - 1 - (frame - 1) / zoom - 1e-3)


def make_shots(kind: str, w: int, h: int, n: int):
    ramp = lambda a, b, k: [a + (b - a) * i / max(k - 1, 1) for i in range(k)]  # noqa: E731
    if kind == "pan":
        c = load_canvas("tubingen.jpg", w, h)
        return [Shot(c, [1.0] * n, [(8 + 4.0 * i, 8 + 1.0 * i) for i in range(n)])]
    if kind == "zoom":
        c = load_canvas("hoovertowernight.jpg", w, h)
        zs = ramp(1.0, 1.25, n)
        cx, cy = (c.shape[1] - 1) / 2, (c.shape[0] - 1) / 2
        return [Shot(c, zs, [(cx - (w - 1) / 2 / z, cy - (h - 1) / 2 / z) for z in zs])]
    if kind == "object":
        c = load_canvas("golden_gate.jpg", w, h)
        r = h / 9
        sprite = load_canvas("chicago.jpg", int(2 * r + 4), int(2 * r + 4))
        centres = [(w * (0.15 + 0.7 * u), h * (0.62 - 0.25 * math.sin(math.pi * u))) for u in ramp(0.0, 1.0, n)]
        return [Shot(c, [1.0] * n, [(20.0, 20.0)] * n, sprite, centres, r)]
    if kind == "cut":
        a, b = load_canvas("chicago.jpg", w, h), load_canvas("tubingen.jpg", w, h)
        k = n // 2
        ob = max_offset(b.shape[1], w, 1.0)
        return [Shot(a, [1.0] * k, [(10 + 3.0 * i, 12.0) for i in range(k)]),
                Shot(b, [1.0] * (n - k), [(ob - 3.0 * i, 15.0) for i in range(n - k)])]
    raise ValueError(f"unknown sequence '{kind}'")


KINDS = ["pan", "zoom", "object", "cut"]


def write_sequence(kind: str, out_dir: str, w: int = 640, h: int = 360, n: int = 24, fps: int = 30, noise: float = 2.0,
                   seed: int = 7) -> str:
    shots = make_shots(kind, w, h, n)
    rng = np.random.default_rng(seed)
    frames, backward, forward, valid, shot_starts, discs = [], [], [], [], [], []
    for shot in shots:
        shot_starts.append(len(frames))
        for t in range(len(shot)):
            frames.append(shot.frame(t, w, h, rng.normal(0, noise, (h, w, 3)) if noise > 0 else None))
            if shot.sprite is not None:
                discs.append({"centre": [round(v, 3) for v in shot.centres[t]], "radius": round(shot.radius, 3)})
            if t == 0:
                zero = np.zeros((h, w, 2), np.float32)
                backward.append(zero)
                forward.append(zero)
                valid.append(np.zeros((h, w), bool))
            else:
                b, f = shot.flow(t, t - 1, w, h), shot.flow(t - 1, t, w, h)
                backward.append(b)
                forward.append(f)
                valid.append(consistency(b, f))
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, kind)
    encode_lossless(frames, base + ".mkv", fps)
    np.savez_compressed(base + ".flow.npz", backward=np.stack(backward), forward=np.stack(forward), valid=np.stack(valid))
    meta = {"name": kind, "width": w, "height": h, "frames": len(frames), "fps": fps, "shots": shot_starts, "noise": noise,
            "flow": "backward[t](p): where pixel p of frame t was in frame t-1; valid: inside and passes the forward-backward check",
            "disc": discs or None}
    with open(base + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    return base + ".mkv"


def encode_lossless(frames, path: str, fps: int):
    h, w = frames[0].shape[:2]
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
           "-c:v", "libx264rgb", "-preset", "veryfast", "-qp", "0", "-pix_fmt", "rgb24", path]
    subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True)


def decode(path: str) -> np.ndarray:
    """All frames of a video as N x H x W x 3 uint8 (RGB)."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", path], capture_output=True, text=True, check=True).stdout
    w, h = (int(v) for v in probe.strip().split(",")[:2])
    # passthrough: exactly the coded frames (a constant-rate output could duplicate one to fit the timestamps)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def load(base: str):
    """(frames, flows npz, meta) of a sequence written by write_sequence (base = path without extension)."""
    with open(base + ".json") as f:
        meta = json.load(f)
    return decode(base + ".mkv"), np.load(base + ".flow.npz"), meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "sequences"))
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--noise", type=float, default=2.0, help="camera noise, sigma in 8-bit levels")
    ap.add_argument("--only", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    a = ap.parse_args(argv)
    for kind in a.only.split(","):
        path = write_sequence(kind, a.out, a.width, a.height, a.frames, noise=a.noise)
        v = np.load(os.path.splitext(path)[0] + ".flow.npz")["valid"]
        print(f"wrote {path}: {a.frames} frames {a.width}x{a.height}, valid pixels {v[1:].mean():.1%} of pairs")


if __name__ == "__main__":
    main()
