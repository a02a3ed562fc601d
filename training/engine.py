"""Runs the StyleFilter engine through its CLI (`dotnet out/cli/stylefilter.dll`), for checks and evaluation.

There is no Python ONNX Runtime here, so exported graphs are checked the way the product runs them: the CLI
renders a picture with the pack or the single graph, and the result is compared with PyTorch's.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
from PIL import Image

from .styles import REPO

CLI = os.path.join(REPO, "out", "cli", "stylefilter.dll")


def available() -> bool:
    return os.path.isfile(CLI) and shutil.which("dotnet") is not None


def cli(*args, timeout: float = 600) -> str:
    if not available():
        raise RuntimeError(f"the engine CLI is not built ({CLI}): run build/build.sh")
    r = subprocess.run(["dotnet", CLI, *[str(a) for a in args]], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"stylefilter {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def render(input_path: str, output_path: str, style: str, smoothing: float = 0.0, threads: int = 2, **extra) -> str:
    args = ["render", "--input", input_path, "--output", output_path, "--style", style, "--smoothing", smoothing,
            "--threads", threads]
    for k, v in extra.items():
        if v is None or v is False:
            continue
        args += [f"--{k.replace('_', '-')}"] + ([] if v is True else [v])
    return cli(*args)


def read_png(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def compare(a_path: str, b_path: str) -> dict:
    a, b = read_png(a_path), read_png(b_path)
    if a.shape != b.shape:
        return {"same_size": False, "max": 255, "mean": 255.0}
    d = np.abs(a - b)
    return {"same_size": True, "max": int(d.max()), "mean": float(d.mean()), "over1": float((d > 1).mean())}
