// engine.cpp - see engine.h.
#include "engine.h"

#include <mutex>

#include "platform.h"

namespace sfofx {

std::string EngineApi::LastError() const
{
    const char* text = last_error ? last_error() : nullptr;
    return text ? std::string(text) : std::string();
}

BundlePaths FindBundlePaths()
{
    BundlePaths p;
    p.binary = ThisModulePath();
    p.binaryDir = DirName(p.binary);
    p.contents = DirName(p.binaryDir);
    p.models = JoinPath(JoinPath(p.contents, "Resources"), "models");
    p.engine = JoinPath(p.binaryDir, EngineLibraryName());
    p.ort = JoinPath(p.binaryDir, OnnxRuntimeLibraryName());
    return p;
}

namespace {

std::once_flag g_once;
EngineApi g_api;
bool g_loaded = false;
std::string g_error;

template <typename T>
bool Resolve(void* lib, const char* name, T* slot, std::string* missing)
{
    *slot = reinterpret_cast<T>(FindSymbol(lib, name));
    if (!*slot) *missing += (missing->empty() ? "" : ", ") + std::string(name);
    return *slot != nullptr;
}

void LoadOnce(const BundlePaths& paths)
{
    if (paths.binaryDir.empty()) {
        g_error = "cannot find the plugin's own folder (dladdr failed)";
        return;
    }
    // The engine reads STYLEFILTER_MODELS when it lists or resolves styles; set it before the engine starts so
    // that the bundle's models come first. Folders the user had listed stay searched after ours.
    if (PathExists(paths.models)) {
        std::string existing = GetEnv("STYLEFILTER_MODELS");
        std::string value = paths.models;
        if (!existing.empty() && existing != paths.models) value += PathListSeparator() + existing;
        SetEnv("STYLEFILTER_MODELS", value);
    }
    if (!PathExists(paths.engine)) {
        g_error = "engine library not found: " + paths.engine;
        return;
    }
    std::string why;
    void* lib = LoadLibraryAt(paths.engine, &why);
    if (!lib) {
        g_error = "cannot load the engine library: " + why;
        return;
    }
    std::string missing;
    EngineApi api;
    Resolve(lib, "sf_abi_version", &api.abi_version, &missing);
    Resolve(lib, "sf_last_error", &api.last_error, &missing);
    Resolve(lib, "sf_engine_create", &api.engine_create, &missing);
    Resolve(lib, "sf_engine_destroy", &api.engine_destroy, &missing);
    Resolve(lib, "sf_engine_load_style", &api.engine_load_style, &missing);
    Resolve(lib, "sf_engine_set_param", &api.engine_set_param, &missing);
    Resolve(lib, "sf_engine_process_cpu", &api.engine_process_cpu, &missing);
    Resolve(lib, "sf_engine_reset_history", &api.engine_reset_history, &missing);
    Resolve(lib, "sf_list_styles", &api.list_styles, &missing);
    if (!missing.empty()) {
        g_error = paths.engine + " lacks " + missing;
        return;
    }
    // Optional calls: an older engine without them still works, without the style mix (the plugin logs it).
    api.engine_get_style_mix_count =
        reinterpret_cast<decltype(api.engine_get_style_mix_count)>(FindSymbol(lib, "sf_engine_get_style_mix_count"));
    api.engine_set_style_mix =
        reinterpret_cast<decltype(api.engine_set_style_mix)>(FindSymbol(lib, "sf_engine_set_style_mix"));
    api.engine_get_style_mix_name =
        reinterpret_cast<decltype(api.engine_get_style_mix_name)>(FindSymbol(lib, "sf_engine_get_style_mix_name"));
    api.get_style_info = reinterpret_cast<decltype(api.get_style_info)>(FindSymbol(lib, "sf_get_style_info"));
    if (!api.HasStyleMix()) {
        api.engine_get_style_mix_count = nullptr;
        api.engine_set_style_mix = nullptr;
        api.engine_get_style_mix_name = nullptr;
    }
    uint32_t version = api.abi_version();
    if (version != SF_ABI_VERSION) {
        g_error = paths.engine + " has ABI version " + std::to_string(version) + ", the plugin was built for " +
                  std::to_string(SF_ABI_VERSION);
        return;
    }
    g_api = api;
    g_loaded = true;
}

}  // namespace

const EngineApi* LoadEngine(const BundlePaths& paths, std::string* error)
{
    std::call_once(g_once, [&] { LoadOnce(paths); });
    if (!g_loaded && error) *error = g_error;
    return g_loaded ? &g_api : nullptr;
}

std::vector<std::string> ListStyles(const EngineApi& api)
{
    std::vector<std::string> names;
    size_t needed = 0;
    if (api.list_styles(nullptr, 0, &needed) != SF_OK || needed == 0) return names;
    std::string buffer(needed, '\0');
    if (api.list_styles(&buffer[0], buffer.size(), &needed) != SF_OK) return names;
    buffer.resize(buffer.find('\0') == std::string::npos ? buffer.size() : buffer.find('\0'));
    size_t start = 0;
    while (start < buffer.size()) {
        size_t end = buffer.find('\n', start);
        if (end == std::string::npos) end = buffer.size();
        if (end > start) names.push_back(buffer.substr(start, end - start));
        start = end + 1;
    }
    return names;
}

std::string StyleTitle(const EngineApi& api, const std::string& id)
{
    sf_style_info info{};
    info.struct_size = sizeof info;
    if (api.get_style_info && api.get_style_info(id.c_str(), &info) == SF_OK && info.title[0]) return info.title;
    return id;
}

}  // namespace sfofx
