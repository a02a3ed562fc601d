#!/usr/bin/python3
"""Generate the broken-model corpus (issue 12): one hostile or damaged style per case, and DIR/cases.tsv.

    make_broken_models.py --out DIR

Every case is something a user could hand the engine as a style (a file, a pack folder, a .zip, a special
file) and that the engine must refuse cleanly or survive: SF_ERR_MODEL at load (never SF_ERR_INTERNAL,
never a hang), or, for models that only break on some inputs, a load that works and a frame that fails
with pass-through. tests/abi/test_corpus.c (ABI) and tests/abi/corpus_cli.sh (CLI) run every case.

cases.tsv, tab separated, one case a line (lines starting with '#' are comments):
    case   path (relative to DIR)   load   frame   names   description
load:  MODEL  sf_engine_load_style returns SF_ERR_MODEL
       OK     the load succeeds; then a frame returns the `frame` status (MODEL or RUNTIME) with pass-through
       ANY    randomly damaged model: MODEL at load, or OK and then a frame that is SF_OK with finite output
              or SF_ERR_MODEL with pass-through (which one depends on where the damage landed)
frame: - , MODEL or RUNTIME
names: text the load error must contain besides the case's own name (the offending pack member or manifest
       field), or -

The "conditional" models (load OK, frame fails) turn bad only for non-square images with both near-black
and near-white pixels (a photo, the test frame), so that the engine's load probe (a square, mid-grey
texture) passes and the first real frame fails.

Deterministic (seeded), only onnx.helper and numpy (run with /usr/bin/python3), a few seconds. Nothing large
is written: the zip bombs are ~1 MB (a deflate stream repeated block by block, never expanded), the two
"over 1 GiB" files are sparse (no blocks on disk; a copy that does not keep holes makes them real). DIR is
cleared first when it holds an earlier corpus (this script's marker file). Some cases are absolute paths or
symlinks resolved at generation time: regenerate rather than move the folder.
"""

import argparse
import json
import os
import shutil
import socket
import struct
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models as mm  # noqa: E402  (the good test models these cases are broken from)

GIB = 1 << 30
OPSET = 17


# ---------------------------------------------------------------------------
# Graph building blocks
# ---------------------------------------------------------------------------
class G(mm.Graph):
    """make_models.Graph with names that cannot clash with those of a model it is appended to."""

    def name(self, prefix):
        self.counter += 1
        return f"broken_{prefix}_{self.counter}"

    def i64(self, values):
        return self.const(np.array(values, np.int64), "i64")

    def f32(self, value):
        return self.const(np.array(value, np.float32), "f32")


def single(build, name, inputs=None, outputs=None, opset=OPSET):
    """A single-graph style: build(g, "input1") returns the output tensor; it is renamed to output1."""
    g = G(np.random.default_rng(0))
    build(g, "input1")
    g.nodes[-1].output[0] = "output1"
    inputs = inputs or [mm.dyn_image("input1")]
    outputs = outputs or [mm.dyn_image("output1")]
    return mm.make_model(g, inputs, outputs, opset, name)


def append(model, tensor, build):
    """Re-routes `tensor` (an output of model) through build(g, pre) -> new tensor, keeping its name."""
    g = G(np.random.default_rng(0))
    pre = tensor + "_before_broken"
    for node in model.graph.node:
        for i, out in enumerate(node.output):
            if out == tensor:
                node.output[i] = pre
    build(g, pre)
    g.nodes[-1].output[0] = tensor
    model.graph.node.extend(g.nodes)
    model.graph.initializer.extend(g.inits)
    return model


def bad_image_flag(g, image):
    """Bool scalar: true for a non-square image with near-black and near-white pixels (a photo, the test frame),
    false for the engine's square mid-grey load probe. The conditional cases turn bad only when it is true."""
    shape = g.op("Shape", [image])
    h = g.op("Gather", [shape, g.i64(2)], axis=0)
    w = g.op("Gather", [shape, g.i64(3)], axis=0)
    not_square = g.op("Not", [g.op("Equal", [h, w])])
    spread = g.op("Sub", [g.op("ReduceMax", [image], keepdims=0), g.op("ReduceMin", [image], keepdims=0)])
    full_range = g.op("Greater", [spread, g.f32(200.0)])
    return g.op("And", [not_square, full_range])


def where_flag(g, flag, value):
    """value where flag, else 0 (a float scalar to add to a tensor)."""
    return g.op("Where", [flag, g.f32(value), g.f32(0.0)])


def one_pixel(g, image, value, last):
    """A 1x3xHxW tensor shaped like image: 0 everywhere but `value` at channel 0 of the first (or last) pixel."""
    dot = g.f32(np.full((1, 1, 1, 1), value, np.float32))
    hw = g.op("Slice", [g.op("Shape", [image]), g.i64([2]), g.i64([4]), g.i64([0])])
    rest = g.op("Sub", [hw, g.i64(1)])
    if last:
        pads = g.op("Concat", [g.i64([0, 2]), rest, g.i64([0, 0, 0, 0])], axis=0)
    else:
        pads = g.op("Concat", [g.i64([0, 0, 0, 0, 0, 2]), rest], axis=0)
    return g.op("Pad", [dot, pads], mode="constant")


# ---------------------------------------------------------------------------
# Single-graph models
# ---------------------------------------------------------------------------
def nonfinite_models():
    """Unconditionally NaN / inf outputs: the load probe must see them."""
    def log_negative(g, x):  # log(-1 - x): NaN for every x >= 0
        g.op("Log", [g.op("Sub", [g.f32(-1.0), x])])

    def zero_over_zero(g, x):
        z = g.op("Mul", [x, g.f32(0.0)])
        g.op("Div", [z, z])

    def div_zero(g, x):  # (x + 1) / 0 = +inf
        g.op("Div", [g.op("Add", [x, g.f32(1.0)]), g.f32(0.0)])

    def log_zero(g, x):  # log(0) = -inf
        g.op("Log", [g.op("Mul", [x, g.f32(0.0)])])

    def first_pixel_nan(g, x):  # one NaN value in a finite image: a check that samples would miss it
        g.op("Add", [x, one_pixel(g, x, np.nan, last=False)])

    def last_pixel_inf(g, x):
        g.op("Add", [x, one_pixel(g, x, np.inf, last=True)])

    return [
        ("nan_log_negative", single(log_negative, "nan_log_negative"), "output log(-1 - image): NaN everywhere"),
        ("nan_zero_over_zero", single(zero_over_zero, "nan_zero_over_zero"), "output (0*image)/(0*image): NaN everywhere"),
        ("inf_div_zero", single(div_zero, "inf_div_zero"), "output (image+1)/0: +inf everywhere"),
        ("neginf_log_zero", single(log_zero, "neginf_log_zero"), "output log(0*image): -inf everywhere"),
        ("nan_first_pixel", single(first_pixel_nan, "nan_first_pixel"), "identity with one NaN value (first pixel, red)"),
        ("inf_last_pixel", single(last_pixel_inf, "inf_last_pixel"), "identity with one +inf value (last pixel, red)"),
    ]


def zoo_with_weight(transform):
    """zoo_dynamic.onnx (same seed and widths as make_models) with transform(first conv weight array)."""
    m = mm.zoo_model(1, (8, 16, 32), 2)
    init = next(t for t in m.graph.initializer if t.name.startswith("conv_w"))
    w = numpy_helper.to_array(init).copy()
    transform(w)
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    return m


def flip_exponent_of_small_weight(w):
    """Sets the top exponent bit of the largest weight (|w| < 2): x 2^128, ~1e37, which overflows to inf in the
    first layers."""
    flat = w.reshape(-1)
    i = int(np.argmax(np.abs(flat)))
    assert abs(flat[i]) < 2
    bits = flat[i:i + 1].view(np.uint32)
    bits ^= np.uint32(1 << 30)


def conditional_models():
    def cond_nan(g, x):
        g.op("Add", [x, where_flag(g, bad_image_flag(g, x), np.nan)])

    def cond_inf(g, x):
        g.op("Add", [x, where_flag(g, bad_image_flag(g, x), np.inf)])

    return [
        ("cond_nan_single", single(cond_nan, "cond_nan_single"),
         "identity, NaN output for non-square full-range images only (the load probe passes)"),
        ("cond_inf_single", single(cond_inf, "cond_inf_single"),
         "identity, +inf output for non-square full-range images only (the load probe passes)"),
    ]


def loop_model(conditional):
    """A Loop with 2^62 iterations (or, conditional, 2^62 only for the frames bad_image_flag picks, 1 for the
    probe). Its carried value starts from the image so ONNX Runtime cannot fold the loop at load."""
    body_g = G(np.random.default_rng(0))
    body_g.nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"))
    body_g.nodes.append(helper.make_node("Add", ["v_in", body_g.f32(1.0)], ["v_out"], name="count"))
    scalar = lambda n, t: helper.make_tensor_value_info(n, t, [])  # noqa: E731
    body = helper.make_graph(body_g.nodes, "spin",
                             [scalar("iter", TensorProto.INT64), scalar("cond_in", TensorProto.BOOL), scalar("v_in", TensorProto.FLOAT)],
                             [scalar("cond_out", TensorProto.BOOL), scalar("v_out", TensorProto.FLOAT)],
                             initializer=body_g.inits)

    def build(g, x):
        huge = g.i64(1 << 62)
        trips = g.op("Where", [bad_image_flag(g, x), huge, g.i64(1)]) if conditional else huge
        start = g.op("ReduceMean", [x], keepdims=0)
        keep = g.const(np.array(True), "true")
        v = g.op("Loop", [trips, keep, start], "loop", body=body)
        g.op("Add", [x, g.op("Mul", [v, g.f32(0.0)])])

    name = "cond_loop_frame" if conditional else "loop_2pow62"
    return single(build, name)


def expand_bomb():
    """Expand the image to 2^20 x 2^20 copies, then average them back: 2^40 x the frame, far beyond any memory."""
    def build(g, x):
        big = g.op("Expand", [x, g.i64([1 << 20, 1 << 20, 1, 1, 1])])
        mean = g.op("ReduceMean", [big], axes=[0, 1], keepdims=0)
        g.op("Unsqueeze", [mean, g.i64([0])])
    return single(build, "expand_bomb")


def expand_over_memory_cap():
    """Expand the 64x64 probe picture to 3/4 of this machine's memory: more than the engine lets ONNX Runtime hold
    (half the memory, at most 4 GiB), less than the machine has, so without the cap the allocation succeeds and the host
    thrashes or is killed. Sized from /proc/meminfo when the corpus is written."""
    with open("/proc/meminfo") as f:
        total = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemTotal:"))
    copies = int(total * 0.75) // (3 * 64 * 64 * 4)
    def build(g, x):
        big = g.op("Expand", [x, g.i64([copies, 1, 1, 1, 1])])
        mean = g.op("ReduceMean", [big], axes=[0], keepdims=0)
        g.op("Identity", [mean])
    return single(build, "expand_over_memory_cap")


def fixed_size(h, w, name):
    return single(lambda g, x: g.op("Relu", [x]), name,
                  inputs=[mm.dyn_image("input1", h=h, w=w)], outputs=[mm.dyn_image("output1", h=h, w=w)])


def shape_models():
    rank3 = single(lambda g, x: g.op("Squeeze", [x, g.i64([0])]), "rank3_output",
                   outputs=[helper.make_tensor_value_info("output1", TensorProto.FLOAT, [3, "height", "width"])])

    def four(g, x):
        g.op("Concat", [x, g.op("ReduceMean", [x], axes=[1], keepdims=1)], axis=1)
    four_channel = single(four, "four_channel_output", outputs=[mm.dyn_image("output1", c=4)])
    # Declares a 1x3xHxW output but produces 1x4xHxW: only running it shows the problem.
    lying = single(four, "lying_output_shape")
    int_input = single(lambda g, x: g.op("Cast", [x], to=TensorProto.FLOAT), "int32_input",
                       inputs=[mm.dyn_image("input1", TensorProto.INT32)])
    extra_image = single(lambda g, x: g.op("Add", [x, "input2"]), "extra_image_input",
                         inputs=[mm.dyn_image("input1"), mm.dyn_image("input2")])

    def gain(g, x):
        g.op("Mul", [x, g.op("Cast", ["gain"], to=TensorProto.FLOAT)])
    extra_int = single(gain, "extra_int_input",
                       inputs=[mm.dyn_image("input1"), helper.make_tensor_value_info("gain", TensorProto.INT64, [1])])
    # An 8x nearest upsampling: a 1080p frame would give a 15360x8640 image (1.6 GB of floats) to blend and resize.
    oversized = single(lambda g, x: g.op("Resize", [x, "", g.f32([1, 1, 8, 8])], mode="nearest"), "oversized_output")
    return [
        ("oversized_output", oversized, "output is 8x the input's size"),
        ("rank3_output", rank3, "output is 3xHxW (rank 3)"),
        ("four_channel_output", four_channel, "output is 1x4xHxW"),
        ("lying_output_shape", lying, "declares a 1x3xHxW output, produces 1x4xHxW"),
        ("int32_input", int_input, "image input is int32"),
        ("rank2_input", mm.wrong_rank_model(), "input and output are [1,3]"),
        ("extra_image_input", extra_image, "a second image input the engine cannot feed"),
        ("extra_int_input", extra_int, "an extra int64 [1] input (only a float [N] mix input is allowed)"),
    ]


# ---------------------------------------------------------------------------
# Split packs
# ---------------------------------------------------------------------------
def encoder(build=None):
    m = mm.encoder_model(2)
    return append(m, "features", build) if build else m


def decoder(build=None, clip_features=False):
    m = mm.decoder_model(3)
    if clip_features:
        # The decoder first clips its features to [0, 10]: +inf features then give a finite picture, so only a
        # check of the features themselves catches them.
        for node in m.graph.node:
            for i, name in enumerate(node.input):
                if name == "features":
                    node.input[i] = "features_clipped"
        lo = numpy_helper.from_array(np.array(0.0, np.float32), "clip_lo")
        hi = numpy_helper.from_array(np.array(10.0, np.float32), "clip_hi")
        m.graph.initializer.extend([lo, hi])
        m.graph.node.insert(0, helper.make_node("Clip", ["features", "clip_lo", "clip_hi"], ["features_clipped"], name="clip"))
    return append(m, "image", build) if build else m


def nonfinite_packs():
    def nan_features(g, f):
        g.op("Log", [g.op("Sub", [g.f32(-1.0), f])])

    def inf_features(g, f):
        g.op("Div", [g.op("Add", [f, g.f32(1.0)]), g.f32(0.0)])

    def cond_nan_features(g, f):
        g.op("Add", [f, where_flag(g, bad_image_flag(g, "image"), np.nan)])

    def cond_marked_features(g, f):  # finite, but the decoder below turns the mark into NaN
        g.op("Add", [f, where_flag(g, bad_image_flag(g, "image"), 1000.0)])

    def cond_nan_image(g, img):
        marked = g.op("Greater", [g.op("ReduceMax", ["features"], keepdims=0), g.f32(500.0)])
        g.op("Add", [img, where_flag(g, marked, np.nan)])

    nan_image = lambda g, img: g.op("Log", [g.op("Sub", [g.f32(-1.0), img])])  # noqa: E731
    inf_image = lambda g, img: g.op("Div", [img, g.f32(0.0)])  # noqa: E731  (image > 0 after the sigmoid)
    return [
        ("pack_nan_encoder", encoder(nan_features), decoder(), "MODEL", "-", "pack whose encoder features are NaN"),
        ("pack_inf_encoder_clipped", encoder(inf_features), decoder(clip_features=True), "MODEL", "-",
         "pack whose encoder features are +inf; the decoder clips them, so only the features show it"),
        ("pack_nan_decoder", encoder(), decoder(nan_image), "MODEL", "-", "pack whose decoder outputs NaN"),
        ("pack_inf_decoder", encoder(), decoder(inf_image), "MODEL", "-", "pack whose decoder outputs +inf"),
        ("cond_nan_pack_encoder", encoder(cond_nan_features), decoder(), "OK", "MODEL",
         "pack whose encoder features are NaN for non-square full-range images only"),
        ("cond_nan_pack_decoder", encoder(cond_marked_features), decoder(cond_nan_image), "OK", "MODEL",
         "pack whose decoder outputs NaN for non-square full-range images only"),
    ]


def manifest(**changes):
    """The pack_basic manifest as a dict, with changes (a value of None removes the field)."""
    m = json.loads(mm.manifest("Broken test pack"))
    for k, v in changes.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    return m


def manifest_cases():
    """(case, manifest.json text, what the error must name, description): folder packs with a good encoder and decoder."""
    nested = "[" * 10000 + "]" * 10000
    big = json.dumps(manifest(description="x" * (2 << 20)))
    dump = lambda v: json.dumps(v, indent=2) + "\n"  # noqa: E731
    return [
        ("manifest_root_array", dump([manifest()]), "manifest", "manifest root is an array"),
        ("manifest_root_string", dump("stylefilter.pack"), "manifest", "manifest root is a string"),
        ("manifest_root_null", "null\n", "manifest", "manifest root is null"),
        ("manifest_version_string", dump(manifest(version="1")), "version", "\"version\": \"1\" (a string)"),
        ("manifest_version_float", dump(manifest(version=1.5)), "version", "\"version\": 1.5"),
        ("manifest_multiple_string", dump(manifest(multiple="4")), "multiple", "\"multiple\": \"4\" (a string)"),
        ("manifest_multiple_huge", dump(manifest(multiple=1e30)), "multiple", "\"multiple\": 1e30"),
        ("manifest_styles_number", dump(manifest(styles=2, style_input="style")), "styles", "\"styles\": 2 (a number)"),
        ("manifest_styles_numbers_list", dump(manifest(styles=[1, 2], style_input="style")), "styles", "\"styles\": [1, 2]"),
        ("manifest_styles_without_input", dump(manifest(styles=["a", "b"])), "style_input", "styles listed, no style_input"),
        ("manifest_style_input_number", dump(manifest(styles=["a", "b"], style_input=5)), "style_input", "\"style_input\": 5"),
        ("manifest_missing_encoder", dump(manifest(encoder=None)), "encoder", "no \"encoder\" field"),
        ("manifest_missing_fields", dump({"format": "stylefilter.pack", "version": 1}), "manifest", "only format and version"),
        ("manifest_encoder_number", dump(manifest(encoder=5)), "encoder", "\"encoder\": 5"),
        ("manifest_encoder_folder", dump(manifest(encoder=".")), "-", "\"encoder\": \".\" (the pack folder itself)"),
        ("manifest_not_json", "{\"format\": \"stylefilter.pack\", \"version\": 1,\n", "manifest", "manifest is cut-off JSON"),
        ("manifest_empty", "", "manifest", "manifest.json is empty"),
        ("manifest_deep_nesting", "{\"format\": \"stylefilter.pack\", \"deep\": " + nested + "}\n", "manifest", "10,000 nested arrays"),
        ("manifest_huge", big, "manifest", "manifest.json of 2 MiB (over the 1 MiB limit)"),
    ]


# ---------------------------------------------------------------------------
# Damaged bytes
# ---------------------------------------------------------------------------
def top_level_fields(data):
    """Byte offsets where the protobuf's top-level fields start (and its end): cutting there leaves a valid proto."""
    offsets, i = [], 0
    while i < len(data):
        offsets.append(i)
        key, i = varint(data, i)
        wire = key & 7
        if wire == 0:
            _, i = varint(data, i)
        elif wire == 2:
            n, i = varint(data, i)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type")
    offsets.append(len(data))
    return set(offsets)


def varint(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def bitflips(data, seed, count):
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    for pos in rng.choice(len(data) * 8, size=count, replace=False):
        out[pos // 8] ^= 1 << (pos % 8)
    return bytes(out)


def truncations(data, seed, count):
    """count cut points inside the data, none on a top-level field boundary (so every cut breaks the proto)."""
    rng = np.random.default_rng(seed)
    bounds = top_level_fields(data)
    cuts = []
    while len(cuts) < count:
        c = int(rng.integers(1, len(data)))
        if c not in bounds and c not in cuts:
            cuts.append(c)
    return cuts


# ---------------------------------------------------------------------------
# Zip archives written by hand (sizes may lie, entries may be huge)
# ---------------------------------------------------------------------------
class Entry:
    def __init__(self, name, data=None, method=8, chunks=None, size=None, crc=None, declared_size=None):
        """data: raw bytes to compress (method 8) or store (method 0 / anything else, stored as is).
        chunks: (compressed block, count, uncompressed size of a block, final bytes): a deflate stream made of
        `count` identical blocks, for bombs. declared_size overrides the uncompressed size in the headers."""
        self.name = name.encode()
        self.method = method
        if chunks:
            block, count, block_size, tail = chunks
            self.pieces = [(block, count), (tail, 1)]
            self.size = block_size * count
            self.crc = crc
        else:
            if method == 8:
                c = zlib.compressobj(9, zlib.DEFLATED, -15)
                comp = c.compress(data) + c.flush()
            else:
                comp = data
            self.pieces = [(comp, 1)]
            self.size = len(data)
            self.crc = zlib.crc32(data)
        self.comp_size = sum(len(p) * n for p, n in self.pieces)
        self.declared = self.size if declared_size is None else declared_size


def write_zip(path, entries):
    """A zip with zip64 size fields where a size needs them; fixed timestamps (1980-01-01)."""
    with open(path, "wb") as f:
        central = []
        for e in entries:
            offset = f.tell()
            big = e.declared >= 0xFFFFFFFF or e.comp_size >= 0xFFFFFFFF
            extra = struct.pack("<HHQQ", 1, 16, e.declared, e.comp_size) if big else b""
            sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (e.comp_size, e.declared)
            version = 45 if big else 20
            f.write(struct.pack("<IHHHHHIII HH".replace(" ", ""), 0x04034B50, version, 0, e.method, 0, 0x21,
                                e.crc, sizes[0], sizes[1], len(e.name), len(extra)) + e.name + extra)
            for piece, count in e.pieces:
                for _ in range(count):
                    f.write(piece)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, version, 0, e.method, 0, 0x21,
                                       e.crc, sizes[0], sizes[1], len(e.name), len(extra), 0, 0, 0,
                                       0o100644 << 16, offset) + e.name + extra)
        cd_start = f.tell()
        for c in central:
            f.write(c)
        cd_size = f.tell() - cd_start
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd_start, 0))


def zeros_bomb(total):
    """(chunks, crc) for an Entry that inflates to `total` zero bytes (a multiple of 1 MiB), ~1 KB per MiB."""
    block = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    # After a full flush the compressor starts afresh, so the next block compresses to the same bytes.
    assert comp == c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    count = total // len(block)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    return (comp, count, len(block), tail), crc


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------
class Corpus:
    def __init__(self, out):
        self.out = out
        self.rows = []
        self.names = {}

    def path(self, rel):
        return os.path.join(self.out, rel)

    def add(self, case, rel, load, frame, description):
        assert "\t" not in description and case not in (r[0] for r in self.rows), case
        self.rows.append((case, rel, load, frame, description))

    def model(self, case, model, description, load="MODEL", frame="-"):
        rel = case + ".onnx"
        onnx.save(model, self.path(rel))
        self.add(case, rel, load, frame, description)

    def raw(self, case, rel, data, description, load="MODEL", frame="-"):
        with open(self.path(rel), "wb") as f:
            f.write(data)
        self.add(case, rel, load, frame, description)

    def pack(self, case, description, enc=b"", dec=b"", man=None, load="MODEL", frame="-", files=None):
        """A folder pack. enc/dec: ModelProto, bytes, or None (not written); man: text (default manifest).
        files: {name: callable(path)} for special members (FIFOs, symlinks, sparse files)."""
        folder = self.path(case)
        os.makedirs(folder)
        for name, content in (("encoder.onnx", encoder() if enc == b"" else enc),
                              ("decoder.onnx", decoder() if dec == b"" else dec)):
            if content is None:
                continue
            with open(os.path.join(folder, name), "wb") as f:
                f.write(content if isinstance(content, bytes) else content.SerializeToString())
        if man is not None or "manifest.json" not in (files or {}):
            mm.write_text(os.path.join(folder, "manifest.json"),
                          man if man is not None else mm.manifest("Broken test pack"))
        for name, make in (files or {}).items():
            target = os.path.join(folder, name)
            if os.path.lexists(target):
                os.remove(target)
            make(target)
        self.add(case, case, load, frame, description)

    def write_tsv(self):
        with open(self.path("cases.tsv"), "w", encoding="utf-8", newline="\n") as f:
            f.write("# broken-model corpus, written by build/make_broken_models.py (see its docstring)\n")
            f.write("# case\tpath\tload\tframe\tnames\tdescription\n")
            for case, rel, load, frame, desc in self.rows:
                f.write("\t".join((case, rel, load, frame, self.names.get(case, "-"), desc)) + "\n")


def sparse(size):
    def make(path):
        with open(path, "wb") as f:
            f.truncate(size)  # no blocks on disk
    return make


MARKER = ".make_broken_models"  # written first, so that a half-written corpus is cleared too


def build(out):
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.exists(os.path.join(out, MARKER)):
            sys.exit(f"{out} is not empty and was not written by this script: refusing to clear it")
        shutil.rmtree(out)  # does not follow the corpus' symlinks
    os.makedirs(out)
    open(os.path.join(out, MARKER), "w").close()
    out = os.path.abspath(out)
    c = Corpus(out)

    # A real pack outside every case folder: the target of the path escapes.
    outside = c.path("outside")
    mm.write_pack(outside, encoder(), decoder(), mm.manifest("Outside"), [])
    outside_enc = os.path.join(outside, "encoder.onnx")

    # ---- NaN / inf -----------------------------------------------------------------------------------------
    for case, model, desc in nonfinite_models():
        c.model(case, model, desc)
    c.model("zoo_nan_weight", zoo_with_weight(lambda w: w.reshape(-1).__setitem__(0, np.nan)),
            "zoo_dynamic with one NaN weight in its first conv")
    c.model("zoo_overflow_weight", zoo_with_weight(flip_exponent_of_small_weight),
            "zoo_dynamic with a first-conv weight's top exponent bit flipped (~1e38): overflows to inf/NaN")
    for case, model, desc in conditional_models():
        c.model(case, model, desc, load="OK", frame="MODEL")
    for case, enc, dec, load, frame, desc in nonfinite_packs():
        c.pack(case, desc, enc, dec, load=load, frame=frame)
    zip_names = ["manifest.json", "encoder.onnx", "decoder.onnx"]
    mm.zip_folder(c.path("pack_nan_decoder"), c.path("pack_nan_decoder_zip.zip"), zip_names)
    c.add("pack_nan_decoder_zip", "pack_nan_decoder_zip.zip", "MODEL", "-", "pack_nan_decoder as a .zip")

    # ---- damaged bytes ------------------------------------------------------------------------------------
    zoo = mm.zoo_model(1, (8, 16, 32), 2).SerializeToString()
    for seed, bits in ((1, 1), (2, 4), (3, 16), (4, 64)):
        c.raw(f"zoo_bitflip_s{seed}", f"zoo_bitflip_s{seed}.onnx", bitflips(zoo, seed, bits),
              f"zoo_dynamic with {bits} random bit(s) flipped (seed {seed})", load="ANY")
    for seed, cut in enumerate(truncations(zoo, 11, 3), 1):
        c.raw(f"zoo_truncated_s{seed}", f"zoo_truncated_s{seed}.onnx", zoo[:cut],
              f"zoo_dynamic cut to {cut} of {len(zoo)} bytes")
    c.raw("zoo_truncated_last_byte", "zoo_truncated_last_byte.onnx", zoo[:-1], "zoo_dynamic without its last byte")
    enc_bytes = encoder().SerializeToString()
    for seed, bits in ((1, 1), (2, 8), (3, 32)):
        c.pack(f"pack_enc_bitflip_s{seed}", f"pack whose encoder has {bits} random bit(s) flipped (seed {seed})",
               enc=bitflips(enc_bytes, 100 + seed, bits), load="ANY")
    for seed, cut in enumerate(truncations(enc_bytes, 21, 2), 1):
        c.pack(f"pack_enc_truncated_s{seed}", f"pack whose encoder is cut to {cut} of {len(enc_bytes)} bytes",
               enc=enc_bytes[:cut])
    rng = np.random.default_rng(1212)
    c.raw("empty_file", "empty_file.onnx", b"", "empty .onnx file")
    c.raw("random_bytes", "random_bytes.onnx", rng.bytes(65536), "64 KiB of random bytes")
    c.raw("zip_magic_random", "zip_magic_random.zip", b"PK\x03\x04" + rng.bytes(4096),
          "zip signature followed by random bytes")

    # ---- archives -----------------------------------------------------------------------------------------
    good = {n: open(os.path.join(outside, n), "rb").read() for n in zip_names}
    write_zip(c.path("zip_not_a_pack.zip"), [Entry("readme.txt", b"not a style pack\n")])
    c.add("zip_not_a_pack", "zip_not_a_pack.zip", "MODEL", "-", "a zip holding only readme.txt")
    write_zip(c.path("zip_empty.zip"), [])
    c.add("zip_empty", "zip_empty.zip", "MODEL", "-", "a zip with no entries")
    write_zip(c.path("zip_full_pack.tmp"), [Entry(n, good[n]) for n in zip_names])
    whole = open(c.path("zip_full_pack.tmp"), "rb").read()
    os.remove(c.path("zip_full_pack.tmp"))
    c.raw("zip_truncated", "zip_truncated.zip", whole[: len(whole) // 2], "a good pack .zip cut in half (no central directory)")
    bomb, bomb_crc = zeros_bomb(GIB + (1 << 20))
    man_bytes = good["manifest.json"]
    write_zip(c.path("zip_bomb_real.zip"), [Entry("manifest.json", man_bytes), Entry("decoder.onnx", good["decoder.onnx"]),
                                            Entry("encoder.onnx", chunks=bomb, crc=bomb_crc)])
    c.add("zip_bomb_real", "zip_bomb_real.zip", "MODEL", "-", "encoder entry inflates to 1 GiB + 1 MiB of zeros (declared so)")
    write_zip(c.path("zip_bomb_lying.zip"), [Entry("manifest.json", man_bytes), Entry("decoder.onnx", good["decoder.onnx"]),
                                             Entry("encoder.onnx", chunks=bomb, crc=bomb_crc, declared_size=1000)])
    c.add("zip_bomb_lying", "zip_bomb_lying.zip", "MODEL", "-", "encoder entry declares 1000 bytes, inflates to 1 GiB + 1 MiB")
    write_zip(c.path("zip_bomb_declared.zip"), [Entry("manifest.json", man_bytes), Entry("decoder.onnx", good["decoder.onnx"]),
                                                Entry("encoder.onnx", good["encoder.onnx"], declared_size=1 << 40)])
    c.add("zip_bomb_declared", "zip_bomb_declared.zip", "MODEL", "-", "encoder entry declares 1 TiB (zip64), holds a real encoder")
    big_manifest, big_manifest_crc = zeros_bomb(64 << 20)
    write_zip(c.path("zip_manifest_bomb.zip"), [Entry("manifest.json", chunks=big_manifest, crc=big_manifest_crc),
                                                Entry("encoder.onnx", good["encoder.onnx"]), Entry("decoder.onnx", good["decoder.onnx"])])
    c.add("zip_manifest_bomb", "zip_manifest_bomb.zip", "MODEL", "-", "manifest.json entry inflates to 64 MiB (over the 1 MiB limit)")
    write_zip(c.path("zip_unsupported_method.zip"), [Entry("manifest.json", man_bytes), Entry("decoder.onnx", good["decoder.onnx"]),
                                                     Entry("encoder.onnx", good["encoder.onnx"], method=14)])
    c.add("zip_unsupported_method", "zip_unsupported_method.zip", "MODEL", "-", "encoder entry uses compression method 14 (LZMA)")
    esc = json.dumps(manifest(encoder="../encoder.onnx"), indent=2).encode()
    write_zip(c.path("zip_escape_dotdot.zip"), [Entry("manifest.json", esc), Entry("../encoder.onnx", good["encoder.onnx"]),
                                                Entry("decoder.onnx", good["decoder.onnx"])])
    c.add("zip_escape_dotdot", "zip_escape_dotdot.zip", "MODEL", "-", "manifest encoder \"../encoder.onnx\", an entry of that name")

    # ---- sizes --------------------------------------------------------------------------------------------
    sparse(GIB + 1)(c.path("sparse_1gib.onnx"))
    c.add("sparse_1gib", "sparse_1gib.onnx", "MODEL", "-", "a 1 GiB + 1 byte file of zeros (sparse)")
    c.pack("pack_sparse_encoder", "pack whose encoder.onnx is 1 GiB + 1 byte (sparse)",
           enc=None, files={"encoder.onnx": sparse(GIB + 1)})
    for case, text, names, desc in manifest_cases():
        c.pack(case, desc, man=text)
        c.names[case] = names
    os.makedirs(c.path("folder_without_manifest"))
    with open(c.path("folder_without_manifest/encoder.onnx"), "wb") as f:
        f.write(enc_bytes)
    c.add("folder_without_manifest", "folder_without_manifest", "MODEL", "-", "a folder with an encoder but no manifest.json")

    # ---- paths out of the pack ----------------------------------------------------------------------------
    dump = lambda m: json.dumps(m, indent=2) + "\n"  # noqa: E731
    c.pack("pack_escape_dotdot", "manifest encoder \"../outside/encoder.onnx\" (a real model outside the pack)",
           enc=None, man=dump(manifest(encoder="../outside/encoder.onnx")))
    c.pack("pack_escape_decoder_dotdot", "manifest decoder \"sub/../../outside/decoder.onnx\"",
           dec=None, man=dump(manifest(decoder="sub/../../outside/decoder.onnx")))
    c.pack("pack_escape_abs_model", "manifest encoder is the absolute path of a real model outside the pack",
           enc=None, man=dump(manifest(encoder=outside_enc)))
    c.pack("pack_escape_etc_passwd", "manifest encoder \"/etc/passwd\"", enc=None, man=dump(manifest(encoder="/etc/passwd")))
    c.pack("pack_escape_symlink", "encoder.onnx is a symlink to ../outside/encoder.onnx",
           enc=None, files={"encoder.onnx": lambda p: os.symlink("../outside/encoder.onnx", p)})
    c.pack("pack_dev_zero_encoder", "manifest encoder \"/dev/zero\"", enc=None, man=dump(manifest(encoder="/dev/zero")))
    c.pack("pack_dev_zero_link", "encoder.onnx is a symlink to /dev/zero",
           enc=None, files={"encoder.onnx": lambda p: os.symlink("/dev/zero", p)})

    # ---- special files ------------------------------------------------------------------------------------
    os.mkfifo(c.path("fifo_model.onnx"))
    c.add("fifo_model", "fifo_model.onnx", "MODEL", "-", "the model path is a FIFO (no writer)")
    c.pack("pack_fifo_encoder", "encoder.onnx is a FIFO", enc=None, files={"encoder.onnx": os.mkfifo})
    c.pack("pack_fifo_manifest", "manifest.json is a FIFO", files={"manifest.json": os.mkfifo})
    os.symlink("/dev/zero", c.path("dev_zero_link.onnx"))
    c.add("dev_zero_link", "dev_zero_link.onnx", "MODEL", "-", "the model path is a symlink to /dev/zero")
    here = os.getcwd()
    os.chdir(out)  # a relative name: socket paths are limited to 108 bytes
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind("socket_model.onnx")
        s.close()
    finally:
        os.chdir(here)
    c.add("socket_model", "socket_model.onnx", "MODEL", "-", "the model path is a Unix socket")
    os.symlink("pack_link_self", c.path("pack_link_self"))
    c.add("pack_link_self", "pack_link_self", "MODEL", "-", "the pack folder is a symlink to itself")
    os.symlink("pack_link_cycle_b", c.path("pack_link_cycle_a"))
    os.symlink("pack_link_cycle_a", c.path("pack_link_cycle_b"))
    c.add("pack_link_cycle_a", "pack_link_cycle_a", "MODEL", "-", "pack folder symlinks a -> b -> a")
    os.symlink("model_link_loop.onnx", c.path("model_link_loop.onnx"))
    c.add("model_link_loop", "model_link_loop.onnx", "MODEL", "-", "the .onnx path is a symlink to itself")
    c.pack("pack_encoder_link_loop", "encoder.onnx is a symlink to itself",
           enc=None, files={"encoder.onnx": lambda p: os.symlink("encoder.onnx", p)})
    c.pack("pack_manifest_link_loop", "manifest.json is a symlink to itself",
           files={"manifest.json": lambda p: os.symlink("manifest.json", p)})

    # ---- run time and size --------------------------------------------------------------------------------
    c.model("loop_2pow62", loop_model(False), "a Loop with 2^62 iterations (constant trip count)")
    c.model("cond_loop_frame", loop_model(True),
            "a Loop of 2^62 iterations for non-square full-range images, 1 for the probe: the frame time limit",
            load="OK", frame="RUNTIME")
    c.model("expand_bomb", expand_bomb(), "Expand of the image to 2^20 x 2^20 copies")
    c.model("expand_over_memory_cap", expand_over_memory_cap(),
            "Expand of the probe picture to 3/4 of the machine's memory (over the engine's cap of 1/2)")
    c.model("fixed_30000", fixed_size(30000, 30000, "fixed_30000"), "fixed input 1x3x30000x30000")
    c.model("fixed_16385x64", fixed_size(16385, 64, "fixed_16385x64"), "fixed input 1x3x16385x64 (one side over 16384)")

    # ---- shapes -------------------------------------------------------------------------------------------
    for case, model, desc in shape_models():
        c.model(case, model, desc)

    for path in [os.path.join(out, r[1]) for r in c.rows if r[1].endswith(".onnx")]:
        if os.path.isfile(path) and not os.path.islink(path) and 0 < os.path.getsize(path) < GIB \
                and not os.path.basename(path).startswith(("zoo_bitflip", "zoo_truncated", "random_")):
            onnx.checker.check_model(onnx.load(path))  # the graphs themselves are valid ONNX
    # What the load error must name besides the case: the member or field that is wrong (the checks look for it
    # with the case's own name taken out of the message).
    c.names.update({
        "zip_not_a_pack": "manifest", "zip_bomb_real": "encoder", "zip_bomb_lying": "encoder",
        "zip_bomb_declared": "encoder", "zip_manifest_bomb": "manifest", "zip_escape_dotdot": "../encoder.onnx",
        "pack_sparse_encoder": "encoder", "pack_escape_dotdot": "../outside/encoder.onnx",
        "pack_escape_decoder_dotdot": "sub/../../outside/decoder.onnx", "pack_escape_abs_model": outside_enc,
        "pack_escape_etc_passwd": "/etc/passwd", "pack_escape_symlink": "encoder", "pack_dev_zero_encoder": "/dev/zero",
        "pack_dev_zero_link": "encoder", "pack_fifo_encoder": "encoder", "pack_fifo_manifest": "manifest",
        "pack_encoder_link_loop": "encoder", "pack_manifest_link_loop": "manifest",
    })
    assert set(c.names) <= {r[0] for r in c.rows}
    c.write_tsv()
    kinds = {}
    for r in c.rows:
        kinds[r[2] + ("" if r[3] == "-" else ">" + r[3])] = kinds.get(r[2] + ("" if r[3] == "-" else ">" + r[3]), 0) + 1
    print(f"wrote {len(c.rows)} broken-model cases to {out} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the corpus (cleared first if it holds an earlier one)")
    build(ap.parse_args().out)


if __name__ == "__main__":
    main()
