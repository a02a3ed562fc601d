"""Loss networks: fixed feature extractors for the Gram-matrix style loss and the feature content loss.

No pretrained ImageNet weights can be downloaded here, so the default loss network has *random, fixed* weights
(drawn from a fixed seed, never trained). Random convolutional features are enough to describe texture and style
statistics: Ustyuzhaninov et al. 2017 ("What does it take to generate natural textures?") synthesise textures
from the Gram matrices of a single layer of random filters at several scales, and He et al. 2016 ("A powerful
generative model using random weights for the deep image representation") do style transfer with a random-weight
VGG. When real VGG-16 weights are available (a torchvision `vgg16` state dict), `--vgg PATH` uses them instead.

Variants (`make_loss_net(kind)`):

* ``multiscale``: an image pyramid (the image average-pooled by 1, 2, 4 and 8); at each level a bank of 48 random
  5x5 filters + ReLU, then 2x2 average pooling and a second random 3x3 conv (96 filters) + ReLU. Both convs of
  every level are style layers, plus the RGB values themselves (colour mean and covariance); content is the
  second conv of the full-size level. (``multiscale-wide``: 96 filters of 7x7.)
* ``deep`` (default): a narrow VGG-like stack with random weights (3x3 conv + ReLU, average pooling between
  stages; stage widths 32/64/128/256 with 1/2/2/1 convs). Style layers: the RGB values (colour mean and
  covariance) and the first conv of every stage (receptive fields 3, 10, 24 and 52 pixels); content layer: the
  last conv of the second stage (1/2 resolution, like VGG's relu2_2).
* ``vgg16``: the real VGG-16 (style relu1_2, relu2_2, relu3_3, relu4_3; content relu2_2) from a state dict.

All weights are drawn with `torch.Generator().manual_seed(seed)` (default seed 20240611), He-normal scaled, each
filter with zero mean over its taps (so it responds to structure and colour contrast, not to overall brightness;
brightness and colour are captured by the RGB layer), biases zero. The network is frozen (`requires_grad=False`)
and takes images in 0..255 RGB (normalised inside with the ImageNet mean and std).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_SEED = 20240611
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _random_conv(cin: int, cout: int, k: int, gen: torch.Generator, zero_mean: bool = True, dilation: int = 1) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation, padding_mode="reflect")
    w = torch.randn(cout, cin, k, k, generator=gen)
    if zero_mean:
        w = w - w.mean(dim=(1, 2, 3), keepdim=True)
    w = w * math.sqrt(2.0 / (cin * k * k)) / w.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6) * 1.0
    with torch.no_grad():
        conv.weight.copy_(w)
        conv.bias.zero_()
    return conv


class LossNet(nn.Module):
    """Base: forward(image 0..255) -> (list of style features, content feature)."""

    style_names: list
    content_name: str

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0)

    def normalise(self, image):
        return (image - self.mean) / self.std

    def freeze(self):
        for p in self.parameters():
            p.requires_grad_(False)
        return self.eval()


class MultiScaleRandomNet(LossNet):
    def __init__(self, seed: int = DEFAULT_SEED, levels: int = 4, channels: int = 48, k: int = 5, content_level: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.levels = levels
        self.content_level = content_level
        self.first = nn.ModuleList([_random_conv(3, channels, k, gen) for _ in range(levels)])
        self.second = nn.ModuleList([_random_conv(channels, channels * 2, 3, gen) for _ in range(levels)])
        self.style_names = ["rgb"] + [f"L{l}.{j}" for l in range(levels) for j in (1, 2)]
        self.content_name = f"L{content_level}.2"
        self.freeze()

    def forward(self, image):
        x = self.normalise(image)
        style, content = [x], None
        for l in range(self.levels):
            xl = F.avg_pool2d(x, 2 ** l) if l else x
            a = F.relu(self.first[l](xl))
            b = F.relu(self.second[l](F.avg_pool2d(a, 2)))
            style += [a, b]
            if l == self.content_level:
                content = b
        return style, content


class DeepRandomNet(LossNet):
    """A narrow VGG-like stack with random weights. Stage i: average-pool (i > 0), then `depth[i]` random 3x3
    convs + ReLU. Style: the first conv of every stage; content: the last conv of `content_stage`."""

    def __init__(self, seed: int = DEFAULT_SEED, widths=(32, 64, 128, 256), depth=(1, 2, 2, 1), content_stage: int = 1):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.stages = nn.ModuleList()
        cin = 3
        for w, d in zip(widths, depth):
            convs = []
            for _ in range(d):
                convs.append(_random_conv(cin, w, 3, gen))
                cin = w
            self.stages.append(nn.ModuleList(convs))
        self.content_stage = content_stage
        self.style_names = ["rgb"] + [f"S{i}.1" for i in range(len(widths))]
        self.content_name = f"S{content_stage}.{depth[content_stage]}"
        self.freeze()

    def forward(self, image):
        x = self.normalise(image)
        style, content = [x], None
        for i, convs in enumerate(self.stages):
            if i:
                x = F.avg_pool2d(x, 2)
            for j, conv in enumerate(convs):
                x = F.relu(conv(x))
                if j == 0:
                    style.append(x)
            if i == self.content_stage:
                content = x
        return style, content


# VGG-16 `features` indices: conv layers and the ReLU after each.
_VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512]
_VGG16_STYLE = (3, 8, 15, 22)    # relu1_2, relu2_2, relu3_3, relu4_3
_VGG16_CONTENT = 8               # relu2_2


class VGG16Net(LossNet):
    def __init__(self, path: str):
        super().__init__()
        layers, cin = [], 3
        for v in _VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*layers)
        state = torch.load(path, map_location="cpu")
        if isinstance(state, nn.Module):
            state = state.state_dict()
        feats = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
        if not feats:
            raise ValueError(f"{path}: not a torchvision vgg16 state dict (no 'features.*' keys)")
        own = self.features.state_dict()
        missing = [k for k in own if k not in feats]
        if missing:
            raise ValueError(f"{path}: missing VGG-16 weights {missing[:4]}")
        self.features.load_state_dict({k: feats[k] for k in own})
        self.style_names = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
        self.content_name = "relu2_2"
        self.freeze()

    def forward(self, image):
        x = self.normalise(image)
        style, content = [], None
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _VGG16_STYLE:
                style.append(x)
            if i == _VGG16_CONTENT:
                content = x
            if i >= _VGG16_STYLE[-1]:
                break
        return style, content


def make_loss_net(kind: str = "multiscale", seed: int = DEFAULT_SEED, vgg: str | None = None) -> LossNet:
    if vgg:
        return VGG16Net(vgg)
    if kind == "multiscale":
        return MultiScaleRandomNet(seed)
    if kind == "multiscale-wide":
        return MultiScaleRandomNet(seed, channels=96, k=7)
    if kind == "deep":
        return DeepRandomNet(seed)
    raise ValueError(f"unknown loss network '{kind}' (multiscale, multiscale-wide, deep, or --vgg PATH)")
