// ofx_support.cpp - see ofx_support.h.
#include "ofx_support.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sfofx {

// ---- the host and its suites -------------------------------------------------------------------------------

namespace {
OfxHost* g_host = nullptr;

template <typename T>
const T* FetchSuite(const char* name, int version)
{
    if (!g_host || !g_host->fetchSuite) return nullptr;
    return static_cast<const T*>(g_host->fetchSuite(g_host->host, name, version));
}
}  // namespace

const OfxPropertySuiteV1* g_prop = nullptr;
const OfxImageEffectSuiteV1* g_effect = nullptr;
const OfxParameterSuiteV1* g_param = nullptr;
const OfxMemorySuiteV1* g_memory = nullptr;
const OfxMultiThreadSuiteV1* g_thread = nullptr;
const OfxMessageSuiteV1* g_message = nullptr;
const OfxMessageSuiteV2* g_messageV2 = nullptr;

void SetHost(OfxHost* host) { g_host = host; }

bool FetchSuites()
{
    g_prop = FetchSuite<OfxPropertySuiteV1>(kOfxPropertySuite, 1);
    g_effect = FetchSuite<OfxImageEffectSuiteV1>(kOfxImageEffectSuite, 1);
    g_param = FetchSuite<OfxParameterSuiteV1>(kOfxParameterSuite, 1);
    g_memory = FetchSuite<OfxMemorySuiteV1>(kOfxMemorySuite, 1);
    g_thread = FetchSuite<OfxMultiThreadSuiteV1>(kOfxMultiThreadSuite, 1);
    g_messageV2 = FetchSuite<OfxMessageSuiteV2>(kOfxMessageSuite, 2);
    g_message = g_messageV2 ? reinterpret_cast<const OfxMessageSuiteV1*>(g_messageV2)
                            : FetchSuite<OfxMessageSuiteV1>(kOfxMessageSuite, 1);
    if (!g_prop || !g_effect || !g_param) {
        Log("error", "the host lacks the property, image effect or parameter suite");
        return false;
    }
    return true;
}

void Log(const char* level, const std::string& text)
{
    std::fprintf(stderr, "[StyleFilter.ofx] %s: %s\n", level, text.c_str());
}

// ---- messages ----------------------------------------------------------------------------------------------

void PostErrorMessage(OfxImageEffectHandle effect, const std::string& text)
{
    void* handle = effect;
    if (g_messageV2 && g_messageV2->setPersistentMessage && handle) {
        g_messageV2->setPersistentMessage(handle, kOfxMessageError, "StyleFilter.Error", "%s", text.c_str());
    } else if (g_message && g_message->message) {
        g_message->message(handle, kOfxMessageError, "StyleFilter.Error", "%s", text.c_str());
    }
}

void ClearPersistentMessage(OfxImageEffectHandle effect)
{
    if (g_messageV2 && g_messageV2->clearPersistentMessage) g_messageV2->clearPersistentMessage(effect);
}

// ---- properties --------------------------------------------------------------------------------------------

void SetString(OfxPropertySetHandle p, const char* name, const char* value, int index)
{
    g_prop->propSetString(p, name, index, value);
}
void SetInt(OfxPropertySetHandle p, const char* name, int value, int index)
{
    g_prop->propSetInt(p, name, index, value);
}
void SetDouble(OfxPropertySetHandle p, const char* name, double value, int index)
{
    g_prop->propSetDouble(p, name, index, value);
}

double GetDouble(OfxPropertySetHandle p, const char* name, double fallback, int index)
{
    double v = fallback;
    if (!p || g_prop->propGetDouble(p, name, index, &v) != kOfxStatOK) return fallback;
    return v;
}

std::string GetString(OfxPropertySetHandle p, const char* name, int index)
{
    char* v = nullptr;
    if (!p || g_prop->propGetString(p, name, index, &v) != kOfxStatOK || !v) return std::string();
    return std::string(v);
}

// ---- parameters --------------------------------------------------------------------------------------------

OfxPropertySetHandle DefineParam(OfxParamSetHandle set, const char* type, const char* name, const char* label,
                                 const char* hint)
{
    OfxPropertySetHandle p = nullptr;
    if (g_param->paramDefine(set, type, name, &p) != kOfxStatOK || !p) return nullptr;
    SetString(p, kOfxPropLabel, label);
    SetString(p, kOfxParamPropScriptName, name);
    SetString(p, kOfxParamPropHint, hint);
    return p;
}

OfxParamHandle ParamHandle(OfxImageEffectHandle effect, const char* name)
{
    OfxParamSetHandle params = nullptr;
    OfxParamHandle p = nullptr;
    if (g_effect->getParamSet(effect, &params) != kOfxStatOK || !params) return nullptr;
    if (g_param->paramGetHandle(params, name, &p, nullptr) != kOfxStatOK) return nullptr;
    return p;
}

double ParamDouble(OfxParamHandle p, OfxTime t, double fallback)
{
    double v = fallback;
    if (!p || g_param->paramGetValueAtTime(p, t, &v) != kOfxStatOK || !std::isfinite(v)) return fallback;
    return v;
}

int ParamInt(OfxParamHandle p, OfxTime t, int fallback)
{
    int v = fallback;
    if (!p || g_param->paramGetValueAtTime(p, t, &v) != kOfxStatOK) return fallback;
    return v;
}

std::string ParamString(OfxParamHandle p, OfxTime t)
{
    char* v = nullptr;
    if (!p || g_param->paramGetValueAtTime(p, t, &v) != kOfxStatOK || !v) return std::string();
    return std::string(v);
}

// ---- instance data and memory ------------------------------------------------------------------------------

void* InstanceData(OfxImageEffectHandle effect)
{
    OfxPropertySetHandle props = nullptr;
    if (g_effect->getPropertySet(effect, &props) != kOfxStatOK) return nullptr;
    void* data = nullptr;
    if (g_prop->propGetPointer(props, kOfxPropInstanceData, 0, &data) != kOfxStatOK) return nullptr;
    return data;
}

void SetInstanceData(OfxImageEffectHandle effect, void* data)
{
    OfxPropertySetHandle props = nullptr;
    if (g_effect->getPropertySet(effect, &props) == kOfxStatOK)
        g_prop->propSetPointer(props, kOfxPropInstanceData, 0, data);
}

void* AllocateInstanceMemory(OfxImageEffectHandle effect, size_t bytes, bool* fromHost)
{
    void* memory = nullptr;
    if (g_memory && g_memory->memoryAlloc(effect, bytes, &memory) != kOfxStatOK) memory = nullptr;
    *fromHost = memory != nullptr;
    if (!memory) memory = std::malloc(bytes);
    return memory;
}

void FreeInstanceMemory(void* memory, bool fromHost)
{
    if (fromHost)
        g_memory->memoryFree(memory);
    else
        std::free(memory);
}

// ---- the instance lock -------------------------------------------------------------------------------------

InstanceMutex::InstanceMutex()
{
    if (g_thread && g_thread->mutexCreate && g_thread->mutexCreate(&host_, 0) != kOfxStatOK) host_ = nullptr;
}

InstanceMutex::~InstanceMutex()
{
    if (host_) g_thread->mutexDestroy(host_);
}

void InstanceMutex::Lock()
{
    if (host_)
        g_thread->mutexLock(host_);
    else
        own_.lock();
}

void InstanceMutex::Unlock()
{
    if (host_)
        g_thread->mutexUnLock(host_);
    else
        own_.unlock();
}

// ---- images ------------------------------------------------------------------------------------------------

namespace {

int BytesPerComponent(const std::string& depth)
{
    if (depth == kOfxBitDepthByte) return 1;
    if (depth == kOfxBitDepthShort || depth == kOfxBitDepthHalf) return 2;
    if (depth == kOfxBitDepthFloat) return 4;
    return 0;
}

int ComponentCount(const std::string& components)
{
    if (components == kOfxImageComponentRGBA) return 4;
    if (components == kOfxImageComponentRGB) return 3;
    if (components == kOfxImageComponentAlpha) return 1;
    return 0;
}

}  // namespace

OfxStatus Image::Fetch(OfxImageClipHandle clip, OfxTime t)
{
    Release();
    OfxStatus st = g_effect->clipGetImage(clip, t, nullptr, &handle_);
    if (st != kOfxStatOK || !handle_) {
        handle_ = nullptr;
        return st == kOfxStatOK ? kOfxStatFailed : st;
    }
    void* data = nullptr;
    g_prop->propGetPointer(handle_, kOfxImagePropData, 0, &data);
    data_ = static_cast<uint8_t*>(data);
    g_prop->propGetIntN(handle_, kOfxImagePropBounds, 4, &bounds_.x1);
    g_prop->propGetInt(handle_, kOfxImagePropRowBytes, 0, &rowBytes_);
    depth_ = GetString(handle_, kOfxImageEffectPropPixelDepth);
    components_ = GetString(handle_, kOfxImageEffectPropComponents);
    premultiplied_ = GetString(handle_, kOfxImageEffectPropPreMultiplication) == kOfxImagePreMultiplied;
    pixelBytes_ = BytesPerComponent(depth_) * ComponentCount(components_);
    return data_ ? kOfxStatOK : kOfxStatFailed;
}

void Image::Release()
{
    if (handle_) g_effect->clipReleaseImage(handle_);
    handle_ = nullptr;
    data_ = nullptr;
}

Scratch::Scratch(OfxImageEffectHandle effect, size_t bytes)
{
    if (g_effect->imageMemoryAlloc && g_effect->imageMemoryAlloc(effect, bytes, &handle_) == kOfxStatOK && handle_) {
        void* p = nullptr;
        if (g_effect->imageMemoryLock(handle_, &p) == kOfxStatOK && p) {
            data_ = static_cast<uint8_t*>(p);
            return;
        }
        g_effect->imageMemoryFree(handle_);
        handle_ = nullptr;
    }
    data_ = static_cast<uint8_t*>(std::malloc(bytes));
    owned_ = data_ != nullptr;
}

Scratch::~Scratch()
{
    if (handle_) {
        g_effect->imageMemoryUnlock(handle_);
        g_effect->imageMemoryFree(handle_);
    } else if (owned_) {
        std::free(data_);
    }
}

// ---- pixel operations --------------------------------------------------------------------------------------

void PackTopDown(const Image& img, uint8_t* dst)
{
    const size_t rowBytes = (size_t)img.Width() * (size_t)img.PixelBytes();
    for (int r = 0; r < img.Height(); ++r)
        std::memcpy(dst + (size_t)r * rowBytes, img.Row(img.Bounds().y2 - 1 - r), rowBytes);
}

void CopyWindow(const Image& src, const Image& dst, const OfxRectI& window)
{
    WriteWindow(dst, window, src.Bounds(), [&](int y) { return src.Row(y); });
}

namespace {

// Each step of the hash is a bijection of its lane for a given word, and of the word for a given lane, so one differing
// word always changes the result. Four independent lanes keep the multiplier busy (several GB/s).
constexpr uint64_t kHashMulA = 0x9E3779B97F4A7C15ull, kHashMulB = 0xC2B2AE3D27D4EB4Full;

inline uint64_t HashStep(uint64_t lane, uint64_t word)
{
    lane ^= word * kHashMulB;
    lane = (lane << 31) | (lane >> 33);
    return lane * kHashMulA;
}

inline uint64_t LoadWord(const uint8_t* p)
{
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

class Hasher {
public:
    void Add(const uint8_t* p, size_t n)
    {
        size_t i = 0;
        for (; i + 32 <= n; i += 32)
            for (int l = 0; l < 4; ++l) lane_[l] = HashStep(lane_[l], LoadWord(p + i + 8 * l));
        for (; i + 8 <= n; i += 8) lane_[0] = HashStep(lane_[0], LoadWord(p + i));
        if (i < n) {
            uint64_t tail = 0;
            std::memcpy(&tail, p + i, n - i);
            lane_[1] = HashStep(lane_[1], tail ^ ((uint64_t)(n - i) << 56));
        }
        bytes_ += n;
    }
    void Add(const std::string& s) { Add(reinterpret_cast<const uint8_t*>(s.data()), s.size() + 1); }
    uint64_t Finish() const
    {
        uint64_t h = HashStep(0x5354594C4546494Cull, bytes_);
        for (uint64_t l : lane_) h = HashStep(h, l);
        return h;
    }

private:
    uint64_t lane_[4] = {1, 2, 3, 4};
    uint64_t bytes_ = 0;
};

}  // namespace

uint64_t HashImage(const Image& img)
{
    Hasher h;
    const int32_t header[5] = {img.Width(), img.Height(), img.PixelBytes(), img.Premultiplied() ? 1 : 0, 0};
    h.Add(reinterpret_cast<const uint8_t*>(header), sizeof header);
    h.Add(img.Depth());
    h.Add(img.Components());
    const size_t rowBytes = (size_t)img.Width() * (size_t)img.PixelBytes();
    for (int y = img.Bounds().y1; y < img.Bounds().y2; ++y) h.Add(img.Row(y), rowBytes);
    return h.Finish();
}

// The network stylises colours and the engine passes alpha through, so premultiplied edges are divided out first
// and multiplied back afterwards (8-bit: rounded to nearest).
void Unpremultiply(uint8_t* data, size_t pixels, bool isFloat)
{
    if (isFloat) {
        float* p = reinterpret_cast<float*>(data);
        for (size_t i = 0; i < pixels; ++i, p += 4)
            if (p[3] > 0 && p[3] != 1)
                for (int c = 0; c < 3; ++c) p[c] /= p[3];
        return;
    }
    for (size_t i = 0; i < pixels; ++i, data += 4) {
        const unsigned a = data[3];
        if (a == 0 || a == 255) continue;
        for (int c = 0; c < 3; ++c) data[c] = (uint8_t)std::min(255u, (data[c] * 255u + a / 2) / a);
    }
}

void Premultiply(uint8_t* data, size_t pixels, bool isFloat)
{
    if (isFloat) {
        float* p = reinterpret_cast<float*>(data);
        for (size_t i = 0; i < pixels; ++i, p += 4)
            if (p[3] != 1)
                for (int c = 0; c < 3; ++c) p[c] *= p[3];
        return;
    }
    for (size_t i = 0; i < pixels; ++i, data += 4) {
        const unsigned a = data[3];
        if (a == 255) continue;
        for (int c = 0; c < 3; ++c) data[c] = (uint8_t)((data[c] * a + 127u) / 255u);
    }
}

}  // namespace sfofx
