// host.h - a small OpenFX image-effect host for testing the StyleFilter bundle.
//
// It loads a bundle the way hosts do (dlopen the .ofx, OfxGetNumberOfPlugins / OfxGetPlugin, setHost, then the
// actions), and implements the suites a plugin may ask for: property, image effect, parameter (with keyframes,
// linear interpolation for doubles), memory, multi-thread and message (V1 and V2). Clips serve images from an
// in-memory source sequence at any render scale and bit depth.
//
// While doing so it watches the plugin: property type mismatches, images fetched outside the frames the plugin
// declared in GetFramesNeeded, images or memory not released, are all recorded as violations.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ofx_api.h"

namespace ofxhost {

// ---- properties ----------------------------------------------------------------------------------------------

enum class PropType { Int, Double, String, Pointer };

struct Prop {
    PropType type = PropType::Int;
    std::vector<int> i;
    std::vector<double> d;
    std::vector<std::string> s;
    std::vector<void*> p;
    size_t Size() const;
};

struct PropertySet {
    uint32_t magic = 0x50524f50;  // "PROP"
    std::string what;             // for messages
    std::map<std::string, Prop> props;

    // Host-side helpers (no validation).
    void SetInt(const std::string& n, std::vector<int> v);
    void SetDouble(const std::string& n, std::vector<double> v);
    void SetString(const std::string& n, std::vector<std::string> v);
    void SetPointer(const std::string& n, void* v);
    bool Has(const std::string& n) const { return props.count(n) != 0; }
    int Int(const std::string& n, int index = 0, int fallback = 0) const;
    double Double(const std::string& n, int index = 0, double fallback = 0) const;
    std::string String(const std::string& n, int index = 0) const;
    std::vector<std::string> Strings(const std::string& n) const;
    std::vector<double> Doubles(const std::string& n) const;
    void* Pointer(const std::string& n) const;

    OfxPropertySetHandle Handle() { return reinterpret_cast<OfxPropertySetHandle>(this); }
};

// ---- parameters ----------------------------------------------------------------------------------------------

struct Param {
    uint32_t magic = 0x5041524d;  // "PARM"
    std::string name, type;
    PropertySet props;
    // Value: doubles use d, integer/boolean/choice use i, strings use s. Keys (time -> value) animate it.
    double d = 0;
    int i = 0;
    std::string s;
    std::map<double, double> dKeys;
    std::map<double, int> iKeys;
    std::map<double, std::string> sKeys;

    double DoubleAt(double t) const;
    int IntAt(double t) const;
    const std::string& StringAt(double t) const;
};

struct ParamSet {
    uint32_t magic = 0x50534554;  // "PSET"
    PropertySet props;
    std::vector<std::unique_ptr<Param>> params;  // definition order
    Param* Find(const std::string& name) const;
};

// ---- clips, images, effects -------------------------------------------------------------------------------------

struct Effect;

struct Clip {
    uint32_t magic = 0x434c4950;  // "CLIP"
    std::string name;
    PropertySet props;
    Effect* owner = nullptr;
};

/// An image handed to the plugin: a property set plus the pixels it points at.
struct Image {
    PropertySet props;
    std::vector<uint8_t> pixels;  // bottom-up rows, rowBytes apart (the output image points at host memory)
};

struct Effect {
    uint32_t magic = 0x45464654;  // "EFFT"
    bool descriptor = true;
    std::string context;
    PropertySet props;
    ParamSet params;
    std::map<std::string, std::unique_ptr<Clip>> clips;
    std::vector<std::string> clipOrder;
    OfxImageEffectHandle Handle() { return reinterpret_cast<OfxImageEffectHandle>(this); }

    // Instance state used by the host while rendering.
    std::string depth = kOfxBitDepthByte;
    double renderScale = 1;
    bool rendering = false;
    double renderTime = 0;
    OfxRangeD allowed{0, 0};  // source frames the plugin declared for this render
    Image* output = nullptr;  // the output image of the render in progress
};

// ---- the source sequence ---------------------------------------------------------------------------------------

/// Frames first..last of a clip, tightly packed RGBA8, top row first (as decoded from a file).
struct Sequence {
    int width = 0, height = 0;
    int first = 0, last = 0;
    std::vector<std::vector<uint8_t>> frames;  // index = time - first
    OfxPointI origin{0, 0};                    // canonical position of the bottom-left pixel

    /// Makes the sequence from one RGBA8 picture, moved `shift` pixels to the left each frame (wrapping).
    static Sequence Panning(const std::vector<uint8_t>& rgba, int w, int h, int first, int last, int shift);
    /// A picture when no file is given: gradients and blocks, deterministic.
    static std::vector<uint8_t> Synthetic(int w, int h);
    bool Has(double t) const;
    const std::vector<uint8_t>& At(double t) const;
};

/// Top-down packed frame data at a render scale (1 or 1/2^n, box filtered) and depth (8-bit or float).
std::vector<uint8_t> ScaledFrame(const Sequence& seq, double t, double scale, const std::string& depth, int* w, int* h);

// ---- messages --------------------------------------------------------------------------------------------------

struct Message {
    void* handle;
    std::string type, id, text;
    bool persistent;
};

// ---- the host ---------------------------------------------------------------------------------------------------

class Host {
public:
    Host();
    ~Host();

    /// dlopen the bundle's binary and find its image-effect plugin. Returns false with a reason.
    bool LoadBundle(const std::string& bundlePath, std::string* error);
    std::string BinaryPath() const { return binaryPath_; }
    int PluginCount() const { return pluginCount_; }
    OfxPlugin* Plugin() const { return plugin_; }

    /// Sends an action to the plugin (records that it was sent).
    OfxStatus Action(const char* action, const void* handle, PropertySet* inArgs, PropertySet* outArgs);

    // The lifecycle, each returning the plugin's status.
    OfxStatus Load();
    OfxStatus Describe();
    OfxStatus DescribeInContext(const std::string& context);
    Effect* CreateInstance(const std::string& context, const std::string& depth, OfxStatus* status);
    OfxStatus DestroyInstance(Effect* instance);
    OfxStatus Unload();

    Effect* Descriptor() { return &descriptor_; }
    Effect* ContextDescriptor(const std::string& context);

    // Parameters of an instance (host side: like a user editing them). Each sends InstanceChanged.
    void SetDouble(Effect* e, const std::string& name, double v);
    void SetDoubleKeys(Effect* e, const std::string& name, const std::map<double, double>& keys);
    void SetInt(Effect* e, const std::string& name, int v);
    void SetString(Effect* e, const std::string& name, const std::string& v);

    // Image effect actions as a host issues them.
    OfxStatus RegionOfDefinition(Effect* e, double t, double scale, OfxRectD* rod);
    OfxStatus RegionOfInterest(Effect* e, double t, double scale, const OfxRectD& window, OfxRectD* roi);
    OfxStatus FramesNeeded(Effect* e, double t, OfxRangeD* range);
    OfxStatus IsIdentity(Effect* e, double t, double scale, std::string* clip, double* time);
    OfxStatus ClipPreferences(Effect* e, PropertySet* out);
    OfxStatus BeginSequence(Effect* e, double first, double last, double scale);
    OfxStatus EndSequence(Effect* e, double first, double last, double scale);

    struct RenderResult {
        OfxStatus status = kOfxStatFailed;
        bool identity = false;        // IsIdentity said so (and the host copied the source)
        int width = 0, height = 0;    // output size in pixels
        std::vector<uint8_t> pixels;  // top-down packed output (RGBA8 or RGBA32F)
        bool fullyWritten = true;     // no sentinel bytes left in the render window
    };
    /// Renders one frame the way a host does: RoD, IsIdentity (honoured unless forceRender), FramesNeeded,
    /// RoI, then Render into a fresh output image filled with a sentinel.
    RenderResult Render(Effect* e, double t, double scale, bool forceRender);

    // What happened.
    std::vector<std::string> Violations();
    std::vector<Message> Messages();
    void ClearMessages();
    int PersistentClears() const { return persistentClears_; }
    std::set<std::string> ActionsSent();
    std::set<std::string> SuitesFetched();
    int MutexLocks() const { return mutexLocks_; }
    size_t LiveMemoryBlocks();
    size_t LiveImageMemory();
    size_t LiveImages();
    void Violation(const std::string& what);

    // Host limitations to test against: parameter types paramDefine refuses (as a host without string parameters
    // does), and parameters whose value paramGetValue / paramGetValueAtTime cannot give.
    std::set<std::string> refusedParamTypes;
    std::set<std::string> unreadableParams;

    // Row layout of the images the host hands out: bytes of padding after each row, and rows stored top-down in
    // memory (a negative kOfxImagePropRowBytes, the data pointer at the bottom row), which OpenFX allows.
    int sourceRowPadding = 32, outputRowPadding = 64;
    bool sourceTopDown = false, outputTopDown = false;

    Sequence source;
    std::string premultiplication = kOfxImageOpaque;  // state of the source's (and output's) alpha
    std::atomic<int> imageFetches{0};

    // ---- suite implementations need these ----
    PropertySet hostProps;
    std::mutex lock;  // guards the bookkeeping below (renders may run on several threads)
    std::vector<std::string> violations;
    std::vector<Message> messages;
    std::set<std::string> actionsSent, suitesFetched;
    std::map<PropertySet*, std::unique_ptr<Image>> liveImages;
    std::set<void*> liveMemory;
    std::set<void*> liveImageMemory;
    std::atomic<int> persistentClears_{0};
    std::atomic<int> mutexLocks_{0};
    OfxHost ofxHost;

private:
    std::string binaryPath_;
    void* library_ = nullptr;
    int pluginCount_ = 0;
    OfxPlugin* plugin_ = nullptr;
    Effect descriptor_;
    std::map<std::string, std::unique_ptr<Effect>> contextDescriptors_;
    std::vector<std::unique_ptr<Effect>> instances_;
};

/// The single host the suites talk to (the suites are plain C functions without a user pointer).
Host* CurrentHost();

}  // namespace ofxhost
