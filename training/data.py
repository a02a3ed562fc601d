"""Training photographs: gathered from Debian packages and the project's own test photos.

No image data set can be downloaded here, so the content images are the photographs that Debian packages ship
(installed by `training/setup.sh`):

* `mate-backgrounds`  /usr/share/backgrounds/mate/nature/*.jpg  (nature photos)
* `plasma-workspace-wallpapers`  the photographic wallpapers (lakes, forest path, autumn leaves, cups, boats...)
* `python3-skimage`  skimage/data: astronaut, coffee, cat, rocket, motorcycle...
* `opencv-doc`  the sample photos in examples/data (building, fruits, baboon, aerial views, Leuven, ...)
* `assets/content/*.jpg` of this repository (chicago, golden_gate, hoovertowernight, tubingen)

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
] + [("python3-skimage", _SK.format(n)) for n in (
    "astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")
] + [("opencv-doc", _CV.format(n)) for n in (
    "aero1.jpg", "aero3.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg",
    "graf1.png", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg", "HappyFish.jpg",
    "stuff.jpg", "ela_original.jpg", "board.jpg")
] + [("assets/content", os.path.join(REPO, "assets", "content", "*.jpg"))]


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
    return sorted(set(found))


def write_list(path: str = DEFAULT_LIST) -> list:
    files = gather()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        for p in files:
            f.write(os.path.relpath(p, REPO) if p.startswith(REPO + os.sep) else p)
            f.write("\n")
    return files


def read_list(path: str) -> list:
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    return [l if os.path.isabs(l) else os.path.join(REPO, l) for l in lines]


def load_image(path: str, max_side: int | None = None) -> torch.Tensor:
    """RGB float tensor 3 x H x W in 0..255, optionally shrunk so that the longer side is <= max_side."""
    with Image.open(path) as im:
        im = im.convert("RGB")
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
