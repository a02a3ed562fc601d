// platform.cpp - see platform.h. POSIX (Linux, macOS) is built and tested; the Windows branch follows the same
// steps with the Win32 calls and is not built in CI.
#include "platform.h"

#include <cstdlib>
#include <cstring>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dlfcn.h>
#include <sys/stat.h>
#endif

namespace sfofx {

#if defined(_WIN32)

static std::wstring Widen(const std::string& s)
{
    if (s.empty()) return std::wstring();
    int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), (int)s.size(), nullptr, 0);
    std::wstring w((size_t)n, L'\0');
    MultiByteToWideChar(CP_UTF8, 0, s.data(), (int)s.size(), &w[0], n);
    return w;
}

static std::string Narrow(const std::wstring& w)
{
    if (w.empty()) return std::string();
    int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), nullptr, 0, nullptr, nullptr);
    std::string s((size_t)n, '\0');
    WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), &s[0], n, nullptr, nullptr);
    return s;
}

std::string ThisModulePath()
{
    HMODULE module = nullptr;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            reinterpret_cast<LPCWSTR>(&ThisModulePath), &module))
        return std::string();
    std::wstring buffer(32768, L'\0');
    DWORD n = GetModuleFileNameW(module, &buffer[0], (DWORD)buffer.size());
    if (n == 0 || n >= buffer.size()) return std::string();
    buffer.resize(n);
    return Narrow(buffer);
}

std::string DirName(const std::string& path)
{
    size_t cut = path.find_last_of("\\/");
    return cut == std::string::npos ? std::string() : path.substr(0, cut);
}

std::string JoinPath(const std::string& a, const std::string& b) { return a.empty() ? b : a + "\\" + b; }

bool PathExists(const std::string& path) { return GetFileAttributesW(Widen(path).c_str()) != INVALID_FILE_ATTRIBUTES; }

void* LoadLibraryAt(const std::string& path, std::string* error)
{
    // LOAD_WITH_ALTERED_SEARCH_PATH lets the engine's own dependencies resolve from its folder.
    HMODULE h = LoadLibraryExW(Widen(path).c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
    if (!h && error) *error = "LoadLibrary failed with error " + std::to_string(GetLastError()) + " for " + path;
    return reinterpret_cast<void*>(h);
}

void* FindSymbol(void* library, const char* name)
{
    return reinterpret_cast<void*>(GetProcAddress(reinterpret_cast<HMODULE>(library), name));
}

void SetEnv(const char* name, const std::string& value)
{
    SetEnvironmentVariableW(Widen(name).c_str(), Widen(value).c_str());
}

std::string GetEnv(const char* name)
{
    std::wstring buffer(32768, L'\0');
    DWORD n = GetEnvironmentVariableW(Widen(name).c_str(), &buffer[0], (DWORD)buffer.size());
    if (n == 0 || n >= buffer.size()) return std::string();
    buffer.resize(n);
    return Narrow(buffer);
}

char PathListSeparator() { return ';'; }
const char* EngineLibraryName() { return "stylefilter.dll"; }
const char* OnnxRuntimeLibraryName() { return "onnxruntime.dll"; }
const char* BundleArchDir() { return "Win64"; }

#else  // POSIX

std::string ThisModulePath()
{
    Dl_info info;
    std::memset(&info, 0, sizeof info);
    if (dladdr(reinterpret_cast<void*>(&ThisModulePath), &info) == 0 || info.dli_fname == nullptr) return std::string();
    std::string path = info.dli_fname;
    if (char* real = realpath(path.c_str(), nullptr)) {
        path = real;
        std::free(real);
    }
    return path;
}

std::string DirName(const std::string& path)
{
    size_t cut = path.find_last_of('/');
    if (cut == std::string::npos) return std::string();
    return cut == 0 ? std::string("/") : path.substr(0, cut);
}

std::string JoinPath(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

bool PathExists(const std::string& path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

void* LoadLibraryAt(const std::string& path, std::string* error)
{
    // RTLD_LOCAL: the engine's symbols stay private to us (a host may load other copies of ONNX Runtime).
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h && error) {
        const char* why = dlerror();
        *error = why ? why : ("dlopen failed for " + path);
    }
    return h;
}

void* FindSymbol(void* library, const char* name) { return dlsym(library, name); }

void SetEnv(const char* name, const std::string& value) { setenv(name, value.c_str(), 1); }

std::string GetEnv(const char* name)
{
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

char PathListSeparator() { return ':'; }

#if defined(__APPLE__)
const char* EngineLibraryName() { return "stylefilter.dylib"; }
const char* OnnxRuntimeLibraryName() { return "libonnxruntime.dylib"; }
const char* BundleArchDir() { return "MacOS"; }
#else
const char* EngineLibraryName() { return "stylefilter.so"; }
const char* OnnxRuntimeLibraryName() { return "libonnxruntime.so"; }
const char* BundleArchDir() { return "Linux-x86-64"; }
#endif

#endif

}  // namespace sfofx
