"""The ResNet18 loss network: the PyTorch module built from the ONNX initializers must compute what the ONNX graph
computes (run by OpenCV's DNN module, which reads this graph), and training must resume exactly."""
import os

import cv2
import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F

from training.data import load_image
from training.lossnet import ResNet18Net, make_loss_net, resnet18_path
from training.train import main as train_main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAPS = ("relu1", "layer1", "layer2", "layer3", "layer4", "pool")


@pytest.fixture(scope="module")
def model_path():
    path = resnet18_path()
    assert path, "ResNet18.onnx is missing: build/setup.sh runs training/resnet18/fetch.sh (a NuGet restore)"
    return path


def photo(h, w):
    img = load_image(os.path.join(REPO, "assets", "content", "chicago.jpg")).unsqueeze(0)
    return F.interpolate(img, size=(h, w), mode="bilinear", align_corners=False)


def opencv_taps(path, net, x, taps):
    """The same taps from the ONNX graph itself (OpenCV DNN; layer fusion off so every node output exists)."""
    node_of = {n.output[0]: n.name for n in onnx.load(path).graph.node}
    cv = cv2.dnn.readNetFromONNX(path)
    cv.enableFusion(False)
    cv.setInput(x.numpy())
    return dict(zip(taps, cv.forward(["onnx_node!" + node_of[net.taps[t]] for t in taps])))


@pytest.mark.parametrize("size,taps", [((224, 224), TAPS), ((224, 320), TAPS[:5])])   # OpenCV pools 7x7 at any size
def test_conversion_matches_the_onnx_graph(model_path, size, taps):
    net = ResNet18Net(model_path, upto=None)
    x = net.preprocess(photo(*size))
    with torch.no_grad():
        ours = net.run(x, None)
    theirs = opencv_taps(model_path, net, x, taps)
    for t in taps:
        a, b = ours[t].numpy().reshape(theirs[t].shape), theirs[t]
        assert np.abs(b).max() > 1.0, f"{t}: the reference is all but zero"
        err = np.abs(a - b).max() / np.abs(b).max()
        assert err < 1e-3, f"{t} at {size}: max |diff| {err:.2e} of the largest activation"


def test_preprocessing_is_bgr_minus_the_packaged_mean(model_path):
    net = ResNet18Net(model_path)
    m = net.bgr_mean.flatten().tolist()
    assert m == pytest.approx([103.06, 115.90, 123.15], abs=0.05)
    x = torch.zeros(1, 3, 2, 2)
    x[:, 0] = 200.0   # red
    assert net.preprocess(x)[0, :, 0, 0].tolist() == pytest.approx([-m[0], -m[1], 200.0 - m[2]], abs=1e-4)


def test_loss_net_is_frozen_and_recognises_photos(model_path):
    net = make_loss_net("resnet18")
    assert not any(p.requires_grad for p in net.parameters())
    style, content = net(photo(128, 128))
    assert [s.shape[1] for s in style] == [3, 64, 64, 128, 256] and content.shape[1] == 128
    assert len(net.style_weights) == len(style)
    # ImageNet features: two crops of the same photo are closer to each other than to random noise
    net.upto = "pool"
    feats = lambda x: net.run(net.preprocess(x), None)["pool"].flatten()  # noqa: E731
    full = photo(256, 256)
    a, b = feats(full[..., :224, :224]), feats(full[..., 32:, 32:])
    noise = feats(torch.rand(1, 3, 224, 224) * 255)
    cos = torch.nn.functional.cosine_similarity
    assert cos(a, b, dim=0) > cos(a, noise, dim=0) + 0.1


def test_resume_continues_exactly(tmp_path):
    data = tmp_path / "photos.txt"
    data.write_text("".join(f"assets/content/{n}\n" for n in ("chicago.jpg", "tubingen.jpg")))
    common = ["--styles", "starry_night,wave", "--data-list", str(data), "--width", "tiny", "--res-blocks", "1",
              "--size", "64", "--batch", "2", "--iters", "4", "--log-every", "1", "--style-size", "96",
              "--save-every", "2", "--threads", "2"]
    train_main(common + ["--out", str(tmp_path / "whole")])
    # a run stopped after iteration 2 (as a session's run ends), then resumed
    train_main(common + ["--out", str(tmp_path / "split"), "--stop-after", "2"])
    assert torch.load(tmp_path / "split" / "checkpoint.pt")["iterations"] == 2
    train_main(common + ["--out", str(tmp_path / "split"), "--resume"])
    whole = torch.load(tmp_path / "whole" / "checkpoint.pt")
    split = torch.load(tmp_path / "split" / "checkpoint.pt")
    assert split["iterations"] == 4 and len(split["history"]) == 4
    for k, v in whole["state_dict"].items():
        assert torch.allclose(v, split["state_dict"][k], atol=1e-5), k
    assert [h["total"] for h in whole["history"]] == pytest.approx([h["total"] for h in split["history"]], rel=1e-4)
