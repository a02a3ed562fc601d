#!/usr/bin/python3
"""Generate the ONNX models StyleFilter's tests and speed measurements use.

    make_models.py --out DIR            test models (small, random but seeded weights), and
                                        DIR/placeholder/placeholder.onnx
    make_models.py --placeholder DIR    only DIR/placeholder.onnx: the full-width network, untrained

The placeholder is not a style (it is never bundled): tests and timings load it by path.

Only onnx.helper and numpy are used (Debian's python3-onnx 1.12 and python3-numpy), so run
it with /usr/bin/python3. Output is deterministic: same script, same bytes.

Tensor convention everywhere: images are float32 NCHW 1x3xHxW, RGB, values 0..255.
"""

import argparse
import json
import os
import sys
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PRODUCER = "stylefilter-make_models"


class Graph:
    """Small helper that collects nodes and initializers and hands out unique names."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.counter = 0

    def name(self, prefix):
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def const(self, array, prefix="const"):
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def op(self, op_type, inputs, prefix=None, **attrs):
        out = self.name(prefix or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    # ---- layers -------------------------------------------------------------
    def conv(self, x, cin, cout, k, stride=1, pad=0, gain=np.sqrt(2.0), bias=True, weight=None):
        if weight is None:
            std = gain / np.sqrt(cin * k * k)
            weight = (self.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32)
        inputs = [x, self.const(weight, "conv_w")]
        if bias:
            inputs.append(self.const(np.zeros(cout, np.float32), "conv_b"))
        attrs = dict(kernel_shape=[k, k], strides=[stride, stride])
        if pad:
            attrs["pads"] = [pad, pad, pad, pad]
        return self.op("Conv", inputs, "conv", **attrs)

    def instance_norm(self, x, c):
        scale = (1.0 + 0.1 * self.rng.standard_normal(c)).astype(np.float32)
        shift = (0.1 * self.rng.standard_normal(c)).astype(np.float32)
        return self.op("InstanceNormalization",
                       [x, self.const(scale, "in_scale"), self.const(shift, "in_bias")],
                       "in", epsilon=1e-5)

    def relu(self, x):
        return self.op("Relu", [x])

    def reflect_pad(self, x, p):
        # opset 9 (Pad-2): pads is an attribute, [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
        return self.op("Pad", [x], "pad", mode="reflect", pads=[0, 0, p, p, 0, 0, p, p])

    def scalar_mul_add(self, x, mul, add):
        y = self.op("Mul", [x, self.const(np.array(mul, np.float32), "mul")])
        return self.op("Add", [y, self.const(np.array(add, np.float32), "add")])


def dyn_image(name, elem=TensorProto.FLOAT, h="height", w="width", c=3):
    return helper.make_tensor_value_info(name, elem, [1, c, h, w])


def make_model(graph, inputs, outputs, opset, name):
    g = helper.make_graph(graph.nodes, name, inputs, outputs, initializer=graph.inits)
    m = helper.make_model(g, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8  # what onnx 1.12 writes; ONNX Runtime 1.29 reads it
    return m


# ---------------------------------------------------------------------------
# "Fast neural style" (ONNX model zoo mosaic/candy/udnie-9 structure)
# ---------------------------------------------------------------------------
def zoo_body(g, x, widths, n_res):
    """Johnson et al. transformer net as exported to the ONNX zoo: reflection pad + conv,
    instance norm, residual blocks, nearest Upsample (opset 9, scales as an input)."""
    c1, c2, c3 = widths

    def conv_layer(x, cin, cout, k, stride=1):
        return g.conv(g.reflect_pad(x, k // 2), cin, cout, k, stride)

    y = g.relu(g.instance_norm(conv_layer(x, 3, c1, 9), c1))
    y = g.relu(g.instance_norm(conv_layer(y, c1, c2, 3, 2), c2))
    y = g.relu(g.instance_norm(conv_layer(y, c2, c3, 3, 2), c3))
    for _ in range(n_res):
        r = g.relu(g.instance_norm(conv_layer(y, c3, c3, 3), c3))
        r = g.instance_norm(conv_layer(r, c3, c3, 3), c3)
        y = g.op("Add", [y, r], "res_add")
    scales = np.array([1, 1, 2, 2], np.float32)
    for cin, cout in ((c3, c2), (c2, c1)):
        y = g.op("Upsample", [y, g.const(scales, "up_scales")], "upsample", mode="nearest")
        y = g.relu(g.instance_norm(conv_layer(y, cin, cout, 3), cout))
    # Last layer: plain conv to RGB, unit-ish output variance.
    return conv_layer(y, c1, 3, 9)


def zoo_model(seed, widths, n_res, fixed=None, placeholder=False):
    g = Graph(np.random.default_rng(seed))
    if fixed:
        inp = dyn_image("input1", h=fixed[0], w=fixed[1])
        outp = dyn_image("output1", h=fixed[0], w=fixed[1])
    else:
        inp = dyn_image("input1")
        # Output is HxW only when H and W are multiples of 4 (two stride-2 convs, two x2
        # upsamples), exactly as for the zoo models, so it gets its own symbolic dims.
        outp = dyn_image("output1", h="out_height", w="out_width")
    y = zoo_body(g, "input1", widths, n_res)
    if placeholder:
        # Keep the picture recognisable: 0.6 * input + 0.4 * 255 * sigmoid(conv)
        s = g.op("Sigmoid", [y])
        s = g.op("Mul", [s, g.const(np.array(0.4 * 255.0, np.float32), "mul")])
        a = g.op("Mul", ["input1", g.const(np.array(0.6, np.float32), "mul")])
        y = g.op("Add", [a, s], "add")
    else:
        # Linear map to roughly 0..255 (values a little outside are possible, as with the
        # real zoo models; consumers clamp).
        y = g.scalar_mul_add(y, 60.0, 127.5)
    g.nodes[-1].output[0] = "output1"
    g.nodes[-1].name = "output1"
    return make_model(g, [inp], [outp], 9, "fast_neural_style")


# ---------------------------------------------------------------------------
# Tiny single-op models
# ---------------------------------------------------------------------------
def conv1x1_model(weight, name):
    g = Graph(np.random.default_rng(0))
    w = np.asarray(weight, np.float32).reshape(3, 3, 1, 1)
    g.nodes.append(helper.make_node("Conv", ["input1", g.const(w, "w")], ["output1"],
                                    name="conv", kernel_shape=[1, 1]))
    return make_model(g, [dyn_image("input1")], [dyn_image("output1")], 9, name)


def wrong_rank_model():
    g = Graph(np.random.default_rng(0))
    g.nodes.append(helper.make_node("Relu", ["input1"], ["output1"], name="relu"))
    return make_model(g,
                      [helper.make_tensor_value_info("input1", TensorProto.FLOAT, [1, 3])],
                      [helper.make_tensor_value_info("output1", TensorProto.FLOAT, [1, 3])],
                      9, "wrong_rank")


def int_input_model():
    g = Graph(np.random.default_rng(0))
    g.nodes.append(helper.make_node("Cast", ["input1"], ["output1"], name="cast",
                                    to=TensorProto.FLOAT))
    return make_model(g, [dyn_image("input1", TensorProto.UINT8)], [dyn_image("output1")],
                      9, "int_input")


def fixed_reshape_model():
    """Declares a fixed 1x3x64x64 input, and its graph holds to it: a Reshape to 1x3x4096 fails at any other size."""
    g = Graph(np.random.default_rng(0))
    flat = g.op("Reshape", ["input1", g.const(np.array([1, 3, 64 * 64], np.int64), "shape")])
    y = g.op("Mul", [flat, g.const(np.array(0.5, np.float32), "mul")])
    g.nodes.append(helper.make_node("Reshape", [y, g.const(np.array([1, 3, 64, 64], np.int64), "shape")],
                                    ["output1"], name="unflatten"))
    return make_model(g, [dyn_image("input1", h=64, w=64)], [dyn_image("output1", h=64, w=64)], 9, "fixed_reshape")


def fixed_output_model():
    """Declares a fixed 1x3x64x64 input and runs at any size, but always returns 64x64 (a Resize to fixed sizes)."""
    g = Graph(np.random.default_rng(0))
    sizes = g.const(np.array([1, 3, 64, 64], np.int64), "sizes")
    y = g.op("Resize", ["input1", "", "", sizes], "resize", mode="nearest")
    g.nodes.append(helper.make_node("Mul", [y, g.const(np.array(0.5, np.float32), "mul")], ["output1"], name="half"))
    return make_model(g, [dyn_image("input1", h=64, w=64)], [dyn_image("output1", h=64, w=64)], 13, "fixed_output")


def runtime_fail_model():
    """Loads fine but only runs on 64x64 inputs: Reshape to a fixed 1x3x64x64 fails for any other size."""
    g = Graph(np.random.default_rng(0))
    shape = g.const(np.array([1, 3, 64, 64], np.int64), "shape")
    g.nodes.append(helper.make_node("Reshape", ["input1", shape], ["output1"], name="reshape"))
    return make_model(g, [dyn_image("input1")], [dyn_image("output1")], 9, "runtime_fail")


# ---------------------------------------------------------------------------
# Split packs (encoder + decoder + manifest), opset 17
# ---------------------------------------------------------------------------
FEATURES = 16


def encoder_model(seed):
    g = Graph(np.random.default_rng(seed))
    y = g.relu(g.instance_norm(g.conv("image", 3, 8, 3, stride=2, pad=1), 8))
    y = g.relu(g.instance_norm(g.conv(y, 8, FEATURES, 3, stride=2, pad=1), FEATURES))
    g.nodes[-1].output[0] = "features"
    g.nodes[-1].name = "features"
    feat = dyn_image("features", h="feat_height", w="feat_width", c=FEATURES)
    return make_model(g, [dyn_image("image")], [feat], 17, "encoder")


def decoder_trunk(g):
    scales = g.const(np.array([1, 1, 2, 2], np.float32), "scales")
    y = "features"
    for cin, cout in ((FEATURES, 8), (8, 8)):
        y = g.op("Resize", [y, "", scales], "resize", mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        y = g.relu(g.instance_norm(g.conv(y, cin, cout, 3, pad=1), cout))
    return g.conv(y, 8, 3, 3, pad=1, gain=1.0)


def decoder_model(seed, mix=False):
    g = Graph(np.random.default_rng(seed))
    y = decoder_trunk(g)
    inputs = [dyn_image("features", h="feat_height", w="feat_width", c=FEATURES)]
    if not mix:
        y = g.op("Sigmoid", [y])
        y = g.op("Mul", [y, g.const(np.array(255.0, np.float32), "mul")])
    else:
        inputs.append(helper.make_tensor_value_info("style", TensorProto.FLOAT, [2]))
        # Branch A pushes towards red, branch B towards blue; out = w0 * A + w1 * B.
        branches = []
        for i, tint in enumerate(([2.5, -2.5, -2.5], [-2.5, -2.5, 2.5])):
            b = g.op("Add", [y, g.const(np.array(tint, np.float32).reshape(1, 3, 1, 1), "tint")])
            b = g.op("Sigmoid", [b])
            b = g.op("Mul", [b, g.const(np.array(255.0, np.float32), "mul")])
            w = g.op("Gather", ["style", g.const(np.array(i, np.int64), "index")], "weight", axis=0)
            branches.append(g.op("Mul", [b, w], "weighted"))
        y = g.op("Add", branches, "mix")
    g.nodes[-1].output[0] = "image"
    g.nodes[-1].name = "image"
    return make_model(g, inputs, [dyn_image("image")], 17, "decoder")


def manifest(name, **extra):
    m = {"format": "stylefilter.pack", "version": 1, "name": name,
         "encoder": "encoder.onnx", "decoder": "decoder.onnx",
         "input": "image", "features": "features", "output": "image", "multiple": 4}
    m.update(extra)
    return json.dumps(m, indent=2) + "\n"


# ---------------------------------------------------------------------------
def save(model, path, written):
    onnx.save(model, path)
    written.append(path)


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_pack(folder, enc, dec, man, written):
    os.makedirs(folder, exist_ok=True)
    if enc is not None:
        save(enc, os.path.join(folder, "encoder.onnx"), written)
    if dec is not None:
        save(dec, os.path.join(folder, "decoder.onnx"), written)
    write_text(os.path.join(folder, "manifest.json"), man)


def zip_folder(folder, zip_path, names):
    # Fixed timestamps and order so the archive is byte-for-byte reproducible.
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for n in names:
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(folder, n), "rb") as f:
                z.writestr(info, f.read())


def write_test_models(out):
    os.makedirs(out, exist_ok=True)
    written = []
    small = (8, 16, 32)
    save(zoo_model(1, small, 2), os.path.join(out, "zoo_dynamic.onnx"), written)
    save(zoo_model(1, small, 2, fixed=(64, 64)), os.path.join(out, "zoo_fixed64.onnx"), written)
    # Fixed 64x64 inputs whose graphs cannot run at other sizes: the engine keeps them at 64x64.
    save(fixed_reshape_model(), os.path.join(out, "fixed64_reshape.onnx"), written)
    save(fixed_output_model(), os.path.join(out, "fixed64_output.onnx"), written)
    save(conv1x1_model(np.eye(3), "identity"), os.path.join(out, "identity.onnx"), written)
    luma = np.tile(np.array([0.299, 0.587, 0.114]), (3, 1))
    save(conv1x1_model(luma, "grey"), os.path.join(out, "grey.onnx"), written)
    save(wrong_rank_model(), os.path.join(out, "wrong_rank.onnx"), written)
    save(int_input_model(), os.path.join(out, "int_input.onnx"), written)
    save(runtime_fail_model(), os.path.join(out, "runtime_fail.onnx"), written)

    corrupt = os.path.join(out, "corrupt.onnx")
    with open(corrupt, "wb") as f:
        f.write(np.random.default_rng(1234).bytes(4096))

    basic = os.path.join(out, "pack_basic")
    # The fields for users: title (shown instead of name), artist (not ASCII), year.
    write_pack(basic, encoder_model(2), decoder_model(3),
               manifest("Basic test pack", title="Basic Test Painting", artist="Zo\u00eb Tester", year="c. 2024"),
               written)
    zip_folder(basic, os.path.join(out, "pack_basic.zip"),
               ["manifest.json", "encoder.onnx", "decoder.onnx"])

    # A style with two network sizes (models/README.md, "tier"): pack_tiered has pack_basic's networks, its fast size
    # a decoder of other weights, so the picture tells which of the two a host loaded by the name pack_tiered (Auto on
    # a CPU: the fast one; Compact: pack_tiered itself). Apart from pack_basic, whose name keeps loading exactly it.
    write_pack(os.path.join(out, "pack_tiered"), encoder_model(2), decoder_model(3),
               manifest("Tiered test pack", title="Tiered Test Painting"), written)
    write_pack(os.path.join(out, "pack_tiered_fast"), encoder_model(2), decoder_model(7),
               manifest("Tiered test pack (fast)", title="Tiered Test Painting (fast)", tier="fast",
                        tier_of="pack_tiered"), written)

    write_pack(os.path.join(out, "pack_mix"), encoder_model(2), decoder_model(3, mix=True),
               manifest("Mix test pack", description="Two styles: red and blue tint",
                        styles=["red", "blue"], style_input="style"), written)

    broken = os.path.join(out, "pack_broken")
    stale = os.path.join(broken, "decoder.onnx")
    if os.path.exists(stale):
        os.remove(stale)
    write_pack(broken, encoder_model(2), None, manifest("Broken test pack"), written)

    for path in written:
        onnx.checker.check_model(onnx.load(path), full_check=True)
    try:
        onnx.load(corrupt)
    except Exception:
        pass
    else:
        sys.exit("corrupt.onnx unexpectedly parses as a model")
    print(f"wrote {len(written)} test models + corrupt.onnx, pack_basic.zip to {out}")
    write_placeholder(os.path.join(out, "placeholder"))


def write_placeholder(folder):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "placeholder.onnx")
    model = zoo_model(0, (32, 64, 128), 5, placeholder=True)
    model.doc_string = ("Placeholder style: untrained random weights, output = "
                        "0.6 * input + 0.4 * 255 * sigmoid(net(input)).")
    onnx.save(model, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="folder for the test models")
    ap.add_argument("--placeholder", help="folder for placeholder.onnx")
    args = ap.parse_args()
    if not args.out and not args.placeholder:
        ap.error("give --out DIR and/or --placeholder DIR")
    if args.out:
        write_test_models(args.out)
    if args.placeholder:
        write_placeholder(args.placeholder)


if __name__ == "__main__":
    main()
