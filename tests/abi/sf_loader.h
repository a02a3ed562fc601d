/*
 * sf_loader.h - the ABI test programs' one way to load the engine: dlopen the library named on the command line
 * and resolve every function of stylefilter.h with dlsym (which also proves each one is exported). After
 * sf_load() succeeds, the API names below call through the resolved pointers, so the tests read like a host's
 * code. Header-only: each test program includes it once.
 */
#ifndef SF_LOADER_H
#define SF_LOADER_H

#include "stylefilter.h"
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Every function of stylefilter.h, as an X-macro list (kept out of clang-format, which would stair-step it). */
// clang-format off
#define SF_FUNCTIONS(X) \
    X(sf_abi_version) X(sf_last_error) X(sf_set_log_callback) X(sf_engine_create) X(sf_engine_destroy) \
    X(sf_engine_load_style) X(sf_engine_set_param) X(sf_engine_get_param) X(sf_engine_process_cpu) \
    X(sf_engine_process_texture) X(sf_engine_reset_history) X(sf_engine_get_stats) X(sf_list_styles) \
    X(sf_engine_get_style_name) X(sf_engine_get_style_mix_count) X(sf_engine_set_style_mix) \
    X(sf_engine_get_style_mix_name) X(sf_get_style_info) X(sf_device_status)
// clang-format on

#define SF_DECLARE_POINTER(name) static __typeof__(&name) p_##name;
SF_FUNCTIONS(SF_DECLARE_POINTER)
#undef SF_DECLARE_POINTER

/* Number of functions in SF_FUNCTIONS. */
#define SF_COUNT_ONE(name) +1
enum { SF_FUNCTION_COUNT = 0 SF_FUNCTIONS(SF_COUNT_ONE) };
#undef SF_COUNT_ONE

/* Loads the library and resolves every export. Returns 1 on success; 0 with what failed in err (dlopen's error,
 * or the missing exports, comma-separated). */
static int sf_load(const char* path, char* err, size_t size)
{
    err[0] = 0;
    void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, size, "dlopen(%s): %s", path, dlerror());
        return 0;
    }
    int missing = 0;
#define SF_RESOLVE(name)                                                                                    \
    {                                                                                                       \
        void* sym = dlsym(lib, #name);                                                                      \
        memcpy(&p_##name, &sym, sizeof sym); /* object to function pointer, without a cast ISO C forbids */ \
        if (!sym) {                                                                                         \
            size_t used = strlen(err);                                                                      \
            snprintf(err + used, size - used, "%sdlsym(%s) missing", missing++ ? ", " : "", #name);         \
        }                                                                                                   \
    }
    SF_FUNCTIONS(SF_RESOLVE)
#undef SF_RESOLVE
    return missing == 0;
}

#define sf_abi_version (*p_sf_abi_version)
#define sf_last_error (*p_sf_last_error)
#define sf_set_log_callback (*p_sf_set_log_callback)
#define sf_engine_create (*p_sf_engine_create)
#define sf_engine_destroy (*p_sf_engine_destroy)
#define sf_engine_load_style (*p_sf_engine_load_style)
#define sf_engine_set_param (*p_sf_engine_set_param)
#define sf_engine_get_param (*p_sf_engine_get_param)
#define sf_engine_process_cpu (*p_sf_engine_process_cpu)
#define sf_engine_process_texture (*p_sf_engine_process_texture)
#define sf_engine_reset_history (*p_sf_engine_reset_history)
#define sf_engine_get_stats (*p_sf_engine_get_stats)
#define sf_list_styles (*p_sf_list_styles)
#define sf_engine_get_style_name (*p_sf_engine_get_style_name)
#define sf_engine_get_style_mix_count (*p_sf_engine_get_style_mix_count)
#define sf_engine_set_style_mix (*p_sf_engine_set_style_mix)
#define sf_engine_get_style_mix_name (*p_sf_engine_get_style_mix_name)
#define sf_get_style_info (*p_sf_get_style_info)
#define sf_device_status (*p_sf_device_status)

#endif /* SF_LOADER_H */
