"""The CPU tier: the fast architecture exports and runs in the engine, distillation pulls a network toward its
teacher, and the int8 pack keeps the QDQ pattern ONNX Runtime fuses and stays close to the float pack."""
import json
import numpy as np
import onnx
import pytest
import torch

from training import engine
from training.export import export_pack, load, verify
from training.net import StyleNet
from training.quantize import activation_ranges, quantize_pack
from training.train import main as train_main

needs_engine = pytest.mark.skipif(not engine.available(), reason="engine CLI not built (run build/build.sh)")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "photos.txt"
    p.write_text("".join(f"assets/content/{n}\n" for n in ("chicago.jpg", "tubingen.jpg")))
    return str(p)


def test_fast_net_shapes_and_cost():
    fast, compact = StyleNet("compact", 3, 1, "fast"), StyleNet("compact", 4, 1)
    out, feats = fast(torch.rand(1, 3, 64, 96) * 255)
    assert out.shape == (1, 3, 64, 96) and feats.shape == (1, 64, 16, 24)
    assert 0 <= float(out.min()) and float(out.max()) <= 255
    n = lambda m: sum(p.numel() for p in m.parameters())   # noqa: E731
    assert n(fast) * 5 < n(compact)
    assert StyleNet.from_checkpoint({"config": fast.config, "state_dict": fast.state_dict()}).config["arch"] == "fast"


def test_first_fast_networks_load_exactly_as_the_half_size_output_layer():
    """The first fast networks ended with a 3x3 conv at full size after a nearest upsampling; loading them converts
    that conv to the half-size conv + pixel shuffle, and the picture must not change, border rows included."""
    torch.manual_seed(3)
    net = StyleNet("tiny", 1, 1, "fast").eval()
    state = net.state_dict()
    old_w, old_b = torch.randn(3, 8, 3, 3) * 0.2, torch.randn(3)
    state["decoder.out.conv.weight"], state["decoder.out.conv.bias"] = old_w, old_b
    net.load_state_dict(state)
    image = torch.rand(1, 3, 40, 56) * 255
    with torch.no_grad():
        out, features = net(image)
        d = net.decoder
        half = d.at_half(torch.nn.functional.interpolate(d.reduce(features), scale_factor=2.0, mode="nearest"))
        full = torch.nn.functional.interpolate(half, scale_factor=2.0, mode="nearest")
        expected = torch.sigmoid(torch.nn.functional.conv2d(torch.nn.functional.pad(full, (1, 1, 1, 1), mode="reflect"), old_w, old_b)) * 255
    assert net.decoder.out.conv.weight.shape == (12, 8, 3, 3)
    assert float((out - expected).abs().max()) < 1e-3


def _distil(out, photos, teacher, weight):
    train_main(["--styles", "starry_night", "--out", str(out), "--data-list", photos, "--arch", "fast", "--width", "tiny",
                "--res-blocks", "1", "--size", "64", "--batch", "2", "--style-size", "96", "--threads", "2", "--seed", "3",
                "--iters", "30", "--lr", "5e-3", "--no-temporal", "--log-every", "10", "--teacher", teacher,
                "--teacher-weight", str(weight), "--style-weight", "0", "--content-weight", "0", "--structure-weight", "0"])
    return load(str(out / "checkpoint.pt"))[0]


def test_distillation_pulls_the_student_to_its_teacher(tmp_path, photos):
    torch.manual_seed(0)
    teacher = StyleNet("tiny", 1)
    with torch.no_grad():   # a teacher that is clearly not the identity: a strong colour shift
        teacher.decoder.out.conv.bias += torch.tensor([2.0, -2.0, 1.0])
    path = tmp_path / "teacher.pt"
    torch.save({"config": teacher.config, "state_dict": teacher.state_dict(), "styles": ["starry_night"]}, path)
    x = torch.rand(2, 3, 64, 64) * 255
    student = _distil(tmp_path / "run", photos, str(path), 5.0)   # the teacher term alone (all other weights 0)
    torch.manual_seed(3)
    untrained = StyleNet("tiny", 1, 1, "fast")
    with torch.no_grad():
        target = teacher(x)[0]
        gaps = [float((net(x)[0] - target).abs().mean()) for net in (untrained, student)]
    assert gaps[1] < 0.5 * gaps[0], gaps


def _conv_nodes(path):
    return [n for n in onnx.load(path).graph.node if n.op_type == "Conv"]


@needs_engine
def test_int8_pack_has_qdq_convs_and_matches_the_float_pack(tmp_path):
    torch.manual_seed(1)
    net = StyleNet("tiny", 1, 1, "fast").eval()
    frames = [torch.rand(1, 3, 64, 64) * 255 for _ in range(4)]
    export_pack(net, str(tmp_path / "float"), "Float", ["starry_night"])
    report = quantize_pack(net, str(tmp_path / "int8"), "Int8", ["starry_night"], keep_float=["decoder.out"], frames=frames,
                           tier_of="starry_night")
    manifest = json.load(open(tmp_path / "int8" / "manifest.json"))
    assert (manifest["tier"], manifest["tier_of"], manifest["precision"]) == ("fast", "starry_night", "int8")
    assert report["decoder"]["float"] == ["decoder.out.conv"] and report["encoder"]["int8"] == 6
    for part in ("encoder", "decoder"):
        g = onnx.load(str(tmp_path / "int8" / f"{part}.onnx")).graph
        producers = {o: n for n in g.node for o in n.output}
        for conv in _conv_nodes(str(tmp_path / "int8" / f"{part}.onnx")):
            if conv.input[1].startswith("net."):       # kept float
                continue
            # input, weight and bias come from DequantizeLinear, the output goes to QuantizeLinear
            assert all(producers[i].op_type == "DequantizeLinear" for i in conv.input), conv.name
            assert [n.op_type for n in g.node if conv.output[0] in n.input] == ["QuantizeLinear"]
        weights = [i for i in g.initializer if i.name.endswith("_wq")]
        assert weights and all(w.data_type == onnx.TensorProto.INT8 for w in weights)
    r = verify(net, str(tmp_path / "int8"), None, size=64, tolerance=255)
    assert r["pack_vs_torch"]["mean"] < 3.0, r   # a few 8-bit levels on average, not a different picture


def test_activation_ranges_cover_the_calibration_frames():
    net = StyleNet("tiny", 1, 1, "fast").eval()
    r = activation_ranges(net, [torch.full((1, 3, 32, 32), 255.0), torch.zeros(1, 3, 32, 32)], percentile=100)
    lo, hi = r["encoder.layers.0.conv"]["in"]
    assert np.isclose(lo, -1.0) and np.isclose(hi, 1.0)   # the graph's own -1..1 normalisation
