"""Train a temporally stable feed-forward style network (one style, or several in one network with CIN).

    python3 -m training.train --styles starry_night --out runs/starry_night
    python3 -m training.train --styles starry_night,wave,the_scream,composition_vii --out runs/mix

Each iteration takes a batch of random photo crops, makes a second frame for every crop with a known synthetic
motion (training/flow.py), styles both frames and minimises

    style_weight   * Gram style loss (frame 1)          (ImageNet ResNet18; a random network as the fallback)
  + content_weight * feature content loss (frame 1)
  + structure_weight * coarse luminance layout loss (frame 1)
  + tv_weight      * total variation
  + temporal_weight * ReCoNet output temporal loss       (moving pairs, occlusion-masked)
  + feature_weight  * ReCoNet feature temporal loss      (encoder output, 1/4 resolution)
  + noise_weight    * noise stability loss               (static pairs: the same crop with a little noise)

`--no-temporal` drops the last three (and the second frame): the per-frame baseline. `--resume` continues a
run from its `OUT/checkpoint.pt` (weights, optimiser, schedule, random state and loss history), so a long run
can go on in a later session from a committed checkpoint. `--identity` trains the
network to reproduce its input (the warm start that `--init` then loads). Runs on the CPU (PyTorch
1.13) or, when there is one, a CUDA GPU (`--device auto`). The checkpoint (`OUT/checkpoint.pt`) holds the
network's configuration and weights; `OUT/train.json` the arguments, data list, timing and loss history;
`OUT/samples/` pictures made during training.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time

import torch
import torch.nn.functional as F

from . import losses
from .data import DEFAULT_LIST, PhotoCrops, load_image, read_list, save_image, write_list
from .flow import make_pair
from .lossnet import DEFAULT_SEED, ResNet18Net, make_loss_net
from .net import StyleNet, count_parameters, one_hot
from .styles import REPO, style_name, style_path


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", default="", help="comma-separated style names (training/styles/NAME.jpg) or picture paths")
    ap.add_argument("--out", required=True, help="run folder (checkpoint.pt, train.json, samples/)")
    ap.add_argument("--data-list", default=DEFAULT_LIST, help="photo list file (written by training.data when missing)")
    ap.add_argument("--width", default="compact", help="compact (16/32/64), full (32/64/128), tiny, or c1,c2,c3")
    ap.add_argument("--res-blocks", type=int, default=4)
    ap.add_argument("--arch", default="reconet", choices=["reconet", "fast"],
                    help="reconet (the compact/full network) or fast (the CPU tier: training.net.FastEncoder/FastDecoder)")
    ap.add_argument("--teacher", help="distil: one CHECKPOINT[:STYLE] per style of --styles, comma-separated (STYLE picks "
                    "a row of a multi-style checkpoint); adds --teacher-weight * the distance to the teacher's output")
    ap.add_argument("--teacher-weight", type=float, default=2.0,
                    help="weight of the teacher term: mean |pixel difference| / 255 + ResNet18 content distance")
    ap.add_argument("--iters", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=96, help="crop size (multiple of 4)")
    ap.add_argument("--scale-min", type=float, default=1.0, help="photo's shorter side = size * U(scale-min, scale-max)")
    ap.add_argument("--scale-max", type=float, default=2.5)
    ap.add_argument("--style-size", type=int, default=256, help="the painting's longer side for its Gram matrices")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-final", type=float, default=0.1, help="learning rate at the end, as a fraction (cosine decay)")
    ap.add_argument("--style-weight", type=float, default=5.0)
    ap.add_argument("--content-weight", type=float, default=5.0)
    ap.add_argument("--structure-weight", type=float, default=10.0, help="coarse luminance layout loss (losses.structure_loss)")
    ap.add_argument("--structure-factor", type=int, default=4, help="pooling of the structure loss")
    ap.add_argument("--tv-weight", type=float, default=0.0)
    ap.add_argument("--temporal-weight", type=float, default=200.0, help="output-level temporal loss")
    ap.add_argument("--feature-weight", type=float, default=2.0, help="feature-level temporal loss")
    ap.add_argument("--noise-weight", type=float, default=1000.0, help="noise stability loss")
    ap.add_argument("--static-frac", type=float, default=0.25, help="fraction of pairs that do not move (noise only)")
    ap.add_argument("--noise-std", type=float, default=4.0, help="max std of the noise on frame 2 (0..255 scale)")
    ap.add_argument("--no-temporal", action="store_true", help="per-frame training: no second frame, no temporal losses")
    ap.add_argument("--loss-net", default="resnet18", help="resnet18 (default: ImageNet-trained, fetched by "
                    "training/resnet18/fetch.sh); deep, multiscale, multiscale-wide (random weights: weak styles)")
    ap.add_argument("--loss-seed", type=int, default=DEFAULT_SEED, help="seed of the random loss network's weights")
    ap.add_argument("--vgg", help="path to torchvision VGG-16 weights (state dict); replaces the random loss network")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1 ...")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--sample-every", type=int, default=250)
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--init", help="start from this checkpoint's weights (same width and blocks; a single-style "
                    "checkpoint's norm parameters are copied to every style)")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint.pt")
    ap.add_argument("--stop-after", type=int, help="save and stop after this iteration (continue later with --resume)")
    ap.add_argument("--identity", action="store_true",
                    help="train the network to reproduce its input (L1) instead of a style: a warm start for --init")
    return ap.parse_args(argv)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def parse_width(w: str):
    return tuple(int(v) for v in w.split(",")) if "," in w else w


def style_targets(loss_net, paths, size, device):
    """Per style: the Gram matrices of its painting (longer side = size)."""
    per_style = []
    for p in paths:
        img = load_image(p, size).unsqueeze(0).to(device)
        img = img[..., : img.shape[2] // 16 * 16, : img.shape[3] // 16 * 16]   # even sizes down to layer3
        with torch.no_grad():
            feats, _ = loss_net(img)
            per_style.append([losses.gram(f)[0] for f in feats])
    # layer l -> [N, C, C]
    return [torch.stack([s[l] for s in per_style]) for l in range(len(per_style[0]))]


def sample_strip(net, images, mix_rows):
    """A picture for the log: each test image, then its stylisation for each style."""
    net.eval()
    rows = []
    with torch.no_grad():
        for img in images:
            row = [img]
            for mix in mix_rows:
                row.append(net(img.unsqueeze(0), mix)[0][0])
            rows.append(torch.cat(row, dim=2))
    net.train()
    return torch.cat(rows, dim=1)


def train(a) -> dict:
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = pick_device(a.device)
    os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)
    if a.size % 4 or (a.loss_net == "resnet18" and not a.identity and a.size % 16):
        raise SystemExit("--size must be a multiple of 4 (16 with the resnet18 loss network: its stride-2 layers "
                         "pad one side only, which equals PyTorch's padding only for even sizes down to layer3)")

    style_list = [s for s in a.styles.split(",") if s] if not a.identity else ["identity"]
    if not style_list:
        raise SystemExit("give --styles NAME[,NAME...] (or --identity)")
    paths = [style_path(s) for s in style_list] if not a.identity else []
    names = [style_name(s) for s in style_list]
    n = len(style_list)

    if not os.path.exists(a.data_list):
        write_list(a.data_list)
    files = read_list(a.data_list)
    data = PhotoCrops(files, a.size, a.scale_min, a.scale_max, seed=a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)

    loss_net = make_loss_net(a.loss_net, a.loss_seed, a.vgg).to(device)
    if a.loss_net == "resnet18" and not isinstance(loss_net, ResNet18Net):
        a.loss_net = "deep (fallback: ResNet18 missing)"    # recorded in train.json
    targets = style_targets(loss_net, paths, a.style_size, device) if paths else []

    net = StyleNet(parse_width(a.width), a.res_blocks, n, a.arch).to(device)
    teachers = load_teachers(a.teacher, n, device) if a.teacher else None
    if a.init:
        load_init(net, a.init, names)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: a.lr_final + (1 - a.lr_final) * 0.5 * (1 + __import__("math").cos(__import__("math").pi * min(i, a.iters) / a.iters)))

    test_imgs = [load_image(os.path.join(REPO, "assets", "content", f), 192) for f in ("chicago.jpg", "tubingen.jpg")]
    test_imgs = [t[:, : t.shape[1] // 4 * 4, : t.shape[2] // 4 * 4].to(device) for t in test_imgs]
    mix_rows = [one_hot(torch.tensor([i]), n).to(device) if n > 1 else None for i in range(n)]

    temporal = not a.no_temporal
    history, sums, count, start, done_seconds = [], {}, 0, 1, 0.0
    if a.resume:
        resumed = resume(os.path.join(a.out, "checkpoint.pt"), net, names, opt, sched, {"data": data.gen, "pairs": gen}, a.iters)
        if resumed is None:
            return {"seconds": 0.0, "history": []}
        history, start, done_seconds = resumed
    t_start = time.time() - done_seconds
    print(f"training {','.join(names)}: {count_parameters(net)} parameters, device {device}, "
          f"{len(files)} photos, {a.iters} iterations of {a.batch}x{a.size}x{a.size}"
          f"{'' if temporal else ' (no temporal losses)'}", flush=True)
    for it in range(start, a.iters + 1):
        x1 = data.batch(a.batch).to(device)
        idx = torch.randint(n, (a.batch,), generator=gen)
        mix = one_hot(idx, n).to(device) if n > 1 else None
        tgt = [g[idx.to(device)] for g in targets]

        terms = {}
        if temporal:
            _, x2, flow, mask = make_pair(x1, gen, noise_std=a.noise_std)
            static = (torch.rand(a.batch, generator=gen) < a.static_frac).to(device)
            if static.any():  # static pairs: the same crop, only noise added
                s4 = static.view(-1, 1, 1, 1)
                noise = torch.randn(x1.shape, generator=gen).to(device) * (a.noise_std * torch.rand(a.batch, 1, 1, 1, generator=gen).to(device))
                x2 = torch.where(s4, (x1 + noise).clamp(0, 255), x2)
                flow = torch.where(s4, torch.zeros_like(flow), flow)
                mask = torch.where(s4, torch.ones_like(mask), mask)
            out, feat = net(torch.cat([x1, x2]), torch.cat([mix, mix]) if mix is not None else None)
            o1, o2 = out.chunk(2)
            f1, f2 = feat.chunk(2)
        else:
            o1, f1 = net(x1, mix)

        if a.identity:
            terms["l1"] = ((o1 - x1).abs() / 255.0).mean()
            loss = terms["l1"]
        else:
            s_feats, c_feat = loss_net(o1)
            with torch.no_grad():
                _, c_target = loss_net(x1)
            terms["style"] = losses.style_loss(s_feats, tgt, getattr(loss_net, "style_weights", None))
            terms["content"] = losses.content_loss(c_feat, c_target)
            loss = a.style_weight * terms["style"] + a.content_weight * terms["content"]
            if teachers:
                with torch.no_grad():
                    t1 = torch.empty_like(o1)
                    for i in idx.unique().tolist():
                        pick = (idx == i).to(device)
                        t1[pick] = teachers[i](x1[pick])[0]
                    _, t_feat = loss_net(t1)
                terms["teacher"] = ((o1 - t1).abs() / 255.0).mean() + losses.content_loss(c_feat, t_feat)
                loss = loss + a.teacher_weight * terms["teacher"]
        if a.structure_weight > 0 and not a.identity:
            terms["structure"] = losses.structure_loss(o1, x1, a.structure_factor)
            loss = loss + a.structure_weight * terms["structure"]
        if a.tv_weight > 0:
            terms["tv"] = losses.tv_loss(o1)
            loss = loss + a.tv_weight * terms["tv"]
        if temporal:
            moving = ~static
            if moving.any():
                m = moving
                terms["temporal"] = losses.output_temporal_loss(o1[m], o2[m], x1[m], x2[m], flow[m], mask[m])
                loss = loss + a.temporal_weight * terms["temporal"]
            if static.any():
                terms["noise"] = losses.noise_stability_loss(o1[static], o2[static])
                loss = loss + a.noise_weight * terms["noise"]
            terms["feature"] = losses.feature_temporal_loss(f1, f2, flow, mask, 4)
            loss = loss + a.feature_weight * terms["feature"]
        terms["total"] = loss

        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()

        for k, v in terms.items():
            sums.setdefault(k, [0.0, 0])
            sums[k][0] += float(v)
            sums[k][1] += 1
        count += 1
        if it % a.log_every == 0 or it == a.iters:
            el = time.time() - t_start
            means = {k: s / c for k, (s, c) in sums.items()}
            history.append({"iter": it, "seconds": round(el, 1), **{k: round(v, 6) for k, v in means.items()}})
            print(f"it {it:5d}  {el:7.0f}s  {(it - start + 1) / max(el - done_seconds, 1e-3):5.2f} it/s  " + "  ".join(f"{k} {v:.4g}" for k, v in means.items()), flush=True)
            sums, count = {}, 0
        if it % a.sample_every == 0 or it == a.iters:
            save_image(sample_strip(net, test_imgs, mix_rows), os.path.join(a.out, "samples", f"it{it:05d}.png"))
        stop = a.stop_after is not None and it >= a.stop_after
        if it % a.save_every == 0 or it == a.iters or stop:
            state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "rng": {"data": data.gen.get_state(), "pairs": gen.get_state(), "torch": torch.get_rng_state()}}
            save_checkpoint(net, names, a, it, time.time() - t_start, history, files, state)
        if stop:
            print(f"stopped after iteration {it}: continue with --resume", flush=True)
            break
    return {"seconds": time.time() - t_start, "history": history}


def resume(path, net, names, opt, sched, generators, iters):
    """Restores a run saved by save_checkpoint: weights, Adam, schedule, random state. Returns (history, next
    iteration, seconds done), or None when the run already has its `iters` iterations."""
    if not os.path.isfile(path):
        raise SystemExit(f"--resume: {path} does not exist")
    ckpt = torch.load(path, map_location="cpu")
    if ckpt["config"] != net.config or ckpt["styles"] != names:
        raise SystemExit(f"--resume: {path} holds {ckpt['styles']} {ckpt['config']}, not {names} {net.config}")
    if ckpt["iterations"] >= iters:
        print(f"{path}: all {iters} iterations are done", flush=True)
        return None
    if "optimizer" not in ckpt:
        raise SystemExit(f"--resume: {path} has no optimiser state (an exported or weights-only checkpoint)")
    net.load_state_dict(ckpt["state_dict"])
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    for key, g in generators.items():     # the crop sampler's and the motion pairs' generators
        g.set_state(ckpt["rng"][key])
    torch.set_rng_state(ckpt["rng"]["torch"])
    print(f"resuming {path} at iteration {ckpt['iterations'] + 1} ({ckpt['seconds']:.0f} s done)", flush=True)
    return ckpt["history"], ckpt["iterations"] + 1, ckpt["seconds"]


def load_teachers(spec: str, n: int, device) -> list:
    """--teacher: the frozen single-style networks whose outputs a (smaller) network learns to reproduce."""
    from .export import bake, load   # noqa: PLC0415  (export imports onnx; only distillation needs it here)
    teachers = []
    for item in spec.split(","):
        path, _, style = item.partition(":")
        net, held = load(path)
        if net.n_styles > 1:
            if style not in held:
                raise SystemExit(f"--teacher {item}: {path} holds {held}; name one of them after ':'")
            net = bake(net, [1.0 if h == style else 0.0 for h in held])
        for p in net.parameters():
            p.requires_grad_(False)
        teachers.append(net.eval().to(device))
    if len(teachers) != n:
        raise SystemExit(f"--teacher: {len(teachers)} teachers for {n} styles")
    return teachers


def load_init(net: StyleNet, path: str, names: list[str]):
    """Starts from a checkpoint's weights. Norm parameters are matched by style: a single-style checkpoint's go
    to every style; a multi-style checkpoint gives each style of this run its own row where it holds that style
    (so one painting of the 7-style mix can be continued as a single-style network)."""
    ckpt = torch.load(path, map_location="cpu")
    state, held = ckpt["state_dict"], ckpt.get("styles") or []
    own = net.state_dict()
    for k, v in state.items():
        per_style = k.endswith(("norm.weight", "norm.bias"))   # [styles, channels]; other shapes are the net's own
        if not per_style or k not in own or own[k].shape == v.shape or own[k].shape[1:] != v.shape[1:]:
            continue
        if v.shape[0] == 1:
            state[k] = v.expand_as(own[k]).clone()
        elif all(n in held for n in names):
            state[k] = v[[held.index(n) for n in names]].clone()
        else:
            raise SystemExit(f"--init: {path} holds styles {held}; this run trains {names}")
    net.load_state_dict(state)


def save_checkpoint(net, names, a, it, seconds, history, files, state=None):
    """OUT/checkpoint.pt: the weights and, for --resume, the optimiser, schedule, random state and history."""
    ckpt = {"config": net.config, "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "styles": names, "iterations": it, "seconds": round(seconds, 1), "history": history, **(state or {})}
    tmp = os.path.join(a.out, "checkpoint.pt.tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, os.path.join(a.out, "checkpoint.pt"))
    info = {
        "command": "python3 -m training.train " + " ".join(sys.argv[1:]) if sys.argv and "training" in " ".join(sys.argv) else None,
        "args": vars(a), "styles": names, "iterations": it, "seconds": round(seconds, 1),
        "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
        "threads": torch.get_num_threads(), "data_list": os.path.relpath(a.data_list, REPO), "photos": len(files),
        "config": net.config, "history": history,
    }
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(info, f, indent=1)


def main(argv=None):
    a = parse_args(argv)
    r = train(a)
    print(f"done in {r['seconds']:.0f}s -> {os.path.join(a.out, 'checkpoint.pt')}")


if __name__ == "__main__":
    main()
