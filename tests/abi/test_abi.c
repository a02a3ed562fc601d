/*
 * test_abi.c - drives the NativeAOT engine library through the C contract in stylefilter.h.
 *
 *     test_abi PATH/stylefilter.so MODELS_DIR
 *
 * The library is loaded with dlopen and every function is resolved with dlsym (which also proves that each
 * export exists under its documented name); the function pointer types come from the header's own
 * prototypes, so a signature drift between header and test is a compile error. MODELS_DIR is the folder
 * written by build/make_models.py (zoo_dynamic.onnx, identity.onnx, corrupt.onnx, ...); it is also put in
 * STYLEFILTER_MODELS so that sf_list_styles has something to list.
 *
 * Every check prints one line; the exit code is the number of failed checks (0 = pass, capped at 255).
 */
#define _POSIX_C_SOURCE 200809L
#include "sf_loader.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- resolving the library ---------------------------------------------------------------------------- */

/* ---- checks ------------------------------------------------------------------------------------------- */

static int g_checks, g_failures;

static void check(int ok, const char* fmt, ...)
{
    va_list ap;
    g_checks++;
    if (!ok) g_failures++;
    printf("  %s  ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond, ...) check((cond) != 0, __VA_ARGS__)

static const char* status_name(int s)
{
    switch (s) {
    case SF_OK: return "SF_OK";
    case SF_ERR_INVALID_ARGUMENT: return "SF_ERR_INVALID_ARGUMENT";
    case SF_ERR_MODEL: return "SF_ERR_MODEL";
    case SF_ERR_RUNTIME: return "SF_ERR_RUNTIME";
    case SF_ERR_INVALID_HANDLE: return "SF_ERR_INVALID_HANDLE";
    case SF_ERR_NO_STYLE: return "SF_ERR_NO_STYLE";
    case SF_ERR_UNSUPPORTED: return "SF_ERR_UNSUPPORTED";
    case SF_ERR_INTERNAL: return "SF_ERR_INTERNAL";
    default: return "(unknown status)";
    }
}

/* Checks a status; on a mismatch prints what came back and sf_last_error. Returns 1 when it matched. */
static int expect_status(sf_status got, sf_status want, const char* what)
{
    int ok = got == want;
    if (ok)
        check(1, "%s -> %s", what, status_name(want));
    else
        check(0, "%s -> %s, want %s (last error: \"%s\")", what, status_name(got), status_name(want), sf_last_error());
    return ok;
}

/* A failing call must leave a readable message behind. */
static void expect_error(sf_status got, sf_status want, const char* what)
{
    if (expect_status(got, want, what)) {
        const char* msg = sf_last_error();
        CHECK(msg != NULL && strlen(msg) > 5, "  sf_last_error is a message: \"%s\"", msg ? msg : "(null)");
    }
}

/* ---- log callback ------------------------------------------------------------------------------------- */

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_log_count;
static int g_log_bad_level;
static int g_log_user_ok = 1;
static char g_log_all[1 << 16]; /* recent messages, newline separated (restarts when full) */
static int g_log_tag = 1234;

static void log_fn(void* user, int32_t level, const char* message)
{
    pthread_mutex_lock(&g_log_lock);
    g_log_count++;
    if (user != &g_log_tag) g_log_user_ok = 0;
    if (level < SF_LOG_ERROR || level > SF_LOG_DEBUG) g_log_bad_level++;
    size_t used = strlen(g_log_all), len = strlen(message);
    if (used + len + 2 >= sizeof g_log_all) used = 0; /* keep the most recent messages */
    if (used + len + 2 < sizeof g_log_all) {
        memcpy(g_log_all + used, message, len);
        g_log_all[used + len] = '\n';
        g_log_all[used + len + 1] = 0;
    }
    pthread_mutex_unlock(&g_log_lock);
}

static int log_count(void)
{
    pthread_mutex_lock(&g_log_lock);
    int n = g_log_count;
    pthread_mutex_unlock(&g_log_lock);
    return n;
}

static int log_contains(const char* text)
{
    pthread_mutex_lock(&g_log_lock);
    int found = strstr(g_log_all, text) != NULL;
    pthread_mutex_unlock(&g_log_lock);
    return found;
}

/* ---- images ------------------------------------------------------------------------------------------- */

enum { W = 64, H = 48 };

typedef struct image {
    unsigned char* mem;
    size_t bytes;
    sf_frame f;
} image;

static int bytes_per_pixel(int format) { return format == SF_FORMAT_RGBA32F ? 16 : 4; }

/* An image with `pad` bytes of row padding, every byte (padding included) set to `fill`. */
static image image_new(int format, int pad, unsigned char fill)
{
    image im;
    int stride = W * bytes_per_pixel(format) + pad;
    im.bytes = (size_t)stride * H;
    im.mem = malloc(im.bytes);
    if (!im.mem) {
        perror("malloc");
        exit(255);
    }
    memset(im.mem, fill, im.bytes);
    im.f.data = im.mem;
    im.f.width = W;
    im.f.height = H;
    im.f.stride = stride;
    im.f.format = format;
    return im;
}

static void image_free(image* im)
{
    free(im->mem);
    im->mem = NULL;
}

/* Channel c (0=R 1=G 2=B 3=A) of pixel (x,y) as 0..255 (floats scaled, not rounded). */
static double px(const image* im, int x, int y, int c)
{
    const unsigned char* row = im->mem + (size_t)y * im->f.stride;
    switch (im->f.format) {
    case SF_FORMAT_RGBA8: return row[x * 4 + c];
    case SF_FORMAT_BGRA8: return row[x * 4 + (c == 3 ? 3 : 2 - c)];
    default: {
        float v;
        memcpy(&v, row + x * 16 + c * 4, sizeof v);
        return v * 255.0;
    }
    }
}

static void set_px(image* im, int x, int y, int c, int value)
{
    unsigned char* row = im->mem + (size_t)y * im->f.stride;
    switch (im->f.format) {
    case SF_FORMAT_RGBA8: row[x * 4 + c] = (unsigned char)value; break;
    case SF_FORMAT_BGRA8: row[x * 4 + (c == 3 ? 3 : 2 - c)] = (unsigned char)value; break;
    default: {
        float v = (float)value / 255.0f;
        memcpy(row + x * 16 + c * 4, &v, sizeof v);
    }
    }
}

/* A deterministic test picture: gradients, a few shapes and noise; alpha varies so it can be tracked. */
static void paint(image* im, int seed)
{
    unsigned state = 12345u + (unsigned)seed * 7919u;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            state = state * 1103515245u + 12345u;
            int noise = (int)((state >> 16) % 41) - 20;
            int r = x * 255 / (W - 1), g = y * 255 / (H - 1), b = ((x / 8 + y / 8) % 2) ? 200 : 40;
            if ((x - 40) * (x - 40) + (y - 20) * (y - 20) < 100) {
                r = 250;
                g = 30;
                b = 30;
            }
            r += noise;
            g -= noise;
            b += noise / 2;
            set_px(im, x, y, 0, r < 0 ? 0 : r > 255 ? 255 : r);
            set_px(im, x, y, 1, g < 0 ? 0 : g > 255 ? 255 : g);
            set_px(im, x, y, 2, b < 0 ? 0 : b > 255 ? 255 : b);
            set_px(im, x, y, 3, 255 - (x + y) % 64);
        }
}

/* Largest absolute difference over the colour channels (and alpha when with_alpha), in 0..255 units. */
static double max_diff(const image* a, const image* b, int with_alpha)
{
    double worst = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < (with_alpha ? 4 : 3); c++) {
                double d = fabs(px(a, x, y, c) - px(b, x, y, c));
                if (!(d <= worst)) worst = d; /* NaN counts as worst */
            }
    return worst;
}

static double mean_diff(const image* a, const image* b)
{
    double sum = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) sum += fabs(px(a, x, y, c) - px(b, x, y, c));
    return sum / (W * H * 3);
}

/* True when every row-padding byte still holds `fill`. */
static int padding_untouched(const image* im, unsigned char fill)
{
    int row_bytes = W * bytes_per_pixel(im->f.format);
    for (int y = 0; y < H; y++)
        for (int i = row_bytes; i < im->f.stride; i++)
            if (im->mem[(size_t)y * im->f.stride + i] != fill) return 0;
    return 1;
}

static int all_bytes(const image* im, unsigned char fill)
{
    for (size_t i = 0; i < im->bytes; i++)
        if (im->mem[i] != fill) return 0;
    return 1;
}

static int all_finite(const image* im)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 4; c++)
                if (!isfinite(px(im, x, y, c))) return 0;
    return 1;
}

/* ---- threads ------------------------------------------------------------------------------------------ */

static char g_zoo[4096], g_identity[4096], g_corrupt[4096], g_mix[4096];

typedef struct worker {
    sf_engine* engine; /* NULL: create and destroy its own engine */
    int frames;
    int failures;
    char error[512];
} worker;

static void* process_worker(void* arg)
{
    worker* w = arg;
    sf_engine* e = w->engine;
    int own = e == NULL;
    image in = image_new(SF_FORMAT_RGBA8, 0, 0), out = image_new(SF_FORMAT_RGBA8, 0, 0);
    paint(&in, 5);
    if (own && (sf_engine_create(NULL, &e) != SF_OK || sf_engine_load_style(e, g_zoo) != SF_OK)) {
        w->failures++;
        snprintf(w->error, sizeof w->error, "setup: %s", sf_last_error());
    }
    for (int i = 0; i < w->frames && w->failures == 0; i++)
        if (sf_engine_process_cpu(e, &in.f, &out.f) != SF_OK) {
            w->failures++;
            snprintf(w->error, sizeof w->error, "frame %d: %s", i, sf_last_error());
        }
    if (own && e && sf_engine_destroy(e) != SF_OK) w->failures++;
    image_free(&in);
    image_free(&out);
    return NULL;
}

typedef struct loader {
    sf_engine* engine;
    int loads;
    int failures;
} loader;

static void* load_worker(void* arg)
{
    loader* l = arg;
    for (int i = 0; i < l->loads; i++)
        if (sf_engine_load_style(l->engine, i % 2 ? g_identity : g_zoo) != SF_OK) l->failures++;
    return NULL;
}

static void* failing_call_worker(void* arg)
{
    (void)arg;
    sf_engine_load_style(NULL, "x"); /* sets this thread's last error only */
    return NULL;
}

/* ---- the tests ---------------------------------------------------------------------------------------- */

static void section(const char* name) { printf("\n[%s]\n", name); }

static double get_param(sf_engine* e, int param)
{
    double v = -12345;
    if (sf_engine_get_param(e, param, &v) != SF_OK) return -99999;
    return v;
}

static void test_basics(void)
{
    section("version, errors, logging");
    CHECK(sf_abi_version() == SF_ABI_VERSION, "sf_abi_version() = %u, header SF_ABI_VERSION = %d", sf_abi_version(),
          SF_ABI_VERSION);
    const char* e = sf_last_error();
    CHECK(e != NULL && e[0] == 0, "sf_last_error is \"\" before any failure");
    expect_error(sf_set_log_callback(log_fn, &g_log_tag, 0), SF_ERR_INVALID_ARGUMENT,
                 "sf_set_log_callback(min_level 0)");
    expect_error(sf_set_log_callback(log_fn, &g_log_tag, 9), SF_ERR_INVALID_ARGUMENT,
                 "sf_set_log_callback(min_level 9)");
    expect_status(sf_set_log_callback(log_fn, &g_log_tag, SF_LOG_DEBUG), SF_OK, "sf_set_log_callback(fn, DEBUG)");
    e = sf_last_error();
    CHECK(e != NULL && e[0] == 0, "sf_last_error is \"\" again after a successful call");
}

static sf_engine* test_create(void)
{
    section("create");
    sf_engine* e = (sf_engine*)0x1;
    int logs_before = log_count();
    if (!expect_status(sf_engine_create(NULL, &e), SF_OK, "sf_engine_create(NULL options)")) return NULL;
    CHECK(e != NULL, "handle is not NULL");
    CHECK(sf_last_error()[0] == 0, "sf_last_error is \"\" after a successful create");
    CHECK(log_count() > logs_before, "log callback received messages (%d so far)", log_count());
    CHECK(g_log_user_ok, "log callback got its user pointer back");
    CHECK(g_log_bad_level == 0, "log callback levels are within SF_LOG_ERROR..SF_LOG_DEBUG");

    sf_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.intra_op_threads = 2;
    o.device = SF_DEVICE_CPU;
    sf_engine* e2 = NULL;
    if (expect_status(sf_engine_create(&o, &e2), SF_OK, "sf_engine_create(options: 2 threads, CPU)")) {
        CHECK(e2 != NULL && e2 != e, "second engine has its own handle");
        CHECK(get_param(e2, SF_PARAM_DEVICE) == SF_DEVICE_CPU, "SF_PARAM_DEVICE reads back the option (CPU)");
        expect_status(sf_engine_destroy(e2), SF_OK, "sf_engine_destroy(second engine)");
    }

    sf_engine* bad = (sf_engine*)0x1;
    o.struct_size = 0;
    expect_error(sf_engine_create(&o, &bad), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(struct_size 0)");
    CHECK(bad == NULL, "failed create sets *out to NULL");
    o.struct_size = 8;
    expect_error(sf_engine_create(&o, &bad), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(struct_size 8, too small)");
    o.struct_size = 0x7fffffff;
    expect_error(sf_engine_create(&o, &bad), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(struct_size huge)");
    o.struct_size = sizeof o;
    o.device = 99;
    expect_error(sf_engine_create(&o, &bad), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(device 99)");
    o.device = SF_DEVICE_AUTO;
    o.intra_op_threads = -1;
    expect_error(sf_engine_create(&o, &bad), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(intra_op_threads -1)");
    expect_error(sf_engine_create(NULL, NULL), SF_ERR_INVALID_ARGUMENT, "sf_engine_create(out NULL)");
    return e;
}

static void test_styles_before_load(sf_engine* e, const char* models)
{
    section("loading styles: failures and no style");
    char bad_path[4200];
    snprintf(bad_path, sizeof bad_path, "%s/no_such_dir/no_such_style.onnx", models);
    expect_error(sf_engine_load_style(e, bad_path), SF_ERR_MODEL, "sf_engine_load_style(missing file)");
    CHECK(strstr(sf_last_error(), "no_such_style") != NULL, "error mentions the path: \"%s\"", sf_last_error());
    expect_error(sf_engine_load_style(e, g_corrupt), SF_ERR_MODEL, "sf_engine_load_style(corrupt.onnx)");
    expect_error(sf_engine_load_style(e, NULL), SF_ERR_INVALID_ARGUMENT, "sf_engine_load_style(NULL)");
    expect_error(sf_engine_load_style(e, ""), SF_ERR_INVALID_ARGUMENT, "sf_engine_load_style(\"\")");

    char name[256] = "junk";
    expect_status(sf_engine_get_style_name(e, name, sizeof name), SF_OK, "sf_engine_get_style_name without a style");
    CHECK(name[0] == 0, "style name is \"\" without a style");

    image in = image_new(SF_FORMAT_RGBA8, 16, 0), out = image_new(SF_FORMAT_RGBA8, 16, 0xCD);
    paint(&in, 1);
    expect_error(sf_engine_process_cpu(e, &in.f, &out.f), SF_ERR_NO_STYLE, "process without a style");
    CHECK(max_diff(&in, &out, 1) == 0, "  output is a pass-through copy of the input (max diff %.1f)",
          max_diff(&in, &out, 1));
    CHECK(padding_untouched(&out, 0xCD), "  output row padding untouched");

    /* Pass-through also converts formats. */
    image bgra = image_new(SF_FORMAT_BGRA8, 0, 0xCD), flt = image_new(SF_FORMAT_RGBA32F, 0, 0);
    expect_status(sf_engine_process_cpu(e, &in.f, &bgra.f), SF_ERR_NO_STYLE, "process RGBA8 -> BGRA8 without a style");
    CHECK(max_diff(&in, &bgra, 1) == 0, "  BGRA8 output is the input with channels swapped (max diff %.1f)",
          max_diff(&in, &bgra, 1));
    expect_status(sf_engine_process_cpu(e, &in.f, &flt.f), SF_ERR_NO_STYLE, "process RGBA8 -> RGBA32F without a style");
    CHECK(max_diff(&in, &flt, 1) < 0.01, "  RGBA32F output is the input / 255 (max diff %.4f)", max_diff(&in, &flt, 1));

    sf_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    if (expect_status(sf_engine_get_stats(e, &s), SF_OK, "sf_engine_get_stats"))
        CHECK(s.pass_through_frames >= 3, "stats count the pass-through frames (%llu)",
              (unsigned long long)s.pass_through_frames);
    image_free(&in);
    image_free(&out);
    image_free(&bgra);
    image_free(&flt);
}

/* Runs one frame after a history reset so that results do not depend on earlier frames. */
static sf_status fresh(sf_engine* e, const image* in, image* out)
{
    sf_engine_reset_history(e);
    return sf_engine_process_cpu(e, &in->f, &out->f);
}

static void test_processing(sf_engine* e)
{
    section("processing with zoo_dynamic.onnx");
    if (!expect_status(sf_engine_load_style(e, g_zoo), SF_OK, "sf_engine_load_style(zoo_dynamic.onnx)")) return;
    CHECK(sf_last_error()[0] == 0, "sf_last_error is \"\" after a successful load");
    char name[256] = "";
    expect_status(sf_engine_get_style_name(e, name, sizeof name), SF_OK, "sf_engine_get_style_name");
    CHECK(strstr(name, "zoo_dynamic") != NULL, "style name is \"%s\"", name);
    char tiny[2] = "x";
    expect_error(sf_engine_get_style_name(e, tiny, sizeof tiny), SF_ERR_INVALID_ARGUMENT,
                 "sf_engine_get_style_name(2-byte buffer)");
    CHECK(tiny[0] == 0, "  too-small buffer is left as \"\"");
    expect_error(sf_engine_get_style_name(e, NULL, 64), SF_ERR_INVALID_ARGUMENT,
                 "sf_engine_get_style_name(NULL buffer)");

    expect_status(sf_engine_set_param(e, SF_PARAM_SMOOTHING, 0), SF_OK, "smoothing 0 (deterministic frames)");
    expect_status(sf_engine_set_param(e, SF_PARAM_ALPHA, 1), SF_OK, "alpha 1");

    image in = image_new(SF_FORMAT_RGBA8, 32, 0), out = image_new(SF_FORMAT_RGBA8, 32, 0xCD);
    paint(&in, 2);
    if (expect_status(fresh(e, &in, &out), SF_OK, "process 64x48 RGBA8, stride padded by 32 bytes")) {
        CHECK(mean_diff(&in, &out) > 2.0, "  output differs from input (mean diff %.2f)", mean_diff(&in, &out));
        CHECK(padding_untouched(&out, 0xCD), "  output row padding untouched");
        double ad = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) ad = fmax(ad, fabs(px(&in, x, y, 3) - px(&out, x, y, 3)));
        CHECK(ad == 0, "  alpha channel carried over from the input (max diff %.0f)", ad);
    }

    image again = image_new(SF_FORMAT_RGBA8, 0, 0);
    if (expect_status(fresh(e, &in, &again), SF_OK, "same frame again (unpadded output)"))
        CHECK(max_diff(&out, &again, 1) <= 1, "  repeatable after reset_history (max diff %.1f)",
              max_diff(&out, &again, 1));

    /* Channel order: BGRA in/out must give the same picture as RGBA. */
    image bin = image_new(SF_FORMAT_BGRA8, 8, 0), bout = image_new(SF_FORMAT_BGRA8, 4, 0xCD);
    paint(&bin, 2);
    if (expect_status(fresh(e, &bin, &bout), SF_OK, "process BGRA8 -> BGRA8")) {
        CHECK(max_diff(&out, &bout, 1) <= 2, "  same picture as the RGBA8 run (max diff %.1f)",
              max_diff(&out, &bout, 1));
        CHECK(padding_untouched(&bout, 0xCD), "  output row padding untouched");
    }
    image mixed = image_new(SF_FORMAT_BGRA8, 0, 0);
    if (expect_status(fresh(e, &in, &mixed), SF_OK, "process RGBA8 -> BGRA8"))
        CHECK(max_diff(&out, &mixed, 1) <= 2, "  same picture as the RGBA8 run (max diff %.1f)",
              max_diff(&out, &mixed, 1));

    /* Float frames. */
    image fin = image_new(SF_FORMAT_RGBA32F, 16, 0), fout = image_new(SF_FORMAT_RGBA32F, 32, 0xCD);
    paint(&fin, 2);
    if (expect_status(fresh(e, &fin, &fout), SF_OK, "process RGBA32F -> RGBA32F, padded strides")) {
        CHECK(all_finite(&fout), "  output values are finite");
        CHECK(max_diff(&out, &fout, 1) <= 2, "  same picture as the RGBA8 run (max diff %.2f / 255)",
              max_diff(&out, &fout, 1));
        CHECK(padding_untouched(&fout, 0xCD), "  output row padding untouched");
    }
    image f2b = image_new(SF_FORMAT_BGRA8, 0, 0);
    if (expect_status(fresh(e, &fin, &f2b), SF_OK, "process RGBA32F -> BGRA8"))
        CHECK(max_diff(&out, &f2b, 1) <= 2, "  same picture as the RGBA8 run (max diff %.1f)", max_diff(&out, &f2b, 1));

    /* In place. */
    image inplace = image_new(SF_FORMAT_RGBA8, 32, 0);
    paint(&inplace, 2);
    if (expect_status((sf_engine_reset_history(e), sf_engine_process_cpu(e, &inplace.f, &inplace.f)), SF_OK,
                      "process in place (in == out)"))
        CHECK(max_diff(&out, &inplace, 1) <= 1, "  same picture as the separate-buffer run (max diff %.1f)",
              max_diff(&out, &inplace, 1));

    /* Alpha 0 gives the input back exactly. */
    expect_status(sf_engine_set_param(e, SF_PARAM_ALPHA, 0), SF_OK, "alpha 0");
    memset(out.mem, 0xCD, out.bytes);
    if (expect_status(fresh(e, &in, &out), SF_OK, "process with alpha 0"))
        CHECK(max_diff(&in, &out, 1) == 0, "  output equals input exactly (max diff %.1f)", max_diff(&in, &out, 1));
    expect_status(sf_engine_set_param(e, SF_PARAM_ALPHA, 1), SF_OK, "alpha back to 1");

    /* Other settings still produce frames. */
    expect_status(sf_engine_set_param(e, SF_PARAM_PRESERVE_COLOUR, 1), SF_OK, "preserve colour on");
    if (expect_status(fresh(e, &in, &again), SF_OK, "process with colour preservation"))
        CHECK(mean_diff(&in, &again) > 0.5, "  output differs from input (mean diff %.2f)", mean_diff(&in, &again));
    expect_status(sf_engine_set_param(e, SF_PARAM_PRESERVE_COLOUR, 0), SF_OK, "preserve colour off");
    expect_status(sf_engine_set_param(e, SF_PARAM_INFERENCE_SCALE, 0.5), SF_OK, "inference scale 0.5");
    if (expect_status(fresh(e, &in, &again), SF_OK, "process at inference scale 0.5"))
        CHECK(mean_diff(&in, &again) > 2.0, "  output differs from input (mean diff %.2f)", mean_diff(&in, &again));
    expect_status(sf_engine_set_param(e, SF_PARAM_INFERENCE_SCALE, 1), SF_OK, "inference scale back to 1");
    expect_status(sf_engine_set_param(e, SF_PARAM_SMOOTHING, 0.8), SF_OK, "smoothing 0.8");
    int ok = 1;
    for (int i = 0; i < 3; i++) ok &= sf_engine_process_cpu(e, &in.f, &again.f) == SF_OK;
    CHECK(ok, "three frames with temporal smoothing -> SF_OK");
    expect_status(sf_engine_reset_history(e), SF_OK, "sf_engine_reset_history");

    /* The identity model gives the input back (through the whole pipeline). */
    expect_status(sf_engine_set_param(e, SF_PARAM_SMOOTHING, 0), SF_OK, "smoothing 0");
    if (expect_status(sf_engine_load_style(e, g_identity), SF_OK, "sf_engine_load_style(identity.onnx)")) {
        if (expect_status(fresh(e, &bin, &f2b), SF_OK, "process BGRA8 -> BGRA8 with the identity model"))
            CHECK(max_diff(&bin, &f2b, 1) <= 1, "  output equals input within 1 (max diff %.1f)",
                  max_diff(&bin, &f2b, 1));
        expect_status(sf_engine_load_style(e, g_zoo), SF_OK, "sf_engine_load_style(zoo_dynamic.onnx) again");
    }

    image_free(&in);
    image_free(&out);
    image_free(&again);
    image_free(&bin);
    image_free(&bout);
    image_free(&mixed);
    image_free(&fin);
    image_free(&fout);
    image_free(&f2b);
    image_free(&inplace);
}

static void test_bad_frames(sf_engine* e)
{
    section("invalid frames");
    image in = image_new(SF_FORMAT_RGBA8, 0, 0), out = image_new(SF_FORMAT_RGBA8, 0, 0xCD);
    paint(&in, 3);
    sf_frame f;

    expect_error(sf_engine_process_cpu(e, NULL, &out.f), SF_ERR_INVALID_ARGUMENT, "input frame NULL");
    expect_error(sf_engine_process_cpu(e, &in.f, NULL), SF_ERR_INVALID_ARGUMENT, "output frame NULL");
    expect_error(sf_engine_process_cpu(e, NULL, NULL), SF_ERR_INVALID_ARGUMENT, "both frames NULL");
    f = in.f;
    f.data = NULL;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "input data NULL");
    f = out.f;
    f.data = NULL;
    expect_error(sf_engine_process_cpu(e, &in.f, &f), SF_ERR_INVALID_ARGUMENT, "output data NULL");
    f = in.f;
    f.width = 0;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "width 0");
    f = in.f;
    f.height = -48;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "height -48");
    f = in.f;
    f.width = 100000;
    f.stride = 400000;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "width 100000 (huge)");
    f = in.f;
    f.height = 100000;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "height 100000 (huge)");
    f = in.f;
    f.stride = W * 4 - 1;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "input stride one byte short of a row");
    f = out.f;
    f.stride = -W * 4;
    expect_error(sf_engine_process_cpu(e, &in.f, &f), SF_ERR_INVALID_ARGUMENT, "output stride negative");
    f = out.f;
    f.stride = 0;
    expect_error(sf_engine_process_cpu(e, &in.f, &f), SF_ERR_INVALID_ARGUMENT, "output stride 0");
    f = in.f;
    f.format = 99;
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "input format 99");
    f = out.f;
    f.format = 0;
    expect_error(sf_engine_process_cpu(e, &in.f, &f), SF_ERR_INVALID_ARGUMENT, "output format 0");
    f = in.f;
    f.format = SF_FORMAT_RGBA32F; /* rows would need 16 bytes per pixel */
    expect_error(sf_engine_process_cpu(e, &f, &out.f), SF_ERR_INVALID_ARGUMENT, "RGBA32F frame with an 8-bit stride");
    f = out.f;
    f.width = W / 2;
    expect_error(sf_engine_process_cpu(e, &in.f, &f), SF_ERR_INVALID_ARGUMENT, "output smaller than input");
    image fl = image_new(SF_FORMAT_RGBA32F, 2, 0);
    expect_error(sf_engine_process_cpu(e, &in.f, &fl.f), SF_ERR_INVALID_ARGUMENT, "float stride not a multiple of 4");
    CHECK(all_bytes(&out, 0xCD), "invalid calls left the output untouched");
    image_free(&fl);

    section("textures");
    sf_texture t;
    memset(&t, 0, sizeof t);
    t.api = SF_TEXTURE_OPENGL;
    t.handle = 1;
    t.width = W;
    t.height = H;
    t.format = SF_FORMAT_RGBA8;
    expect_error(sf_engine_process_texture(e, &t, &t), SF_ERR_UNSUPPORTED,
                 "sf_engine_process_texture (GPU path not implemented)");
    image_free(&in);
    image_free(&out);
}

static void test_params(sf_engine* e)
{
    section("parameters");
    CHECK(get_param(e, SF_PARAM_MOTION_COMPENSATION) == 1, "motion compensation is on by default");
    struct {
        int param;
        double value;
    } round_trips[] = {
        {SF_PARAM_ALPHA, 0.25},
        {SF_PARAM_SMOOTHING, 0.5},
        {SF_PARAM_PRESERVE_COLOUR, 1},
        {SF_PARAM_INFERENCE_SCALE, 0.5},
        {SF_PARAM_ALPHA, 1},
        {SF_PARAM_SMOOTHING, 0},
        {SF_PARAM_PRESERVE_COLOUR, 0},
        {SF_PARAM_INFERENCE_SCALE, 1},
        {SF_PARAM_MOTION_COMPENSATION, 0},
        {SF_PARAM_MOTION_COMPENSATION, 1},
    };
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "set param %d = %g", round_trips[i].param, round_trips[i].value);
        expect_status(sf_engine_set_param(e, round_trips[i].param, round_trips[i].value), SF_OK, what);
        double v = get_param(e, round_trips[i].param);
        CHECK(v == round_trips[i].value, "  get_param reads back %g", v);
    }

    int logs_before = log_count();
    expect_status(sf_engine_set_param(e, SF_PARAM_DEVICE, SF_DEVICE_CUDA), SF_OK,
                  "set SF_PARAM_DEVICE = CUDA (stored)");
    CHECK(get_param(e, SF_PARAM_DEVICE) == SF_DEVICE_CUDA, "  get_param reads back CUDA");
    CHECK(log_count() > logs_before && log_contains("load_style"),
          "  a log message says it takes effect on the next load_style");
    expect_status(sf_engine_set_param(e, SF_PARAM_DEVICE, SF_DEVICE_CPU), SF_OK, "set SF_PARAM_DEVICE = CPU");
    CHECK(get_param(e, SF_PARAM_NETWORK_TIER) == SF_TIER_AUTO, "SF_PARAM_NETWORK_TIER starts at AUTO");
    logs_before = log_count();
    expect_status(sf_engine_set_param(e, SF_PARAM_NETWORK_TIER, SF_TIER_FULL), SF_OK,
                  "set SF_PARAM_NETWORK_TIER = FULL");
    CHECK(get_param(e, SF_PARAM_NETWORK_TIER) == SF_TIER_FULL, "  get_param reads back FULL");
    CHECK(log_count() > logs_before && log_contains("load_style"),
          "  a log message says it takes effect on the next load_style");
    expect_status(sf_engine_set_param(e, SF_PARAM_NETWORK_TIER, SF_TIER_AUTO), SF_OK,
                  "set SF_PARAM_NETWORK_TIER = AUTO");

    expect_status(sf_engine_set_param(e, SF_PARAM_ALPHA, 0.75), SF_OK, "alpha 0.75");
    struct {
        int param;
        double value;
        const char* what;
    } bad[] = {
        {SF_PARAM_ALPHA, NAN, "alpha NaN"},
        {SF_PARAM_ALPHA, INFINITY, "alpha +inf"},
        {SF_PARAM_ALPHA, -0.5, "alpha -0.5"},
        {SF_PARAM_ALPHA, 1.5, "alpha 1.5"},
        {SF_PARAM_SMOOTHING, NAN, "smoothing NaN"},
        {SF_PARAM_SMOOTHING, 2, "smoothing 2"},
        {SF_PARAM_SMOOTHING, -1, "smoothing -1"},
        {SF_PARAM_PRESERVE_COLOUR, 0.5, "preserve colour 0.5"},
        {SF_PARAM_PRESERVE_COLOUR, 2, "preserve colour 2"},
        {SF_PARAM_INFERENCE_SCALE, 0, "inference scale 0"},
        {SF_PARAM_INFERENCE_SCALE, -1, "inference scale -1"},
        {SF_PARAM_INFERENCE_SCALE, 1.5, "inference scale 1.5"},
        {SF_PARAM_INFERENCE_SCALE, -INFINITY, "inference scale -inf"},
        {SF_PARAM_DEVICE, 7, "device 7"},
        {SF_PARAM_DEVICE, 1.5, "device 1.5"},
        {SF_PARAM_DEVICE, -1, "device -1"},
        {SF_PARAM_NETWORK_TIER, 4, "tier 4"},
        {SF_PARAM_NETWORK_TIER, 0.5, "tier 0.5"},
        {SF_PARAM_NETWORK_TIER, -1, "tier -1"},
        {8, 0.5, "param id 8"},
        {SF_PARAM_MOTION_COMPENSATION, 0.5, "motion compensation 0.5"},
        {SF_PARAM_MOTION_COMPENSATION, 2, "motion compensation 2"},
        {SF_PARAM_MOTION_COMPENSATION, NAN, "motion compensation NaN"},
        {8, 1, "param id 8 (one past the last)"},
        {0, 0.5, "param id 0"},
        {99, 0.5, "param id 99"},
        {-1, 0.5, "param id -1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(sf_engine_set_param(e, bad[i].param, bad[i].value), SF_ERR_INVALID_ARGUMENT, bad[i].what);
    CHECK(get_param(e, SF_PARAM_ALPHA) == 0.75, "rejected values left alpha at 0.75 (%g)",
          get_param(e, SF_PARAM_ALPHA));
    CHECK(get_param(e, SF_PARAM_INFERENCE_SCALE) == 1, "rejected values left the inference scale at 1");
    double v;
    expect_error(sf_engine_get_param(e, 99, &v), SF_ERR_INVALID_ARGUMENT, "get_param(id 99)");
    expect_error(sf_engine_get_param(e, SF_PARAM_ALPHA, NULL), SF_ERR_INVALID_ARGUMENT, "get_param(value NULL)");
    expect_status(sf_engine_set_param(e, SF_PARAM_ALPHA, 1), SF_OK, "alpha back to 1");
}

static void test_stats_and_list(const char* models)
{
    section("stats");
    sf_engine* e = NULL;
    if (!expect_status(sf_engine_create(NULL, &e), SF_OK, "create a fresh engine")) return;
    if (expect_status(sf_engine_load_style(e, "zoo_dynamic"), SF_OK,
                      "sf_engine_load_style(\"zoo_dynamic\") by bundled name")) {
        image in = image_new(SF_FORMAT_RGBA8, 0, 0), out = image_new(SF_FORMAT_RGBA8, 0, 0);
        paint(&in, 4);
        int ok = 1;
        enum { N = 5 };
        for (int i = 0; i < N; i++) ok &= sf_engine_process_cpu(e, &in.f, &out.f) == SF_OK;
        CHECK(ok, "%d frames processed", N);
        sf_stats s;
        memset(&s, 0xAB, sizeof s);
        s.struct_size = sizeof s;
        if (expect_status(sf_engine_get_stats(e, &s), SF_OK, "sf_engine_get_stats")) {
            CHECK(s.frames == N, "  frames = %llu (calls made: %d)", (unsigned long long)s.frames, N);
            CHECK(s.pass_through_frames == 0, "  pass_through_frames = %llu",
                  (unsigned long long)s.pass_through_frames);
            CHECK(s.mean_ms > 0 && s.p50_ms > 0 && s.p99_ms >= s.p50_ms,
                  "  latencies: mean %.2f ms, p50 %.2f, p99 %.2f", s.mean_ms, s.p50_ms, s.p99_ms);
            CHECK(memchr(s.provider, 0, sizeof s.provider) != NULL && s.provider[0] != 0, "  provider \"%.31s\"",
                  s.provider);
            /* A completely different picture is a scene cut: the history restarts on its own. */
            uint64_t resets = s.history_resets;
            image cut = image_new(SF_FORMAT_RGBA8, 0, 0);
            for (size_t i = 0; i < cut.bytes; i++) cut.mem[i] = (unsigned char)(255 - in.mem[i]);
            expect_status(sf_engine_set_param(e, SF_PARAM_SMOOTHING, 0.5), SF_OK, "  smoothing 0.5");
            expect_status(sf_engine_process_cpu(e, &cut.f, &out.f), SF_OK, "  process an inverted frame (scene cut)");
            sf_engine_get_stats(e, &s);
            CHECK(s.history_resets == resets + 1, "  scene cut counted in history_resets (%llu -> %llu)",
                  (unsigned long long)resets, (unsigned long long)s.history_resets);
            CHECK(s.frames == N + 1, "  frames = %llu", (unsigned long long)s.frames);
            image_free(&cut);
        }
        s.struct_size = 0;
        expect_error(sf_engine_get_stats(e, &s), SF_ERR_INVALID_ARGUMENT, "sf_engine_get_stats(struct_size 0)");
        expect_error(sf_engine_get_stats(e, NULL), SF_ERR_INVALID_ARGUMENT, "sf_engine_get_stats(NULL)");
        image_free(&in);
        image_free(&out);
    }
    expect_status(sf_engine_destroy(e), SF_OK, "destroy the fresh engine");

    section("sf_list_styles");
    size_t needed = 0;
    if (expect_status(sf_list_styles(NULL, 0, &needed), SF_OK, "size query (buffer NULL)")) {
        CHECK(needed >= 1, "  needed = %zu", needed);
        char* list = malloc(needed + 8);
        memset(list, 'X', needed + 8);
        size_t needed2 = 0;
        if (expect_status(sf_list_styles(list, needed, &needed2), SF_OK, "list into a buffer of exactly that size")) {
            CHECK(needed2 == needed && strlen(list) + 1 == needed, "  NUL-terminated, strlen + 1 = needed");
            char pattern[64];
            snprintf(pattern, sizeof pattern, "zoo_dynamic");
            int found = 0;
            for (char* line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) found |= strcmp(line, pattern) == 0;
            CHECK(found, "  lists zoo_dynamic (from STYLEFILTER_MODELS=%s)", models);
        }
        if (needed > 1) {
            memset(list, 'X', needed);
            expect_error(sf_list_styles(list, needed - 1, &needed2), SF_ERR_INVALID_ARGUMENT, "buffer one byte short");
            CHECK(list[0] == 0 && needed2 == needed, "  buffer left as \"\", needed still reported");
        }
        expect_error(sf_list_styles(list, 0, NULL), SF_ERR_INVALID_ARGUMENT, "buffer with size 0");
        free(list);
    }
    expect_error(sf_list_styles(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT, "buffer and needed both NULL");
}

/* sf_get_style_info into a struct first filled with garbage; 1 when it returned SF_OK. */
static int style_info(const char* name_or_path, sf_style_info* info, const char* what)
{
    memset(info, 0xAB, sizeof *info);
    info->struct_size = sizeof *info;
    return expect_status(sf_get_style_info(name_or_path, info), SF_OK, what);
}

static int info_is(const sf_style_info* info, const char* id, const char* title, const char* artist, const char* year)
{
    return strcmp(info->id, id) == 0 && strcmp(info->title, title) == 0 && strcmp(info->artist, artist) == 0 &&
           strcmp(info->year, year) == 0;
}

static void test_style_info(const char* models)
{
    section("sf_get_style_info");
    sf_style_info info;
    char path[4200];
    if (style_info("pack_basic", &info, "bundled pack_basic (manifest with title, artist and year)"))
        CHECK(info_is(&info, "pack_basic", "Basic Test Painting", "Zo\xc3\xab Tester", "c. 2024"),
              "  id \"%s\", title \"%s\", artist \"%s\", year \"%s\"", info.id, info.title, info.artist, info.year);
    if (style_info(g_mix, &info, "pack_mix by path (manifest with a name only)"))
        CHECK(info_is(&info, "pack_mix", "Mix test pack", "", ""),
              "  id \"%s\", title from the name \"%s\", no artist or year", info.id, info.title);
    if (style_info("zoo_dynamic", &info, "bundled zoo_dynamic (a single .onnx file)"))
        CHECK(info_is(&info, "zoo_dynamic", "zoo_dynamic", "", ""), "  the file name is the title: \"%s\"", info.title);
    snprintf(path, sizeof path, "%s/pack_basic.zip", models);
    if (style_info(path, &info, "pack_basic.zip by path"))
        CHECK(info_is(&info, "pack_basic", "Basic Test Painting", "Zo\xc3\xab Tester", "c. 2024"),
              "  title \"%s\" from the zip's manifest", info.title);
    /* A bundled trained style beside the library (models/ of out/native): the painting, not the folder name. */
    if (style_info("starry_night", &info, "bundled starry_night (models/ beside the library)"))
        CHECK(info_is(&info, "starry_night", "The Starry Night", "Vincent van Gogh", "1889"),
              "  title \"%s\", artist \"%s\", year \"%s\"", info.title, info.artist, info.year);

    /* Every listed id describes itself. */
    size_t needed = 0;
    if (sf_list_styles(NULL, 0, &needed) == SF_OK) {
        char* list = malloc(needed);
        int listed = 0, round_trip = 0;
        if (sf_list_styles(list, needed, NULL) == SF_OK)
            for (char* line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
                listed++;
                info.struct_size = sizeof info;
                round_trip += sf_get_style_info(line, &info) == SF_OK && strcmp(info.id, line) == 0 && info.title[0];
            }
        CHECK(listed > 0 && round_trip == listed, "every listed style (%d) has an info with its id and a title (%d)",
              listed, round_trip);
        free(list);
    }

    expect_error(sf_get_style_info("no_such_style_xyz", &info), SF_ERR_MODEL, "unknown style name");
    expect_error(sf_get_style_info("", &info), SF_ERR_INVALID_ARGUMENT, "empty name");
    expect_error(sf_get_style_info(NULL, &info), SF_ERR_INVALID_ARGUMENT, "NULL name");
    expect_error(sf_get_style_info("pack_basic", NULL), SF_ERR_INVALID_ARGUMENT, "NULL info");
    info.struct_size = 4;
    expect_error(sf_get_style_info("pack_basic", &info), SF_ERR_INVALID_ARGUMENT, "struct_size smaller than version 1");
    /* A newer host's bigger struct: version 1's fields are filled, the rest is left alone. */
    struct {
        sf_style_info v1;
        uint32_t future;
    } bigger;
    memset(&bigger, 0, sizeof bigger);
    bigger.v1.struct_size = sizeof bigger;
    bigger.future = 0x5EEDu;
    if (expect_status(sf_get_style_info("pack_basic", &bigger.v1), SF_OK, "a bigger struct_size (a newer header)"))
        CHECK(strcmp(bigger.v1.title, "Basic Test Painting") == 0 && bigger.future == 0x5EEDu &&
                  bigger.v1.struct_size == sizeof bigger,
              "  version 1 fields filled, struct_size and the field beyond kept");
}

/* sf_device_status: the CPU always; a GPU device either runs or says why not; DirectML never on Linux. */
static void test_device_status(void)
{
    section("sf_device_status");
    char reason[512];
    memset(reason, 'x', sizeof reason);
    if (expect_status(sf_device_status(SF_DEVICE_CPU, reason, sizeof reason), SF_OK, "CPU"))
        CHECK(reason[0] == 0, "  reason is \"\" for an available device");
    expect_status(sf_device_status(SF_DEVICE_AUTO, NULL, 0), SF_OK, "Auto, reason NULL with size 0");
#ifndef _WIN32
    memset(reason, 'x', sizeof reason);
    if (expect_status(sf_device_status(SF_DEVICE_DIRECTML, reason, sizeof reason), SF_ERR_UNSUPPORTED,
                      "DirectML on this OS"))
        CHECK(strstr(reason, "Windows") != NULL && strlen(reason) < sizeof reason, "  the reason says why: \"%s\"",
              reason);
#endif
    for (int device = SF_DEVICE_CUDA; device <= SF_DEVICE_TENSORRT; device++) {
        memset(reason, 'x', sizeof reason);
        sf_status st = sf_device_status(device, reason, sizeof reason);
        CHECK((st == SF_OK && reason[0] == 0) ||
                  (st == SF_ERR_UNSUPPORTED && strlen(reason) > 10 && strlen(reason) < sizeof reason &&
                   strstr(sf_last_error(), reason) != NULL),
              "device %d: %s, reason \"%s\" (also in sf_last_error)", device, status_name(st),
              st == SF_OK ? "" : reason);
    }
    /* A reason that does not fit is cut at a character boundary and still NUL-terminated. */
    char small[8];
    memset(small, 'x', sizeof small);
    if (sf_device_status(SF_DEVICE_DIRECTML, small, sizeof small) == SF_ERR_UNSUPPORTED)
        CHECK(memchr(small, 0, sizeof small) != NULL && strlen(small) == sizeof small - 1,
              "  a short buffer gets the reason cut to fit: \"%s\"", small);
    expect_error(sf_device_status(99, reason, sizeof reason), SF_ERR_INVALID_ARGUMENT, "device 99");
    expect_error(sf_device_status(-1, NULL, 0), SF_ERR_INVALID_ARGUMENT, "device -1");
    expect_error(sf_device_status(SF_DEVICE_CPU, NULL, 16), SF_ERR_INVALID_ARGUMENT, "reason NULL with size 16");
}

static void test_threads(void)
{
    section("threads");
    worker w[2];
    pthread_t t[2];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 2; i++) {
        w[i].frames = 3;
        pthread_create(&t[i], NULL, process_worker, &w[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK(w[0].failures == 0 && w[1].failures == 0, "two engines on two threads at once%s%s%s",
          w[0].error[0] || w[1].error[0] ? ": " : "", w[0].error, w[1].error);

    sf_engine* e = NULL;
    if (expect_status(sf_engine_create(NULL, &e), SF_OK, "create a shared engine") &&
        expect_status(sf_engine_load_style(e, g_zoo), SF_OK, "load zoo_dynamic")) {
        worker pw;
        loader lw;
        memset(&pw, 0, sizeof pw);
        memset(&lw, 0, sizeof lw);
        pw.engine = e;
        pw.frames = 8;
        lw.engine = e;
        lw.loads = 4;
        pthread_t a, b;
        pthread_create(&a, NULL, process_worker, &pw);
        pthread_create(&b, NULL, load_worker, &lw);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        CHECK(pw.failures == 0 && lw.failures == 0,
              "load_style on one thread while another processes%s%s (%d failed loads)", pw.error[0] ? ": " : "",
              pw.error, lw.failures);
    }
    if (e) sf_engine_destroy(e);

    sf_engine_load_style(NULL, "main thread error");
    char mine[512];
    snprintf(mine, sizeof mine, "%s", sf_last_error());
    pthread_t other;
    pthread_create(&other, NULL, failing_call_worker, NULL);
    pthread_join(other, NULL);
    CHECK(mine[0] != 0 && strcmp(mine, sf_last_error()) == 0, "sf_last_error is per thread");
}

static void test_handles(void)
{
    section("handles");
    sf_engine* e = NULL;
    if (!expect_status(sf_engine_create(NULL, &e), SF_OK, "create an engine to destroy")) return;
    expect_status(sf_engine_destroy(e), SF_OK, "sf_engine_destroy");
    image in = image_new(SF_FORMAT_RGBA8, 0, 0), out = image_new(SF_FORMAT_RGBA8, 0, 0);
    double v;
    sf_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    char name[64];
    expect_error(sf_engine_process_cpu(e, &in.f, &out.f), SF_ERR_INVALID_HANDLE, "process after destroy");
    expect_error(sf_engine_load_style(e, g_zoo), SF_ERR_INVALID_HANDLE, "load_style after destroy");
    expect_error(sf_engine_set_param(e, SF_PARAM_ALPHA, 1), SF_ERR_INVALID_HANDLE, "set_param after destroy");
    expect_error(sf_engine_get_stats(e, &s), SF_ERR_INVALID_HANDLE, "get_stats after destroy");
    expect_error(sf_engine_destroy(e), SF_ERR_INVALID_HANDLE, "destroy twice");

    sf_engine* garbage = (sf_engine*)(uintptr_t)0x1234;
    expect_error(sf_engine_process_cpu(garbage, &in.f, &out.f), SF_ERR_INVALID_HANDLE, "process with handle 0x1234");
    expect_error(sf_engine_load_style(garbage, g_zoo), SF_ERR_INVALID_HANDLE, "load_style with handle 0x1234");
    expect_error(sf_engine_destroy(garbage), SF_ERR_INVALID_HANDLE, "destroy handle 0x1234");

    expect_error(sf_engine_process_cpu(NULL, &in.f, &out.f), SF_ERR_INVALID_HANDLE, "process with NULL handle");
    expect_error(sf_engine_load_style(NULL, g_zoo), SF_ERR_INVALID_HANDLE, "load_style with NULL handle");
    expect_error(sf_engine_set_param(NULL, SF_PARAM_ALPHA, 1), SF_ERR_INVALID_HANDLE, "set_param with NULL handle");
    expect_error(sf_engine_get_param(NULL, SF_PARAM_ALPHA, &v), SF_ERR_INVALID_HANDLE, "get_param with NULL handle");
    expect_error(sf_engine_reset_history(NULL), SF_ERR_INVALID_HANDLE, "reset_history with NULL handle");
    expect_error(sf_engine_get_stats(NULL, &s), SF_ERR_INVALID_HANDLE, "get_stats with NULL handle");
    expect_error(sf_engine_get_style_name(NULL, name, sizeof name), SF_ERR_INVALID_HANDLE,
                 "get_style_name with NULL handle");
    expect_error(sf_engine_process_texture(NULL, NULL, NULL), SF_ERR_INVALID_HANDLE,
                 "process_texture with NULL handle");
    expect_error(sf_engine_destroy(NULL), SF_ERR_INVALID_HANDLE, "destroy NULL");
    image_free(&in);
    image_free(&out);
}

/* Mean of one channel (0 = R, 2 = B) of an 8-bit image. */
static double channel_mean(const image* im, int channel)
{
    double sum = 0;
    for (int y = 0; y < im->f.height; y++)
        for (int x = 0; x < im->f.width; x++)
            sum += ((const unsigned char*)im->f.data)[(size_t)y * im->f.stride + 4 * x + channel];
    return sum / (im->f.width * im->f.height);
}

static void test_style_mix(sf_engine* e)
{
    section("style mix (pack_mix: styles red, blue)");
    int32_t count = -1;
    if (expect_status(sf_engine_load_style(e, g_zoo), SF_OK, "load zoo_dynamic (one style)")) {
        expect_status(sf_engine_get_style_mix_count(e, &count), SF_OK, "sf_engine_get_style_mix_count");
        CHECK(count == 0, "  a single-style model mixes nothing (count %d)", count);
        float one = 1;
        expect_error(sf_engine_set_style_mix(e, &one, 1), SF_ERR_UNSUPPORTED,
                     "sf_engine_set_style_mix on a single-style model");
    }
    if (!expect_status(sf_engine_load_style(e, g_mix), SF_OK, "load pack_mix")) return;
    expect_status(sf_engine_get_style_mix_count(e, &count), SF_OK, "sf_engine_get_style_mix_count");
    CHECK(count == 2, "  pack_mix mixes 2 styles (count %d)", count);
    char mix_name[64] = "";
    expect_status(sf_engine_get_style_mix_name(e, 1, mix_name, sizeof mix_name), SF_OK,
                  "sf_engine_get_style_mix_name(1)");
    CHECK(strcmp(mix_name, "blue") == 0, "  mix style 1 is \"%s\"", mix_name);
    expect_error(sf_engine_get_style_mix_name(e, 2, mix_name, sizeof mix_name), SF_ERR_INVALID_ARGUMENT,
                 "mix name index out of range");
    expect_error(sf_engine_get_style_mix_name(e, 0, mix_name, 2), SF_ERR_INVALID_ARGUMENT,
                 "mix name into a 2-byte buffer");
    image in = image_new(SF_FORMAT_RGBA8, 0, 0), red = image_new(SF_FORMAT_RGBA8, 0, 0),
          blue = image_new(SF_FORMAT_RGBA8, 0, 0);
    paint(&in, 5);
    const float to_red[2] = {1, 0}, to_blue[2] = {0, 3}, zeros[2] = {0, 0}, negative[2] = {-1, 2};
    expect_status(sf_engine_set_style_mix(e, to_red, 2), SF_OK, "mix {1, 0}");
    expect_status(fresh(e, &in, &red), SF_OK, "  process");
    expect_status(sf_engine_set_style_mix(e, to_blue, 2), SF_OK, "mix {0, 3} (normalised)");
    expect_status(fresh(e, &in, &blue), SF_OK, "  process");
    CHECK(channel_mean(&red, 0) - channel_mean(&red, 2) > 50, "  red mix is red (R %.0f, B %.0f)",
          channel_mean(&red, 0), channel_mean(&red, 2));
    CHECK(channel_mean(&blue, 2) - channel_mean(&blue, 0) > 50, "  blue mix is blue (R %.0f, B %.0f)",
          channel_mean(&blue, 0), channel_mean(&blue, 2));
    expect_error(sf_engine_set_style_mix(e, to_red, 1), SF_ERR_INVALID_ARGUMENT, "wrong weight count");
    expect_error(sf_engine_set_style_mix(e, zeros, 2), SF_ERR_INVALID_ARGUMENT, "all-zero weights");
    expect_error(sf_engine_set_style_mix(e, negative, 2), SF_ERR_INVALID_ARGUMENT, "a negative weight");
    expect_error(sf_engine_set_style_mix(e, NULL, 2), SF_ERR_INVALID_ARGUMENT, "NULL weights");
    expect_error(sf_engine_get_style_mix_count(e, NULL), SF_ERR_INVALID_ARGUMENT, "NULL count");
    expect_error(sf_engine_set_style_mix(NULL, to_red, 2), SF_ERR_INVALID_HANDLE, "NULL handle");
    image_free(&in);
    image_free(&red);
    image_free(&blue);
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PATH/stylefilter.so MODELS_DIR\n", argv[0]);
        return 255;
    }
    const char* models = argv[2];
    snprintf(g_zoo, sizeof g_zoo, "%s/zoo_dynamic.onnx", models);
    snprintf(g_identity, sizeof g_identity, "%s/identity.onnx", models);
    snprintf(g_corrupt, sizeof g_corrupt, "%s/corrupt.onnx", models);
    snprintf(g_mix, sizeof g_mix, "%s/pack_mix", models);
    /* The runtime reads the environment when it starts, i.e. at the first call into the library. */
    setenv("STYLEFILTER_MODELS", models, 1);

    printf("test_abi: %s, models %s\n\n[loading]\n", argv[1], models);
    char err[1024];
    int loaded = sf_load(argv[1], err, sizeof err);
    CHECK(loaded, "all %d exports resolved%s%s", SF_FUNCTION_COUNT, loaded ? "" : ": ", err);
    if (!loaded) return g_failures;

    test_basics();
    sf_engine* e = test_create();
    if (e) {
        test_styles_before_load(e, models);
        test_processing(e);
        test_bad_frames(e);
        test_params(e);
        test_style_mix(e);
        test_stats_and_list(models);
        test_style_info(models);
        test_device_status();
        test_threads();
        test_handles();
        section("teardown");
        expect_status(sf_engine_destroy(e), SF_OK, "destroy the first engine");
    }
    int before = log_count();
    expect_status(sf_set_log_callback(NULL, NULL, 0), SF_OK, "remove the log callback");
    sf_engine* quiet = NULL;
    sf_engine_create(NULL, &quiet);
    sf_engine_destroy(quiet);
    CHECK(log_count() == before, "no callback calls after removal");

    printf("\ntest_abi: %d checks, %d failed\n", g_checks, g_failures);
    return g_failures > 255 ? 255 : g_failures;
}
