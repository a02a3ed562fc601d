"""The style network: a ReCoNet-style encoder / decoder.

    image (1x3xHxW, RGB 0..255)
      -> encoder: conv 9x9 s1 -> conv 3x3 s2 -> conv 3x3 s2 -> R residual blocks   (features at 1/4 size)
      -> decoder: (nearest upsample x2 + conv 3x3) x2 -> conv 9x9 -> RGB 0..255

Every conv uses reflection padding and is followed by instance norm + ReLU (except the last conv). With more
than one style the instance norms are *conditional* (Dumoulin et al. 2017): one scale/shift per style, and a
mix-weight vector picks the weighted sum of them, so one network blends between styles. No transposed
convolutions (they make checkerboard artefacts); the image is normalised to -1..1 inside the graph so the
exported ONNX graphs take and give 0..255 RGB, as the engine expects.

The encoder output (after the residual blocks, 1/4 resolution) is what the engine blends over time
(feature-level temporal smoothing); `MULTIPLE` = 4 is the product of the encoder's strides.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MULTIPLE = 4

WIDTHS = {
    "full": (32, 64, 128),
    "compact": (16, 32, 64),
    "tiny": (8, 16, 32),   # for tests
}


class CondInstanceNorm(nn.Module):
    """Instance norm with one affine (scale, shift) per style; the mix weights pick a weighted sum.

    With n_styles == 1 this is a plain affine instance norm (and exports as ONNX InstanceNormalization).
    """

    def __init__(self, channels: int, n_styles: int = 1):
        super().__init__()
        self.channels, self.n_styles = channels, n_styles
        self.weight = nn.Parameter(torch.ones(n_styles, channels))
        self.bias = nn.Parameter(torch.zeros(n_styles, channels))

    def forward(self, x: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_styles == 1 or mix is None:
            if self.n_styles != 1 and mix is None:
                raise ValueError("a multi-style network needs the style mix weights")
            return F.instance_norm(x, weight=self.weight[0], bias=self.bias[0], eps=1e-5)
        y = F.instance_norm(x, eps=1e-5)
        if mix.dim() == 1:          # [N] (the exported graph's input) -> [1, N]
            mix = mix.unsqueeze(0)
        gamma = torch.matmul(mix, self.weight)   # [B, C]
        beta = torch.matmul(mix, self.bias)
        return y * gamma.unsqueeze(-1).unsqueeze(-1) + beta.unsqueeze(-1).unsqueeze(-1)


class ConvLayer(nn.Module):
    """Reflection pad + conv (+ conditional instance norm + ReLU); `edge` pads by repeating the border instead."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, n_styles: int = 1, norm: bool = True, relu: bool = True,
                 edge: bool = False):
        super().__init__()
        if k == 1:
            self.pad = nn.Identity()   # a 1x1 conv needs no border (a zero-width Pad would still cost a copy)
        else:
            self.pad = nn.ReplicationPad2d(k // 2) if edge else nn.ReflectionPad2d(k // 2)
        self.conv = nn.Conv2d(cin, cout, k, stride)
        self.norm = CondInstanceNorm(cout, n_styles) if norm else None
        self.relu = relu

    def forward(self, x, mix=None):
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x, mix)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, c: int, n_styles: int = 1):
        super().__init__()
        self.a = ConvLayer(c, c, 3, n_styles=n_styles)
        self.b = ConvLayer(c, c, 3, n_styles=n_styles, relu=False)

    def forward(self, x, mix=None):
        return x + self.b(self.a(x, mix), mix)


class UpConv(nn.Module):
    """Nearest-neighbour upsample x2 then conv (no transposed conv, no checkerboard)."""

    def __init__(self, cin: int, cout: int, n_styles: int = 1):
        super().__init__()
        self.conv = ConvLayer(cin, cout, 3, n_styles=n_styles)

    def forward(self, x, mix=None):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"), mix)


class Encoder(nn.Module):
    def __init__(self, widths=(16, 32, 64), res_blocks: int = 4, n_styles: int = 1):
        super().__init__()
        c1, c2, c3 = widths
        self.layers = nn.ModuleList([
            ConvLayer(3, c1, 9, 1, n_styles),
            ConvLayer(c1, c2, 3, 2, n_styles),
            ConvLayer(c2, c3, 3, 2, n_styles),
        ] + [ResidualBlock(c3, n_styles) for _ in range(res_blocks)])

    def forward(self, image: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        x = image * (1.0 / 127.5) - 1.0
        for layer in self.layers:
            x = layer(x, mix)
        return x


class Decoder(nn.Module):
    def __init__(self, widths=(16, 32, 64), n_styles: int = 1):
        super().__init__()
        c1, c2, c3 = widths
        self.up1 = UpConv(c3, c2, n_styles)
        self.up2 = UpConv(c2, c1, n_styles)
        self.out = ConvLayer(c1, 3, 9, 1, norm=False, relu=False)

    def forward(self, features: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        x = self.up2(self.up1(features, mix), mix)
        # sigmoid keeps the output inside 0..255 (no clipping artefacts, no runaway colours early in training)
        return torch.sigmoid(self.out(x)) * 255.0


class SeparableConv(nn.Module):
    """Depthwise 3x3 + pointwise 1x1 (+ conditional instance norm + ReLU): about a ninth of a 3x3 conv's cost."""

    def __init__(self, cin: int, cout: int, n_styles: int = 1, relu: bool = True):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.depthwise = nn.Conv2d(cin, cin, 3, groups=cin)
        self.pointwise = nn.Conv2d(cin, cout, 1)
        self.norm = CondInstanceNorm(cout, n_styles)
        self.relu = relu

    def forward(self, x, mix=None):
        x = self.norm(self.pointwise(self.depthwise(self.pad(x))), mix)
        return F.relu(x) if self.relu else x


class SeparableResidualBlock(nn.Module):
    def __init__(self, c: int, n_styles: int = 1):
        super().__init__()
        self.a = SeparableConv(c, c, n_styles)
        self.b = SeparableConv(c, c, n_styles, relu=False)

    def forward(self, x, mix=None):
        return x + self.b(self.a(x, mix), mix)


class FastEncoder(Encoder):
    """The CPU tier's encoder: two stride-2 3x3 convs straight from the image (no 9x9 at full resolution), then
    separable residual blocks at 1/4 size, where almost all of the work is. forward is Encoder's."""

    def __init__(self, widths=(16, 32, 64), res_blocks: int = 3, n_styles: int = 1):
        nn.Module.__init__(self)
        c1, _, c3 = widths
        self.layers = nn.ModuleList([
            ConvLayer(3, c1, 3, 2, n_styles),
            ConvLayer(c1, c3, 3, 2, n_styles),
        ] + [SeparableResidualBlock(c3, n_styles) for _ in range(res_blocks)])


class FastDecoder(nn.Module):
    """The CPU tier's decoder: channels are cut at 1/4 size before each upsampling, and nothing runs at full
    resolution: the last 3x3 conv works at half size and gives each output pixel's 2x2 block (12 channels), which
    a pixel shuffle lays out at full size. No learned transposed conv: no checkerboard.

    That last layer is exactly what a 3x3 conv to RGB after a nearest x2 upsampling computes (the first fast
    networks were trained that way; `subpixel_weights` converts their weights on loading): at full size it ran on
    4x the pixels, and ONNX Runtime's blocked layout rounds its 3 output channels up to 16, so it took a third of
    the network's time."""

    def __init__(self, widths=(16, 32, 64), n_styles: int = 1):
        super().__init__()
        c1, c2, c3 = widths
        self.reduce = ConvLayer(c3, c2, 1, 1, n_styles)
        self.at_half = SeparableConv(c2, c1, n_styles)
        self.out = ConvLayer(c1, 3 * 4, 3, 1, norm=False, relu=False, edge=True)
        shuffle = torch.zeros(3 * 4, 3, 2, 2)
        for c in range(3):
            for a in range(2):
                for b in range(2):
                    shuffle[c * 4 + 2 * a + b, c, a, b] = 1.0
        self.register_buffer("shuffle_weight", shuffle, persistent=False)
        self._register_load_state_dict_pre_hook(self._upgrade_full_size_output)

    def forward(self, features: torch.Tensor, mix: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(self.reduce(features, mix), scale_factor=2.0, mode="nearest")
        x = self.at_half(x, mix)
        # sigmoid keeps the output inside 0..255; it commutes with the shuffle, so it runs before it
        return self._shuffle(torch.sigmoid(self.out(x)) * 255.0)

    def _shuffle(self, x: torch.Tensor) -> torch.Tensor:
        """pixel_shuffle(x, 2), written as a stride-2 transposed conv with 0/1 weights: exact (each output takes
        one input times 1), and ONNX Runtime runs it 5x faster than its DepthToSpace (a slow 6-D transpose)."""
        return F.conv_transpose2d(x, self.shuffle_weight, stride=2)

    @staticmethod
    def _upgrade_full_size_output(state, prefix, *_):
        key = prefix + "out.conv.weight"
        if key in state and state[key].shape[0] == 3:
            state[key], state[prefix + "out.conv.bias"] = subpixel_weights(state[key], state[prefix + "out.conv.bias"])


def subpixel_weights(weight: torch.Tensor, bias: torch.Tensor) -> tuple:
    """A 3x3 conv [C, Cin, 3, 3] applied after nearest x2 upsampling, as a 3x3 conv at the small size giving
    [C*4, Cin, 3, 3] for pixel_shuffle (channel c*4 + 2a + b is output c at offset (a, b) in each 2x2 block).

    Full-size row 2i+a+dy reads small row i + floor((a+dy)/2): for a = 0 taps dy = -1, 0, 1 read rows i-1, i, i;
    for a = 1 they read i, i, i+1. Each small-size tap sums the full-size taps that land on it. At the border,
    reflecting the upsampled image repeats the small image's edge row, which is why the small conv pads by edge:
    the two are equal everywhere."""
    c, cin = weight.shape[:2]
    out = weight.new_zeros(c, 2, 2, cin, 3, 3)
    for a in range(2):
        for b in range(2):
            for dy in range(3):
                for dx in range(3):
                    ey, ex = (a + dy - 1) // 2 + 1, (b + dx - 1) // 2 + 1
                    out[:, a, b, :, ey, ex] += weight[:, :, dy, dx]
    return out.reshape(c * 4, cin, 3, 3), bias.repeat_interleave(4)


ARCHS = {"reconet": (Encoder, Decoder), "fast": (FastEncoder, FastDecoder)}


class StyleNet(nn.Module):
    """Encoder + decoder. forward(image[, mix]) -> (stylised image, features).

    arch "reconet" is the compact/full network above; "fast" is the CPU tier (FastEncoder/FastDecoder)."""

    def __init__(self, width: str | tuple = "compact", res_blocks: int = 4, n_styles: int = 1, arch: str = "reconet"):
        super().__init__()
        widths = WIDTHS[width] if isinstance(width, str) else tuple(width)
        self.config = {"width": list(widths), "res_blocks": res_blocks, "n_styles": n_styles}
        if arch != "reconet":   # old checkpoints have no "arch" key; keep their config (and --resume checks) as they were
            self.config["arch"] = arch
        self.n_styles = n_styles
        encoder, decoder = ARCHS[arch]
        self.encoder = encoder(widths, res_blocks, n_styles)
        self.decoder = decoder(widths, n_styles)

    def forward(self, image, mix=None):
        features = self.encoder(image, mix)
        return self.decoder(features, mix), features

    @staticmethod
    def from_checkpoint(ckpt: dict) -> "StyleNet":
        c = ckpt["config"]
        net = StyleNet(tuple(c["width"]), c["res_blocks"], c["n_styles"], c.get("arch", "reconet"))
        net.load_state_dict(ckpt["state_dict"])
        return net


def one_hot(indices: torch.Tensor, n: int) -> torch.Tensor:
    return F.one_hot(indices, n).float()


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
