/*
 * gpu_device_bench.c - one measurement of the engine on a GPU machine that has no .NET: the NativeAOT library
 * (out/native/stylefilter.so, with ONNX Runtime's GPU natives beside it) driven through stylefilter.h, as a host
 * would. For build/gpu_device_unpack.sh, which builds and runs it; docs/gpu.md has the recipe.
 *
 *   gpu_device_bench LIBRARY STYLE WIDTH HEIGHT FRAMES [DEVICE...]
 *
 * For each device (auto, cpu, cuda, tensorrt; default: cuda and cpu): sf_device_status with its reason, then an
 * engine on that device renders 5 warm-up frames and FRAMES timed ones of a moving test pattern and prints the
 * provider that ran them, the style's load time, the first frame's time and the timed frames' p50 and p99, with
 * the engine's log (provider choice, fallbacks) above.
 * Exits non-zero when the engine cannot be loaded or a frame fails.
 */
#include "stylefilter.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// clang-format off
#define SF_USED(X) \
    X(sf_last_error) X(sf_set_log_callback) X(sf_engine_create) X(sf_engine_destroy) X(sf_engine_load_style) \
    X(sf_engine_process_cpu) X(sf_engine_get_stats) X(sf_device_status)
// clang-format on
#define SF_POINTER(name) static __typeof__(&name) p_##name;
SF_USED(SF_POINTER)

static const char* const DEVICE_NAMES[] = {"auto", "cpu", "cuda", "tensorrt"};

static void print_log(void* user, int32_t level, const char* message)
{
    (void)user;
    printf("  [log %d] %s\n", level, message);
}

static int device_of(const char* name)
{
    for (int d = 0; d < 4; d++)
        if (strcmp(name, DEVICE_NAMES[d]) == 0) return d;
    return -1;
}

static void fill(uint8_t* pixels, int width, int height, int frame)
{
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            uint8_t* p = pixels + ((size_t)y * width + x) * 4;
            p[0] = (uint8_t)(x + frame * 3);
            p[1] = (uint8_t)(y + frame);
            p[2] = (uint8_t)((x ^ y) + frame * 2);
            p[3] = 255;
        }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static int bench(const char* style, int device, int width, int height, int frames, uint8_t* in, uint8_t* out)
{
    enum { WARM_UP = 5 }; /* not timed: TensorRT builds its engine, CUDA loads its kernels */
    char reason[512];
    sf_status st = p_sf_device_status(device, reason, sizeof reason);
    printf("== %s: sf_device_status %d%s%s\n", DEVICE_NAMES[device], st, reason[0] ? ", " : "", reason);

    sf_engine_options options = {sizeof options, NULL, 0, device};
    sf_engine* engine = NULL;
    double started = now_ms();
    if (p_sf_engine_create(&options, &engine) != SF_OK || p_sf_engine_load_style(engine, style) != SF_OK) {
        printf("FAIL: %s: %s\n", DEVICE_NAMES[device], p_sf_last_error());
        if (engine) p_sf_engine_destroy(engine);
        return 1;
    }
    double load_ms = now_ms() - started;
    sf_frame src = {in, width, height, width * 4, SF_FORMAT_RGBA8};
    sf_frame dst = {out, width, height, width * 4, SF_FORMAT_RGBA8};
    double* ms = calloc((size_t)frames, sizeof *ms);
    double first_ms = 0;
    int failed = ms == NULL;
    for (int i = 0; i < WARM_UP + frames && !failed; i++) {
        fill(in, width, height, i);
        double t0 = now_ms();
        if (p_sf_engine_process_cpu(engine, &src, &dst) != SF_OK) {
            printf("FAIL: %s frame %d: %s\n", DEVICE_NAMES[device], i, p_sf_last_error());
            failed = 1;
        }
        double t = now_ms() - t0;
        if (i == 0) first_ms = t;
        if (i >= WARM_UP) ms[i - WARM_UP] = t;
    }
    sf_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    p_sf_engine_get_stats(engine, &stats);
    if (!failed) {
        qsort(ms, (size_t)frames, sizeof *ms, by_value);
        printf(
            "RESULT device=%s provider=%s size=%dx%d load_ms=%.0f first_frame_ms=%.1f timed_frames=%d p50_ms=%.2f p99_ms=%.2f "
            "pass_through=%llu\n",
            DEVICE_NAMES[device], stats.provider, width, height, load_ms, first_ms, frames, ms[frames / 2],
            ms[(frames * 99) / 100], (unsigned long long)stats.pass_through_frames);
    }
    free(ms);
    p_sf_engine_destroy(engine);
    return failed || stats.pass_through_frames != 0;
}

int main(int argc, char** argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s LIBRARY STYLE WIDTH HEIGHT FRAMES [auto|cpu|cuda|tensorrt ...]\n", argv[0]);
        return 2;
    }
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("FAIL: dlopen(%s): %s\n", argv[1], dlerror());
        return 1;
    }
#define SF_RESOLVE(name)                                      \
    if (!(p_##name = (__typeof__(&name))dlsym(lib, #name))) { \
        printf("FAIL: %s is not exported\n", #name);          \
        return 1;                                             \
    }
    SF_USED(SF_RESOLVE)
    int width = atoi(argv[3]), height = atoi(argv[4]), frames = atoi(argv[5]);
    if (width <= 0 || height <= 0 || frames <= 0) {
        fprintf(stderr, "WIDTH, HEIGHT and FRAMES must be positive\n");
        return 2;
    }
    p_sf_set_log_callback(print_log, NULL, SF_LOG_INFO);
    uint8_t* in = malloc((size_t)width * height * 4);
    uint8_t* out = malloc((size_t)width * height * 4);
    if (!in || !out) return 1;

    const char* defaults[] = {"cuda", "cpu"};
    int count = argc > 6 ? argc - 6 : 2;
    int failed = 0;
    for (int i = 0; i < count; i++) {
        const char* name = argc > 6 ? argv[6 + i] : defaults[i];
        int device = device_of(name);
        if (device < 0) {
            fprintf(stderr, "unknown device '%s'\n", name);
            return 2;
        }
        failed |= bench(argv[2], device, width, height, frames, in, out);
    }
    free(in);
    free(out);
    return failed;
}
