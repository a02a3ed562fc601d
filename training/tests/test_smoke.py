"""Smoke test: a few training iterations at 64x64, export (pack + fused), run both in the engine through the CLI,
check they agree with each other and with PyTorch; a multi-style export with a `style` input."""
import json
import os

import onnx
import pytest
import torch

from training import engine
from training.export import export_fused, export_pack, load, verify
from training.train import main as train_main

needs_engine = pytest.mark.skipif(not engine.available(), reason="engine CLI not built (run build/build.sh)")


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A small data list: the repository's own test photos (the packaged ones may not be installed)."""
    p = tmp_path_factory.mktemp("data") / "photos.txt"
    p.write_text("".join(f"assets/content/{n}\n" for n in ("chicago.jpg", "tubingen.jpg")))
    return str(p)


@pytest.fixture(scope="module")
def single(tmp_path_factory, photos):
    run = tmp_path_factory.mktemp("run")
    train_main(["--styles", "starry_night", "--out", str(run), "--data-list", photos, "--width", "tiny", "--res-blocks", "1",
                "--size", "64", "--batch", "2", "--iters", "4", "--log-every", "2", "--sample-every", "4",
                "--style-size", "96", "--threads", "2"])
    return run


def test_training_writes_checkpoint_and_log(single):
    info = json.load(open(single / "train.json"))
    assert info["iterations"] == 4 and info["history"]
    for k in ("style", "content", "feature", "total"):
        assert k in info["history"][-1]
    assert (single / "samples" / "it00004.png").exists()


@needs_engine
def test_export_single_pack_and_fused_run_in_engine(single, tmp_path):
    net, styles = load(str(single / "checkpoint.pt"))
    pack, fused = tmp_path / "pack", tmp_path / "fused.onnx"
    m = export_pack(net, str(pack), "Smoke", styles)
    export_fused(net, str(fused))
    assert m["multiple"] == 4 and "style_input" not in m and m["tier"] == "compact" and "tier_of" not in m
    assert (m["title"], m["artist"], m["year"]) == ("Smoke", "Vincent van Gogh", "1889")   # lists show the title
    for f in ("encoder.onnx", "decoder.onnx"):
        onnx.checker.check_model(onnx.load(str(pack / f)))
    # pack vs fused vs PyTorch, rendered by the engine CLI, within 8-bit rounding
    r = verify(net, str(pack), str(fused), size=64, tolerance=2)
    assert r["pack_vs_fused"]["max"] <= 2 and r["pack_vs_torch"]["max"] <= 2 and r["fused_vs_torch"]["max"] <= 2


@needs_engine
def test_multi_style_export_has_style_input(tmp_path, photos):
    run = tmp_path / "run"
    train_main(["--styles", "starry_night,wave", "--out", str(run), "--data-list", photos, "--width", "tiny", "--res-blocks", "1",
                "--size", "64", "--batch", "2", "--iters", "2", "--no-temporal", "--style-size", "96"])
    net, styles = load(str(run / "checkpoint.pt"))
    assert styles == ["starry_night", "wave"] and net.n_styles == 2
    with torch.no_grad():  # make the two styles differ clearly
        for k, v in net.state_dict().items():
            if k.endswith("norm.bias"):
                v[1] += 0.5
    pack = tmp_path / "pack"
    m = export_pack(net, str(pack), "Mix", styles)
    assert m["styles"] == ["The Starry Night", "The Great Wave off Kanagawa"] and m["style_input"] == "style"
    assert "artist" not in m     # a mix is no single painting
    for f in ("encoder.onnx", "decoder.onnx"):
        g = onnx.load(str(pack / f)).graph
        style = [i for i in g.input if i.name == "style"]
        assert style and [d.dim_value for d in style[0].type.tensor_type.shape.dim] == [2]
    # the engine feeds [1, 0] (the first style) by default: it must match PyTorch with that mix
    r = verify(net, str(pack), None, mix=[1.0, 0.0], size=64, tolerance=2)
    assert r["pack_vs_torch"]["max"] <= 2


def _tiny_run(out, photos, *extra):
    train_main(["--styles", "starry_night", "--out", str(out), "--data-list", photos, "--width", "tiny", "--res-blocks", "1",
                "--size", "64", "--batch", "2", "--style-size", "96", "--threads", "2", "--seed", "5", *extra])
    return torch.load(str(out / "checkpoint.pt"))


def test_training_lowers_the_loss(tmp_path, photos):
    """Catches a loop that computes losses but never steps (or steps the wrong way)."""
    ckpt = _tiny_run(tmp_path / "run", photos, "--iters", "40", "--log-every", "10", "--no-temporal", "--lr", "5e-3")
    first, last = ckpt["history"][0], ckpt["history"][-1]
    assert last["total"] < 0.8 * first["total"], (first, last)
    assert last["style"] < first["style"], (first, last)


def test_the_temporal_loss_changes_the_training(tmp_path, photos):
    """Same seed, same pairs: the output temporal term alone must change the weights (the term is wired in)."""
    off = ("--feature-weight", "0", "--noise-weight", "0", "--iters", "2", "--log-every", "1")
    without = _tiny_run(tmp_path / "a", photos, "--temporal-weight", "0", *off)
    with_it = _tiny_run(tmp_path / "b", photos, "--temporal-weight", "200", *off)
    assert with_it["history"][-1]["temporal"] > 0
    diff = max((with_it["state_dict"][k] - v).abs().max().item() for k, v in without["state_dict"].items())
    assert diff > 1e-6, "the temporal loss did not change a single weight"
