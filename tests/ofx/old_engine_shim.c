/*
 * old_engine_shim.c - stands in for an engine library built before the style mix calls and sf_get_style_info were
 * added to ABI 1.
 *
 * Built as stylefilter.so into a copy of the bundle, next to the real engine renamed stylefilter_real.so. It exports
 * only the calls the OFX plugin requires and forwards them to the real engine; sf_engine_get_style_mix_count,
 * sf_engine_set_style_mix, sf_engine_get_style_mix_name and sf_get_style_info are missing, as in an older engine.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stylefilter.h"

static void* Real(const char* name)
{
    static void* lib;
    if (!lib) {
        Dl_info info;
        char path[PATH_MAX];
        if (!dladdr((void*)&Real, &info) || !info.dli_fname) return NULL;
        snprintf(path, sizeof path, "%s", info.dli_fname);
        char* slash = strrchr(path, '/');
        if (!slash) return NULL;
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "stylefilter_real.so");
        lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            fprintf(stderr, "old_engine_shim: %s\n", dlerror());
            return NULL;
        }
    }
    return dlsym(lib, name);
}

#define FORWARD(ret, name, params, args)                   \
    ret name params                                        \
    {                                                      \
        static __typeof__(&name) fn;                       \
        if (!fn) fn = (__typeof__(&name))Real(#name);      \
        if (!fn) {                                         \
            fprintf(stderr, "old_engine_shim: no " #name "\n"); \
            abort();                                       \
        }                                                  \
        return fn args;                                    \
    }

FORWARD(uint32_t, sf_abi_version, (void), ())
FORWARD(const char*, sf_last_error, (void), ())
FORWARD(sf_status, sf_engine_create, (const sf_engine_options* options, sf_engine** out), (options, out))
FORWARD(sf_status, sf_engine_destroy, (sf_engine* engine), (engine))
FORWARD(sf_status, sf_engine_load_style, (sf_engine* engine, const char* name), (engine, name))
FORWARD(sf_status, sf_engine_set_param, (sf_engine* engine, int32_t param, double value), (engine, param, value))
FORWARD(sf_status, sf_engine_process_cpu, (sf_engine* engine, const sf_frame* in, const sf_frame* out), (engine, in, out))
FORWARD(sf_status, sf_engine_reset_history, (sf_engine* engine), (engine))
FORWARD(sf_status, sf_list_styles, (char* buffer, size_t size, size_t* needed), (buffer, size, needed))
