// engine.h - the StyleFilter engine library (stylefilter.h), loaded at run time from beside the plugin binary.
#pragma once

#include <string>
#include <vector>

#include "stylefilter.h"

namespace sfofx {

/// The engine's C functions, resolved with dlsym from the library in the bundle. Types come from the
/// prototypes in stylefilter.h, so a signature change there is a compile error here.
struct EngineApi {
    decltype(&sf_abi_version) abi_version = nullptr;
    decltype(&sf_last_error) last_error = nullptr;
    decltype(&sf_engine_create) engine_create = nullptr;
    decltype(&sf_engine_destroy) engine_destroy = nullptr;
    decltype(&sf_engine_load_style) engine_load_style = nullptr;
    decltype(&sf_engine_set_param) engine_set_param = nullptr;
    decltype(&sf_engine_process_cpu) engine_process_cpu = nullptr;
    decltype(&sf_engine_reset_history) engine_reset_history = nullptr;
    decltype(&sf_list_styles) list_styles = nullptr;
    // Style mix (optional: NULL with an engine built before these calls were added to ABI 1). The mix needs both
    // the count and the set call; the names are only used for the parameter's hint.
    decltype(&sf_engine_get_style_mix_count) engine_get_style_mix_count = nullptr;
    decltype(&sf_engine_set_style_mix) engine_set_style_mix = nullptr;
    decltype(&sf_engine_get_style_mix_name) engine_get_style_mix_name = nullptr;
    // Optional too: without it the Style choice shows the styles' ids instead of their titles.
    decltype(&sf_get_style_info) get_style_info = nullptr;

    /// The engine can mix the styles of a multi-style model.
    bool HasStyleMix() const { return engine_get_style_mix_count && engine_set_style_mix; }

    /// The message of the last failed call on this thread ("" when unknown).
    std::string LastError() const;
};

/// Where the bundle's parts are, worked out from the plugin binary's own path.
struct BundlePaths {
    std::string binary;     // .../StyleFilter.ofx.bundle/Contents/Linux-x86-64/StyleFilter.ofx
    std::string binaryDir;  // .../Contents/Linux-x86-64
    std::string contents;   // .../Contents
    std::string models;     // .../Contents/Resources/models
    std::string engine;     // .../Contents/Linux-x86-64/stylefilter.so
    std::string ort;        // .../Contents/Linux-x86-64/libonnxruntime.so
};

BundlePaths FindBundlePaths();

/// Loads the engine once per process: points STYLEFILTER_MODELS at the bundle's models (keeping any folders the
/// user listed after it), then dlopens the engine library and checks its ABI version. Returns the API table or
/// NULL with the reason in *error. The library is never unloaded: a .NET runtime cannot be unloaded safely.
const EngineApi* LoadEngine(const BundlePaths& paths, std::string* error);

/// Ids of the bundled styles (sf_list_styles), sorted as the engine lists them.
std::vector<std::string> ListStyles(const EngineApi& api);

/// The title to show for bundled style `id` (sf_get_style_info); the id itself when the engine cannot tell.
std::string StyleTitle(const EngineApi& api, const std::string& id);

}  // namespace sfofx
