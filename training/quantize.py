"""int8 packs: static post-training quantization of a trained network to QDQ ONNX graphs.

    python3 -m training.quantize --checkpoint training/checkpoints/fast7.pt --style starry_night \
        --pack models/starry_night_fast_int8 [--keep-float out,layers.0] [--verify]

PyPI's ONNX Runtime (and its quantization tools) cannot be installed here, so this is written on the `onnx`
package alone. The float pack is exported as usual (`training.export`), then every Conv gets the QDQ pattern
ONNX Runtime's CPU provider fuses into an integer QLinearConv (u8 activations, s8 weights per output channel,
int32 bias): DequantizeLinear on its weight and bias, and QuantizeLinear -> DequantizeLinear on its input and
on its output. Activation ranges come from PyTorch forward hooks on the same network over real frames (test
photos and frames of OpenCV's vtest.avi, at 640x360): a conv's ONNX weight is named after its module
(`net.encoder.layers.0.conv.weight`), which maps each ONNX Conv to its hook. Ranges are the 99.99th percentile
of |x| (a few outliers must not waste the 256 levels); everything else (instance norm, ReLU, resize, sigmoid)
stays float. `--keep-float` leaves the named convs in float where int8 hurts the picture.
"""
from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .export import bake, export_pack, load, short_title
from .styles import REPO

CALIBRATION_SIZE = (360, 640)


def calibration_frames(count: int = 24) -> list:
    """Real frames at 640x360: the test photos, training photos and frames of vtest.avi (people walking)."""
    from PIL import Image   # noqa: PLC0415
    from .data import DEFAULT_LIST, read_list, video_frames
    paths = sorted(glob.glob(os.path.join(REPO, "assets", "content", "*.jpg")))
    if os.path.exists(DEFAULT_LIST):
        photos = read_list(DEFAULT_LIST)
        paths += photos[:: max(1, len(photos) // (count // 2))]
    paths += video_frames()[:: 8]
    frames = []
    h, w = CALIBRATION_SIZE
    for p in paths[:count]:
        with Image.open(p) as im:
            im = im.convert("RGB")
            k = max(w / im.width, h / im.height)
            im = im.resize((max(w, round(im.width * k)), max(h, round(im.height * k))), Image.BILINEAR)
            x0, y0 = (im.width - w) // 2, (im.height - h) // 2
            arr = np.asarray(im.crop((x0, y0, x0 + w, y0 + h)), dtype=np.float32)
        frames.append(torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous())
    return frames


def activation_ranges(net, frames, percentile: float = 99.99) -> dict:
    """{module name: (input lo, input hi, output lo, output hi)} of every Conv2d over the frames."""
    samples: dict = {}

    def hook(name):
        def record(_module, inputs, output):
            for key, t in (("in", inputs[0]), ("out", output)):
                v = t.detach().flatten()
                v = v[torch.randint(v.numel(), (min(v.numel(), 200_000),))]   # a sample keeps the quantile cheap
                samples.setdefault((name, key), []).append(v)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        for f in frames:
            net(f)
    for h in handles:
        h.remove()
    q = percentile / 100.0
    ranges = {}
    for (name, key), vs in samples.items():
        v = torch.cat(vs)
        lo, hi = float(torch.quantile(v, 1 - q)), float(torch.quantile(v, q))
        ranges.setdefault(name, {})[key] = (min(lo, 0.0), max(hi, 0.0))   # zero must be exact (padding, ReLU)
    return ranges


def _u8_params(lo: float, hi: float):
    scale = max(hi - lo, 1e-8) / 255.0
    zero = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def quantize_graph(path: str, ranges: dict, keep_float=()) -> tuple:
    """Rewrites the ONNX file at `path` in place with QDQ around each Conv. Returns (quantized, kept float)."""
    model = onnx.load(path)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, new_inits, done, kept = [], [], [], []
    for node in g.node:
        if node.op_type != "Conv" or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        module = node.input[1].removeprefix("net.").removesuffix(".weight")
        r = ranges.get(module)
        if r is None or any(module == k or module.startswith(k + ".") for k in keep_float):
            kept.append(module)
            new_nodes.append(node)
            continue
        tag = module.replace(".", "_")
        # input: Q -> DQ (u8, asymmetric)
        sx, zx = _u8_params(*r["in"])
        new_inits += [numpy_helper.from_array(np.array(sx), f"{tag}_x_scale"),
                      numpy_helper.from_array(np.array(zx), f"{tag}_x_zero")]
        new_nodes += [helper.make_node("QuantizeLinear", [node.input[0], f"{tag}_x_scale", f"{tag}_x_zero"], [f"{tag}_xq"]),
                      helper.make_node("DequantizeLinear", [f"{tag}_xq", f"{tag}_x_scale", f"{tag}_x_zero"], [f"{tag}_xdq"])]
        # weight: s8 symmetric per output channel
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        sw = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(1), 1e-8) / 127.0
        wq = np.clip(np.round(w / sw.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
        new_inits += [numpy_helper.from_array(wq, f"{tag}_wq"),
                      numpy_helper.from_array(sw.astype(np.float32), f"{tag}_w_scale"),
                      numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f"{tag}_w_zero")]
        new_nodes.append(helper.make_node("DequantizeLinear", [f"{tag}_wq", f"{tag}_w_scale", f"{tag}_w_zero"],
                                          [f"{tag}_wdq"], axis=0))
        inputs = [f"{tag}_xdq", f"{tag}_wdq"]
        if len(node.input) > 2 and node.input[2]:
            b = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
            sb = (sx * sw).astype(np.float32)
            bq = np.round(b / sb).astype(np.int32)
            new_inits += [numpy_helper.from_array(bq, f"{tag}_bq"), numpy_helper.from_array(sb, f"{tag}_b_scale"),
                          numpy_helper.from_array(np.zeros(w.shape[0], np.int32), f"{tag}_b_zero")]
            new_nodes.append(helper.make_node("DequantizeLinear", [f"{tag}_bq", f"{tag}_b_scale", f"{tag}_b_zero"],
                                              [f"{tag}_bdq"], axis=0))
            inputs.append(f"{tag}_bdq")
        # the conv, then Q -> DQ on its output (what lets ONNX Runtime fuse the group into QLinearConv)
        sy, zy = _u8_params(*r["out"])
        new_inits += [numpy_helper.from_array(np.array(sy), f"{tag}_y_scale"),
                      numpy_helper.from_array(np.array(zy), f"{tag}_y_zero")]
        conv = helper.make_node("Conv", inputs, [f"{tag}_y"], name=node.name)
        conv.attribute.extend(node.attribute)
        new_nodes += [conv,
                      helper.make_node("QuantizeLinear", [f"{tag}_y", f"{tag}_y_scale", f"{tag}_y_zero"], [f"{tag}_yq"]),
                      helper.make_node("DequantizeLinear", [f"{tag}_yq", f"{tag}_y_scale", f"{tag}_y_zero"], [node.output[0]])]
        done.append(module)
    used = {i for n in new_nodes for i in n.input}
    keep_inits = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep_inits + new_inits)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return done, kept


def quantize_pack(net, folder: str, name: str, styles, keep_float=(), frames=None, tier_of=None) -> dict:
    """Exports `net` as a float pack into `folder`, then quantizes both graphs; returns the manifest."""
    manifest = export_pack(net, folder, name, styles, tier_of=tier_of)
    ranges = activation_ranges(net, frames or calibration_frames())
    report = {}
    for part in ("encoder", "decoder"):
        done, kept = quantize_graph(os.path.join(folder, f"{part}.onnx"), ranges, keep_float)
        report[part] = {"int8": len(done), "float": kept}
    manifest["precision"] = "int8"
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--style", help="bake this style of a multi-style checkpoint")
    ap.add_argument("--pack", required=True, help="pack folder to write (float export, then quantized in place)")
    ap.add_argument("--name", help="name shown to users (default: the style's title)")
    ap.add_argument("--keep-float", default="", help="comma-separated conv modules to leave in float "
                    "(e.g. decoder.out,encoder.layers.0)")
    ap.add_argument("--frames", type=int, default=24, help="calibration frames")
    ap.add_argument("--tier-of", help="the bundled style this pack is another network size of (manifest tier_of)")
    a = ap.parse_args(argv)
    net, styles = load(a.checkpoint)
    if a.style:
        if a.style not in styles:
            ap.error(f"--style {a.style}: the checkpoint has {styles}")
        net = bake(net, [1.0 if s == a.style else 0.0 for s in styles])
        styles = [a.style]
    keep = [k for k in a.keep_float.split(",") if k]
    report = quantize_pack(net, a.pack, a.name or short_title(styles[0]), styles, keep, calibration_frames(a.frames),
                           tier_of=a.tier_of)
    for part, r in report.items():
        print(f"{part}: {r['int8']} convs int8, float: {', '.join(r['float']) or 'none'}")
    print(f"wrote pack {a.pack}")


if __name__ == "__main__":
    main()
