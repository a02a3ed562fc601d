// neural_style.cpp - the "Neural Style" OpenFX image effect (org.stylefilter.NeuralStyle).
//
// One StyleFilter engine per effect instance. A render at time t is a pure function of the source frames
// anchor .. t and of the parameter values at t: it stylises frame t as if the engine had played the source from the
// anchor, k = ceil(3 x smoothing) frames before the first frame of t's group of 8 (frames 0-7, 8-15, ...), with a fresh
// temporal history. So frames can be rendered in any order, on any number of instances, and always come out the same.
// The parameter values at t include Style mix (the blend of a multi-style model), set before the earlier frames run.
//
// Frames rendered in order share their anchor, so a render continues the history the previous one left in the engine
// (history_cache.h checks that it is the same chain: same anchor and settings, same pixels by hash) and runs one frame;
// a render that cannot continue resets the history and runs the chain's earlier frames first (fetched with temporal
// clip access and declared in GetFramesNeeded).
//
// The style is loaded when the instance is created and when Style, Custom model, Device or Network change (so Style mix
// can be enabled for multi-style models only); a render loads it itself if it still has to.
//
// Errors (engine library missing, bad model, inference failure) are reported through the message suite and the
// output is a copy of the source; nothing is thrown across the C boundary.
//
// Host plumbing (suites, property helpers, images, scratch memory, pixel operations) lives in ofx_support.h.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "engine.h"
#include "history_cache.h"
#include "ofx_api.h"
#include "ofx_support.h"
#include "platform.h"

namespace sfofx {
namespace {

// ---- identity and parameters -------------------------------------------------------------------------------

constexpr const char* kPluginId = "org.stylefilter.NeuralStyle";
constexpr unsigned kVersionMajor = 1;
constexpr unsigned kVersionMinor = 0;
constexpr const char* kPluginLabel = "Neural Style";
constexpr const char* kPluginLongLabel = "StyleFilter Neural Style";
constexpr const char* kPluginGrouping = "Stylize";
constexpr const char* kPluginDescription =
    "Neural style transfer (StyleFilter). Temporal smoothing plays each frame's group of 8 from 1 to 3 frames before "
    "it, so every frame renders the same whatever the render order, and frames rendered in order cost about one "
    "network run each.";

// Parameters: name (also the script name), label and hint.
constexpr const char* kParamStyle = "style";
constexpr const char* kParamStyleLabel = "Style";
constexpr const char* kParamStyleHint = "Bundled style (ignored when a custom model is set).";

constexpr const char* kParamCustomModel = "customModel";
constexpr const char* kParamCustomModelLabel = "Custom model";
constexpr const char* kParamCustomModelHint =
    "A style model file (.onnx) or style pack (.zip); overrides Style when set.";

constexpr const char* kParamStrength = "strength";
constexpr const char* kParamStrengthLabel = "Strength";
constexpr const char* kParamStrengthHint =
    "How much of the style to apply: 0 returns the source unchanged, 1 is fully stylised.";

constexpr const char* kParamStyleMix = "styleMix";
constexpr const char* kParamStyleMixLabel = "Style mix";
constexpr const char* kParamStyleMixHint =
    "Sweeps across the model's styles: 0 = the first style, 1 = the last, in between a blend of the two neighbouring "
    "styles. Only for models with several styles (mixing style packs); disabled and ignored otherwise.";

constexpr const char* kParamPreserveColours = "preserveColours";
constexpr const char* kParamPreserveColoursLabel = "Preserve colours";
constexpr const char* kParamPreserveColoursHint =
    "Keep the source's colours and take only the light and texture of the style.";

constexpr const char* kParamSmoothing = "smoothing";
constexpr const char* kParamSmoothingLabel = "Temporal smoothing";
constexpr const char* kParamSmoothingHint =
    "Reduces flicker on still areas by blending with earlier frames. 0 = off; above 0 a frame is stylised as if played "
    "from ceil(3 x smoothing) frames before its group of 8 (frames 0-7, 8-15, ...), so renders stay repeatable in any "
    "order; in order, each frame continues the previous one's history.";

constexpr const char* kParamFollowMotion = "followMotion";
constexpr const char* kParamFollowMotionLabel = "Follow camera motion";
constexpr const char* kParamFollowMotionHint =
    "Smoothing follows the camera's pans and zooms (estimated from the frames it replays, never later ones), so a moving "
    "camera flickers as little as a still one. Off: only what does not move is smoothed.";

constexpr const char* kParamInferenceResolution = "inferenceResolution";
constexpr const char* kParamInferenceResolutionLabel = "Inference resolution";
constexpr const char* kParamInferenceResolutionHint =
    "Size the network runs at, relative to the frame: smaller is faster and softer.";

constexpr const char* kParamDevice = "device";
constexpr const char* kParamDeviceLabel = "Device";
constexpr const char* kParamDeviceHint =
    "Where inference runs. Auto picks the best available GPU provider, else the CPU.";

constexpr const char* kParamNetwork = "network";
constexpr const char* kParamNetworkLabel = "Network";
constexpr const char* kParamNetworkHint =
    "The style's network size. Auto picks Fast on a CPU and Full on a GPU where the style has them; a style without "
    "the chosen size uses its own.";

/// The style a new instance starts on (when the bundle has it): the Style parameter's declared default.
constexpr const char* kDefaultStyleId = "starry_night";

// Lower than the engine's live default (0.75), chosen when every render replayed ceil(3 s) earlier frames
// (docs/benchmarks.md). Renders in order now cost 1 + k/8 engine frames whatever k, but a frame rendered alone
// costs k + 1 to k + 8, so a higher default still costs something.
constexpr double kDefaultSmoothing = 0.5;
/// Most frames played before a group (smoothing 1).
constexpr int kMaxWarmFrames = 3;
/// Frames per group: frames of one group share their history's start, so a render in order continues the previous
/// one's. Longer groups make renders in order cheaper (1 + k / 8 engine frames per frame) and a frame rendered alone
/// dearer (k + 1 to k + 8).
constexpr int kGroupFrames = 8;

const char* const kResolutionLabels[] = {"Full", "Half", "Quarter"};
const double kResolutionScales[] = {1.0, 0.5, 0.25};
const char* const kDeviceLabels[] = {"Auto", "CPU", "CUDA", "TensorRT", "DirectML"};
const int kDeviceValues[] = {SF_DEVICE_AUTO, SF_DEVICE_CPU, SF_DEVICE_CUDA, SF_DEVICE_TENSORRT, SF_DEVICE_DIRECTML};
const char* const kNetworkLabels[] = {"Auto", "Fast (real time on a CPU)", "Compact", "Full (for GPUs)"};
const int kNetworkValues[] = {SF_TIER_AUTO, SF_TIER_FAST, SF_TIER_COMPACT, SF_TIER_FULL};

/// Frames played before a group for a given smoothing: 0 for none, else ceil(3 s), so 1 frame up to 0.33, 2 up to
/// 0.67 and 3 above.
int WarmFrameCount(double smoothing)
{
    if (!(smoothing > 0)) return 0;
    int k = (int)std::ceil(smoothing * kMaxWarmFrames - 1e-9);
    return std::clamp(k, 1, kMaxWarmFrames);
}

// ---- the engine, loaded once per process -------------------------------------------------------------------

BundlePaths g_paths;
const EngineApi* g_engine = nullptr;
std::string g_engineError;
std::vector<std::string> g_styles;  // ids of the Style parameter's options (shown by title), fixed at describe time

/// Index of the Style option a new instance starts on, declared as the parameter's default: kDefaultStyleId, else the
/// first style.
int DefaultStyleIndex()
{
    for (size_t i = 0; i < g_styles.size(); ++i)
        if (g_styles[i] == kDefaultStyleId) return (int)i;
    return 0;
}

// ---- instance ----------------------------------------------------------------------------------------------

struct Instance {
    OfxImageEffectHandle effect = nullptr;
    bool hostAllocated = false;  // this struct's memory came from the host's memory suite
    OfxImageClipHandle source = nullptr;
    OfxImageClipHandle output = nullptr;
    OfxParamHandle style = nullptr, customModel = nullptr, strength = nullptr, preserveColours = nullptr,
                   smoothing = nullptr, followMotion = nullptr, resolution = nullptr, device = nullptr,
                   network = nullptr, styleMix = nullptr;

    sf_engine* engine = nullptr;
    std::string engineError;  // why there is no engine

    // Serialises renders (and style loads) on this instance.
    InstanceMutex renderMutex;

    // Style loading state (guarded by the render lock).
    std::string loadedKey;  // device + network + style of the last load attempt
    bool loadOk = false;
    std::string loadError;
    std::atomic<bool> forceReload{false};  // set when a style parameter changed (retry a failed path)
    // Styles the loaded model can mix (guarded by the render lock): 0 for a single-style model, a failed load or an
    // engine without the style mix calls; their names for the Style mix hint.
    int mixCount = 0;
    std::vector<std::string> mixNames;

    // What the Style mix parameter shows (enabled state and hint), set from the create-instance and
    // instance-changed actions only (the host's main thread), so not locked.
    int mixEnabledShown = -1;
    std::string mixHintShown;

    // The chain of frames the engine's temporal history holds (guarded by the render lock).
    HistoryCache history;

    // Messages (guarded by the render lock): the last error posted, so a failing model is reported once and not
    // on every frame; cleared when a frame renders cleanly again.
    std::string postedError;
};

Instance* GetInstance(OfxImageEffectHandle effect) { return static_cast<Instance*>(InstanceData(effect)); }

/// Posts an error for the user (ofx_support's PostErrorMessage) and writes it to stderr. The same text is not
/// posted twice in a row, so a failing model is reported once rather than on every frame.
void ReportError(Instance* inst, const std::string& text)
{
    if (inst && inst->postedError == text) return;
    if (inst) inst->postedError = text;
    Log("error", text);
    PostErrorMessage(inst ? inst->effect : nullptr, text);
}

void ClearError(Instance* inst)
{
    if (inst->postedError.empty()) return;
    inst->postedError.clear();
    ClearPersistentMessage(inst->effect);
}

// ---- parameter values at a time ----------------------------------------------------------------------------

struct Settings {
    double strength = 1;
    double smoothing = kDefaultSmoothing;
    bool followMotion = true;
    bool preserveColours = false;
    double inferenceScale = 1;
    int device = SF_DEVICE_AUTO;
    int network = SF_TIER_AUTO;  // network size, one of sf_tier
    std::string style;           // bundled style name or model path
    bool custom = false;
    double styleMix = 0;  // 0 = the first style .. 1 = the last (multi-style models only)
};

std::string Trim(const std::string& s)
{
    size_t a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return std::string();
    size_t b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

Settings ReadSettings(Instance* inst, OfxTime t)
{
    Settings s;
    s.strength = std::clamp(ParamDouble(inst->strength, t, 1.0), 0.0, 1.0);
    s.smoothing = std::clamp(ParamDouble(inst->smoothing, t, kDefaultSmoothing), 0.0, 1.0);
    s.preserveColours = ParamInt(inst->preserveColours, t, 0) != 0;
    s.followMotion = ParamInt(inst->followMotion, t, 1) != 0;
    int res = std::clamp(ParamInt(inst->resolution, t, 0), 0, 2);
    s.inferenceScale = kResolutionScales[res];
    int dev = std::clamp(ParamInt(inst->device, t, 0), 0, (int)(sizeof kDeviceValues / sizeof kDeviceValues[0]) - 1);
    s.device = kDeviceValues[dev];
    int net = std::clamp(ParamInt(inst->network, t, 0), 0, (int)(sizeof kNetworkValues / sizeof kNetworkValues[0]) - 1);
    s.network = kNetworkValues[net];
    s.styleMix = std::clamp(ParamDouble(inst->styleMix, t, 0.0), 0.0, 1.0);
    std::string custom = Trim(ParamString(inst->customModel, t));
    if (!custom.empty()) {
        s.style = custom;
        s.custom = true;
    } else {
        // A host that cannot give the value (or lacks the parameter) gets the declared default, not the first style.
        int idx = ParamInt(inst->style, t, DefaultStyleIndex());
        if (idx >= 0 && idx < (int)g_styles.size()) s.style = g_styles[(size_t)idx];
    }
    return s;
}

/// Earlier frames the render at t runs before t (the chain's anchor is t minus this): WarmFrameCount(smoothing) plus
/// t's place in its group, 0 without smoothing, and never before the source's first frame.
int ChainFramesAt(Instance* inst, OfxTime t, double smoothing, double strength)
{
    if (strength <= 0) return 0;  // identity: nothing is stylised
    const int k = WarmFrameCount(smoothing);
    if (k == 0) return 0;
    const long long frame = (long long)std::floor(t + 1e-6);
    int n = k + (int)(((frame % kGroupFrames) + kGroupFrames) % kGroupFrames);
    OfxPropertySetHandle clipProps = nullptr;
    if (g_effect->clipGetPropertySet(inst->source, &clipProps) == kOfxStatOK) {
        double first = GetDouble(clipProps, kOfxImageEffectPropFrameRange, -1e300, 0);
        if (first > -1e299) n = std::max(0, std::min(n, (int)std::floor(t - first + 1e-6)));
    }
    return n;
}

/// What shapes the engine's history besides the frames: the loaded model, smoothing, motion following, inference size
/// and style mix. (Strength and colour preservation apply after the blend, so a chain continues across their changes.)
std::string HistorySettings(const Instance* inst, const Settings& s)
{
    char text[180];
    std::snprintf(text, sizeof text, "|s=%.17g|motion=%d|scale=%.17g|mix=%.17g", s.smoothing, s.followMotion ? 1 : 0,
                  s.inferenceScale, inst->mixCount >= 2 ? s.styleMix : 0.0);
    return inst->loadedKey + text;
}

// ---- engine use --------------------------------------------------------------------------------------------

/// Weights of the Style mix value `mix` (0..1) over n styles: position p = mix * (n - 1) lies between styles
/// floor(p) and floor(p) + 1, which get 1 - frac and frac; the others 0. So 0 is the first style, 1 the last.
std::vector<float> StyleMixWeights(double mix, int n)
{
    std::vector<float> w((size_t)std::max(n, 0), 0.0f);
    if (n <= 0) return w;
    if (n == 1) {
        w[0] = 1.0f;
        return w;
    }
    const double p = std::clamp(mix, 0.0, 1.0) * (n - 1);
    const int i = std::clamp((int)std::floor(p), 0, n - 2);
    const double frac = std::clamp(p - i, 0.0, 1.0);
    w[(size_t)i] = (float)(1.0 - frac);
    w[(size_t)i + 1] = (float)frac;
    return w;
}

/// After a style loaded: how many styles it can mix (0 for a single-style model or an engine without the calls)
/// and their names.
void ReadStyleMix(Instance* inst)
{
    inst->mixCount = 0;
    inst->mixNames.clear();
    if (!g_engine->HasStyleMix()) return;
    int32_t count = 0;
    if (g_engine->engine_get_style_mix_count(inst->engine, &count) != SF_OK || count < 2) return;
    inst->mixCount = count;
    for (int32_t i = 0; i < count; ++i) {
        char name[256] = "";
        if (!g_engine->engine_get_style_mix_name ||
            g_engine->engine_get_style_mix_name(inst->engine, i, name, sizeof name) != SF_OK || !name[0])
            std::snprintf(name, sizeof name, "style %d", (int)i + 1);
        inst->mixNames.emplace_back(name);
    }
}

/// Makes sure the wanted style is loaded on the wanted device, in the wanted network size. Returns false (with
/// inst->loadError set) when it could not be loaded; the failure is remembered until the style, the device, the network
/// or a style parameter changes.
bool EnsureStyle(Instance* inst, const Settings& s)
{
    if (s.style.empty()) {
        inst->loadError = g_styles.empty() ? "no style: the bundle has no styles in " + g_paths.models +
                                                 "; choose a model file in 'Custom model'"
                                           : "no style selected";
        inst->loadedKey.clear();  // nothing loaded for these settings: the next style loads afresh
        inst->loadOk = false;
        inst->mixCount = 0;
        inst->mixNames.clear();
        return false;
    }
    std::string key =
        std::to_string(s.device) + "|net=" + std::to_string(s.network) + (s.custom ? "|file|" : "|name|") + s.style;
    bool retry = inst->forceReload.exchange(false);
    if (key == inst->loadedKey && !retry) return inst->loadOk;
    inst->loadedKey = key;
    inst->loadOk = false;
    inst->mixCount = 0;
    inst->mixNames.clear();
    inst->history.Forget();  // a load restarts the engine's history
    // The device takes effect on the next load.
    if (g_engine->engine_set_param(inst->engine, SF_PARAM_DEVICE, s.device) != SF_OK) {
        inst->loadError = "device not accepted: " + g_engine->LastError();
        return false;
    }
    // So does the network size. An engine older than the parameter refuses it and loads the style's own network.
    if (g_engine->engine_set_param(inst->engine, SF_PARAM_NETWORK_TIER, s.network) != SF_OK) {
        static std::atomic<bool> logged{false};
        if (!logged.exchange(true)) {
            const std::string why = g_engine->LastError();
            Log("warning", "the engine does not take Network (an older engine?)" + (why.empty() ? "" : ": " + why) +
                               "; styles load their own network");
        }
    }
    if (g_engine->engine_load_style(inst->engine, s.style.c_str()) != SF_OK) {
        std::string why = g_engine->LastError();
        inst->loadError = std::string("cannot load ") + (s.custom ? "custom model '" : "style '") + s.style +
                          "': " + (why.empty() ? "unknown error" : why);
        return false;
    }
    inst->loadOk = true;
    inst->loadError.clear();
    ReadStyleMix(inst);
    return true;
}

bool ApplySettings(Instance* inst, const Settings& s, std::string* error)
{
    struct {
        int32_t id;
        double value;
        const char* name;
    } params[] = {
        {SF_PARAM_ALPHA, s.strength, "strength"},
        {SF_PARAM_SMOOTHING, s.smoothing, "smoothing"},
        {SF_PARAM_PRESERVE_COLOUR, s.preserveColours ? 1.0 : 0.0, "preserve colours"},
        {SF_PARAM_INFERENCE_SCALE, s.inferenceScale, "inference resolution"},
    };
    for (const auto& p : params) {
        if (g_engine->engine_set_param(inst->engine, p.id, p.value) != SF_OK) {
            *error = std::string("engine rejected ") + p.name + ": " + g_engine->LastError();
            return false;
        }
    }
    // Added to the ABI later: an older engine library refuses the id, and then smooths without following motion.
    if (g_engine->engine_set_param(inst->engine, SF_PARAM_MOTION_COMPENSATION, s.followMotion ? 1.0 : 0.0) != SF_OK) {
        static std::atomic<bool> logged{false};
        if (!logged.exchange(true))
            Log("warning", std::string("the engine does not take Follow camera motion (an older engine?): ") +
                               g_engine->LastError());
    }
    // Style mix: set on every render (it is part of the settings at t, like the others), for multi-style models only.
    if (inst->mixCount >= 2) {
        const std::vector<float> weights = StyleMixWeights(s.styleMix, inst->mixCount);
        if (g_engine->engine_set_style_mix(inst->engine, weights.data(), (int32_t)weights.size()) != SF_OK) {
            *error = "engine rejected style mix " + std::to_string(s.styleMix) + ": " + g_engine->LastError();
            return false;
        }
    }
    return true;
}

/// Shows whether Style mix applies to the loaded model: enabled only for a multi-style model, and the hint names the
/// styles at 0 .. 1. Called from the create-instance and instance-changed actions; a host that does not let plugins
/// change these properties keeps the parameter as described (it is then simply ignored for single-style models).
void ShowStyleMix(Instance* inst, int count, const std::vector<std::string>& names)
{
    if (!inst->styleMix) return;
    OfxPropertySetHandle props = nullptr;
    if (g_param->paramGetPropertySet(inst->styleMix, &props) != kOfxStatOK || !props) return;
    const int enabled = count >= 2 ? 1 : 0;
    if (enabled != inst->mixEnabledShown && g_prop->propSetInt(props, kOfxParamPropEnabled, 0, enabled) == kOfxStatOK)
        inst->mixEnabledShown = enabled;
    std::string hint = kParamStyleMixHint;
    if (count >= 2) {
        hint += " This model: ";
        for (int i = 0; i < count && i < (int)names.size(); ++i) {
            char at[32];
            std::snprintf(at, sizeof at, "%g", (double)i / (count - 1));
            hint += (i ? ", " : "") + names[(size_t)i] + " (" + at + ")";
        }
        hint += ".";
    }
    if (hint != inst->mixHintShown && g_prop->propSetString(props, kOfxParamPropHint, 0, hint.c_str()) == kOfxStatOK)
        inst->mixHintShown = hint;
}

/// Loads the style the parameters ask for now (rather than at the next render), so that Style mix can show whether
/// the model has several styles. A failure is remembered and reported by the render, as before.
void PrepareStyle(Instance* inst, OfxTime t)
{
    int count = 0;
    std::vector<std::string> names;
    {
        ScopedLock lock(inst->renderMutex);
        if (inst->engine) {
            EnsureStyle(inst, ReadSettings(inst, t));
            count = inst->mixCount;
            names = inst->mixNames;
        }
    }
    ShowStyleMix(inst, count, names);
}

sf_frame MakeFrame(uint8_t* data, int w, int h, bool isFloat)
{
    sf_frame f;
    f.data = data;
    f.width = w;
    f.height = h;
    f.stride = w * (isFloat ? 16 : 4);
    f.format = isFloat ? SF_FORMAT_RGBA32F : SF_FORMAT_RGBA8;
    return f;
}

// ---- actions -----------------------------------------------------------------------------------------------

OfxStatus OnLoad()
{
    if (!FetchSuites()) return kOfxStatErrMissingHostFeature;
    // The engine is loaded here, once; without it the effect still appears and explains itself on use.
    g_paths = FindBundlePaths();
    g_engine = LoadEngine(g_paths, &g_engineError);
    if (g_engine)
        g_styles = ListStyles(*g_engine);
    else
        Log("error", g_engineError);
    if (g_engine && !g_engine->HasStyleMix())
        Log("warning", g_paths.engine + " has no style mix calls (sf_engine_set_style_mix): an older engine; "
                                        "the Style mix parameter is ignored");
    return kOfxStatOK;
}

OfxStatus OnDescribe(OfxImageEffectHandle effect)
{
    OfxPropertySetHandle p = nullptr;
    if (g_effect->getPropertySet(effect, &p) != kOfxStatOK) return kOfxStatErrBadHandle;
    SetString(p, kOfxPropLabel, kPluginLabel);
    SetString(p, kOfxPropShortLabel, kPluginLabel);
    SetString(p, kOfxPropLongLabel, kPluginLongLabel);
    SetInt(p, kOfxPropVersion, (int)kVersionMajor, 0);
    SetInt(p, kOfxPropVersion, (int)kVersionMinor, 1);
    SetString(p, kOfxPropVersionLabel, "1.0");
    SetString(p, kOfxPropPluginDescription, kPluginDescription);
    SetString(p, kOfxImageEffectPluginPropGrouping, kPluginGrouping);
    SetString(p, kOfxImageEffectPropSupportedContexts, kOfxImageEffectContextFilter, 0);
    SetString(p, kOfxImageEffectPropSupportedContexts, kOfxImageEffectContextGeneral, 1);
    SetString(p, kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthByte, 0);
    SetString(p, kOfxImageEffectPropSupportedPixelDepths, kOfxBitDepthFloat, 1);
    SetInt(p, kOfxImageEffectPluginPropSingleInstance, 0);
    // Each instance owns one engine and renders one frame at a time; different instances render in parallel.
    SetString(p, kOfxImageEffectPluginRenderThreadSafety, kOfxImageEffectRenderInstanceSafe);
    // The network sees the whole frame: no host-side slicing into tiles or stripes.
    SetInt(p, kOfxImageEffectPluginPropHostFrameThreading, 0);
    SetInt(p, kOfxImageEffectPropSupportsTiles, 0);
    SetInt(p, kOfxImageEffectPropSupportsMultiResolution, 1);
    SetInt(p, kOfxImageEffectPropTemporalClipAccess, 1);
    SetInt(p, kOfxImageEffectPropSupportsMultipleClipDepths, 0);
    SetInt(p, kOfxImageEffectPropSupportsMultipleClipPARs, 0);
    return kOfxStatOK;
}

/* An animatable double from 0 to 1 (strength, style mix, smoothing). */
bool DefineUnitDouble(OfxParamSetHandle set, const char* name, const char* label, const char* hint, double byDefault,
                      double increment)
{
    OfxPropertySetHandle p = DefineParam(set, kOfxParamTypeDouble, name, label, hint);
    if (!p) return false;
    SetDouble(p, kOfxParamPropDefault, byDefault);
    SetDouble(p, kOfxParamPropMin, 0.0);
    SetDouble(p, kOfxParamPropMax, 1.0);
    SetDouble(p, kOfxParamPropDisplayMin, 0.0);
    SetDouble(p, kOfxParamPropDisplayMax, 1.0);
    SetDouble(p, kOfxParamPropIncrement, increment);
    SetInt(p, kOfxParamPropDigits, 2);
    SetString(p, kOfxParamPropDoubleType, kOfxParamDoubleTypePlain);
    SetInt(p, kOfxParamPropAnimates, 1);
    return true;
}

OfxStatus OnDescribeInContext(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs)
{
    std::string context = GetString(inArgs, kOfxImageEffectPropContext);
    if (context != kOfxImageEffectContextFilter && context != kOfxImageEffectContextGeneral)
        return kOfxStatErrUnsupported;

    OfxPropertySetHandle clip = nullptr;
    if (g_effect->clipDefine(effect, kOfxImageEffectSimpleSourceClipName, &clip) != kOfxStatOK) return kOfxStatFailed;
    SetString(clip, kOfxImageEffectPropSupportedComponents, kOfxImageComponentRGBA);
    SetInt(clip, kOfxImageEffectPropTemporalClipAccess, 1);
    SetInt(clip, kOfxImageEffectPropSupportsTiles, 0);
    SetInt(clip, kOfxImageClipPropOptional, 0);
    if (g_effect->clipDefine(effect, kOfxImageEffectOutputClipName, &clip) != kOfxStatOK) return kOfxStatFailed;
    SetString(clip, kOfxImageEffectPropSupportedComponents, kOfxImageComponentRGBA);
    SetInt(clip, kOfxImageEffectPropSupportsTiles, 0);

    OfxParamSetHandle params = nullptr;
    if (g_effect->getParamSet(effect, &params) != kOfxStatOK) return kOfxStatFailed;

    OfxPropertySetHandle p = DefineParam(params, kOfxParamTypeChoice, kParamStyle, kParamStyleLabel, kParamStyleHint);
    if (!p) return kOfxStatFailed;
    if (g_styles.empty()) {
        SetString(p, kOfxParamPropChoiceOption, "(no bundled styles)", 0);
    } else {
        for (size_t i = 0; i < g_styles.size(); ++i)
            SetString(p, kOfxParamPropChoiceOption, StyleTitle(*g_engine, g_styles[i]).c_str(), (int)i);
    }
    SetInt(p, kOfxParamPropDefault, DefaultStyleIndex());
    SetInt(p, kOfxParamPropAnimates, 0);

    // A host without string parameters still gets the effect, with the bundled styles only.
    p = DefineParam(params, kOfxParamTypeString, kParamCustomModel, kParamCustomModelLabel, kParamCustomModelHint);
    if (p) {
        SetString(p, kOfxParamPropStringMode, kOfxParamStringIsFilePath);
        SetInt(p, kOfxParamPropStringFilePathExists, 1);
        SetString(p, kOfxParamPropDefault, "");
        SetInt(p, kOfxParamPropAnimates, 0);
    } else {
        static bool logged = false;  // once, not once per context
        if (!logged)
            Log("warning", "the host has no string parameters: 'Custom model' is left out, only the bundled "
                           "styles are offered");
        logged = true;
    }

    if (!DefineUnitDouble(params, kParamStrength, kParamStrengthLabel, kParamStrengthHint, 1.0, 0.01))
        return kOfxStatFailed;
    if (!DefineUnitDouble(params, kParamStyleMix, kParamStyleMixLabel, kParamStyleMixHint, 0.0, 0.01))
        return kOfxStatFailed;

    p = DefineParam(params, kOfxParamTypeBoolean, kParamPreserveColours, kParamPreserveColoursLabel,
                    kParamPreserveColoursHint);
    if (!p) return kOfxStatFailed;
    SetInt(p, kOfxParamPropDefault, 0);
    SetInt(p, kOfxParamPropAnimates, 0);

    if (!DefineUnitDouble(params, kParamSmoothing, kParamSmoothingLabel, kParamSmoothingHint, kDefaultSmoothing, 0.05))
        return kOfxStatFailed;

    p = DefineParam(params, kOfxParamTypeBoolean, kParamFollowMotion, kParamFollowMotionLabel, kParamFollowMotionHint);
    if (!p) return kOfxStatFailed;
    SetInt(p, kOfxParamPropDefault, 1);
    SetInt(p, kOfxParamPropAnimates, 0);

    p = DefineParam(params, kOfxParamTypeChoice, kParamInferenceResolution, kParamInferenceResolutionLabel,
                    kParamInferenceResolutionHint);
    if (!p) return kOfxStatFailed;
    for (int i = 0; i < 3; ++i) SetString(p, kOfxParamPropChoiceOption, kResolutionLabels[i], i);
    SetInt(p, kOfxParamPropDefault, 0);
    SetInt(p, kOfxParamPropAnimates, 0);

    p = DefineParam(params, kOfxParamTypeChoice, kParamDevice, kParamDeviceLabel, kParamDeviceHint);
    if (!p) return kOfxStatFailed;
    for (int i = 0; i < 5; ++i) SetString(p, kOfxParamPropChoiceOption, kDeviceLabels[i], i);
    SetInt(p, kOfxParamPropDefault, 0);
    SetInt(p, kOfxParamPropAnimates, 0);

    p = DefineParam(params, kOfxParamTypeChoice, kParamNetwork, kParamNetworkLabel, kParamNetworkHint);
    if (!p) return kOfxStatFailed;
    for (int i = 0; i < 4; ++i) SetString(p, kOfxParamPropChoiceOption, kNetworkLabels[i], i);
    SetInt(p, kOfxParamPropDefault, 0);
    SetInt(p, kOfxParamPropAnimates, 0);
    return kOfxStatOK;
}

OfxStatus OnCreateInstance(OfxImageEffectHandle effect)
{
    OfxPropertySetHandle props = nullptr;
    if (g_effect->getPropertySet(effect, &props) != kOfxStatOK) return kOfxStatErrBadHandle;

    bool hostAllocated = false;
    void* memory = AllocateInstanceMemory(effect, sizeof(Instance), &hostAllocated);
    if (!memory) return kOfxStatErrMemory;
    Instance* inst = new (memory) Instance();
    inst->effect = effect;
    inst->hostAllocated = hostAllocated;

    g_effect->clipGetHandle(effect, kOfxImageEffectSimpleSourceClipName, &inst->source, nullptr);
    g_effect->clipGetHandle(effect, kOfxImageEffectOutputClipName, &inst->output, nullptr);
    inst->style = ParamHandle(effect, kParamStyle);
    inst->customModel = ParamHandle(effect, kParamCustomModel);
    inst->strength = ParamHandle(effect, kParamStrength);
    inst->preserveColours = ParamHandle(effect, kParamPreserveColours);
    inst->smoothing = ParamHandle(effect, kParamSmoothing);
    inst->followMotion = ParamHandle(effect, kParamFollowMotion);
    inst->resolution = ParamHandle(effect, kParamInferenceResolution);
    inst->device = ParamHandle(effect, kParamDevice);
    inst->network = ParamHandle(effect, kParamNetwork);
    inst->styleMix = ParamHandle(effect, kParamStyleMix);

    SetInstanceData(effect, inst);

    if (!g_engine) {
        inst->engineError = "StyleFilter engine unavailable: " + g_engineError;
        ReportError(inst, inst->engineError);
        ShowStyleMix(inst, 0, {});
        return kOfxStatOK;  // the instance exists and passes frames through
    }
    sf_engine_options options;
    std::memset(&options, 0, sizeof options);
    options.struct_size = sizeof options;
    std::string ort = PathExists(g_paths.ort) ? g_paths.ort : std::string();
    options.ort_library_path = ort.empty() ? nullptr : ort.c_str();
    options.intra_op_threads = 0;
    options.device = kDeviceValues[std::clamp(ParamInt(inst->device, 0, 0), 0, 4)];
    if (g_engine->engine_create(&options, &inst->engine) != SF_OK) {
        inst->engine = nullptr;
        inst->engineError = "cannot create the StyleFilter engine: " + g_engine->LastError();
        ReportError(inst, inst->engineError);
    }
    PrepareStyle(inst, 0);  // also disables Style mix unless the model has several styles
    return kOfxStatOK;
}

OfxStatus OnDestroyInstance(OfxImageEffectHandle effect)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatOK;
    if (inst->engine) g_engine->engine_destroy(inst->engine);
    SetInstanceData(effect, nullptr);
    const bool hostAllocated = inst->hostAllocated;
    inst->~Instance();
    FreeInstanceMemory(inst, hostAllocated);
    return kOfxStatOK;
}

OfxStatus OnInstanceChanged(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    std::string type = GetString(inArgs, kOfxPropType), name = GetString(inArgs, kOfxPropName);
    if (type == kOfxTypeParameter &&
        (name == kParamStyle || name == kParamCustomModel || name == kParamDevice || name == kParamNetwork)) {
        inst->forceReload = true;  // e.g. a model file fixed at the same path: try again
        PrepareStyle(inst, GetDouble(inArgs, kOfxPropTime, 0));
    }
    return kOfxStatReplyDefault;
}

OfxStatus OnGetRegionOfDefinition(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs,
                                  OfxPropertySetHandle outArgs)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    OfxTime t = GetDouble(inArgs, kOfxPropTime, 0);
    OfxRectD rod{0, 0, 0, 0};
    if (g_effect->clipGetRegionOfDefinition(inst->source, t, &rod) != kOfxStatOK) return kOfxStatReplyDefault;
    g_prop->propSetDoubleN(outArgs, kOfxImageEffectPropRegionOfDefinition, 4, &rod.x1);
    return kOfxStatOK;
}

OfxStatus OnGetRegionsOfInterest(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs, OfxPropertySetHandle outArgs)
{
    // The network's receptive field is the whole frame: ask for all of the source whatever window is rendered.
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    OfxTime t = GetDouble(inArgs, kOfxPropTime, 0);
    OfxRectD rod{0, 0, 0, 0};
    if (g_effect->clipGetRegionOfDefinition(inst->source, t, &rod) != kOfxStatOK) return kOfxStatReplyDefault;
    std::string name = std::string(kOfxImageClipPropRoIPrefix) + kOfxImageEffectSimpleSourceClipName;
    g_prop->propSetDoubleN(outArgs, name.c_str(), 4, &rod.x1);
    return kOfxStatOK;
}

OfxStatus OnGetFramesNeeded(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs, OfxPropertySetHandle outArgs)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    OfxTime t = GetDouble(inArgs, kOfxPropTime, 0);
    double strength = std::clamp(ParamDouble(inst->strength, t, 1.0), 0.0, 1.0);
    double smoothing = std::clamp(ParamDouble(inst->smoothing, t, kDefaultSmoothing), 0.0, 1.0);
    int n = ChainFramesAt(inst, t, smoothing, strength);
    double range[2] = {t - n, t};
    std::string name = std::string(kOfxImageClipPropFrameRangePrefix) + kOfxImageEffectSimpleSourceClipName;
    g_prop->propSetDoubleN(outArgs, name.c_str(), 2, range);
    return kOfxStatOK;
}

OfxStatus OnIsIdentity(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs, OfxPropertySetHandle outArgs)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    OfxTime t = GetDouble(inArgs, kOfxPropTime, 0);
    if (ParamDouble(inst->strength, t, 1.0) > 0) return kOfxStatReplyDefault;
    SetString(outArgs, kOfxPropName, kOfxImageEffectSimpleSourceClipName);
    SetDouble(outArgs, kOfxPropTime, t);
    return kOfxStatOK;
}

OfxStatus OnGetClipPreferences(OfxPropertySetHandle outArgs)
{
    // The output at t also depends on earlier source frames, so the host must not assume a still source gives a
    // still output.
    SetInt(outArgs, kOfxImageEffectFrameVarying, 1);
    return kOfxStatOK;
}

/// Fetches an earlier frame of the chain into *img: false when the host has none at that time or it is not of frame t's
/// size, depth and components (such a frame is skipped).
bool FetchChainFrame(Instance* inst, OfxTime time, const Image& frameT, Image* img)
{
    if (img->Fetch(inst->source, time) != kOfxStatOK || !img->Valid()) return false;
    return img->Width() == frameT.Width() && img->Height() == frameT.Height() && img->Depth() == frameT.Depth() &&
           img->Components() == frameT.Components();
}

/// The cache entry of a frame that runs through the engine: its hash, never kSkipped.
uint64_t ChainEntry(const Image& img)
{
    const uint64_t h = HashImage(img);
    return h == HistoryCache::kSkipped ? h + 1 : h;
}

OfxStatus OnRender(OfxImageEffectHandle effect, OfxPropertySetHandle inArgs)
{
    Instance* inst = GetInstance(effect);
    if (!inst) return kOfxStatErrBadHandle;
    const OfxTime t = GetDouble(inArgs, kOfxPropTime, 0);
    OfxRectI window{0, 0, 0, 0};
    if (g_prop->propGetIntN(inArgs, kOfxImageEffectPropRenderWindow, 4, &window.x1) != kOfxStatOK)
        return kOfxStatFailed;

    ScopedLock lock(inst->renderMutex);

    Image src, dst;
    if (dst.Fetch(inst->output, t) != kOfxStatOK || !dst.Valid()) return kOfxStatFailed;
    if (src.Fetch(inst->source, t) != kOfxStatOK || !src.Valid()) {
        // No source at this time: the output is transparent black.
        WriteWindow(dst, window, OfxRectI{0, 0, 0, 0}, [](int) { return static_cast<const uint8_t*>(nullptr); });
        return kOfxStatOK;
    }
    if (src.Depth() != dst.Depth() || src.Components() != dst.Components()) {
        ReportError(inst, "source is " + src.Depth() + "/" + src.Components() + " but output is " + dst.Depth() + "/" +
                              dst.Components() + ": the effect needs matching clips");
        return kOfxStatErrImageFormat;
    }

    const Settings s = ReadSettings(inst, t);
    if (s.strength <= 0) {  // identity (the host rendered anyway)
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }
    const bool isFloat = src.Depth() == kOfxBitDepthFloat;
    if ((src.Depth() != kOfxBitDepthByte && !isFloat) || src.Components() != kOfxImageComponentRGBA) {
        ReportError(inst, "unsupported pixels " + src.Depth() + "/" + src.Components() +
                              ": the effect takes 8-bit or float RGBA; the frame was passed through");
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }
    if (!inst->engine) {
        ReportError(inst, inst->engineError);
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }
    if (!EnsureStyle(inst, s)) {
        ReportError(inst, inst->loadError + " (the frame was passed through)");
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }
    std::string error;
    if (!ApplySettings(inst, s, &error)) {
        ReportError(inst, error + " (the frame was passed through)");
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }

    const int w = src.Width(), h = src.Height();
    const size_t frameBytes = (size_t)w * (size_t)h * (size_t)src.PixelBytes();
    Scratch frame(effect, frameBytes);
    if (!frame.Data()) return kOfxStatErrMemory;

    // The chain's earlier frames, anchor .. t-1: an entry for each (its hash, or kSkipped when it is missing or not
    // of frame t's size and depth), and how many of them the engine's history already holds.
    const int n = ChainFramesAt(inst, t, s.smoothing, s.strength);
    const HistoryCache::Key key{inst->source, t - n, HistorySettings(inst, s)};
    std::vector<uint64_t> entries((size_t)n, HistoryCache::kSkipped);
    for (int i = 0; i < n; ++i) {
        if (g_effect->abort && g_effect->abort(effect)) return kOfxStatFailed;
        Image earlier;
        if (FetchChainFrame(inst, t - n + i, src, &earlier)) entries[(size_t)i] = ChainEntry(earlier);
    }
    int held = inst->history.Reusable(key, entries);
    if (held < 0) {
        if (g_engine->engine_reset_history(inst->engine) != SF_OK) {
            inst->history.Forget();
            ReportError(inst, "cannot reset the temporal history: " + g_engine->LastError());
            CopyWindow(src, dst, window);
            return kOfxStatOK;
        }
        inst->history.Restart(key);
        held = 0;
    }
    // Run the frames the history lacks (their output is discarded).
    for (int i = held; i < n; ++i) {
        if (g_effect->abort && g_effect->abort(effect)) return kOfxStatFailed;
        Image earlier;
        if (entries[(size_t)i] != HistoryCache::kSkipped) {
            if (!FetchChainFrame(inst, t - n + i, src, &earlier) || ChainEntry(earlier) != entries[(size_t)i]) {
                inst->history.Forget();  // the host changed the frame meanwhile: the next render starts afresh
                break;
            }
            PackTopDown(earlier, frame.Data());
            if (earlier.Premultiplied()) Unpremultiply(frame.Data(), (size_t)w * h, isFloat);
            earlier.Release();
            sf_frame f = MakeFrame(frame.Data(), w, h, isFloat);
            if (g_engine->engine_process_cpu(inst->engine, &f, &f) != SF_OK) {
                inst->history.Forget();
                break;  // frame t will report it
            }
        }
        inst->history.Append(entries[(size_t)i]);
    }
    if (g_effect->abort && g_effect->abort(effect)) return kOfxStatFailed;

    // Frame t, in place.
    const uint64_t entryT = ChainEntry(src);
    PackTopDown(src, frame.Data());
    if (src.Premultiplied()) Unpremultiply(frame.Data(), (size_t)w * h, isFloat);
    sf_frame f = MakeFrame(frame.Data(), w, h, isFloat);
    sf_status st = g_engine->engine_process_cpu(inst->engine, &f, &f);
    if (st != SF_OK) {
        // The engine wrote a pass-through copy; make sure of it even if it did not.
        inst->history.Forget();
        ReportError(inst, "stylising frame " + std::to_string(t) + " failed: " + g_engine->LastError() +
                              " (the frame was passed through)");
        CopyWindow(src, dst, window);
        return kOfxStatOK;
    }
    inst->history.Append(entryT);
    if (src.Premultiplied()) Premultiply(frame.Data(), (size_t)w * h, isFloat);
    const OfxRectI& sb = src.Bounds();
    const size_t rowBytes = (size_t)w * (size_t)src.PixelBytes();
    const uint8_t* top = frame.Data();
    WriteWindow(dst, window, sb, [&](int y) { return top + (size_t)(sb.y2 - 1 - y) * rowBytes; });
    ClearError(inst);
    return kOfxStatOK;
}

OfxStatus MainEntry(const char* action, const void* handle, OfxPropertySetHandle inArgs, OfxPropertySetHandle outArgs)
{
    try {
        if (!action) return kOfxStatErrUnknown;
        OfxImageEffectHandle effect = static_cast<OfxImageEffectHandle>(const_cast<void*>(handle));
        if (std::strcmp(action, kOfxActionLoad) == 0) return OnLoad();
        if (!g_prop || !g_effect || !g_param) return kOfxStatErrMissingHostFeature;
        if (std::strcmp(action, kOfxActionUnload) == 0) return kOfxStatOK;  // the engine library stays loaded
        if (std::strcmp(action, kOfxActionDescribe) == 0) return OnDescribe(effect);
        if (std::strcmp(action, kOfxImageEffectActionDescribeInContext) == 0)
            return OnDescribeInContext(effect, inArgs);
        if (std::strcmp(action, kOfxActionCreateInstance) == 0) return OnCreateInstance(effect);
        if (std::strcmp(action, kOfxActionDestroyInstance) == 0) return OnDestroyInstance(effect);
        if (std::strcmp(action, kOfxImageEffectActionRender) == 0) return OnRender(effect, inArgs);
        if (std::strcmp(action, kOfxImageEffectActionIsIdentity) == 0) return OnIsIdentity(effect, inArgs, outArgs);
        if (std::strcmp(action, kOfxImageEffectActionGetFramesNeeded) == 0)
            return OnGetFramesNeeded(effect, inArgs, outArgs);
        if (std::strcmp(action, kOfxImageEffectActionGetRegionOfDefinition) == 0)
            return OnGetRegionOfDefinition(effect, inArgs, outArgs);
        if (std::strcmp(action, kOfxImageEffectActionGetRegionsOfInterest) == 0)
            return OnGetRegionsOfInterest(effect, inArgs, outArgs);
        if (std::strcmp(action, kOfxImageEffectActionGetClipPreferences) == 0) return OnGetClipPreferences(outArgs);
        if (std::strcmp(action, kOfxActionInstanceChanged) == 0) return OnInstanceChanged(effect, inArgs);
        return kOfxStatReplyDefault;
    } catch (const std::bad_alloc&) {
        return kOfxStatErrMemory;
    } catch (...) {
        return kOfxStatFailed;
    }
}

OfxPlugin g_plugin = {
    kOfxImageEffectPluginApi,
    kOfxImageEffectPluginApiVersion,
    kPluginId,
    kVersionMajor,
    kVersionMinor,
    SetHost,
    MainEntry,
};

}  // namespace
}  // namespace sfofx

extern "C" {

OfxExport int OfxGetNumberOfPlugins(void) { return 1; }

OfxExport OfxPlugin* OfxGetPlugin(int nth) { return nth == 0 ? &sfofx::g_plugin : nullptr; }

}  // extern "C"
