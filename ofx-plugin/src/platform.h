// platform.h - the few operating-system services the plugin needs: where its own binary lives, loading the
// engine library beside it and setting an environment variable before the engine starts.
#pragma once

#include <string>

namespace sfofx {

/// Full path of the binary that contains this function (StyleFilter.ofx), or "" when it cannot be found.
std::string ThisModulePath();

/// Directory part of a path ("" when there is none).
std::string DirName(const std::string& path);

/// Joins two path parts with the platform's separator.
std::string JoinPath(const std::string& a, const std::string& b);

bool PathExists(const std::string& path);

/// Loads a shared library by full path; NULL on failure with the reason in *error.
void* LoadLibraryAt(const std::string& path, std::string* error);

/// Looks up an exported symbol.
void* FindSymbol(void* library, const char* name);

/// Sets an environment variable of the process (UTF-8).
void SetEnv(const char* name, const std::string& value);

/// Reads an environment variable ("" when unset).
std::string GetEnv(const char* name);

/// Separator of path lists (':' on POSIX, ';' on Windows).
char PathListSeparator();

/// File name of the engine library: stylefilter.so / stylefilter.dll / stylefilter.dylib.
const char* EngineLibraryName();

/// File name of the ONNX Runtime library shipped beside it.
const char* OnnxRuntimeLibraryName();

/// Name of the bundle's binary folder for this platform (Linux-x86-64, Win64, MacOS).
const char* BundleArchDir();

}  // namespace sfofx
