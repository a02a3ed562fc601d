/*
 * engine_shim.c - stands in front of the real engine in a copy of the bundle: built as stylefilter.so next to the
 * real engine renamed stylefilter_real.so, it forwards every call the OFX plugin makes to it.
 *
 * It counts the frames the plugin runs through the engine (sf_engine_process_cpu) and its history resets, for the
 * tests of the history cache; the test host reads them with sftest_engine_calls.
 *
 * Built with -DSHIM_OLD_ENGINE it stands for an engine built before the style mix calls and sf_get_style_info were
 * added to ABI 1: sf_engine_get_style_mix_count, sf_engine_set_style_mix, sf_engine_get_style_mix_name and
 * sf_get_style_info are missing, and sf_engine_set_param refuses SF_PARAM_NETWORK_TIER (added later still).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
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
            fprintf(stderr, "engine_shim: %s\n", dlerror());
            return NULL;
        }
    }
    return dlsym(lib, name);
}

#define REAL(name)                                      \
    static __typeof__(&name) fn;                        \
    if (!fn) fn = (__typeof__(&name))Real(#name);       \
    if (!fn) {                                          \
        fprintf(stderr, "engine_shim: no " #name "\n"); \
        abort();                                        \
    }

#define FORWARD(ret, name, params, args) \
    ret name params                      \
    {                                    \
        REAL(name)                       \
        return fn args;                  \
    }

static uint64_t g_process_calls, g_reset_calls;

/* Calls so far: frames run (sf_engine_process_cpu) and history resets, on every engine of the process. */
__attribute__((visibility("default"))) void sftest_engine_calls(uint64_t* process, uint64_t* resets)
{
    *process = __atomic_load_n(&g_process_calls, __ATOMIC_SEQ_CST);
    *resets = __atomic_load_n(&g_reset_calls, __ATOMIC_SEQ_CST);
}

sf_status sf_engine_process_cpu(sf_engine* engine, const sf_frame* in, const sf_frame* out)
{
    REAL(sf_engine_process_cpu)
    __atomic_add_fetch(&g_process_calls, 1, __ATOMIC_SEQ_CST);
    return fn(engine, in, out);
}

sf_status sf_engine_reset_history(sf_engine* engine)
{
    REAL(sf_engine_reset_history)
    __atomic_add_fetch(&g_reset_calls, 1, __ATOMIC_SEQ_CST);
    return fn(engine);
}

FORWARD(uint32_t, sf_abi_version, (void), ())
FORWARD(const char*, sf_last_error, (void), ())
FORWARD(sf_status, sf_engine_create, (const sf_engine_options* options, sf_engine** out), (options, out))
FORWARD(sf_status, sf_engine_destroy, (sf_engine * engine), (engine))
FORWARD(sf_status, sf_engine_load_style, (sf_engine * engine, const char* name), (engine, name))
sf_status sf_engine_set_param(sf_engine* engine, int32_t param, double value)
{
    REAL(sf_engine_set_param)
#ifdef SHIM_OLD_ENGINE
    if (param == SF_PARAM_NETWORK_TIER) return SF_ERR_INVALID_ARGUMENT; /* an unknown id to that engine */
#endif
    return fn(engine, param, value);
}
FORWARD(sf_status, sf_list_styles, (char* buffer, size_t size, size_t* needed), (buffer, size, needed))

#ifndef SHIM_OLD_ENGINE
FORWARD(sf_status, sf_engine_get_style_mix_count, (sf_engine * engine, int32_t* count), (engine, count))
FORWARD(sf_status, sf_engine_set_style_mix, (sf_engine * engine, const float* weights, int32_t count),
        (engine, weights, count))
FORWARD(sf_status, sf_engine_get_style_mix_name, (sf_engine * engine, int32_t index, char* buffer, size_t size),
        (engine, index, buffer, size))
FORWARD(sf_status, sf_get_style_info, (const char* name_or_path, sf_style_info* out), (name_or_path, out))
#endif
