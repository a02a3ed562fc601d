"""The temporal-stability measuring tool: sequences with true flow, the occlusion check, the metrics, DIS flow."""
import os

import numpy as np
import pytest

from training import engine, sequences, stability

W, H = 96, 54


@pytest.fixture(scope="module")
def seqs(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("seq"))
    out = {}
    for k in sequences.KINDS:
        sequences.write_sequence(k, folder, W, H, 6, noise=0)
        out[k] = sequences.load(os.path.join(folder, k))
    return out


def test_true_flow_reproduces_each_frame(seqs):
    for kind, (frames, flows, meta) in seqs.items():
        e = stability.warping_error(frames, flows["backward"], flows["valid"])
        # The flow is exact; what is left is bilinear resampling of the 8-bit frames (zoom) and the disc's edge.
        assert e < 2e-4, (kind, e)
        # ... and the metric can fail: the same frames do not fit "nothing moved".
        still = np.zeros_like(flows["backward"])
        assert stability.warping_error(frames, still, flows["valid"]) > 5 * max(e, 1e-5), kind


def test_cut_has_no_pairs_across_it(seqs):
    _, flows, meta = seqs["cut"]
    assert meta["shots"] == [0, 3]
    assert not flows["valid"][0].any() and not flows["valid"][3].any()
    assert flows["valid"][4].mean() > 0.9


def test_forward_backward_check_marks_disoccluded_pixels(seqs):
    _, flows, meta = seqs["object"]
    xs, ys = sequences.grid(H, W)
    t = 3
    disc = lambda k: (xs - meta["disc"][k]["centre"][0]) ** 2 + (ys - meta["disc"][k]["centre"][1]) ** 2 < meta["disc"][k]["radius"] ** 2  # noqa: E731
    uncovered = disc(t - 1) & ~disc(t)          # background the disc has just left: not visible in frame t-1
    assert uncovered.sum() > 10
    assert not flows["valid"][t][uncovered].any()
    # Away from the disc (and its edge), everything is valid.
    far = ~(disc(t - 1) | disc(t))
    far &= (np.abs(xs - meta["disc"][t]["centre"][0]) > meta["disc"][t]["radius"] + 12)
    assert flows["valid"][t][far].all()


def test_consistency_rule_of_ruder():
    b = np.zeros((4, 5, 2), np.float32)
    f = np.zeros((4, 5, 2), np.float32)
    b[..., 0] = 1.0
    f[..., 0] = -1.0                            # consistent: |w + w'| = 0
    assert sequences.consistency(b, f)[:, :-1].all()
    assert not sequences.consistency(b, f)[:, -1].any()   # the source lies outside the frame
    f[..., 0] = 0.0                             # |w + w'|^2 = 1 > 0.01 * 1 + 0.5
    assert not sequences.consistency(b, f).any()
    f[..., 0] = -0.4                            # 0.36 <= 0.01 * 1.16 + 0.5
    assert sequences.consistency(b, f)[:, :-1].all()


def test_warping_error_of_pure_noise_is_twice_its_variance():
    rng = np.random.default_rng(0)
    sigma = 6.0
    frames = np.clip(np.round(128 + rng.normal(0, sigma, (5, 40, 60, 3))), 0, 255).astype(np.uint8)
    flows = np.zeros((5, 40, 60, 2), np.float32)
    valid = np.ones((5, 40, 60), bool)
    e = stability.warping_error(frames, flows, valid)
    assert e == pytest.approx(2 * (sigma / 255) ** 2, rel=0.1)


def test_dis_flow_finds_the_pan(seqs):
    frames, flows, _ = seqs["pan"]
    backward, _, valid = stability.dis_flows(frames)
    # The camera pans 4 px right and 1 px down a frame: the content of frame t was 4 px right, 1 px down in t-1.
    inner = (slice(8, -8), slice(8, -8))
    assert np.median(backward[2][inner][..., 0]) == pytest.approx(4.0, abs=0.5)
    assert np.median(backward[2][inner][..., 1]) == pytest.approx(1.0, abs=0.5)
    assert valid[2].mean() > 0.7
    assert stability.warping_error(frames, backward, valid) < 5e-4


def test_ghost_and_cut_leak_compare_with_per_frame(seqs):
    frames, _, meta = seqs["object"]
    assert stability.ghost(frames, frames, meta) == 0
    shifted = frames.astype(np.int16) + 10
    assert stability.ghost(shifted, frames, meta) == pytest.approx(10)
    cut_frames, _, cut_meta = seqs["cut"]
    assert stability.cut_leak(cut_frames.astype(np.int16) + 3, cut_frames, cut_meta) == pytest.approx(3)


@pytest.mark.skipif(not engine.available(), reason="the engine CLI is not built (build/build.sh)")
def test_engine_blending_is_measured(tmp_path):
    """End to end on the real engine: smoothing calms the still part of a noisy scene, per-frame does not."""
    folder = str(tmp_path)
    base = sequences.write_sequence("object", folder, 192, 108, 6, noise=4)[:-4]
    frames, flows, meta = sequences.load(base)
    still = stability.still_mask(flows, meta)
    assert still[1:].mean() > 0.3
    style = "models/starry_night"
    per_frame = stability.render(base + ".mkv", folder + "/a.mkv", style, stability.configs()[0])
    smoothed = stability.render(base + ".mkv", folder + "/b.mkv", style, {"mode": "output", "smoothing": 0.9})
    assert per_frame.shape == frames.shape
    e0 = stability.warping_error(per_frame, flows["backward"], still)
    e1 = stability.warping_error(smoothed, flows["backward"], still)
    assert e1 < e0 * 0.6, (e0, e1)
