"""Training photographs: gathered from Debian packages and the project's own test photos.

No image data set can be downloaded here, so the content images are the photographs that Debian packages ship
(installed by `training/setup.sh`):

* `mate-backgrounds`  /usr/share/backgrounds/mate/nature/*.jpg  (nature photos)
* `plasma-workspace-wallpapers`  the photographic wallpapers (lakes, forest path, autumn leaves, cups, boats...)
* `python3-skimage`  skimage/data: astronaut, coffee, cat, rocket, motorcycle...
* `opencv-doc`  the sample photos in examples/data (building, fruits, baboon, aerial views, Leuven, ...)
* `lomiri-wallpapers*`  /usr/share/backgrounds: the photographs among Ubuntu Touch's wallpapers (mountains, a
  bridge, paint brushes, wine glasses, dandelions, a bird, a sunset...)
* people: skimage's cameraman, OpenCV's messi5 and basketball frames, and frames of OpenCV's `vtest.avi` (people
  walking on a campus; extracted into the cache by `video_frames`)
* `assets/content/*.jpg` of this repository (chicago, golden_gate, hoovertowernight, tubingen)

Held out for the contact sheet and the style/content table (`HELD_OUT`, never trained on): skimage's astronaut
(a face: a streamer is a person in front of a webcam) and lomiri's "friends" (dogs at a window).

Many wallpaper packages are mostly drawings and abstract art; only the photographs are listed (by name) in
`SOURCES`. `python3 -m training.data --list training/data/photos.txt` writes the list (one path a line, sorted)
that a training run reads and records; `PhotoCrops` yields random crops with random scale and horizontal flip.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys

import numpy as np
import torch
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_LIST = os.path.join(REPO, "training", "data", "photos.txt")

_PLASMA = "/usr/share/wallpapers/{}/contents/images/*.jpg"
_CV = "/usr/share/doc/opencv-doc/examples/data/{}"
_SK = "/usr/lib/python3/dist-packages/skimage/data/{}"

# (package, glob pattern): only photographs. For the plasma wallpapers one picture per theme (the largest).
SOURCES = [
    ("mate-backgrounds", "/usr/share/backgrounds/mate/nature/*.jpg"),
] + [("plasma-workspace-wallpapers", _PLASMA.format(n)) for n in (
    "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
    "OneStandsOut", "Path", "summer_1am")
] + [("lomiri-wallpapers", "/usr/share/backgrounds/" + n) for n in (
    "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg",
    "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri_by_Aitzol_Berasategi.jpg", "free_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg", "sunset_by_Aitzol_Berasategi.jpg")
] + [("python3-skimage", _SK.format(n)) for n in (
    "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "camera.png")
] + [("opencv-doc", _CV.format(n)) for n in (
    "aero1.jpg", "aero3.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg",
    "graf1.png", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "HappyFish.jpg",
    "stuff.jpg", "ela_original.jpg", "board.jpg", "basketball1.png")
] + [("assets/content", os.path.join(REPO, "assets", "content", "*.jpg"))]

# Photos that training never sees: the contact sheet's and the style/content table's "outside the training set".
HELD_OUT = [_SK.format("astronaut.png"), "/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg"]

VIDEO_FRAMES = [(_CV.format("vtest.avi"), (60, 260, 460, 660))]


def video_frames(cache: str | None = None) -> list:
    """Stills of people from the packaged sample videos, written once into the cache (PNG)."""
    import cv2
    cache = cache or os.path.join(os.environ.get("STYLEFILTER_CACHE", os.path.expanduser("~/.cache/stylefilter")),
                                  "training-frames")
    out = []
    for video, frames in VIDEO_FRAMES:
        if not os.path.isfile(video):
            continue
        os.makedirs(cache, exist_ok=True)
        cap = None
        for i in frames:
            path = os.path.join(cache, f"{os.path.splitext(os.path.basename(video))[0]}_{i:04d}.png")
            if not os.path.isfile(path):
                cap = cap or cv2.VideoCapture(video)
                cap.set(cv2.CAP_PROP_POS_FRAMES, i)
                ok, frame = cap.read()
                if not ok:
                    continue
                cv2.imwrite(path, frame)
            out.append(path)
    return out


def gather(sources=SOURCES, min_side: int = 256) -> list:
    """Paths of the photographs that exist here (largest file per plasma theme), sorted."""
    found = []
    for _pkg, pattern in sources:
        files = sorted(glob.glob(pattern))
        if "/usr/share/wallpapers/" in pattern and files:
            files = [max(files, key=os.path.getsize)]
        for f in files:
            try:
                with Image.open(f) as im:
                    if min(im.size) >= min_side:
                        found.append(os.path.abspath(f))
            except OSError:
                pass
    found += video_frames()
    return sorted(set(found) - set(HELD_OUT))


def write_list(path: str = DEFAULT_LIST) -> list:
    files = gather()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        for p in files:
            home = os.path.expanduser("~") + os.sep
            f.write(os.path.relpath(p, REPO) if p.startswith(REPO + os.sep)
                    else "~" + os.sep + p[len(home):] if p.startswith(home) else p)
            f.write("\n")
    return files


def read_list(path: str) -> list:
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    lines = [os.path.expanduser(l) for l in lines]
    return [l if os.path.isabs(l) else os.path.join(REPO, l) for l in lines]


def load_image(path: str, max_side: int | None = None) -> torch.Tensor:
    """RGB float tensor 3 x H x W in 0..255, optionally shrunk so that the longer side is <= max_side."""
    with Image.open(path) as im:
        im = im.convert("RGB")    # also grey (cameraman) and palette pictures
        if max_side and max(im.size) > max_side:
            k = max_side / max(im.size)
            im = im.resize((max(1, round(im.width * k)), max(1, round(im.height * k))), Image.BICUBIC)
        a = np.asarray(im, dtype=np.float32)
    return torch.from_numpy(a.copy()).permute(2, 0, 1)


def save_image(t: torch.Tensor, path: str):
    a = t.detach().clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()
    Image.fromarray(a).save(path)


class PhotoCrops:
    """Random square crops: a random photo, scaled so its shorter side is `size * U(scale_min, scale_max)`,
    a random `size` x `size` window, a random horizontal flip. Photos are held in memory at <= `cache_side`."""

    def __init__(self, files, size: int = 256, scale_min: float = 1.0, scale_max: float = 2.5, seed: int = 0,
                 cache_side: int = 1024):
        if not files:
            raise ValueError("no training photographs: run training/setup.sh, then python3 -m training.data")
        self.size, self.scale_min, self.scale_max = size, scale_min, scale_max
        self.gen = torch.Generator().manual_seed(seed)
        self.images = [load_image(f, cache_side) for f in files]

    def crop(self) -> torch.Tensor:
        g = self.gen
        img = self.images[int(torch.randint(len(self.images), (1,), generator=g))]
        s = self.scale_min + (self.scale_max - self.scale_min) * float(torch.rand(1, generator=g))
        short = max(self.size, int(self.size * s))
        h, w = img.shape[1:]
        k = short / min(h, w)
        nh, nw = max(self.size, round(h * k)), max(self.size, round(w * k))
        scaled = torch.nn.functional.interpolate(img.unsqueeze(0), size=(nh, nw), mode="bilinear",
                                                 align_corners=False, antialias=k < 1)
        y0 = int(torch.randint(0, nh - self.size + 1, (1,), generator=g))
        x0 = int(torch.randint(0, nw - self.size + 1, (1,), generator=g))
        patch = scaled[:, :, y0:y0 + self.size, x0:x0 + self.size]
        if float(torch.rand(1, generator=g)) < 0.5:
            patch = patch.flip(-1)
        return patch[0].clamp(0, 255)

    def batch(self, n: int) -> torch.Tensor:
        return torch.stack([self.crop() for _ in range(n)])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Gather the training photographs into a list file")
    ap.add_argument("--list", default=DEFAULT_LIST, help="list file to write (default training/data/photos.txt)")
    ap.add_argument("--sheet", help="also write a thumbnail contact sheet PNG of the photos")
    a = ap.parse_args(argv)
    files = write_list(a.list)
    print(f"{len(files)} photographs -> {a.list}")
    if len(files) == 0:
        sys.exit(1)
    if a.sheet:
        cols, tw, th = 8, 160, 100
        sheet = Image.new("RGB", (cols * tw, th * ((len(files) + cols - 1) // cols)))
        for i, f in enumerate(files):
            with Image.open(f) as im:
                im.draft("RGB", (tw * 2, th * 2))
                sheet.paste(im.convert("RGB").resize((tw, th)), ((i % cols) * tw, (i // cols) * th))
        sheet.save(a.sheet)


if __name__ == "__main__":
    main()
