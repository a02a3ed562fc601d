"""Export a trained network in the engine's formats: a split pack and/or a fused single graph (ONNX opset 17).

    python3 -m training.export --checkpoint runs/starry_night/checkpoint.pt --pack models/starry_night \
        --name "The Starry Night" [--fused models/starry_night.onnx] [--zip] [--verify]

Split pack (folder): encoder.onnx (image -> features), decoder.onnx (features -> image) and manifest.json
(`format: stylefilter.pack`, `version: 1`, `multiple: 4`; see models/README.md). Images are 1x3xHxW float RGB
0..255, H and W dynamic; features are 1xCx(H/4)x(W/4). A multi-style checkpoint (conditional instance norm)
exports with a float input `style` of shape [N] (mix weights) in both graphs, and the manifest lists `styles`
and `style_input: "style"`. `--style NAME` (or `--mix w1,w2,...`) bakes one style, or a fixed mix, of a
multi-style checkpoint into a plain single-style pack.

`--verify` checks the export in the engine: it renders a 256x256 crop of assets/content/chicago.jpg with the
engine CLI (per frame, smoothing 0) through the pack and through the fused graph and compares both with
PyTorch's output (8-bit rounding tolerance), and with each other.

`--untrained compact|full` (instead of `--checkpoint`) exports a network with its initial random weights, for
timing only (`build/bench.sh` uses it to compare the widths' speed without training the full width here).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import tempfile
import warnings
import zipfile

import torch
import torch.nn as nn

from .net import MULTIPLE, WIDTHS, StyleNet
from .styles import REPO, painting, short_title, style_title

OPSET = 17


class _Enc(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image, style=None):
        return self.net.encoder(image, style)


class _Dec(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, features, style=None):
        return self.net.decoder(features, style)


class _Fused(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image, style=None):
        return self.net(image, style)[0]


def load(checkpoint: str) -> tuple:
    ckpt = torch.load(checkpoint, map_location="cpu")
    net = StyleNet.from_checkpoint(ckpt).eval()
    return net, list(ckpt.get("styles") or [f"style{i}" for i in range(net.n_styles)])


def bake(net: StyleNet, weights) -> StyleNet:
    """A single-style copy of a multi-style network: every CIN's scale/shift becomes the weighted sum."""
    w = torch.as_tensor(weights, dtype=torch.float32)
    if w.numel() != net.n_styles:
        raise ValueError(f"{w.numel()} mix weights for a network of {net.n_styles} styles")
    c = net.config
    out = StyleNet(tuple(c["width"]), c["res_blocks"], 1, c.get("arch", "reconet"))
    state = {}
    for k, v in net.state_dict().items():
        if k.endswith(".norm.weight") or k.endswith(".norm.bias"):
            v = (w.view(-1, 1) * v).sum(0, keepdim=True)
        state[k] = v
    out.load_state_dict(state)
    return out.eval()


def _export(module, args, path, input_names, output_names, dynamic_axes):
    with warnings.catch_warnings():  # torch 1.13's exporter is chatty about constant folding and shape inference
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path, opset_version=OPSET, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    import onnx  # noqa: PLC0415  (python3-onnx; only needed here)
    model = onnx.load(path)
    onnx.checker.check_model(model)


def export_pack(net: StyleNet, folder: str, name: str, styles=None, description: str = "", size: int = 64,
                tier_of: str | None = None) -> dict:
    """Writes encoder.onnx, decoder.onnx and manifest.json into `folder`; returns the manifest."""
    net = copy.deepcopy(net).eval()
    os.makedirs(folder, exist_ok=True)
    multi = net.n_styles > 1
    img = torch.rand(1, 3, size, size) * 255
    mix = torch.full((net.n_styles,), 1.0 / net.n_styles) if multi else None
    with torch.no_grad():
        feats = net.encoder(img, mix)
    img_axes = {0: "batch", 2: "height", 3: "width"}
    feat_axes = {0: "batch", 2: "fheight", 3: "fwidth"}
    enc_in, dec_in = ["image"], ["features"]
    enc_args, dec_args = (img,), (feats,)
    if multi:
        enc_in.append("style")
        dec_in.append("style")
        enc_args, dec_args = (img, mix), (feats, mix)
    _export(_Enc(net), enc_args, os.path.join(folder, "encoder.onnx"), enc_in, ["features"],
            {"image": img_axes, "features": feat_axes})
    _export(_Dec(net), dec_args, os.path.join(folder, "decoder.onnx"), dec_in, ["image"],
            {"features": feat_axes, "image": img_axes})
    manifest = {
        "format": "stylefilter.pack", "version": 1, "name": name,
        "description": description or f"{name}: a StyleFilter split pack made by training/",
        "encoder": "encoder.onnx", "decoder": "decoder.onnx",
        "input": "image", "features": "features", "output": "image", "multiple": MULTIPLE,
    }
    manifest["tier"] = network_tier(net)
    if tier_of:
        manifest["tier_of"] = tier_of   # a network size of that style: lists fold it into the style's entry
    if multi:
        manifest["styles"] = [short_title(s) for s in styles]
        manifest["style_input"] = "style"
    elif styles and "artist" in painting(styles[0]):
        # title (what lists show: the name when it says more, e.g. "... (full width)"), artist, year
        manifest.update({**painting(styles[0]), "title": name})
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def network_tier(net: StyleNet) -> str:
    """The engine's name for the network's size (manifest "tier"): fast, compact or full."""
    if net.config.get("arch") == "fast":
        return "fast"
    return "full" if tuple(net.config["width"]) == WIDTHS["full"] else "compact"


def export_fused(net: StyleNet, path: str, size: int = 64):
    """One graph image -> image (input `image`, output `output`, plus `style` [N] for a multi-style net)."""
    net = copy.deepcopy(net).eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    img = torch.rand(1, 3, size, size) * 255
    axes = {0: "batch", 2: "height", 3: "width"}
    if net.n_styles > 1:
        mix = torch.full((net.n_styles,), 1.0 / net.n_styles)
        _export(_Fused(net), (img, mix), path, ["image", "style"], ["output"], {"image": axes, "output": axes})
    else:
        _export(_Fused(net), (img,), path, ["image"], ["output"], {"image": axes, "output": axes})


def zip_pack(folder: str, path: str):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in ("manifest.json", "encoder.onnx", "decoder.onnx"):
            z.write(os.path.join(folder, f), f)


def test_image(path: str, size: int = 256) -> str:
    """A centre crop of assets/content/chicago.jpg, size x size (a multiple of 4: the engine runs it as it is)."""
    from PIL import Image  # noqa: PLC0415
    src = os.path.join(REPO, "assets", "content", "chicago.jpg")
    with Image.open(src) as im:
        im = im.convert("RGB")
        k = size / min(im.size)
        im = im.resize((max(size, round(im.width * k)), max(size, round(im.height * k))), Image.BICUBIC)
        x0, y0 = (im.width - size) // 2, (im.height - size) // 2
        im.crop((x0, y0, x0 + size, y0 + size)).save(path)
    return path


def verify(net: StyleNet, pack: str | None, fused: str | None, mix=None, size: int = 256, tolerance: int = 2) -> dict:
    """Render with the engine (pack and/or fused graph) and compare with PyTorch. Raises on a mismatch."""
    from . import engine  # noqa: PLC0415
    from .data import load_image, save_image  # noqa: PLC0415
    tmp = tempfile.mkdtemp(prefix="sf-verify-")
    try:
        src = test_image(os.path.join(tmp, "input.png"), size)
        ref = os.path.join(tmp, "torch.png")
        with torch.no_grad():
            m = None if mix is None else torch.as_tensor(mix, dtype=torch.float32)
            save_image(net.eval()(load_image(src).unsqueeze(0), m)[0][0], ref)
        results, outs = {}, {}
        for label, style in (("pack", pack), ("fused", fused)):
            if style:
                out = os.path.join(tmp, f"{label}.png")
                engine.render(src, out, style, smoothing=0.0)
                outs[label] = out
                results[f"{label}_vs_torch"] = engine.compare(out, ref)
        if len(outs) == 2:
            results["pack_vs_fused"] = engine.compare(outs["pack"], outs["fused"])
        bad = {k: v for k, v in results.items() if v["max"] > tolerance}
        if bad:
            raise AssertionError(f"engine output differs from PyTorch beyond {tolerance} levels: {bad}")
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint")
    source.add_argument("--untrained", choices=sorted(WIDTHS), help="export an untrained network of this width (timing only)")
    ap.add_argument("--arch", default="reconet", choices=["reconet", "fast"], help="with --untrained: the architecture")
    ap.add_argument("--pack", help="split pack folder to write")
    ap.add_argument("--fused", help="single-graph .onnx file to write")
    ap.add_argument("--zip", action="store_true", help="also write the pack as PACK.zip")
    ap.add_argument("--name", help="name shown to users (default: the style's title)")
    ap.add_argument("--description", default="")
    ap.add_argument("--tier-of", help="the bundled style this pack is another network size of (manifest tier_of)")
    ap.add_argument("--style", help="bake this style of a multi-style checkpoint into a single-style export")
    ap.add_argument("--mix", help="bake these mix weights (comma-separated) of a multi-style checkpoint")
    ap.add_argument("--verify", action="store_true", help="render with the engine CLI and compare with PyTorch")
    a = ap.parse_args(argv)
    if not a.pack and not a.fused:
        ap.error("give --pack and/or --fused")
    if a.untrained:
        torch.manual_seed(0)
        net = StyleNet(a.untrained, 3 if a.arch == "fast" else 4, arch=a.arch).eval()
        styles = [f"untrained {a.arch} {a.untrained}"]
        a.name = a.name or f"untrained {a.arch} {a.untrained} width (timing only)"
    else:
        net, styles = load(a.checkpoint)
    if a.style or a.mix:
        if a.style:
            weights = [1.0 if s == a.style else 0.0 for s in styles]
            if sum(weights) != 1:
                ap.error(f"--style {a.style}: the checkpoint has {styles}")
        else:
            weights = [float(v) for v in a.mix.split(",")]
        net = bake(net, weights)
        styles = [a.style] if a.style else styles
    name = a.name or (short_title(styles[0]) if net.n_styles == 1 else " + ".join(short_title(s) for s in styles))
    if not a.description:
        w = "x".join(str(c) for c in net.config["width"])
        a.description = (", ".join(style_title(s) for s in styles) +
                         f". StyleFilter split pack made by training/ (widths {w}, {net.config['res_blocks']} residual blocks).")
    if a.pack:
        export_pack(net, a.pack, name, styles, a.description, tier_of=a.tier_of)
        print(f"wrote pack {a.pack}")
        if a.zip:
            zip_pack(a.pack, a.pack.rstrip("/") + ".zip")
            print(f"wrote {a.pack.rstrip('/')}.zip")
    if a.fused:
        export_fused(net, a.fused)
        print(f"wrote {a.fused}")
    if a.verify:
        mix = None if net.n_styles == 1 else [1.0] + [0.0] * (net.n_styles - 1)
        for k, v in verify(net, a.pack, a.fused, mix).items():
            print(f"verify {k}: max |diff| {v['max']} (8-bit levels), mean {v['mean']:.3f}")


if __name__ == "__main__":
    main()
