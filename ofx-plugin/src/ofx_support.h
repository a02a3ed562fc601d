// ofx_support.h - host plumbing for the Neural Style effect, on the project's own OpenFX declarations
// (include/ofx_api.h): the host's suites, property and parameter helpers, messages, instance data and memory, the
// instance lock, images fetched from clips, scratch buffers and pixel operations. Nothing here knows about style
// transfer; the effect (neural_style.cpp) holds only effect logic.
//
// Errors from the host are mostly ignored on purpose: hosts may not know every optional property, and a helper that
// cannot read a value returns the caller's fallback.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "ofx_api.h"

namespace sfofx {

// ---- the host and its suites -------------------------------------------------------------------------------

extern const OfxPropertySuiteV1* g_prop;
extern const OfxImageEffectSuiteV1* g_effect;
extern const OfxParameterSuiteV1* g_param;
extern const OfxMemorySuiteV1* g_memory;       // optional
extern const OfxMultiThreadSuiteV1* g_thread;  // optional
extern const OfxMessageSuiteV1* g_message;     // optional; V1 layout, also the start of V2
extern const OfxMessageSuiteV2* g_messageV2;   // NULL when the host only has version 1

/// The plugin's setHost: remembers the host for FetchSuites.
void SetHost(OfxHost* host);

/// Fetches the suites (kOfxActionLoad). False, with a log line, when the host lacks the property, image effect or
/// parameter suite, without which the effect cannot work.
bool FetchSuites();

/// A line on stderr, "[StyleFilter.ofx] level: text".
void Log(const char* level, const std::string& text);

// ---- messages ----------------------------------------------------------------------------------------------

/// An error for the user: a persistent message on the effect when the host has message suite V2 (shown until
/// cleared), else a one-off message. effect may be NULL (a message not tied to an instance).
void PostErrorMessage(OfxImageEffectHandle effect, const std::string& text);

/// Clears the persistent message of an effect (message suite V2 only).
void ClearPersistentMessage(OfxImageEffectHandle effect);

// ---- properties --------------------------------------------------------------------------------------------

void SetString(OfxPropertySetHandle p, const char* name, const char* value, int index = 0);
void SetInt(OfxPropertySetHandle p, const char* name, int value, int index = 0);
void SetDouble(OfxPropertySetHandle p, const char* name, double value, int index = 0);
double GetDouble(OfxPropertySetHandle p, const char* name, double fallback, int index = 0);
/// "" when the property is missing.
std::string GetString(OfxPropertySetHandle p, const char* name, int index = 0);

// ---- parameters --------------------------------------------------------------------------------------------

/// Defines a parameter with its label, script name (= name) and hint; NULL when the host refuses it (for example a
/// type it does not support).
OfxPropertySetHandle DefineParam(OfxParamSetHandle set, const char* type, const char* name, const char* label,
                                 const char* hint);

/// The handle of a parameter of an instance; NULL when the instance has none by that name.
OfxParamHandle ParamHandle(OfxImageEffectHandle effect, const char* name);

// Values at a time; the fallback when the parameter is missing (NULL) or cannot be read.
double ParamDouble(OfxParamHandle p, OfxTime t, double fallback);  // also when the value is not finite
int ParamInt(OfxParamHandle p, OfxTime t, int fallback);
/// "" when missing or unreadable.
std::string ParamString(OfxParamHandle p, OfxTime t);

// ---- instance data and memory ------------------------------------------------------------------------------

/// The pointer stored in the effect's kOfxPropInstanceData, or NULL.
void* InstanceData(OfxImageEffectHandle effect);
void SetInstanceData(OfxImageEffectHandle effect, void* data);

/// Memory for an instance's own data: from the host's memory suite when it has one (*fromHost = true), else malloc.
void* AllocateInstanceMemory(OfxImageEffectHandle effect, size_t bytes, bool* fromHost);
void FreeInstanceMemory(void* memory, bool fromHost);

// ---- the instance lock -------------------------------------------------------------------------------------

/// A mutex for one instance: the host's (multi-thread suite) when it has one, else our own.
class InstanceMutex {
public:
    InstanceMutex();
    ~InstanceMutex();
    InstanceMutex(const InstanceMutex&) = delete;
    InstanceMutex& operator=(const InstanceMutex&) = delete;
    void Lock();
    void Unlock();

private:
    OfxMutexHandle host_ = nullptr;
    std::mutex own_;
};

class ScopedLock {
public:
    explicit ScopedLock(InstanceMutex& m) : m_(m) { m_.Lock(); }
    ~ScopedLock() { m_.Unlock(); }
    ScopedLock(const ScopedLock&) = delete;
    ScopedLock& operator=(const ScopedLock&) = delete;

private:
    InstanceMutex& m_;
};

// ---- images ------------------------------------------------------------------------------------------------

/// An image fetched from a clip; released when it goes out of scope.
class Image {
public:
    Image() = default;
    Image(const Image&) = delete;
    Image& operator=(const Image&) = delete;
    ~Image() { Release(); }

    OfxStatus Fetch(OfxImageClipHandle clip, OfxTime t);
    void Release();

    bool Valid() const { return data_ != nullptr && Width() > 0 && Height() > 0 && pixelBytes_ > 0; }
    const OfxRectI& Bounds() const { return bounds_; }
    int Width() const { return bounds_.x2 - bounds_.x1; }
    int Height() const { return bounds_.y2 - bounds_.y1; }
    int PixelBytes() const { return pixelBytes_; }
    const std::string& Depth() const { return depth_; }
    const std::string& Components() const { return components_; }
    bool Premultiplied() const { return premultiplied_; }
    /// Address of pixel (bounds.x1, y), y in pixel coordinates (rows go up from bounds.y1; rowBytes may be negative).
    uint8_t* Row(int y) const { return data_ + (ptrdiff_t)(y - bounds_.y1) * rowBytes_; }

private:
    OfxPropertySetHandle handle_ = nullptr;
    uint8_t* data_ = nullptr;
    OfxRectI bounds_{0, 0, 0, 0};
    int rowBytes_ = 0;
    int pixelBytes_ = 0;
    std::string depth_, components_;
    bool premultiplied_ = false;
};

/// Scratch memory for a frame, from the host's image memory pool when it has one.
class Scratch {
public:
    Scratch(OfxImageEffectHandle effect, size_t bytes);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    uint8_t* Data() const { return data_; }

private:
    OfxImageMemoryHandle handle_ = nullptr;
    uint8_t* data_ = nullptr;
    bool owned_ = false;
};

// ---- pixel operations --------------------------------------------------------------------------------------

/// Copies an image into a tightly packed, top-down buffer (the engine's layout; OFX rows go bottom-up).
void PackTopDown(const Image& img, uint8_t* dst);

/// Writes the render window of dst: pixels inside srcBounds come from rowAt(y) (the pixel (srcBounds.x1, y)),
/// the rest is transparent black.
template <typename RowAt>
void WriteWindow(const Image& dst, const OfxRectI& window, const OfxRectI& srcBounds, RowAt rowAt)
{
    const int px = dst.PixelBytes();
    const OfxRectI& db = dst.Bounds();
    const int x1 = std::max(window.x1, db.x1), x2 = std::min(window.x2, db.x2);
    const int y1 = std::max(window.y1, db.y1), y2 = std::min(window.y2, db.y2);
    if (x1 >= x2 || y1 >= y2) return;
    const int sx1 = std::max(x1, srcBounds.x1), sx2 = std::min(x2, srcBounds.x2);
    for (int y = y1; y < y2; ++y) {
        uint8_t* out = dst.Row(y) + (size_t)(x1 - db.x1) * px;
        if (y < srcBounds.y1 || y >= srcBounds.y2 || sx1 >= sx2) {
            std::memset(out, 0, (size_t)(x2 - x1) * px);
            continue;
        }
        if (sx1 > x1) std::memset(out, 0, (size_t)(sx1 - x1) * px);
        std::memcpy(out + (size_t)(sx1 - x1) * px, rowAt(y) + (size_t)(sx1 - srcBounds.x1) * px,
                    (size_t)(sx2 - sx1) * px);
        if (x2 > sx2) std::memset(out + (size_t)(sx2 - x1) * px, 0, (size_t)(x2 - sx2) * px);
    }
}

/// The render window of dst from src (same depth and components); outside src, transparent black.
void CopyWindow(const Image& src, const Image& dst, const OfxRectI& window);

/// A 64-bit fingerprint of an image: its pixels (the rows within its bounds, whatever the row bytes), size, depth,
/// components and premultiplication. Equal images give equal values; two images that differ in one 8-byte word always
/// give different values, and any other difference almost surely does.
uint64_t HashImage(const Image& img);

/// Premultiplied RGBA -> straight colour, in place (8-bit or float RGBA, tightly packed).
void Unpremultiply(uint8_t* data, size_t pixels, bool isFloat);
/// Straight RGBA -> premultiplied, in place.
void Premultiply(uint8_t* data, size_t pixels, bool isFloat);

}  // namespace sfofx
