"""Loss networks: fixed feature extractors for the Gram-matrix style loss and the feature content loss.

The default is ``resnet18``: the ImageNet-trained ResNet18 of ML.NET's DnnImageFeaturizer package (NuGet
`Microsoft.ML.DnnImageFeaturizer.ResNet18` 0.23.1, MIT), fetched by `training/resnet18/fetch.sh` into the cache
(never committed) and turned into a frozen PyTorch module from the ONNX graph's initializers when training
starts (`ResNet18Net`). Its features describe paintings the way a viewer sees them: brush strokes, swirls,
outlines. Style: the preprocessed image itself (colour statistics, weighted 1/60), relu1 (after conv1), layer1,
layer2 and layer3; content: layer2. `tests/test_resnet18.py` checks the conversion against the ONNX graph run
by OpenCV's DNN module.

The random networks below are the fallback where that package cannot be fetched; styles trained with them
read as colour tints, not as paintings. Random *fixed* weights
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
import os
import sys

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


RESNET18_PACKAGE = ("microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1")
RESNET18_RELATIVE = "tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx"
PREPROCESS = os.path.join("ResNetPrepOnnx", "ResNetPreprocess.onnx")    # beside ResNet18Onnx/ in the package


def resnet18_path() -> str | None:
    """ResNet18.onnx from the NuGet cache that training/resnet18/fetch.sh fills ($STYLEFILTER_RESNET18 overrides)."""
    if os.environ.get("STYLEFILTER_RESNET18"):
        return os.environ["STYLEFILTER_RESNET18"]
    cache = os.environ.get("STYLEFILTER_CACHE", os.path.expanduser("~/.cache/stylefilter"))
    for root in (os.path.join(cache, "nuget"), os.path.expanduser("~/.nuget/packages")):
        p = os.path.join(root, *RESNET18_PACKAGE, RESNET18_RELATIVE)
        if os.path.isfile(p):
            return p
    return None


class ResNet18Net(LossNet):
    """The ONNX ResNet18 (a CNTK export, opset 8) as a frozen PyTorch module.

    The graph is Conv/BatchNormalization/Relu/Add/MaxPool/AveragePool; every BatchNormalization follows a Conv and
    is folded into it. Its stride-2 convolutions pad top/left only ([1,1,0,0], conv1 [3,3,2,2]); for even sizes
    that equals PyTorch's symmetric padding, so inputs must be multiples of 32 (16 up to layer3) to match
    exactly. Input: RGB 0..255; inside, BGR minus the per-channel mean of the package's mean image.
    Taps: the stage outputs are the inputs of the 1x1 stride-2 shortcut convolutions (layer1, layer2, layer3) and
    the first Relu (relu1); ``upto`` stops the forward pass after the last stage the losses need."""

    STYLE_TAPS = ("image", "relu1", "layer1", "layer2", "layer3")
    IMAGE_STYLE_WEIGHT = 1.0 / 60.0    # the colour statistics of the image itself count little (BRIEF section 4)

    def __init__(self, path: str, upto: str = "layer3", content: str = "layer2"):
        super().__init__()
        import onnx
        from onnx import numpy_helper
        model = onnx.load(path)
        inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in model.graph.initializer}
        nodes = list(model.graph.node)
        self.input_name = model.graph.input[0].name
        self.output_name = model.graph.output[0].name
        bn_of = {n.input[0]: n for n in nodes if n.op_type == "BatchNormalization"}
        folded = set()    # outputs of the BatchNormalizations folded into their Conv
        self.convs = nn.ModuleList()
        self.ops = []     # (op, inputs, output, index into convs or attributes)
        for n in nodes:
            attrs = node_attributes(n)
            if n.op_type == "Conv":
                w = inits[n.input[1]]
                b = inits[n.input[2]] if len(n.input) > 2 else torch.zeros(w.shape[0])
                out = n.output[0]
                bn = bn_of.get(out)
                if bn is not None:    # fold: y = (conv - mean) * gamma / sqrt(var + eps) + beta
                    gamma, beta, mean, var = (inits[x] for x in bn.input[1:5])
                    k = gamma / torch.sqrt(var + node_attributes(bn).get("epsilon", 1e-5))
                    w, b, out = w * k.view(-1, 1, 1, 1), (b - mean) * k + beta, bn.output[0]
                    folded.add(out)
                pads = attrs.get("pads", [0, 0, 0, 0])
                conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), tuple(attrs.get("strides", [1, 1])),
                                 padding=(pads[0], pads[1]))
                with torch.no_grad():
                    conv.weight.copy_(w)
                    conv.bias.copy_(b)
                self.ops.append(("Conv", [n.input[0]], out, len(self.convs)))
                self.convs.append(conv)
            elif n.op_type == "BatchNormalization":
                if n.output[0] not in folded:
                    raise ValueError(f"{path}: BatchNormalization {n.name} does not follow a Conv")
            elif n.op_type in ("Relu", "Add"):
                self.ops.append((n.op_type, list(n.input), n.output[0], None))
            elif n.op_type == "MaxPool":
                self.ops.append(("MaxPool", [n.input[0]], n.output[0], (attrs["kernel_shape"], attrs["strides"], attrs["pads"])))
            elif n.op_type in ("AveragePool", "GlobalAveragePool"):
                self.ops.append(("AveragePool", [n.input[0]], n.output[0], None))
            else:
                raise ValueError(f"{path}: unexpected {n.op_type} node in the ResNet18 graph")
        # stage outputs: what the 1x1 stride-2 shortcut convolutions read, then the last Relu before pooling
        shortcuts = [o[1][0] for o in self.ops if o[0] == "Conv" and self.convs[o[3]].kernel_size == (1, 1)]
        relus = [o[2] for o in self.ops if o[0] == "Relu"]
        pool_input = next(o[1][0] for o in self.ops if o[0] == "AveragePool")
        self.taps = {"relu1": relus[0], "layer1": shortcuts[0], "layer2": shortcuts[1], "layer3": shortcuts[2],
                     "layer4": pool_input, "pool": self.output_name}
        self.upto = upto
        self.content_tap = content
        self.style_names = list(self.STYLE_TAPS)
        self.content_name = content
        self.style_weights = [self.IMAGE_STYLE_WEIGHT] + [1.0] * (len(self.STYLE_TAPS) - 1)
        self.register_buffer("bgr_mean", self._bgr_mean(os.path.join(os.path.dirname(os.path.dirname(path)), PREPROCESS)))
        self.freeze()

    @staticmethod
    def _bgr_mean(prep_path: str) -> torch.Tensor:
        """Per-channel mean (B, G, R) of the preprocessing graph's 224x224 mean image (the BRIEF's 103.06,
        115.90, 123.15), so that any input size can be preprocessed."""
        import onnx
        from onnx import numpy_helper
        for i in onnx.load(prep_path).graph.initializer:
            a = numpy_helper.to_array(i)
            if a.ndim == 4 and a.shape[1] == 3:
                return torch.from_numpy(a.mean(axis=(0, 2, 3)).astype("float32")).view(1, 3, 1, 1)
        raise ValueError(f"{prep_path}: no 1x3xHxW mean image")

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        return image.flip(1) - self.bgr_mean

    def run(self, x: torch.Tensor, stop: str | None):
        """Runs the graph on a preprocessed BGR input; returns {tap name: tensor} up to the tap `stop`."""
        values = {self.input_name: x}
        wanted = {v: k for k, v in self.taps.items()}
        found, last = {}, self.taps[stop] if stop else None
        for op, ins, out, arg in self.ops:
            a = values[ins[0]]
            if op == "Conv":
                y = self.convs[arg](a)
            elif op == "Relu":
                y = F.relu(a)
            elif op == "Add":
                y = a + values[ins[1]]
            elif op == "MaxPool":
                k, s, p = arg
                y = F.max_pool2d(a, tuple(k), tuple(s), padding=(p[0], p[1]))
            else:
                y = a.mean(dim=(2, 3), keepdim=True)
            values[out] = y
            if out in wanted:
                found[wanted[out]] = y
            if out == last:
                break
        return found

    def forward(self, image):
        x = self.preprocess(image)
        taps = self.run(x, self.upto)
        style = [x] + [taps[n] for n in self.STYLE_TAPS[1:]]
        return style, taps[self.content_tap]


def node_attributes(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


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


def make_loss_net(kind: str = "resnet18", seed: int = DEFAULT_SEED, vgg: str | None = None) -> LossNet:
    if vgg:
        return VGG16Net(vgg)
    if kind == "resnet18":
        path = resnet18_path()
        if path is not None:
            return ResNet18Net(path)
        print("WARNING: the ResNet18 loss network is missing (training/resnet18/fetch.sh restores it from NuGet); "
              "falling back to the random 'deep' network: the styles will be weak, colour tints rather than paintings",
              file=sys.stderr, flush=True)
        kind = "deep"
    if kind == "multiscale":
        return MultiScaleRandomNet(seed)
    if kind == "multiscale-wide":
        return MultiScaleRandomNet(seed, channels=96, k=7)
    if kind == "deep":
        return DeepRandomNet(seed)
    raise ValueError(f"unknown loss network '{kind}' (resnet18, multiscale, multiscale-wide, deep, or --vgg PATH)")
