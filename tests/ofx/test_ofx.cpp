// test_ofx.cpp - drives the StyleFilter OpenFX bundle through the test host (host.h) and checks what it renders.
//
//   ofx_test_host --bundle out/ofx/StyleFilter.ofx.bundle --models out/test-models --tier-models DIR
//                 [--frames FILE --width W --height H]        source picture, raw RGBA8 (else a synthetic one)
//                 DIR holds copies of pack_tiered and pack_tiered_fast only (its fast network), listed as bundled styles
//   ofx_test_host --bundle ... --models out/test-models --bench FILE --width 1920 --height 1080 [--bench-frames N]
//                 times the untrained full-width network (placeholder/placeholder.onnx of the test models)
//   ofx_test_host --bundle BUNDLE_WITHOUT_ENGINE --no-engine    the bundle with stylefilter.so removed
//   ofx_test_host --bundle COUNTING_BUNDLE --cache --models out/test-models [--frames FILE --width W --height H]
//                 the history cache: engine_shim.c (counting the engine frames) in front of stylefilter_real.so
//   ofx_test_host --bundle BUNDLE --bench-sequential FILE --width 720 --height 576 [--bench-frames N]
//                 times renders in order and scattered at the effect's defaults (tests/ofx/bench_sequential.sh)
//   ofx_test_host --bundle out/ofx/StyleFilter.ofx.bundle --host-limits
//                 a host without string parameters, and one that cannot give the Style parameter's value
//   ofx_test_host --bundle OLD_ENGINE_BUNDLE --old-engine --models out/test-models
//                 the bundle whose stylefilter.so lacks the style mix calls and sf_get_style_info and refuses
//                 SF_PARAM_NETWORK_TIER
//                 (engine_shim.c built with -DSHIM_OLD_ENGINE in front of the real engine, stylefilter_real.so)
//
// The checks compare the plugin's output with the engine's own output for the same frames, computed through the
// C ABI (stylefilter.h) from the engine library inside the bundle. Exit code: number of failed checks (capped at
// 255); 0 = all passed.
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host.h"
#include "stylefilter.h"

using namespace ofxhost;

namespace {

// ---- checks ----------------------------------------------------------------------------------------------------

int g_checks = 0, g_failures = 0;

void Check(bool ok, const char* fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    g_checks++;
    if (!ok) g_failures++;
    std::printf("%s  %s\n", ok ? "PASS" : "FAIL", text);
    std::fflush(stdout);
}

void Section(const char* name)
{
    std::printf("\n== %s\n", name);
    std::fflush(stdout);
}

// ---- the engine through its C ABI (reference outputs) -------------------------------------------------------------

struct Engine {
    decltype(&sf_abi_version) abi_version = nullptr;
    decltype(&sf_last_error) last_error = nullptr;
    decltype(&sf_engine_create) create = nullptr;
    decltype(&sf_engine_destroy) destroy = nullptr;
    decltype(&sf_engine_load_style) load_style = nullptr;
    decltype(&sf_engine_set_param) set_param = nullptr;
    decltype(&sf_engine_process_cpu) process_cpu = nullptr;
    decltype(&sf_engine_reset_history) reset_history = nullptr;
    decltype(&sf_engine_get_style_mix_count) get_style_mix_count = nullptr;
    decltype(&sf_engine_set_style_mix) set_style_mix = nullptr;
    decltype(&sf_engine_get_style_mix_name) get_style_mix_name = nullptr;
    decltype(&sf_list_styles) list_styles = nullptr;

    /// Ids of the bundled styles, as sf_list_styles gives them.
    std::vector<std::string> StyleIds() const
    {
        std::vector<std::string> ids;
        size_t needed = 0;
        if (list_styles(nullptr, 0, &needed) != SF_OK) return ids;
        std::string text(needed, '\0');
        if (list_styles(&text[0], text.size(), &needed) != SF_OK) return ids;
        std::istringstream lines(text.c_str());
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) ids.push_back(line);
        return ids;
    }

    bool Load(const std::string& path, std::string* error)
    {
        // The same file the plugin loaded: the loader hands back the same library, so both share one engine runtime.
        void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            *error = dlerror();
            return false;
        }
#define RESOLVE(field, name)                                      \
    field = reinterpret_cast<decltype(field)>(dlsym(lib, #name)); \
    if (!field) {                                                 \
        *error = "missing " #name;                                \
        return false;                                             \
    }
        RESOLVE(abi_version, sf_abi_version)
        RESOLVE(last_error, sf_last_error)
        RESOLVE(create, sf_engine_create)
        RESOLVE(destroy, sf_engine_destroy)
        RESOLVE(load_style, sf_engine_load_style)
        RESOLVE(set_param, sf_engine_set_param)
        RESOLVE(process_cpu, sf_engine_process_cpu)
        RESOLVE(reset_history, sf_engine_reset_history)
        RESOLVE(get_style_mix_count, sf_engine_get_style_mix_count)
        RESOLVE(set_style_mix, sf_engine_set_style_mix)
        RESOLVE(get_style_mix_name, sf_engine_get_style_mix_name)
        RESOLVE(list_styles, sf_list_styles)
#undef RESOLVE
        return abi_version() == SF_ABI_VERSION;
    }
};

struct RefSettings {
    std::string style;
    double strength = 1, smoothing = 0.5, scale = 1;
    bool preserve = false;
    std::vector<float> mix;  // style mix weights for a multi-style model (empty: leave the engine's mix alone)
};

/// The engine's output for frame `frames.back()` after warming its history with the frames before it, every
/// frame given top-down packed (the same bytes the plugin hands the engine).
class Reference {
public:
    explicit Reference(Engine* api) : api_(api) {}
    ~Reference()
    {
        if (engine_) api_->destroy(engine_);
    }

    bool Run(const RefSettings& s, const std::vector<std::vector<uint8_t>>& frames, int w, int h, bool isFloat,
             std::vector<uint8_t>* out, std::string* error)
    {
        if (!engine_ && api_->create(nullptr, &engine_) != SF_OK) {
            *error = "sf_engine_create: " + std::string(api_->last_error());
            return false;
        }
        if (s.style != style_) {
            api_->set_param(engine_, SF_PARAM_DEVICE, SF_DEVICE_AUTO);
            if (api_->load_style(engine_, s.style.c_str()) != SF_OK) {
                *error = "sf_engine_load_style: " + std::string(api_->last_error());
                return false;
            }
            style_ = s.style;
        }
        api_->set_param(engine_, SF_PARAM_ALPHA, s.strength);
        api_->set_param(engine_, SF_PARAM_SMOOTHING, s.smoothing);
        api_->set_param(engine_, SF_PARAM_PRESERVE_COLOUR, s.preserve ? 1 : 0);
        api_->set_param(engine_, SF_PARAM_INFERENCE_SCALE, s.scale);
        if (!s.mix.empty() && api_->set_style_mix(engine_, s.mix.data(), (int32_t)s.mix.size()) != SF_OK) {
            *error = "sf_engine_set_style_mix: " + std::string(api_->last_error());
            return false;
        }
        api_->reset_history(engine_);
        for (size_t k = 0; k < frames.size(); ++k) {
            std::vector<uint8_t> in = frames[k];
            std::vector<uint8_t> result(in.size());
            sf_frame fi{in.data(), w, h, w * (isFloat ? 16 : 4), isFloat ? SF_FORMAT_RGBA32F : SF_FORMAT_RGBA8};
            sf_frame fo{result.data(), w, h, fi.stride, fi.format};
            if (api_->process_cpu(engine_, &fi, &fo) != SF_OK) {
                *error = "sf_engine_process_cpu: " + std::string(api_->last_error());
                return false;
            }
            if (k + 1 == frames.size()) *out = std::move(result);
        }
        return true;
    }

private:
    Engine* api_;
    sf_engine* engine_ = nullptr;
    std::string style_;

public:
    /// The loaded model's mixable style names through the C ABI (after a Run with that model).
    std::vector<std::string> MixNames()
    {
        std::vector<std::string> names;
        int32_t count = 0;
        if (!engine_ || api_->get_style_mix_count(engine_, &count) != SF_OK) return names;
        for (int32_t i = 0; i < count; ++i) {
            char buf[256] = "";
            api_->get_style_mix_name(engine_, i, buf, sizeof buf);
            names.emplace_back(buf);
        }
        return names;
    }
};

// ---- image comparison -------------------------------------------------------------------------------------------

struct Diff {
    double max = 0, mean = 0;
    bool sizeMismatch = false;
};

/// Differences over the RGB channels, in 8-bit levels for both depths (floats are scaled by 255).
Diff Compare(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, bool isFloat)
{
    Diff d;
    if (a.size() != b.size() || a.empty()) {
        d.sizeMismatch = true;
        d.max = d.mean = 1e9;
        return d;
    }
    double sum = 0;
    size_t n = 0;
    if (isFloat) {
        const float* x = reinterpret_cast<const float*>(a.data());
        const float* y = reinterpret_cast<const float*>(b.data());
        for (size_t k = 0; k < a.size() / 4; ++k) {
            if (k % 4 == 3) continue;
            double v = std::fabs((double)x[k] - (double)y[k]) * 255.0;
            d.max = std::max(d.max, v);
            sum += v;
            n++;
        }
    } else {
        for (size_t k = 0; k < a.size(); ++k) {
            if (k % 4 == 3) continue;
            double v = std::abs((int)a[k] - (int)b[k]);
            d.max = std::max(d.max, v);
            sum += v;
            n++;
        }
    }
    d.mean = n ? sum / (double)n : 0;
    return d;
}

bool SameBytes(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) { return a.size() == b.size() && a == b; }

// ---- helpers -------------------------------------------------------------------------------------------------------

struct Options {
    // tierModels: a folder holding only pack_tiered and pack_tiered_fast (its fast network), listed as bundled styles
    std::string bundle, models, tierModels, frames, bench, benchSequential;
    bool noEngine = false, oldEngine = false, hostLimits = false, cache = false;
    int width = 160, height = 90, benchFrames = 2;
};

std::vector<uint8_t> ReadRaw(const std::string& path, size_t bytes)
{
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> data(bytes);
    if (!f.read(reinterpret_cast<char*>(data.data()), (std::streamsize)bytes)) return {};
    return data;
}

/// Source frames t-k .. t as the plugin receives them (top-down packed, render scale and depth applied).
std::vector<std::vector<uint8_t>> Frames(Host& host, double t, int k, double scale, const std::string& depth, int* w,
                                         int* h)
{
    std::vector<std::vector<uint8_t>> frames;
    for (int j = k; j >= 0; --j) {
        if (!host.source.Has(t - j)) continue;
        frames.push_back(ScaledFrame(host.source, t - j, scale, depth, w, h));
    }
    return frames;
}

/// Earlier frames the effect runs before frame t (ofx-plugin/README.md, "Temporal smoothing in an editor"): from
/// k = ceil(3 x smoothing) frames before the first frame of t's group of 8 (0-7, 8-15, ...), none without smoothing,
/// never before the clip's first frame.
int ChainFrames(double t, double smoothing, double first = 0)
{
    if (!(smoothing > 0)) return 0;
    const int k = std::min(3, (int)std::ceil(smoothing * 3 - 1e-9));
    const long frame = (long)std::floor(t + 1e-6);
    const int place = (int)(((frame % 8) + 8) % 8);
    return std::max(0, std::min(k + place, (int)std::floor(t - first + 1e-6)));
}

/// The engine's reference output for frame t of the host's source after the k frames before it.
bool Expected(Reference& ref, const RefSettings& rs, Host& host, double t, int k, double scale,
              const std::string& depth, std::vector<uint8_t>* out, std::string* error)
{
    int w = 0, h = 0;
    auto frames = Frames(host, t, k, scale, depth, &w, &h);
    return ref.Run(rs, frames, w, h, depth == kOfxBitDepthFloat, out, error);
}

bool HasMessage(Host& host, const std::string& type, const std::string& needle, size_t* count = nullptr)
{
    size_t n = 0;
    for (const Message& m : host.Messages())
        if (m.type == type && m.text.find(needle) != std::string::npos) n++;
    if (count) *count = n;
    return n > 0;
}

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

template <typename Strings>
std::string Join(const Strings& s)
{
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
    return out;
}

// ---- the checks -----------------------------------------------------------------------------------------------------

/// Checks that the host saw no protocol violations, listing any it did.
void CheckNoViolations(Host& host)
{
    auto violations = host.Violations();
    for (const std::string& v : violations) std::printf("      violation: %s\n", v.c_str());
    Check(violations.empty(), "no protocol violations seen by the host (%zu)", violations.size());
}

/// Points the host at a short panning clip and loads the bundle; false (a failed check) when it cannot.
bool LoadBundleWithPanningClip(Host& host, const Options& opt)
{
    host.source = Sequence::Panning(Sequence::Synthetic(opt.width, opt.height), opt.width, opt.height, 0, 23, 2);
    std::string error;
    bool loaded = host.LoadBundle(opt.bundle, &error);
    Check(loaded, "load the bundle%s%s", loaded ? "" : ": ", error.c_str());
    return loaded;
}

// ---- by value: the engine's maths through the effect, against values computed here ---------------------------------

/// A colour in 8-bit levels (0..255), also for float frames.
struct Rgb {
    double r, g, b;
};

double Luma(const Rgb& c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; }  // BT.601, as stylefilter.h documents

/// The engine's documented maths, written again here for a chain of uniform frames (anchor .. t, run after a reset)
/// through a network that is the identity (identity.onnx) or grey (grey.onnx: Y, Y, Y):
///   temporal blend  F'_j = F_j + s m (F'_{j-1} - F_j), m = max(0, 1 - change / 0.1), change = the largest of the R, G,
///                   B changes of the input (0..1); a mean change above 0.15 is a scene cut and restarts the history;
///   colour          out = in + (Y(F') - Y(in)) on each channel (the input's chroma, the stylised luma);
///   strength a      out = in + a (out - in).
Rgb ReferenceUniform(const std::vector<Rgb>& chain, bool grey, double strength, double smoothing, bool preserve)
{
    auto network = [&](const Rgb& c) { return grey ? Rgb{Luma(c), Luma(c), Luma(c)} : c; };
    auto clamp = [](const Rgb& c) {
        return Rgb{std::clamp(c.r, 0.0, 255.0), std::clamp(c.g, 0.0, 255.0), std::clamp(c.b, 0.0, 255.0)};
    };
    Rgb f = network(chain.front());
    for (size_t j = 1; j < chain.size(); ++j) {
        const Rgb& a = chain[j - 1];
        const Rgb& b = chain[j];
        const Rgb n = network(b);
        const double change = std::max({std::fabs(b.r - a.r), std::fabs(b.g - a.g), std::fabs(b.b - a.b)}) / 255.0;
        if (change > 0.15) {
            f = n;
            continue;
        }
        const double sm = smoothing * std::max(0.0, 1.0 - change / 0.1);
        f = Rgb{n.r + sm * (f.r - n.r), n.g + sm * (f.g - n.g), n.b + sm * (f.b - n.b)};
    }
    f = clamp(f);
    const Rgb& in = chain.back();
    if (preserve) {
        const double dy = Luma(f) - Luma(in);
        f = Rgb{in.r + dy, in.g + dy, in.b + dy};
    }
    return clamp(Rgb{in.r + strength * (f.r - in.r), in.g + strength * (f.g - in.g), in.b + strength * (f.b - in.b)});
}

/// Largest difference, in 8-bit levels, between a rendered RGBA frame (8-bit or float) and expected colours per pixel;
/// *alphaKept is false when any alpha differs from the source's (float: by more than 1e-4 levels).
double MaxLevelsOff(const std::vector<uint8_t>& out, const std::vector<uint8_t>& source, bool isFloat,
                    const std::function<Rgb(size_t)>& expected, bool* alphaKept)
{
    const size_t pixels = source.size() / (isFloat ? 16 : 4);
    *alphaKept = out.size() == source.size();
    if (!*alphaKept || pixels == 0) return 1e9;
    double worst = 0;
    for (size_t i = 0; i < pixels; ++i) {
        const Rgb e = expected(i);
        const double want[3] = {e.r, e.g, e.b};
        for (int c = 0; c < 4; ++c) {
            double got, src;
            if (isFloat) {
                got = reinterpret_cast<const float*>(out.data())[i * 4 + (size_t)c] * 255.0;
                src = reinterpret_cast<const float*>(source.data())[i * 4 + (size_t)c] * 255.0;
            } else {
                got = out[i * 4 + (size_t)c];
                src = source[i * 4 + (size_t)c];
            }
            if (c == 3) {  // exact in 8 bits; float alpha goes through the engine's 0..255 planes and back
                *alphaKept = *alphaKept && std::fabs(got - src) <= (isFloat ? 1e-4 : 0);
                continue;
            }
            // 8-bit output is the value rounded half up
            const double w = isFloat ? want[c] : std::floor(want[c] + 0.5);
            worst = std::max(worst, std::fabs(got - w));
        }
    }
    return worst;
}

/// Alpha (strength), colour preservation and smoothing by value through the effect, with the tiny test networks
/// identity.onnx and grey.onnx, against ReferenceUniform and per-pixel formulas: uniform frames at an odd size (37x23:
/// 851 pixels, no vector width divides it, and the network runs at 36x32) and a still textured frame at 36x32 (the
/// network's own size, so nothing is resampled and every pixel has its own expected value), 8-bit and float, with
/// padded rows and rows stored top-down (negative row bytes) in the source and the output.
void CheckByValue(Host& host, const Options& opt)
{
    Section("by value: strength, colour preservation and smoothing, against values computed in the test");
    const Sequence saved = host.source;
    const std::string savedPremultiplication = host.premultiplication;
    host.premultiplication = kOfxImageUnPreMultiplied;  // straight colour: the plugin leaves alpha alone
    const std::string identity = opt.models + "/identity.onnx", grey = opt.models + "/grey.onnx";

    // Uniform frames 0 .. 23: a slow colour drift (change 4/255 a frame, m = 0.84), and a cut at frame 20 (G + 60).
    const int w = 37, h = 23;
    std::vector<Rgb> colour;
    Sequence uniform;
    uniform.width = w;
    uniform.height = h;
    uniform.first = 0;
    uniform.last = 23;
    for (int j = 0; j <= 23; ++j) {
        Rgb c{120.0 + 4 * j, 80.0 - 2 * j + (j >= 20 ? 60 : 0), 40.0 + 3 * j};
        colour.push_back(c);
        std::vector<uint8_t> px((size_t)w * h * 4);
        for (size_t i = 0; i < px.size(); i += 4) {
            px[i] = (uint8_t)c.r;
            px[i + 1] = (uint8_t)c.g;
            px[i + 2] = (uint8_t)c.b;
            px[i + 3] = 77;
        }
        uniform.frames.push_back(std::move(px));
    }
    host.source = uniform;
    host.sourceRowPadding = 12;
    host.sourceTopDown = true;
    host.outputRowPadding = 4;
    host.outputTopDown = false;

    struct Case {
        const char* what;
        bool grey;
        double strength, smoothing;
        bool preserve;
        double t;
        const char* depth;
    };
    const Case cases[] = {
        {"strength 0.25", true, 0.25, 0, false, 10, kOfxBitDepthByte},
        {"strength 0.6", true, 0.6, 0, false, 10, kOfxBitDepthByte},
        {"strength 1", true, 1, 0, false, 10, kOfxBitDepthByte},
        {"strength 0.6", true, 0.6, 0, false, 10, kOfxBitDepthFloat},
        {"preserve colours", true, 1, 0, true, 10, kOfxBitDepthByte},
        {"smoothing 0.3", false, 1, 0.3, false, 10, kOfxBitDepthByte},
        {"smoothing 0.5", false, 1, 0.5, false, 13, kOfxBitDepthByte},
        {"smoothing 1", false, 1, 1.0, false, 15, kOfxBitDepthByte},
        {"smoothing 1", false, 1, 1.0, false, 15, kOfxBitDepthFloat},
        {"smoothing 0.9 across the cut at 20", false, 1, 0.9, false, 22, kOfxBitDepthByte},
        {"smoothing 0.5, preserve colours, strength 0.7", false, 0.7, 0.5, true, 13, kOfxBitDepthByte},
        {"smoothing 1, preserve colours", true, 1, 1.0, true, 12, kOfxBitDepthFloat},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ++ci) {
        const Case& c = cases[ci];
        OfxStatus st;
        Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, c.depth, &st);
        host.SetString(e, "customModel", c.grey ? grey : identity);
        host.SetDouble(e, "strength", c.strength);
        host.SetDouble(e, "smoothing", c.smoothing);
        host.SetInt(e, "preserveColours", c.preserve ? 1 : 0);
        auto r = host.Render(e, c.t, 1, false);
        const int n = ChainFrames(c.t, c.smoothing);
        const std::vector<Rgb> chain(colour.begin() + (long)(c.t - n), colour.begin() + (long)c.t + 1);
        const Rgb want = ReferenceUniform(chain, c.grey, c.strength, c.smoothing, c.preserve);
        int sw = 0, sh = 0;
        const bool isFloat = std::string(c.depth) == kOfxBitDepthFloat;
        bool alphaKept = false;
        const double off = MaxLevelsOff(
            r.pixels, ScaledFrame(host.source, c.t, 1, c.depth, &sw, &sh), isFloat, [&](size_t) { return want; },
            &alphaKept);
        Check(st == kOfxStatOK && r.status == kOfxStatOK && off <= (isFloat ? 0.01 : 1) && alphaKept,
              "%s, %s network, %s, frame %g (from frame %g): every pixel (%.2f, %.2f, %.2f) within %.3f levels, "
              "alpha kept",
              c.what, c.grey ? "grey" : "identity", isFloat ? "float" : "8-bit", c.t, c.t - n, want.r, want.g, want.b,
              off);
        host.DestroyInstance(e);
    }

    // A still textured frame at the network's own size: every pixel has its own value (packing, strides, channels).
    {
        const int tw = 36, th = 32;
        std::vector<uint8_t> picture = Sequence::Synthetic(tw, th);
        for (size_t i = 0; i < picture.size(); i += 4) picture[i + 3] = (uint8_t)(i * 7 / 4 % 256);  // alpha varies
        host.source = Sequence::Panning(picture, tw, th, 0, 23, 0);
        host.sourceRowPadding = 4;
        host.sourceTopDown = false;
        host.outputRowPadding = 20;
        host.outputTopDown = true;
        for (const char* depth : {kOfxBitDepthByte, kOfxBitDepthFloat}) {
            const bool isFloat = std::string(depth) == kOfxBitDepthFloat;
            int sw = 0, sh = 0;
            const std::vector<uint8_t> in = ScaledFrame(host.source, 10, 1, depth, &sw, &sh);
            auto inColour = [&](size_t i) {
                if (isFloat) {
                    const float* f = reinterpret_cast<const float*>(in.data()) + i * 4;
                    return Rgb{f[0] * 255.0, f[1] * 255.0, f[2] * 255.0};
                }
                return Rgb{(double)in[i * 4], (double)in[i * 4 + 1], (double)in[i * 4 + 2]};
            };
            OfxStatus st;
            Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, depth, &st);
            host.SetString(e, "customModel", grey);
            host.SetDouble(e, "strength", 0.6);
            auto r = host.Render(e, 10, 1, false);
            bool alphaKept = false;
            double off = MaxLevelsOff(
                r.pixels, in, isFloat,
                [&](size_t i) {
                    const Rgb c = inColour(i);
                    const double y = Luma(c);
                    return Rgb{c.r + 0.6 * (y - c.r), c.g + 0.6 * (y - c.g), c.b + 0.6 * (y - c.b)};
                },
                &alphaKept);
            Check(r.status == kOfxStatOK && off <= (isFloat ? 0.01 : 1) && alphaKept,
                  "36x32 texture, %s, grey network, strength 0.6: each pixel in + 0.6 (Y - in) within %.3f levels, its "
                  "alpha kept",
                  isFloat ? "float" : "8-bit", off);
            host.SetDouble(e, "strength", 1.0);
            host.SetInt(e, "preserveColours", 1);
            r = host.Render(e, 10, 1, false);
            off = MaxLevelsOff(r.pixels, in, isFloat, inColour, &alphaKept);
            Check(r.status == kOfxStatOK && off <= (isFloat ? 0.01 : 1) && alphaKept,
                  "36x32 texture, %s, grey network, preserve colours: each pixel keeps its colour (within %.3f levels)",
                  isFloat ? "float" : "8-bit", off);
            host.DestroyInstance(e);
        }
    }
    host.source = saved;
    host.premultiplication = savedPremultiplication;
    host.sourceRowPadding = 32;
    host.sourceTopDown = false;
    host.outputRowPadding = 64;
    host.outputTopDown = false;
}

int RunTests(const Options& opt)
{
    Host host;
    std::vector<uint8_t> picture;
    if (!opt.frames.empty()) picture = ReadRaw(opt.frames, (size_t)opt.width * opt.height * 4);
    if (picture.empty()) {
        if (!opt.frames.empty()) std::printf("note: cannot read %s, using a synthetic picture\n", opt.frames.c_str());
        picture = Sequence::Synthetic(opt.width, opt.height);
    }
    host.source = Sequence::Panning(picture, opt.width, opt.height, 0, 23, 2);
    const std::string zoo = opt.models + "/zoo_dynamic.onnx";
    const std::string corrupt = opt.models + "/corrupt.onnx";
    const std::string runtimeFail = opt.models + "/runtime_fail.onnx";
    const std::string missing = "/nonexistent/folder/missing_style.onnx";
    const std::string mixPack = opt.models + "/pack_mix";

    // ---- loading -----------------------------------------------------------------------------------------------
    Section("loading the bundle");
    std::string error;
    // The tier test packs become bundled styles (after the bundle's own, which the plugin puts first), so that the
    // Network parameter has a style with two sizes to choose between. The engine reads the variable when it starts.
    if (!opt.tierModels.empty()) setenv("STYLEFILTER_MODELS", opt.tierModels.c_str(), 1);
    bool loaded = host.LoadBundle(opt.bundle, &error);
    Check(loaded, "dlopen %s, OfxGetNumberOfPlugins, OfxGetPlugin%s%s", host.BinaryPath().c_str(), loaded ? "" : ": ",
          error.c_str());
    if (!loaded) return g_failures;
    OfxPlugin* plugin = host.Plugin();
    Check(host.PluginCount() == 1, "the binary holds one plugin (%d)", host.PluginCount());
    Check(std::strcmp(plugin->pluginIdentifier, "org.stylefilter.NeuralStyle") == 0, "identifier %s",
          plugin->pluginIdentifier);
    Check(plugin->pluginVersionMajor == 1 && plugin->pluginVersionMinor == 0, "version %u.%u",
          plugin->pluginVersionMajor, plugin->pluginVersionMinor);
    Check(host.Load() == kOfxStatOK, "kOfxActionLoad");
    auto suites = host.SuitesFetched();
    Check(suites.count("OfxPropertySuite v1") && suites.count("OfxImageEffectSuite v1") &&
              suites.count("OfxParameterSuite v1"),
          "fetched the property, image effect and parameter suites (%s)", Join(suites).c_str());

    Engine engine;
    std::string enginePath = opt.bundle + "/Contents/Linux-x86-64/stylefilter.so";
    bool engineOk = engine.Load(enginePath, &error);
    Check(engineOk, "engine C ABI from the bundle (%s)%s%s", enginePath.c_str(), engineOk ? "" : ": ", error.c_str());
    if (!engineOk) return g_failures;
    Reference ref(&engine);

    // ---- describe --------------------------------------------------------------------------------------------------
    Section("describe");
    Check(host.Describe() == kOfxStatOK, "kOfxActionDescribe");
    PropertySet& d = host.Descriptor()->props;
    Check(d.String(kOfxPropLabel) == "Neural Style", "label '%s'", d.String(kOfxPropLabel).c_str());
    Check(d.String(kOfxImageEffectPluginPropGrouping) == "Stylize", "grouping '%s'",
          d.String(kOfxImageEffectPluginPropGrouping).c_str());
    Check(d.Int(kOfxPropVersion, 0) == 1 && d.Int(kOfxPropVersion, 1) == 0, "kOfxPropVersion 1.0");
    auto contexts = d.Strings(kOfxImageEffectPropSupportedContexts);
    Check(std::count(contexts.begin(), contexts.end(), kOfxImageEffectContextFilter) &&
              std::count(contexts.begin(), contexts.end(), kOfxImageEffectContextGeneral),
          "contexts: filter and general");
    auto depths = d.Strings(kOfxImageEffectPropSupportedPixelDepths);
    Check(depths.size() == 2 && std::count(depths.begin(), depths.end(), kOfxBitDepthByte) &&
              std::count(depths.begin(), depths.end(), kOfxBitDepthFloat),
          "pixel depths: byte and float");
    Check(d.Int(kOfxImageEffectPropTemporalClipAccess) == 1, "temporal clip access declared");
    Check(d.String(kOfxImageEffectPluginRenderThreadSafety) == kOfxImageEffectRenderInstanceSafe,
          "render thread safety: instance safe");
    Check(d.Int(kOfxImageEffectPropSupportsTiles) == 0 && d.Int(kOfxImageEffectPropSupportsMultiResolution) == 1,
          "no tiles, multi-resolution");
    Check(host.DescribeInContext(kOfxImageEffectContextFilter) == kOfxStatOK, "DescribeInContext(filter)");
    Check(host.DescribeInContext(kOfxImageEffectContextGeneral) == kOfxStatOK, "DescribeInContext(general)");
    Effect* fd = host.ContextDescriptor(kOfxImageEffectContextFilter);
    Check(fd->clips.count("Source") && fd->clips.count("Output"), "clips Source and Output");
    if (fd->clips.count("Source")) {
        PropertySet& sp = fd->clips["Source"]->props;
        Check(sp.Int(kOfxImageEffectPropTemporalClipAccess) == 1, "Source clip asks for temporal access");
        Check(sp.Strings(kOfxImageEffectPropSupportedComponents) == std::vector<std::string>{kOfxImageComponentRGBA},
              "Source clip: RGBA");
    }
    struct Expect {
        const char* name;
        const char* type;
    };
    const Expect expected[] = {
        {"style", kOfxParamTypeChoice},
        {"customModel", kOfxParamTypeString},
        {"strength", kOfxParamTypeDouble},
        {"preserveColours", kOfxParamTypeBoolean},
        {"smoothing", kOfxParamTypeDouble},
        {"followMotion", kOfxParamTypeBoolean},
        {"inferenceResolution", kOfxParamTypeChoice},
        {"device", kOfxParamTypeChoice},
        {"network", kOfxParamTypeChoice},
        {"styleMix", kOfxParamTypeDouble},
    };
    for (const Expect& e : expected) {
        Param* p = fd->params.Find(e.name);
        Check(p && p->type == e.type, "parameter %s (%s)", e.name, e.type);
    }
    // Style: one option per bundled style, in the engine's order, labelled with the painting's title (the option's
    // index maps to the id); the untrained placeholder network is not a style and is never offered.
    int starryIndex = -1;
    if (Param* style = fd->params.Find("style")) {
        auto options = style->props.Strings(kOfxParamPropChoiceOption);
        auto ids = engine.StyleIds();
        size_t byId = 0;
        for (size_t k = 0; k < options.size() && k < ids.size(); ++k) {
            if (ids[k] == "starry_night" && options[k] == "The Starry Night") starryIndex = (int)k;
            if (options[k] == ids[k]) byId++;
        }
        Check(starryIndex >= 0, "Style offers the bundled 'starry_night' as \"The Starry Night\" (%s)",
              Join(options).c_str());
        Check(!ids.empty() && options.size() == ids.size() && byId == 0,
              "every bundled style (%zu) is labelled with its title, not its folder name (%zu are not)", ids.size(),
              byId);
        bool placeholder = false;
        for (size_t k = 0; k < options.size(); ++k)
            placeholder = placeholder || options[k].find("placeholder") != std::string::npos ||
                          (k < ids.size() && ids[k].find("placeholder") != std::string::npos);
        Check(!placeholder, "Style does not offer the untrained 'placeholder'");
    }
    if (Param* p = fd->params.Find("customModel"))
        Check(p->props.String(kOfxParamPropStringMode) == kOfxParamStringIsFilePath, "Custom model is a file path");
    if (Param* p = fd->params.Find("strength"))
        Check(p->props.Int(kOfxParamPropAnimates) == 1 && p->props.Double(kOfxParamPropMin) == 0 &&
                  p->props.Double(kOfxParamPropMax) == 1 && p->props.Double(kOfxParamPropDefault) == 1,
              "Strength: animatable, 0..1, default 1");
    if (Param* p = fd->params.Find("smoothing"))
        Check(p->props.Double(kOfxParamPropMin) == 0 && p->props.Double(kOfxParamPropMax) == 1,
              "Temporal smoothing: 0..1");
    if (Param* p = fd->params.Find("followMotion"))
        Check(p->props.Int(kOfxParamPropDefault) == 1 && p->props.String(kOfxPropLabel) == "Follow camera motion",
              "Follow camera motion: on by default");
    if (Param* p = fd->params.Find("styleMix"))
        Check(p->props.String(kOfxPropLabel) == "Style mix" && p->props.Int(kOfxParamPropAnimates) == 1 &&
                  p->props.Double(kOfxParamPropMin) == 0 && p->props.Double(kOfxParamPropMax) == 1 &&
                  p->props.Double(kOfxParamPropDefault) == 0 &&
                  p->props.String(kOfxParamPropHint).find("0 = the first style, 1 = the last") != std::string::npos,
              "Style mix: label 'Style mix', animatable, 0..1, default 0, hint explains the sweep");
    if (Param* p = fd->params.Find("inferenceResolution"))
        Check(p->props.Strings(kOfxParamPropChoiceOption) == std::vector<std::string>{"Full", "Half", "Quarter"},
              "Inference resolution: Full / Half / Quarter");
    if (Param* p = fd->params.Find("device"))
        Check(p->props.Strings(kOfxParamPropChoiceOption).size() == 5, "Device: 5 choices");
    if (Param* p = fd->params.Find("network"))
        Check(p->props.Strings(kOfxParamPropChoiceOption) ==
                      std::vector<std::string>{"Auto", "Fast (real time on a CPU)", "Compact", "Full (for GPUs)"} &&
                  p->props.Int(kOfxParamPropDefault) == 0 && p->props.String(kOfxPropLabel) == "Network" &&
                  p->props.String(kOfxParamPropHint).find("Auto picks Fast on a CPU") != std::string::npos,
              "Network: Auto / Fast / Compact / Full, default Auto, with a hint");

    // ---- an instance ----------------------------------------------------------------------------------------------
    Section("instance, region of definition, frames needed, clip preferences");
    OfxStatus st;
    Effect* a = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    Check(st == kOfxStatOK, "kOfxActionCreateInstance (8-bit)");
    Check(a->props.Pointer(kOfxPropInstanceData) != nullptr, "instance data set");
    PropertySet prefs;
    Check(host.ClipPreferences(a, &prefs) == kOfxStatOK && prefs.Int(kOfxImageEffectFrameVarying) == 1,
          "GetClipPreferences: kOfxImageEffectFrameVarying = 1");
    host.SetString(a, "customModel", zoo);
    OfxRectD rod{0, 0, 0, 0};
    st = host.RegionOfDefinition(a, 10, 1, &rod);
    Check(st == kOfxStatOK && rod.x1 == 0 && rod.y1 == 0 && rod.x2 == opt.width && rod.y2 == opt.height,
          "GetRegionOfDefinition = the source's (%g %g %g %g)", rod.x1, rod.y1, rod.x2, rod.y2);
    struct FN {
        double smoothing, t, lo;
    };
    // smoothing 0.5: k = 2 frames before the group; frame 10 is third in group 8-15, so it runs from 8 - 2 = 6
    const FN fns[] = {{0.5, 10, 6},  {1.0, 10, 5}, {0.2, 10, 7}, {0.0, 10, 10}, {0.5, 16, 14},
                      {0.5, 23, 14}, {0.5, 5, 0},  {0.5, 1, 0},  {0.5, 0, 0}};
    for (const FN& f : fns) {
        host.SetDouble(a, "smoothing", f.smoothing);
        OfxRangeD r{0, 0};
        st = host.FramesNeeded(a, f.t, &r);
        Check(st == kOfxStatOK && r.min == f.lo && r.max == f.t,
              "GetFramesNeeded smoothing %.1f at %g: [%g, %g] (want [%g, %g])", f.smoothing, f.t, r.min, r.max, f.lo,
              f.t);
    }
    host.SetDouble(a, "smoothing", 0.5);

    // ---- stylised output equals the engine's --------------------------------------------------------------------------
    Section("stylised output vs the engine's C ABI (zoo_dynamic.onnx, smoothing 0.5: frame 10 runs from frame 6)");
    int w = 0, h = 0;
    RefSettings rs;
    rs.style = zoo;
    std::vector<uint8_t> expect8, noWarm8, stylised10;
    auto in10 = ScaledFrame(host.source, 10, 1, kOfxBitDepthByte, &w, &h);
    bool refOk = Expected(ref, rs, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &expect8, &error);
    Check(refOk, "reference for frame 10 (8-bit)%s%s", refOk ? "" : ": ", error.c_str());
    Expected(ref, rs, host, 10, 0, 1, kOfxBitDepthByte, &noWarm8, &error);
    auto r10 = host.Render(a, 10, 1, false);
    Check(r10.status == kOfxStatOK && !r10.identity && r10.fullyWritten, "render 8-bit frame 10 (%dx%d)", r10.width,
          r10.height);
    stylised10 = r10.pixels;
    Diff dOut = Compare(r10.pixels, expect8, false);
    Check(dOut.max <= 1 && dOut.mean < 0.05, "8-bit output equals the engine's (max %.0f, mean %.4f levels)", dOut.max,
          dOut.mean);
    Diff dIn = Compare(r10.pixels, in10, false);
    Check(dIn.mean > 5, "the output is stylised: mean %.1f levels from the source", dIn.mean);
    Diff dNoWarm = Compare(r10.pixels, noWarm8, false);
    Check(dNoWarm.max > 1, "warm frames matter: differs from a history-less render (max %.0f levels)", dNoWarm.max);

    Effect* fl = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthFloat, &st);
    Check(st == kOfxStatOK, "kOfxActionCreateInstance (float)");
    host.SetString(fl, "customModel", zoo);
    std::vector<uint8_t> expectF;
    refOk = Expected(ref, rs, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthFloat, &expectF, &error);
    auto rf = host.Render(fl, 10, 1, false);
    Check(rf.status == kOfxStatOK && rf.fullyWritten, "render float frame 10");
    Diff dF = Compare(rf.pixels, expectF, true);
    Check(refOk && dF.max <= 0.01, "float output equals the engine's (max %.5f levels)", dF.max);

    // render scale: half-size images, the engine works on what arrives
    std::vector<uint8_t> expectHalf;
    refOk = Expected(ref, rs, host, 10, ChainFrames(10, 0.5), 0.5, kOfxBitDepthByte, &expectHalf, &error);
    auto rh = host.Render(a, 10, 0.5, false);
    Diff dH = Compare(rh.pixels, expectHalf, false);
    Check(rh.status == kOfxStatOK && rh.width == opt.width / 2 && rh.height == opt.height / 2 && refOk && dH.max <= 1,
          "render scale 0.5: %dx%d output equals the engine's at that size (max %.0f)%s%s", rh.width, rh.height, dH.max,
          refOk ? "" : "; reference: ", refOk ? "" : error.c_str());

    // the other parameters reach the engine
    {
        host.SetInt(a, "preserveColours", 1);
        host.SetInt(a, "inferenceResolution", 1);  // Half
        host.SetInt(a, "device", 1);               // CPU (reloads the style)
        RefSettings rp = rs;
        rp.preserve = true;
        rp.scale = 0.5;
        std::vector<uint8_t> expect;
        bool ok = Expected(ref, rp, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &expect, &error);
        auto rr = host.Render(a, 10, 1, false);
        Diff dp = Compare(rr.pixels, expect, false);
        Check(
            rr.status == kOfxStatOK && ok && dp.max <= 1 && !SameBytes(rr.pixels, stylised10),
            "Preserve colours on, Inference resolution Half, Device CPU: equals the engine with those settings (max %.0f)",
            dp.max);
        host.SetInt(a, "preserveColours", 0);
        host.SetInt(a, "inferenceResolution", 0);
        host.SetInt(a, "device", 0);
        rr = host.Render(a, 10, 1, false);
        Check(SameBytes(rr.pixels, stylised10), "back to the defaults: the same frame as before");
    }

    // a source whose region of definition is not at the origin
    host.source.origin = OfxPointI{16, 8};
    st = host.RegionOfDefinition(a, 10, 1, &rod);
    Check(st == kOfxStatOK && rod.x1 == 16 && rod.y1 == 8 && rod.x2 == 16 + opt.width,
          "offset source: RoD follows it (%g %g %g %g)", rod.x1, rod.y1, rod.x2, rod.y2);
    auto ro = host.Render(a, 10, 1, false);
    Check(ro.status == kOfxStatOK && SameBytes(ro.pixels, stylised10), "offset source: same pixels as at the origin");
    host.source.origin = OfxPointI{0, 0};

    // ---- premultiplied alpha ---------------------------------------------------------------------------------------
    Section("premultiplied source with an alpha ramp");
    Sequence opaque = host.source;
    {
        std::vector<uint8_t> pm = picture;
        for (int y = 0; y < opt.height; ++y)
            for (int x = 0; x < opt.width; ++x) {
                uint8_t* q = &pm[((size_t)y * opt.width + x) * 4];
                unsigned alpha = (unsigned)(x * 255 / (opt.width - 1));
                for (int c = 0; c < 3; ++c) q[c] = (uint8_t)((q[c] * alpha + 127u) / 255u);
                q[3] = (uint8_t)alpha;
            }
        host.source = Sequence::Panning(pm, opt.width, opt.height, 0, 23, 0);
    }
    host.premultiplication = kOfxImagePreMultiplied;
    Effect* pmi = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.SetString(pmi, "customModel", zoo);
    auto rp = host.Render(pmi, 10, 1, false);
    {
        // expected: un-premultiply, stylise, premultiply (integer rounding as documented in the plugin)
        int pw = 0, ph = 0;
        auto frames = Frames(host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &pw, &ph);
        std::vector<uint8_t> alphaIn = frames.back();
        for (auto& f : frames)
            for (size_t i = 0; i < f.size(); i += 4) {
                unsigned alpha = f[i + 3];
                if (alpha == 0 || alpha == 255) continue;
                for (int c = 0; c < 3; ++c)
                    f[i + (size_t)c] = (uint8_t)std::min(255u, (f[i + (size_t)c] * 255u + alpha / 2) / alpha);
            }
        std::vector<uint8_t> expect;
        bool ok = ref.Run(rs, frames, pw, ph, false, &expect, &error);
        for (size_t i = 0; ok && i < expect.size(); i += 4)
            for (int c = 0; c < 3; ++c)
                expect[i + (size_t)c] = (uint8_t)((expect[i + (size_t)c] * (unsigned)expect[i + 3] + 127u) / 255u);
        Diff dp = Compare(rp.pixels, expect, false);
        bool valid = rp.pixels.size() == alphaIn.size();
        for (size_t i = 0; valid && i < rp.pixels.size(); i += 4)
            valid = rp.pixels[i + 3] == alphaIn[i + 3] && rp.pixels[i] <= rp.pixels[i + 3] &&
                    rp.pixels[i + 1] <= rp.pixels[i + 3] && rp.pixels[i + 2] <= rp.pixels[i + 3];
        Check(rp.status == kOfxStatOK && ok && dp.max <= 1,
              "stylised straight colour, premultiplied back (max %.0f levels)", dp.max);
        Check(valid, "alpha kept and colour <= alpha everywhere (a valid premultiplied image)");
    }
    host.source = opaque;
    host.premultiplication = kOfxImageOpaque;

    // ---- identity and keyframed strength -------------------------------------------------------------------------------
    Section("strength keyframed 0 at frame 0 -> 1 at frame 20 (identity at 0, linear between)");
    Effect* k = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.SetString(k, "customModel", zoo);
    host.SetDoubleKeys(k, "strength", {{0.0, 0.0}, {20.0, 1.0}});
    std::string idClip;
    double idTime = -1;
    Check(host.IsIdentity(k, 0, 1, &idClip, &idTime) == kOfxStatOK && idClip == "Source" && idTime == 0,
          "IsIdentity at frame 0 (strength 0): Source at 0");
    Check(host.IsIdentity(k, 5, 1, &idClip, &idTime) == kOfxStatReplyDefault,
          "IsIdentity at frame 5 (strength 0.25): no");
    OfxRangeD r0{0, 0};
    host.FramesNeeded(k, 0, &r0);
    Check(r0.min == 0 && r0.max == 0, "GetFramesNeeded at strength 0: [0, 0]");
    auto id0 = host.Render(k, 0, 1, false);
    Check(id0.identity, "the host skips the render at frame 0 (identity)");
    auto forced0 = host.Render(k, 0, 1, true);
    auto in0 = ScaledFrame(host.source, 0, 1, kOfxBitDepthByte, &w, &h);
    Check(forced0.status == kOfxStatOK && SameBytes(forced0.pixels, in0),
          "rendered anyway at strength 0: an exact copy (8-bit)");
    host.SetDoubleKeys(fl, "strength", {{0.0, 0.0}, {20.0, 1.0}});
    auto forcedF = host.Render(fl, 0, 1, true);
    Check(forcedF.status == kOfxStatOK &&
              SameBytes(forcedF.pixels, ScaledFrame(host.source, 0, 1, kOfxBitDepthFloat, &w, &h)),
          "rendered anyway at strength 0: an exact copy (float)");
    host.SetDouble(fl, "strength", 1.0);
    for (double t : {5.0, 10.0, 15.0}) {
        RefSettings rk = rs;
        rk.strength = t / 20.0;
        std::vector<uint8_t> expect;
        Expected(ref, rk, host, t, ChainFrames(t, 0.5), 1, kOfxBitDepthByte, &expect, &error);
        auto rr = host.Render(k, t, 1, false);
        Diff dd = Compare(rr.pixels, expect, false);
        Check(rr.status == kOfxStatOK && !rr.identity && dd.max <= 1,
              "frame %g: strength %.2f read at the render time (max %.0f)", t, rk.strength, dd.max);
    }

    // ---- style mix ---------------------------------------------------------------------------------------------------------
    Section("style mix (pack_mix: styles red and blue; smoothing 0.5: frame 10 runs from frame 6)");
    Effect* mx = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    Param* mixParam = mx->params.Find("styleMix");
    Check(mixParam && mixParam->props.Int(kOfxParamPropEnabled, 0, 1) == 0,
          "new instance on the single-style default 'starry_night': Style mix disabled");
    host.SetString(mx, "customModel", mixPack);
    Check(mixParam && mixParam->props.Int(kOfxParamPropEnabled, 0, 0) == 1,
          "custom model pack_mix (2 styles): Style mix enabled on instance changed");
    {
        std::string hint = mixParam ? mixParam->props.String(kOfxParamPropHint) : "";
        Check(hint.find("red (0)") != std::string::npos && hint.find("blue (1)") != std::string::npos,
              "the hint names the styles from sf_engine_get_style_mix_name ('%s')", hint.c_str());
    }
    {
        RefSettings rm;
        rm.style = mixPack;
        struct MixCase {
            double value;
            std::vector<float> weights;
        };
        const MixCase cases[] = {{0.0, {1, 0}}, {1.0, {0, 1}}, {0.5, {0.5f, 0.5f}}};
        std::vector<std::vector<uint8_t>> outs;
        for (const MixCase& c : cases) {
            host.SetDouble(mx, "styleMix", c.value);
            rm.mix = c.weights;
            std::vector<uint8_t> expect;
            bool ok = Expected(ref, rm, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &expect, &error);
            auto rr = host.Render(mx, 10, 1, false);
            Diff dm = Compare(rr.pixels, expect, false);
            Check(ok && rr.status == kOfxStatOK && dm.max <= 1,
                  "mix %.1f: equals the engine with weights {%g, %g} (max %.0f)%s%s", c.value, c.weights[0],
                  c.weights[1], dm.max, ok ? "" : "; reference: ", ok ? "" : error.c_str());
            outs.push_back(rr.pixels);
        }
        auto names = ref.MixNames();
        Check(names == std::vector<std::string>{"red", "blue"},
              "the engine names pack_mix's styles red, blue (%zu name(s))", names.size());
        // red minus blue, averaged: larger for the red end than for the blue end
        auto redness = [](const std::vector<uint8_t>& px) {
            double sum = 0;
            for (size_t i = 0; i + 3 < px.size(); i += 4) sum += (double)px[i] - (double)px[i + 2];
            return px.empty() ? 0.0 : sum / (double)(px.size() / 4);
        };
        double r0 = redness(outs[0]), r1 = redness(outs[1]), rHalf = redness(outs[2]);
        Check(r0 > rHalf && rHalf > r1, "mix 0 is the red end, 1 the blue end, 0.5 between (R-B %.1f, %.1f, %.1f)", r0,
              rHalf, r1);

        // keyframes 0 at frame 0 -> 1 at frame 10: frame 5 is the even blend. (Its earlier frames 0 .. 4 get the value at 5
        // too; with this pack that cannot be seen in the pixels: a split pack blends the encoder's features, which do not
        // depend on the mix.)
        host.SetDoubleKeys(mx, "styleMix", {{0.0, 0.0}, {10.0, 1.0}});
        rm.mix = {0.5f, 0.5f};
        std::vector<uint8_t> expect5;
        bool ok = Expected(ref, rm, host, 5, ChainFrames(5, 0.5), 1, kOfxBitDepthByte, &expect5, &error);
        auto k9 = host.Render(mx, 9, 1, false);
        auto k5 = host.Render(mx, 5, 1, false);
        Diff d5 = Compare(k5.pixels, expect5, false);
        Check(ok && k5.status == kOfxStatOK && d5.max <= 1,
              "keyframed 0 -> 1 over frames 0..10: frame 5 equals weights {0.5, 0.5} "
              "(max %.0f)",
              d5.max);
        auto k5again = host.Render(mx, 5, 1, false);
        Check(k9.status == kOfxStatOK && SameBytes(k5.pixels, k5again.pixels) &&
                  Compare(k9.pixels, k5.pixels, false).mean > 0.5,
              "keyframed: frame 9 differs, frame 5 renders the same after 9 and after 5");

        // a single-style model: the parameter is disabled and has no effect
        host.SetString(mx, "customModel", zoo);
        Check(mixParam && mixParam->props.Int(kOfxParamPropEnabled, 0, 1) == 0,
              "back to zoo_dynamic (single style): Style mix disabled");
        host.SetDouble(mx, "styleMix", 0.7);
        auto single = host.Render(mx, 10, 1, false);
        Check(single.status == kOfxStatOK && SameBytes(single.pixels, stylised10),
              "single-style model with Style mix 0.7: the same frame as without it (ignored)");
    }

    // ---- network size ------------------------------------------------------------------------------------------------
    Section("network (the bundled test style pack_tiered and its fast network pack_tiered_fast, Device CPU)");
    Effect* net = nullptr;
    {
        const auto ids = engine.StyleIds();
        const auto at = std::find(ids.begin(), ids.end(), "pack_tiered");
        const bool folded = std::find(ids.begin(), ids.end(), "pack_tiered_fast") == ids.end();
        Check(at != ids.end() && folded,
              "Style offers pack_tiered (from --tier-models) and not its fast network on its own (%s)",
              Join(ids).c_str());
        net = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
        Check(st == kOfxStatOK, "kOfxActionCreateInstance (8-bit)");
        host.SetInt(net, "device", 1);  // the CPU, where Auto means the fast network, whatever this machine has
        if (at != ids.end()) host.SetInt(net, "style", (int)(at - ids.begin()));
        RefSettings fast, compact;  // the two networks loaded by path: exactly those
        fast.style = opt.tierModels + "/pack_tiered_fast";
        compact.style = opt.tierModels + "/pack_tiered";
        std::vector<uint8_t> expectFast, expectCompact;
        bool ok = Expected(ref, fast, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &expectFast, &error) &&
                  Expected(ref, compact, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &expectCompact, &error);
        Check(ok && Compare(expectFast, expectCompact, false).mean > 5,
              "the two test networks give different pictures (mean %.1f levels apart)%s%s",
              ok ? Compare(expectFast, expectCompact, false).mean : 0.0,
              ok ? "" : "; reference: ", ok ? "" : error.c_str());
        struct NetCase {
            int choice;  // -1: the parameter's default, untouched
            const char* name;
            const std::vector<uint8_t>* expect;
            const char* which;
        };
        const NetCase cases[] = {{-1, "Auto (the default)", &expectFast, "pack_tiered_fast"},
                                 {2, "Compact", &expectCompact, "pack_tiered"},
                                 {3, "Full", &expectCompact, "pack_tiered (it has no full network)"},
                                 {1, "Fast", &expectFast, "pack_tiered_fast"},
                                 {0, "back to Auto", &expectFast, "pack_tiered_fast"}};
        for (const NetCase& c : cases) {
            if (c.choice >= 0) host.SetInt(net, "network", c.choice);
            auto rr = host.Render(net, 10, 1, false);
            Diff dn = Compare(rr.pixels, *c.expect, false);
            Check(ok && rr.status == kOfxStatOK && dn.max <= 1,
                  "Network %s: frame 10 equals the engine's for %s (max %.0f)", c.name, c.which, dn.max);
        }
    }

    // ---- order independence ----------------------------------------------------------------------------------------------
    Section("order independence: frame 10 alone == frame 10 after 0..9");
    Effect* solo = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    Effect* seq = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.SetString(solo, "customModel", zoo);
    host.SetString(seq, "customModel", zoo);
    auto alone10 = host.Render(solo, 10, 1, false);
    std::vector<std::vector<uint8_t>> inOrder;
    Check(host.BeginSequence(seq, 0, 10, 1) != kOfxStatFailed, "kOfxImageEffectActionBeginSequenceRender");
    bool allOk = true;
    for (int t = 0; t <= 10; ++t) {
        auto rr = host.Render(seq, t, 1, false);
        allOk = allOk && rr.status == kOfxStatOK;
        inOrder.push_back(rr.pixels);
    }
    host.EndSequence(seq, 0, 10, 1);
    Check(allOk, "rendered frames 0..10 in order");
    Check(SameBytes(alone10.pixels, inOrder[10]), "frame 10 alone is bit-identical to frame 10 of the sequence");
    Check(SameBytes(alone10.pixels, stylised10), "and to frame 10 of the other instance");
    auto back3 = host.Render(solo, 3, 1, false);
    auto again10 = host.Render(solo, 10, 1, false);
    Check(SameBytes(back3.pixels, inOrder[3]) && SameBytes(again10.pixels, alone10.pixels),
          "backwards (10, 3, 10) gives the same frames");

    // ---- instance safety: two instances rendering at once ---------------------------------------------------------------
    Section("two instances rendering concurrently");
    int locksBefore = host.MutexLocks();
    std::vector<std::vector<uint8_t>> parallel(11);
    std::thread t1([&] {
        for (int t : {3, 5, 7, 9}) parallel[(size_t)t] = host.Render(solo, t, 1, false).pixels;
    });
    std::thread t2([&] {
        for (int t : {4, 6, 8, 10}) parallel[(size_t)t] = host.Render(seq, t, 1, false).pixels;
    });
    t1.join();
    t2.join();
    bool same = true;
    for (int t = 3; t <= 10; ++t) same = same && SameBytes(parallel[(size_t)t], inOrder[(size_t)t]);
    Check(same, "concurrent renders equal the sequential ones");
    Check(host.MutexLocks() > locksBefore, "renders took the instance lock from the multi-thread suite (%d locks)",
          host.MutexLocks() - locksBefore);

    // ---- errors: message suite and pass-through ------------------------------------------------------------------------------
    Section("bad models: error message and pass-through");
    Effect* bad = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.ClearMessages();
    host.SetString(bad, "customModel", missing);
    auto rb = host.Render(bad, 10, 1, false);
    Check(rb.status == kOfxStatOK && SameBytes(rb.pixels, in10), "missing model: the frame passes through unchanged");
    Check(HasMessage(host, kOfxMessageError, "missing_style.onnx"), "missing model: kOfxMessageError naming the file");
    host.Render(bad, 11, 1, false);
    size_t count = 0;
    HasMessage(host, kOfxMessageError, "missing_style.onnx", &count);
    Check(count == 1, "the same error is posted once, not on every frame (%zu)", count);
    host.SetString(bad, "customModel", corrupt);
    rb = host.Render(bad, 10, 1, false);
    Check(rb.status == kOfxStatOK && SameBytes(rb.pixels, in10) && HasMessage(host, kOfxMessageError, "corrupt.onnx"),
          "corrupt model: error message and pass-through");
    host.SetString(bad, "customModel", runtimeFail);
    rb = host.Render(bad, 10, 1, false);
    Check(rb.status == kOfxStatOK && SameBytes(rb.pixels, in10) && HasMessage(host, kOfxMessageError, "failed"),
          "inference failure (runtime_fail.onnx): error message and pass-through");
    int clears = host.PersistentClears();
    host.SetString(bad, "customModel", zoo);
    rb = host.Render(bad, 10, 1, false);
    Check(rb.status == kOfxStatOK && SameBytes(rb.pixels, stylised10), "a good model again: stylised output");
    Check(host.PersistentClears() > clears, "and the persistent error message is cleared");
    host.SetString(bad, "customModel", "");
    host.SetInt(bad, "style", starryIndex < 0 ? 0 : starryIndex);
    rb = host.Render(bad, 10, 1, false);
    Check(rb.status == kOfxStatOK && Compare(rb.pixels, in10, false).mean > 1,
          "bundled style 'starry_night' chosen by its title renders");

    CheckByValue(host, opt);

    // ---- teardown ------------------------------------------------------------------------------------------------------
    Section("teardown");
    bool destroyed = true;
    for (Effect* e : {a, fl, pmi, k, mx, net, solo, seq, bad})
        destroyed = destroyed && host.DestroyInstance(e) == kOfxStatOK;
    Check(destroyed, "kOfxActionDestroyInstance on every instance");
    Check(host.LiveImages() == 0, "every image released (%zu left)", host.LiveImages());
    Check(host.LiveImageMemory() == 0, "image memory freed (%zu left)", host.LiveImageMemory());
    Check(host.LiveMemoryBlocks() == 0, "memory suite blocks freed (%zu left)", host.LiveMemoryBlocks());
    Check(host.Unload() == kOfxStatOK, "kOfxActionUnload");
    CheckNoViolations(host);

    std::printf("\nactions sent: %s\n", Join(host.ActionsSent()).c_str());
    std::printf("suites fetched: %s\n", Join(host.SuitesFetched()).c_str());
    std::printf("source frames fetched by the plugin: %d\n", host.imageFetches.load());
    std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
    return g_failures;
}

// ---- a bundle without its engine ------------------------------------------------------------------------------------

/// The bundle with stylefilter.so removed: the effect must still load and describe itself, report the problem
/// through the message suite and pass frames through.
int RunNoEngine(const Options& opt)
{
    Host host;
    Section("bundle without its engine library");
    if (!LoadBundleWithPanningClip(host, opt)) return g_failures;
    Check(host.Load() == kOfxStatOK, "kOfxActionLoad still succeeds");
    Check(host.Describe() == kOfxStatOK && host.DescribeInContext(kOfxImageEffectContextFilter) == kOfxStatOK,
          "describe");
    Param* style = host.ContextDescriptor(kOfxImageEffectContextFilter)->params.Find("style");
    Check(style && style->props.Strings(kOfxParamPropChoiceOption) == std::vector<std::string>{"(no bundled styles)"},
          "Style shows that no styles are available");
    OfxStatus st;
    Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    Check(st == kOfxStatOK, "kOfxActionCreateInstance succeeds");
    Check(HasMessage(host, kOfxMessageError, "stylefilter.so"), "an error message names the missing engine library");
    auto r = host.Render(e, 5, 1, false);
    int w = 0, h = 0;
    Check(r.status == kOfxStatOK && SameBytes(r.pixels, ScaledFrame(host.source, 5, 1, kOfxBitDepthByte, &w, &h)),
          "frames pass through unchanged");
    Check(host.DestroyInstance(e) == kOfxStatOK && host.Unload() == kOfxStatOK, "destroy and unload");
    CheckNoViolations(host);
    std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
    return g_failures;
}

// ---- an engine without the style mix calls ----------------------------------------------------------------------------

/// The bundle with an engine library that lacks sf_engine_get_style_mix_count / _set_style_mix / _get_style_mix_name
/// (an engine built before they were added): the plugin must still load and render, keep Style mix disabled and
/// ignore it (the model then stays on its first style). run.sh checks the warning on stderr.
int RunOldEngine(const Options& opt)
{
    Host host;
    Section("engine library without the style mix calls and sf_get_style_info");
    if (!LoadBundleWithPanningClip(host, opt)) return g_failures;
    Check(host.Load() == kOfxStatOK && host.Describe() == kOfxStatOK &&
              host.DescribeInContext(kOfxImageEffectContextFilter) == kOfxStatOK,
          "load and describe");
    Check(host.ContextDescriptor(kOfxImageEffectContextFilter)->params.Find("styleMix") != nullptr,
          "Style mix is still described");
    std::string error;
    Engine engine;
    bool engineOk = engine.Load(opt.bundle + "/Contents/Linux-x86-64/stylefilter_real.so", &error);
    Check(engineOk, "the real engine behind the shim (reference)%s%s", engineOk ? "" : ": ", error.c_str());
    if (!engineOk) return g_failures;
    Reference ref(&engine);
    auto options = host.ContextDescriptor(kOfxImageEffectContextFilter)
                       ->params.Find("style")
                       ->props.Strings(kOfxParamPropChoiceOption);
    Check(options == engine.StyleIds(), "without sf_get_style_info, Style lists the styles' ids (%s)",
          Join(options).c_str());
    OfxStatus st;
    Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.SetString(e, "customModel", opt.models + "/pack_mix");
    Param* mix = e->params.Find("styleMix");
    Check(st == kOfxStatOK && mix && mix->props.Int(kOfxParamPropEnabled, 0, 1) == 0,
          "pack_mix with an engine that cannot mix: Style mix disabled");
    host.SetDouble(e, "styleMix", 1.0);
    auto r1 = host.Render(e, 10, 1, false);
    RefSettings rs;
    rs.style = opt.models + "/pack_mix";
    rs.mix = {1, 0};
    std::vector<uint8_t> first;
    bool ok = Expected(ref, rs, host, 10, ChainFrames(10, 0.5), 1, kOfxBitDepthByte, &first, &error);
    Diff d = Compare(r1.pixels, first, false);
    Check(ok && r1.status == kOfxStatOK && d.max <= 1,
          "Style mix 1 is ignored: the frame equals the engine on its first style, weights {1, 0} (max %.0f)", d.max);
    Check(host.DestroyInstance(e) == kOfxStatOK && host.Unload() == kOfxStatOK, "destroy and unload");
    CheckNoViolations(host);
    std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
    return g_failures;
}

// ---- the history cache ----------------------------------------------------------------------------------------------

/// Bytes the process's C heap holds (the plugin's and ONNX Runtime's allocations; not the .NET heap).
size_t HeapInUse()
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/// Renders frames in order and alone through a bundle whose engine library is engine_shim.c in front of the real
/// engine, which counts the frames the plugin runs: in order, a render continues the previous one's history (one engine
/// frame) except at the first frame of a group of 8; any frame rendered alone, after a seek, after a parameter change
/// or after a change of the pixels is bit-identical to the frame rendered in order.
int RunCache(const Options& opt)
{
    Host host;
    Section("history cache: frames rendered in order continue the previous render's history");
    std::vector<uint8_t> picture;
    if (!opt.frames.empty()) picture = ReadRaw(opt.frames, (size_t)opt.width * opt.height * 4);
    if (picture.empty()) picture = Sequence::Synthetic(opt.width, opt.height);
    host.source = Sequence::Panning(picture, opt.width, opt.height, 0, 40, 2);
    std::string error;
    bool ok = host.LoadBundle(opt.bundle, &error) && host.Load() == kOfxStatOK && host.Describe() == kOfxStatOK &&
              host.DescribeInContext(kOfxImageEffectContextFilter) == kOfxStatOK;
    Check(ok, "load and describe the bundle with the counting engine shim%s%s", ok ? "" : ": ", error.c_str());
    if (!ok) return g_failures;
    const std::string bin = opt.bundle + "/Contents/Linux-x86-64/";
    void* shim = dlopen((bin + "stylefilter.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    auto engineCalls =
        shim ? reinterpret_cast<void (*)(uint64_t*, uint64_t*)>(dlsym(shim, "sftest_engine_calls")) : nullptr;
    Engine engine;
    ok = engineCalls && engine.Load(bin + "stylefilter_real.so", &error);
    Check(ok, "the counting shim (sftest_engine_calls) and the real engine behind it%s%s", ok ? "" : ": ",
          error.c_str());
    if (!ok) return g_failures;
    auto frames = [&] {
        uint64_t process = 0, resets = 0;
        engineCalls(&process, &resets);
        return (long)process;
    };
    const std::string zoo = opt.models + "/zoo_dynamic.onnx";
    OfxStatus st;
    auto instance = [&](const std::string& depth = kOfxBitDepthByte) {
        Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, depth, &st);
        host.SetString(e, "customModel", zoo);
        return e;
    };
    // Renders t and tells how many engine frames it took.
    auto render = [&](Effect* e, double t, long* used) {
        long before = frames();
        auto r = host.Render(e, t, 1, false);
        *used = frames() - before;
        return r;
    };

    // In order, frames 0 .. 32 (groups 0-7, 8-15, 16-23, 24-31 and 32), smoothing 0.5 (k = 2).
    const int last = 32;
    Effect* seq = instance();
    std::vector<std::vector<uint8_t>> inOrder;
    std::vector<long> used(last + 1);
    long total = 0, replayed = 0;
    bool pattern = true, allOk = true;
    host.BeginSequence(seq, 0, last, 1);
    for (int t = 0; t <= last; ++t) {
        auto r = render(seq, t, &used[(size_t)t]);
        allOk = allOk && r.status == kOfxStatOK && !r.identity && r.fullyWritten;
        inOrder.push_back(r.pixels);
        const long want = (t % 8 == 0 && t > 0) ? 3 : 1;  // a new group runs its 2 frames before, then the frame
        if (used[(size_t)t] != want) {
            std::printf("      frame %d took %ld engine frames, want %ld\n", t, used[(size_t)t], want);
            pattern = false;
        }
        total += used[(size_t)t];
        replayed += std::min(t, 2) + 1;  // before the cache, every render ran its 2 earlier frames
    }
    host.EndSequence(seq, 0, last, 1);
    Check(allOk, "rendered frames 0 .. %d in order", last);
    Check(pattern, "in order: 1 engine frame per render, 3 at frames 8, 16, 24, 32 (the first of a group)");
    Check(total == last + 1 + 4 * 2,
          "%d frames in order took %ld engine frames (%.2f per frame; replaying 2 earlier "
          "frames in every render took %ld)",
          last + 1, total, (double)total / (last + 1), replayed);

    // The semantics, from the engine's C ABI: frame 13 is the engine run over frames 6 .. 13 after a reset.
    {
        Reference ref(&engine);
        RefSettings rs;
        rs.style = zoo;
        std::vector<uint8_t> expect;
        bool refOk = Expected(ref, rs, host, 13, ChainFrames(13, 0.5), 1, kOfxBitDepthByte, &expect, &error);
        Check(refOk && SameBytes(inOrder[13], expect),
              "frame 13 in order is bit-identical to the engine run over frames 6 "
              ".. 13 from a reset%s%s",
              refOk ? "" : ": ", error.c_str());
    }

    // Alone: a fresh instance per frame.
    for (int t : {0, 5, 8, 13, 23, 31}) {
        Effect* e = instance();
        long n = 0;
        auto r = render(e, t, &n);
        Check(r.status == kOfxStatOK && SameBytes(r.pixels, inOrder[(size_t)t]) && n == ChainFrames(t, 0.5) + 1,
              "frame %d alone (a fresh instance): bit-identical to in order, %ld engine frames", t, n);
        host.DestroyInstance(e);
    }

    // Any order on one instance: seeks back and forth, skips within a group.
    {
        Effect* e = instance();
        bool same = true;
        std::string took;
        for (int t : {30, 3, 17, 18, 19, 9, 8, 25, 27, 12, 31, 31, 24}) {
            long n = 0;
            auto r = render(e, t, &n);
            same = same && r.status == kOfxStatOK && SameBytes(r.pixels, inOrder[(size_t)t]);
            took += (took.empty() ? "" : " ") + std::to_string(t) + ":" + std::to_string(n);
        }
        Check(same,
              "frames 30, 3, 17, 18, 19, 9, 8, 25, 27, 12, 31, 31, 24 on one instance: each bit-identical to in "
              "order (frame:engine frames %s)",
              took.c_str());
        host.DestroyInstance(e);
    }

    // A seek backwards restarts the history; the next frame continues it again.
    {
        Effect* e = instance();
        long n10 = 0, n11 = 0, n12 = 0, n9 = 0, n10b = 0;
        render(e, 10, &n10);
        render(e, 11, &n11);
        render(e, 12, &n12);
        auto r9 = render(e, 9, &n9);
        auto r10 = render(e, 10, &n10b);
        Check(n11 == 1 && n12 == 1 && n9 == ChainFrames(9, 0.5) + 1 && SameBytes(r9.pixels, inOrder[9]),
              "10, 11, 12 then back to 9: 9 is replayed from frame 6 (%ld engine frames) and bit-identical", n9);
        Check(n10b == 1 && SameBytes(r10.pixels, inOrder[10]),
              "then 10 continues 9's history (%ld engine frame), "
              "bit-identical",
              n10b);
        host.DestroyInstance(e);
    }

    // Parameters: strength applies after the blend (the history continues); smoothing shapes it (it restarts).
    {
        Effect* e = instance();
        long n = 0;
        render(e, 16, &n);
        render(e, 17, &n);
        host.SetDouble(e, "strength", 0.6);
        auto r18 = render(e, 18, &n);
        Effect* alone = instance();
        host.SetDouble(alone, "strength", 0.6);
        auto a18 = host.Render(alone, 18, 1, false);
        Check(n == 1 && SameBytes(r18.pixels, a18.pixels) && !SameBytes(r18.pixels, inOrder[18]),
              "strength 1 -> 0.6 between frames 17 and 18: 18 continues (%ld engine frame), bit-identical to 18 alone "
              "at 0.6",
              n);
        // 0.6 runs from the same frame as 0.5 (k = 2), so only the settings tell the chains apart.
        host.SetDouble(e, "smoothing", 0.6);
        auto r19 = render(e, 19, &n);
        host.SetDouble(alone, "smoothing", 0.6);
        auto a19 = host.Render(alone, 19, 1, false);
        Check(ChainFrames(19, 0.6) == ChainFrames(19, 0.5) && n == ChainFrames(19, 0.6) + 1 &&
                  SameBytes(r19.pixels, a19.pixels),
              "smoothing 0.5 -> 0.6: frame 19 restarts from frame %d (%ld engine frames), bit-identical to 19 alone",
              19 - ChainFrames(19, 0.6), n);
        host.SetDouble(e, "smoothing", 0.5);
        host.SetDouble(e, "strength", 1.0);
        auto r20 = render(e, 20, &n);
        Check(n == ChainFrames(20, 0.5) + 1 && SameBytes(r20.pixels, inOrder[20]),
              "back to 0.5 and 1: frame 20 restarts (%ld engine frames), bit-identical to in order", n);
        host.DestroyInstance(e);
        host.DestroyInstance(alone);
    }

    // The pixels change at a time the history already holds: the cache must see it (a hash of each frame).
    {
        Effect* e = instance();
        long n = 0;
        render(e, 12, &n);
        render(e, 13, &n);
        const std::vector<uint8_t> kept = host.source.frames[13];
        for (size_t i = 0; i < host.source.frames[13].size(); i += 4) host.source.frames[13][i] ^= 0x40;  // red changes
        auto r14 = render(e, 14, &n);
        Effect* alone = instance();
        auto a14 = host.Render(alone, 14, 1, false);
        Check(
            n == ChainFrames(14, 0.5) + 1 && SameBytes(r14.pixels, a14.pixels) && !SameBytes(r14.pixels, inOrder[14]),
            "frame 13 changed after it was rendered: 14 restarts (%ld engine frames), bit-identical to 14 alone on the "
            "new pixels (and not the old result)",
            n);
        host.source.frames[13] = kept;
        host.DestroyInstance(e);
        // One byte of an earlier frame of the held chain: the top-left pixel's red (the top row is the last one an
        // image's rows give, bottom-up).
        e = instance();
        render(e, 12, &n);
        render(e, 13, &n);
        render(e, 14, &n);
        host.source.frames[9][0] ^= 1;
        auto r15 = render(e, 15, &n);
        auto a15 = host.Render(alone, 15, 1, false);
        Check(
            n == ChainFrames(15, 0.5) + 1 && SameBytes(r15.pixels, a15.pixels),
            "after 12, 13, 14 one byte of frame 9 changed: 15 restarts (%ld engine frames), bit-identical to 15 alone",
            n);
        host.source.frames[9][0] ^= 1;
        host.DestroyInstance(e);
        host.DestroyInstance(alone);
    }

    // Memory stays bounded: 96 more float renders in order (groups restart the chain; nothing is kept per frame).
    {
        Effect* e = instance(kOfxBitDepthFloat);
        long n = 0;
        for (int t = 0; t <= 16; ++t) render(e, t, &n);  // warm up ONNX Runtime's arena for this size
        const size_t before = HeapInUse();
        for (int pass = 0; pass < 3; ++pass)
            for (int t = 0; t <= last; ++t) render(e, t, &n);
        const size_t after = HeapInUse();
        const double grewMb = ((double)after - (double)before) / 1e6;
        const double frameMb = (double)opt.width * opt.height * 16 / 1e6;
        Check(grewMb < 24 * frameMb,
              "99 float renders in order: the C heap grew %.2f MB (one float frame is %.2f MB; a "
              "frame kept per render would be %.1f MB)",
              grewMb, frameMb, 99 * frameMb);
        host.DestroyInstance(e);
    }

    host.DestroyInstance(seq);
    Check(host.LiveImages() == 0 && host.LiveImageMemory() == 0 && host.LiveMemoryBlocks() == 0,
          "every image and block of memory released");
    Check(host.Unload() == kOfxStatOK, "unload");
    CheckNoViolations(host);
    std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
    return g_failures;
}

// ---- a host with limits ---------------------------------------------------------------------------------------------

/// A host without string parameters (paramDefine refuses them): the effect still describes itself, without Custom
/// model, and renders the Style parameter's declared default (starry_night, not the first style in the list); so does
/// a host that cannot give the Style parameter's value.
int RunHostLimits(const Options& opt)
{
    Host host;
    Section("a host without string parameters");
    if (!LoadBundleWithPanningClip(host, opt)) return g_failures;
    host.refusedParamTypes = {kOfxParamTypeString};
    Check(host.Load() == kOfxStatOK && host.Describe() == kOfxStatOK, "load and describe");
    Check(host.DescribeInContext(kOfxImageEffectContextFilter) == kOfxStatOK,
          "DescribeInContext succeeds although the string parameter is refused");
    Effect* fd = host.ContextDescriptor(kOfxImageEffectContextFilter);
    Param* style = fd->params.Find("style");
    Check(fd->params.Find("customModel") == nullptr && style && fd->params.Find("strength"),
          "Custom model is left out; Style and the other parameters are there");
    std::string error;
    Engine engine;
    bool engineOk = engine.Load(opt.bundle + "/Contents/Linux-x86-64/stylefilter.so", &error);
    Check(engineOk, "engine C ABI from the bundle%s%s", engineOk ? "" : ": ", error.c_str());
    if (!engineOk || !style) return g_failures;
    auto ids = engine.StyleIds();
    int starry = (int)(std::find(ids.begin(), ids.end(), "starry_night") - ids.begin());
    Check(starry > 0 && starry < (int)ids.size(),
          "the bundle has starry_night, not first in the list (index %d of %zu)", starry, ids.size());
    Check(style->props.Int(kOfxParamPropDefault) == starry, "Style's declared default is starry_night (%d)",
          style->props.Int(kOfxParamPropDefault));

    // Frame 8 with the default smoothing: 2 earlier frames.
    Reference ref(&engine);
    RefSettings rs;
    rs.style = "starry_night";
    std::vector<uint8_t> expect, first;
    bool ok = Expected(ref, rs, host, 8, ChainFrames(8, 0.5), 1, kOfxBitDepthByte, &expect, &error);
    rs.style = ids.empty() ? "" : ids[0];
    ok = ok && Expected(ref, rs, host, 8, ChainFrames(8, 0.5), 1, kOfxBitDepthByte, &first, &error);
    Check(ok && Compare(expect, first, false).mean > 1, "references: starry_night and %s differ%s%s",
          ids.empty() ? "?" : ids[0].c_str(), ok ? "" : ": ", error.c_str());
    OfxStatus st;
    Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    auto r = host.Render(e, 8, 1, false);
    Diff d = Compare(r.pixels, expect, false);
    Check(st == kOfxStatOK && r.status == kOfxStatOK && d.max <= 1, "a new instance renders starry_night (max %.0f)",
          d.max);

    host.unreadableParams = {"style"};
    Effect* u = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    auto ru = host.Render(u, 8, 1, false);
    Diff du = Compare(ru.pixels, expect, false), dFirst = Compare(ru.pixels, first, false);
    Check(st == kOfxStatOK && ru.status == kOfxStatOK && du.max <= 1,
          "Style's value unreadable: the declared default starry_night (max %.0f; %.1f levels from the first style)",
          du.max, dFirst.mean);
    host.unreadableParams.clear();
    Check(host.DestroyInstance(e) == kOfxStatOK && host.DestroyInstance(u) == kOfxStatOK && host.Unload() == kOfxStatOK,
          "destroy and unload");
    CheckNoViolations(host);
    std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
    return g_failures;
}

// ---- bench -------------------------------------------------------------------------------------------------------------

/// Times 8-bit renders at the bench size with the untrained full-width network (the test models' placeholder, as a custom
/// model): the engine alone through its C ABI (one frame), then the plugin at smoothing 0 (one engine frame per render)
/// and at the default 0.5, and at half inference resolution; each case renders in order from the first frame of a group
/// (at 0.5: 3 engine frames, then 1 per render). tests/ofx/bench_sequential.sh compares renders in order and scattered.
int RunBench(const Options& opt)
{
    Host host;
    std::vector<uint8_t> picture = ReadRaw(opt.bench, (size_t)opt.width * opt.height * 4);
    if (picture.empty()) {
        std::printf("note: cannot read %s, using a synthetic picture\n", opt.bench.c_str());
        picture = Sequence::Synthetic(opt.width, opt.height);
    }
    host.source = Sequence::Panning(picture, opt.width, opt.height, 0, 40, 4);
    std::string error;
    if (!host.LoadBundle(opt.bundle, &error)) {
        std::printf("FAIL  %s\n", error.c_str());
        return 1;
    }
    if (host.Load() != kOfxStatOK || host.Describe() != kOfxStatOK ||
        host.DescribeInContext(kOfxImageEffectContextFilter) != kOfxStatOK) {
        std::printf("FAIL  load/describe\n");
        return 1;
    }
    const std::string placeholder = opt.models + "/placeholder/placeholder.onnx";
    if (!std::ifstream(placeholder)) {
        std::printf("FAIL  %s is missing (build/build.sh makes it)\n", placeholder.c_str());
        return 1;
    }
    std::printf(
        "bench: %dx%d 8-bit RGBA, untrained full-width network (placeholder.onnx), CPU, %u hardware threads, %d frames per figure\n",
        opt.width, opt.height, std::thread::hardware_concurrency(), opt.benchFrames);
    std::fflush(stdout);
    int failures = 0;
    OfxStatus st;
    Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);
    host.SetString(e, "customModel", placeholder);
    host.SetDouble(e, "smoothing", 0.0);
    auto t0 = std::chrono::steady_clock::now();
    if (host.Render(e, 4, 1, false).status != kOfxStatOK) failures++;
    std::printf("  plugin, first render (loads the style):             %8.0f ms\n",
                Ms(std::chrono::steady_clock::now() - t0));
    std::fflush(stdout);

    // The engine alone, same style and frame size: the cost of one engine frame.
    Engine engine;
    if (!engine.Load(opt.bundle + "/Contents/Linux-x86-64/stylefilter.so", &error)) {
        std::printf("FAIL  engine: %s\n", error.c_str());
        return failures + 1;
    }
    {
        Reference ref(&engine);
        RefSettings rs;
        rs.style = placeholder;
        rs.smoothing = 0;
        std::vector<uint8_t> out;
        Expected(ref, rs, host, 5, 0, 1, kOfxBitDepthByte, &out, &error);  // loads the style
        double total = 0;
        for (int n = 0; n < opt.benchFrames; ++n) {
            auto t1 = std::chrono::steady_clock::now();
            if (!Expected(ref, rs, host, 6 + n, 0, 1, kOfxBitDepthByte, &out, &error)) failures++;
            total += Ms(std::chrono::steady_clock::now() - t1);
        }
        std::printf("  engine alone (C ABI), one frame:                    %8.0f ms/frame\n", total / opt.benchFrames);
        std::fflush(stdout);
    }

    struct Case {
        double smoothing;
        int resolution;
        const char* label;
    };
    const Case cases[] = {
        {0.0, 0, "plugin, smoothing 0   (1 engine frame/render):    "},
        {0.5, 0, "plugin, smoothing 0.5 (3, then 1 per render):     "},
        {0.5, 1, "plugin, smoothing 0.5, inference resolution Half: "},
    };
    double group = 8;
    for (const Case& c : cases) {
        host.SetDouble(e, "smoothing", c.smoothing);
        host.SetInt(e, "inferenceResolution", c.resolution);
        double total = 0, t = group;
        group += 8;
        for (int n = 0; n < opt.benchFrames; ++n, t += 1) {
            auto t1 = std::chrono::steady_clock::now();
            auto r = host.Render(e, t, 1, false);
            total += Ms(std::chrono::steady_clock::now() - t1);
            if (r.status != kOfxStatOK || r.identity || !r.fullyWritten) failures++;
        }
        std::printf("  %s %8.0f ms/frame\n", c.label, total / opt.benchFrames);
        std::fflush(stdout);
    }
    host.DestroyInstance(e);
    auto violations = host.Violations();
    for (const std::string& v : violations) std::printf("      violation: %s\n", v.c_str());
    host.Unload();
    return failures + (int)violations.size();
}

/// Times renders at the effect's defaults (its default style, smoothing 0.5, 8-bit) through the given bundle, the
/// plugin of main or of this branch (tests/ofx/bench_sequential.sh runs both, alternating): --bench-frames frames in
/// order from frame 16 (the first of a group), then 8 frames in a scattered order (a seek before each). When the
/// bundle's engine library is engine_shim.c it also counts the engine frames. Ends with one RESULT line.
int RunBenchSequential(const Options& opt)
{
    Host host;
    std::vector<uint8_t> picture = ReadRaw(opt.benchSequential, (size_t)opt.width * opt.height * 4);
    if (picture.empty()) {
        std::printf("note: cannot read %s, using a synthetic picture\n", opt.benchSequential.c_str());
        picture = Sequence::Synthetic(opt.width, opt.height);
    }
    host.source = Sequence::Panning(picture, opt.width, opt.height, 0, 63, 2);
    std::string error;
    if (!host.LoadBundle(opt.bundle, &error) || host.Load() != kOfxStatOK || host.Describe() != kOfxStatOK ||
        host.DescribeInContext(kOfxImageEffectContextFilter) != kOfxStatOK) {
        std::printf("FAIL  load/describe %s %s\n", opt.bundle.c_str(), error.c_str());
        return 1;
    }
    void* lib = dlopen((opt.bundle + "/Contents/Linux-x86-64/stylefilter.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    auto engineCalls =
        lib ? reinterpret_cast<void (*)(uint64_t*, uint64_t*)>(dlsym(lib, "sftest_engine_calls")) : nullptr;
    auto engineFrames = [&]() -> double {
        uint64_t process = 0, resets = 0;
        if (engineCalls) engineCalls(&process, &resets);
        return (double)process;
    };
    OfxStatus st;
    Effect* e = host.CreateInstance(kOfxImageEffectContextFilter, kOfxBitDepthByte, &st);  // loads the default style
    int failures = st == kOfxStatOK ? 0 : 1;
    std::string style = "?";
    if (Param* p = e->params.Find("style")) {
        auto options = p->props.Strings(kOfxParamPropChoiceOption);
        int i = p->IntAt(0);
        if (i >= 0 && i < (int)options.size()) style = options[(size_t)i];
    }
    if (host.Render(e, 0, 1, false).status != kOfxStatOK) failures++;  // first run: sessions warm up
    std::printf("bench: %dx%d 8-bit, style \"%s\", smoothing 0.5, %u hardware threads, %s\n", opt.width, opt.height,
                style.c_str(), std::thread::hardware_concurrency(), opt.bundle.c_str());

    auto timeRenders = [&](const std::vector<int>& times, double* msPerFrame, double* enginePerFrame) {
        const double before = engineFrames();
        auto t0 = std::chrono::steady_clock::now();
        for (int t : times) {
            auto r = host.Render(e, t, 1, false);
            if (r.status != kOfxStatOK || r.identity || !r.fullyWritten) failures++;
        }
        *msPerFrame = Ms(std::chrono::steady_clock::now() - t0) / (double)times.size();
        *enginePerFrame = (engineFrames() - before) / (double)times.size();
    };
    std::vector<int> inOrder;
    for (int i = 0; i < opt.benchFrames; ++i) inOrder.push_back(16 + i);
    const std::vector<int> scattered = {45, 21, 38, 29,
                                        50, 33, 18, 42};  // places 5, 5, 6, 5, 2, 1, 2, 2 in their groups
    double orderMs = 0, orderEngine = 0, scatterMs = 0, scatterEngine = 0;
    timeRenders(inOrder, &orderMs, &orderEngine);
    std::printf("  %2zu frames in order (16 ..):  %7.0f ms/frame, %5.2f engine frames/frame\n", inOrder.size(), orderMs,
                orderEngine);
    timeRenders(scattered, &scatterMs, &scatterEngine);
    std::printf("  %2zu frames scattered:         %7.0f ms/frame, %5.2f engine frames/frame\n", scattered.size(),
                scatterMs, scatterEngine);
    std::printf("RESULT in_order_ms=%.1f in_order_engine=%.3f scattered_ms=%.1f scattered_engine=%.3f failures=%d\n",
                orderMs, engineCalls ? orderEngine : -1.0, scatterMs, engineCalls ? scatterEngine : -1.0, failures);
    std::fflush(stdout);
    host.DestroyInstance(e);
    host.Unload();
    return failures;
}

}  // namespace

int main(int argc, char** argv)
{
    Options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--bundle")
            opt.bundle = next();
        else if (a == "--models")
            opt.models = next();
        else if (a == "--tier-models")
            opt.tierModels = next();
        else if (a == "--frames")
            opt.frames = next();
        else if (a == "--width")
            opt.width = std::atoi(next().c_str());
        else if (a == "--height")
            opt.height = std::atoi(next().c_str());
        else if (a == "--bench")
            opt.bench = next();
        else if (a == "--no-engine")
            opt.noEngine = true;
        else if (a == "--old-engine")
            opt.oldEngine = true;
        else if (a == "--host-limits")
            opt.hostLimits = true;
        else if (a == "--cache")
            opt.cache = true;
        else if (a == "--bench-sequential")
            opt.benchSequential = next();
        else if (a == "--bench-frames")
            opt.benchFrames = std::max(1, std::atoi(next().c_str()));
        else {
            std::fprintf(
                stderr, "usage: %s --bundle DIR --models DIR [--frames RGBA --width W --height H] | --bench RGBA ...\n",
                argv[0]);
            return 2;
        }
    }
    if (opt.noEngine && !opt.bundle.empty()) return std::min(RunNoEngine(opt), 255);
    if (opt.oldEngine && !opt.bundle.empty() && !opt.models.empty()) return std::min(RunOldEngine(opt), 255);
    if (opt.hostLimits && !opt.bundle.empty()) return std::min(RunHostLimits(opt), 255);
    if (opt.cache && !opt.bundle.empty() && !opt.models.empty()) return std::min(RunCache(opt), 255);
    if (!opt.benchSequential.empty() && !opt.bundle.empty()) return std::min(RunBenchSequential(opt), 255);
    if (opt.bundle.empty() || opt.models.empty() || opt.width < 8 || opt.height < 8) {
        std::fprintf(stderr, "--bundle and --models are required\n");
        return 2;
    }
    int failures = opt.bench.empty() ? RunTests(opt) : RunBench(opt);
    return std::min(failures, 255);
}
