/*
 * test_corpus.c - loads every case of the broken-model corpus (build/make_broken_models.py) through stylefilter.h.
 *
 *     test_corpus PATH/stylefilter.so MODELS_DIR CORPUS_DIR
 *
 * MODELS_DIR holds the good test models (zoo_dynamic.onnx); CORPUS_DIR holds cases.tsv and the broken models.
 * One engine (1 intra-op thread, CPU) has zoo_dynamic loaded; then, for each case:
 *   load MODEL  sf_engine_load_style gives SF_ERR_MODEL, sf_last_error names the case (file or pack name
 *               without extension, at least) and, where cases.tsv says, the member or field that is wrong, and
 *               the previous style is still loaded (same name) and works
 *               (a 64x48 RGBA8 frame gives SF_OK).
 *   load OK     the load succeeds; a frame (RGBA8 in, RGBA32F out) gives the expected error, its output is the
 *               pass-through copy of the input and sf_last_error names the case; after loading zoo_dynamic
 *               again a frame gives SF_OK.
 *   load ANY    (random damage) either of the above, or a load that works and a frame that is SF_OK and finite.
 * Every case also: no SF_ERR_INTERNAL anywhere, no ONNX Runtime line on stderr (a log callback is installed),
 * peak memory (VmHWM) at most 768 MiB above the resident size before the case (nothing read whole when it is
 * over the limits), and an answer within 30 s (65 s where the frame should hit the engine's 30 s limit).
 *
 * A hang or crash cannot be recovered inside the process (the call never returns, or the library is gone), so
 * the program is a supervisor: it runs itself as a child (`--child FIRST ...`) that works through the cases,
 * reporting each over stdout; a watchdog thread in the child reports a case that takes too long and exits, and
 * the supervisor counts it as a hang and starts a new child at the next case. The child runs under an address
 * space limit (STYLEFILTER_CORPUS_MEM_MB, default 4096; 0 for none) so a model read without bounds fails instead
 * of filling the machine.
 *
 * Output: one PASS/FAIL/HANG line per case, then `test_corpus: N models, P pass, F wrong results, H hangs`
 * (a crash counts as a wrong result). Exit status 0 only when every case passed.
 */
#define _GNU_SOURCE
#include "sf_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the library -------------------------------------------------------------------------------------- */

static const char* status_name(int s)
{
    static const char* names[] = {
        "SF_OK",           "SF_ERR_INVALID_ARGUMENT", "SF_ERR_MODEL",   "SF_ERR_RUNTIME", "SF_ERR_INVALID_HANDLE",
        "SF_ERR_NO_STYLE", "SF_ERR_UNSUPPORTED",      "SF_ERR_INTERNAL"};
    return s >= 0 && s <= 7 ? names[s] : "(unknown status)";
}

static int status_from(const char* word)
{
    if (strcmp(word, "MODEL") == 0) return SF_ERR_MODEL;
    if (strcmp(word, "RUNTIME") == 0) return SF_ERR_RUNTIME;
    if (strcmp(word, "OK") == 0) return SF_OK;
    return -1;
}

/* ---- cases.tsv ---------------------------------------------------------------------------------------- */

enum { LOAD_MODEL, LOAD_OK, LOAD_ANY };

typedef struct test_case {
    char name[128];
    char path[4096]; /* CORPUS_DIR/relative path */
    char stem[256];  /* what the error message must name: the basename without .onnx / .zip */
    int load;        /* LOAD_* */
    int frame;       /* expected frame status for LOAD_OK; -1 otherwise */
    char names[512]; /* text the load error must also contain (the offending member or field); "" for none */
    char description[512];
} test_case;

static test_case* g_cases;
static int g_count;

static void read_cases(const char* corpus)
{
    char file[4200];
    snprintf(file, sizeof file, "%s/cases.tsv", corpus);
    FILE* f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "test_corpus: cannot open %s: %s\n", file, strerror(errno));
        exit(2);
    }
    char line[8192];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        char* fields[6];
        int n = 0;
        for (char *p = line, *tab; n < 6; p = tab + 1) {
            fields[n++] = p;
            if (!(tab = strchr(p, '\t'))) break;
            *tab = 0;
        }
        if (n != 6) {
            fprintf(stderr, "test_corpus: bad line in %s: %s\n", file, line);
            exit(2);
        }
        if (g_count == cap) {
            cap = cap ? cap * 2 : 128;
            g_cases = realloc(g_cases, (size_t)cap * sizeof *g_cases);
            if (!g_cases) {
                perror("realloc");
                exit(2);
            }
        }
        test_case* c = &g_cases[g_count++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", fields[0]);
        snprintf(c->path, sizeof c->path, "%s/%s", corpus, fields[1]);
        const char* base = strrchr(fields[1], '/') ? strrchr(fields[1], '/') + 1 : fields[1];
        snprintf(c->stem, sizeof c->stem, "%s", base);
        char* dot = strrchr(c->stem, '.');
        if (dot && (strcmp(dot, ".onnx") == 0 || strcmp(dot, ".zip") == 0)) *dot = 0;
        c->load = strcmp(fields[2], "MODEL") == 0 ? LOAD_MODEL
                  : strcmp(fields[2], "OK") == 0  ? LOAD_OK
                  : strcmp(fields[2], "ANY") == 0 ? LOAD_ANY
                                                  : -1;
        c->frame = strcmp(fields[3], "-") == 0 ? -1 : status_from(fields[3]);
        snprintf(c->names, sizeof c->names, "%s", strcmp(fields[4], "-") == 0 ? "" : fields[4]);
        snprintf(c->description, sizeof c->description, "%s", fields[5]);
        if (c->load < 0 || (c->load == LOAD_OK) != (c->frame > 0)) {
            fprintf(stderr, "test_corpus: bad expectation '%s' / '%s' for case %s\n", fields[2], fields[3], c->name);
            exit(2);
        }
    }
    fclose(f);
    if (g_count == 0) {
        fprintf(stderr, "test_corpus: no cases in %s\n", file);
        exit(2);
    }
}

/* Seconds the watchdog gives a case: the frame-time-limit case needs the engine's 30 s plus the load. */
static int budget_s(const test_case* c) { return c->frame == SF_ERR_RUNTIME ? 65 : 30; }

/* ---- the child: one engine, the cases from `first` on ---------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static _Atomic double g_deadline; /* 0: no case running */
static _Atomic int g_current = -1;
static char g_step[256]; /* what the case is doing, for the hang report (written by the main thread) */

static void step(const char* s) { snprintf(g_step, sizeof g_step, "%s", s); }

static void* watchdog(void* arg)
{
    (void)arg;
    for (;;) {
        usleep(200 * 1000);
        double d = g_deadline;
        if (d > 0 && now_s() > d) {
            int i = g_current;
            printf("HANG  %-32s no answer after %d s (%s)\n@HANG %d\n", g_cases[i].name, budget_s(&g_cases[i]), g_step,
                   i);
            fflush(stdout);
            _exit(124);
        }
    }
    return NULL;
}

/* Problems found in the current case, joined with "; ". */
static char g_why[4096];

static void fail(const char* fmt, ...)
{
    size_t used = strlen(g_why);
    if (used && used + 2 < sizeof g_why) {
        strcat(g_why, "; ");
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    if (used < sizeof g_why) vsnprintf(g_why + used, sizeof g_why - used, fmt, ap);
    va_end(ap);
}

static void log_fn(void* user, int32_t level, const char* message)
{
    (void)user;
    (void)level;
    (void)message;
}

enum { W = 64, H = 48 };

typedef struct image {
    unsigned char* mem;
    sf_frame f;
} image;

static image image_new(int format)
{
    image im;
    int bpp = format == SF_FORMAT_RGBA32F ? 16 : 4;
    im.mem = calloc((size_t)W * H, (size_t)bpp);
    if (!im.mem) {
        perror("calloc");
        exit(2);
    }
    im.f.data = im.mem;
    im.f.width = W;
    im.f.height = H;
    im.f.stride = W * bpp;
    im.f.format = format;
    return im;
}

/* Channel c of pixel i as 0..255 (floats scaled). */
static double px(const image* im, int i, int c)
{
    if (im->f.format == SF_FORMAT_RGBA8) return im->mem[i * 4 + c];
    float v;
    memcpy(&v, im->mem + (size_t)i * 16 + (size_t)c * 4, sizeof v);
    return v * 255.0;
}

/* Smooth gradients over the full 0..255 range on a non-square frame: what the conditional cases turn bad on. */
static void paint(image* im)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char* p = im->mem + (size_t)(y * W + x) * 4;
            p[0] = (unsigned char)(x * 255 / (W - 1));
            p[1] = (unsigned char)(y * 255 / (H - 1));
            p[2] = (unsigned char)((x + y) * 255 / (W + H - 2));
            p[3] = (unsigned char)(200 + (x + y) % 50);
        }
}

static image g_in, g_out8, g_outf;
static sf_engine* g_engine;
static char g_good[4200];

/* The good style is loaded and works: its name is zoo_dynamic and a 64x48 RGBA8 frame gives SF_OK. */
static int good_style_works(const char* when)
{
    char name[256] = "";
    step("sf_engine_get_style_name");
    int s = sf_engine_get_style_name(g_engine, name, sizeof name);
    if (s != SF_OK || strcmp(name, "zoo_dynamic") != 0) {
        fail("%s: style name is \"%s\" (%s), want \"zoo_dynamic\"", when, name, status_name(s));
        return 0;
    }
    step("a frame with the good style");
    s = sf_engine_process_cpu(g_engine, &g_in.f, &g_out8.f);
    if (s != SF_OK) {
        fail("%s: a frame with zoo_dynamic -> %s (%s)", when, status_name(s), sf_last_error());
        return 0;
    }
    return 1;
}

static int reload_good(const char* when)
{
    step("reloading zoo_dynamic");
    int s = sf_engine_load_style(g_engine, g_good);
    if (s != SF_OK) {
        fail("%s: reloading zoo_dynamic -> %s (%s)", when, status_name(s), sf_last_error());
        return 0;
    }
    return good_style_works(when);
}

static int all_finite(const image* im)
{
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 4; c++)
            if (!isfinite(px(im, i, c))) return 0;
    return 1;
}

static int is_pass_through(const image* out)
{
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 4; c++)
            if (!(fabs(px(out, i, c) - px(&g_in, i, c)) < 0.01)) return 0;
    return 1;
}

/* Messages go into one-line reports. */
static void copy_message(char* dst, size_t size, const char* msg)
{
    snprintf(dst, size, "%s", msg ? msg : "(null)");
    for (char* p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

/* One frame with the case's style loaded: RGBA8 in, RGBA32F out (so NaN shows instead of turning black). */
static int broken_frame(char* msg, size_t size)
{
    step("a frame with the case's style");
    for (size_t i = 0; i < (size_t)W * H * 4; i++) ((float*)g_outf.mem)[i] = -7.0f; /* not a pass-through */
    int s = sf_engine_process_cpu(g_engine, &g_in.f, &g_outf.f);
    copy_message(msg, size, sf_last_error());
    return s;
}

static void expect_names_case(const test_case* c, const char* msg, const char* what)
{
    if (!strstr(msg, c->stem)) fail("%s message does not name '%s': \"%s\"", what, c->stem, msg);
}

/* True when msg contains c->names outside the case's own name (case names like manifest_version_string hold
 * the very word the message must say). */
static int names_besides_case(const char* msg, const test_case* c)
{
    char rest[2048];
    size_t n = 0, stem = strlen(c->stem);
    for (const char* p = msg; *p && n + 1 < sizeof rest;) {
        if (strncmp(p, c->stem, stem) == 0) {
            rest[n++] = '#';
            p += stem;
        } else
            rest[n++] = *p++;
    }
    rest[n] = 0;
    return strstr(rest, c->names) != NULL;
}

static void run_case(const test_case* c, char* said, size_t said_size)
{
    char msg[2048], frame_msg[2048];
    step("sf_engine_load_style");
    int s = sf_engine_load_style(g_engine, c->path);
    copy_message(msg, sizeof msg, sf_last_error());
    snprintf(said, said_size, "load %s%s%s", status_name(s), s == SF_OK ? "" : ": ", s == SF_OK ? "" : msg);

    if (s == SF_ERR_MODEL && c->load != LOAD_OK) {
        expect_names_case(c, msg, "load error");
        if (c->names[0] && !names_besides_case(msg, c)) fail("load error does not name '%s': \"%s\"", c->names, msg);
        good_style_works("after the failed load");
        return;
    }
    if (s != SF_OK) {
        fail("load -> %s, want %s", status_name(s), c->load == LOAD_OK ? "SF_OK" : "SF_ERR_MODEL");
        if (!good_style_works("after the failed load")) reload_good("after the failed load");
        return;
    }

    /* Loaded: a frame says what the style does. */
    int f = broken_frame(frame_msg, sizeof frame_msg);
    int finite = all_finite(&g_outf), passed = is_pass_through(&g_outf);
    size_t used = strlen(said);
    snprintf(said + used, said_size - used, "; frame %s%s%s%s", status_name(f),
             f == SF_OK ? (finite ? ", finite" : ", NON-FINITE output") : "", f == SF_OK ? "" : ": ",
             f == SF_OK ? "" : frame_msg);
    if (c->load == LOAD_MODEL) {
        fail("load -> SF_OK, want SF_ERR_MODEL (then a frame -> %s%s)", status_name(f),
             f == SF_OK && !finite ? " with NaN/inf output" : "");
    } else if (c->load == LOAD_OK && f != c->frame) {
        fail("frame -> %s, want %s", status_name(f), status_name(c->frame));
    } else if (c->load == LOAD_ANY && f == SF_OK && !finite) {
        fail("frame -> SF_OK with NaN/inf output");
    } else if (c->load == LOAD_ANY && f != SF_OK && f != SF_ERR_MODEL) {
        fail("frame -> %s, want SF_OK or SF_ERR_MODEL", status_name(f));
    }
    if (f != SF_OK) {
        if (!passed) fail("the failed frame's output is not the pass-through copy of the input");
        if (f != SF_ERR_INTERNAL) expect_names_case(c, frame_msg, "frame error");
    }
    reload_good("after the case's style");
}

/* A field of /proc/self/status in KiB (VmRSS: resident now; VmHWM: peak since the last reset_peak). */
static long status_kib(const char* field)
{
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = atol(line + n + 1);
            break;
        }
    if (f) fclose(f);
    return v;
}

static void reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1) { /* older kernels: the peak is then cumulative */
        }
        close(fd);
    }
}

/* Lines ONNX Runtime's own logger wrote to stderr (fd 2 is a file the supervisor made) since offset. */
static int ort_lines_since(off_t offset, char* first, size_t size)
{
    struct stat st;
    if (fstat(2, &st) != 0 || st.st_size <= offset) return 0;
    size_t n = (size_t)(st.st_size - offset);
    if (n > (1 << 20)) n = 1 << 20;
    char* buf = malloc(n + 1);
    if (!buf) return 0;
    ssize_t got = pread(2, buf, n, offset);
    int count = 0;
    buf[got > 0 ? got : 0] = 0;
    for (char* line = buf; line && *line;) {
        char* end = strchr(line, '\n');
        if (end) *end = 0;
        /* ONNX Runtime's default sink: "... [E:onnxruntime:, inference_session.cc:...] ..." */
        if (strstr(line, ":onnxruntime:")) {
            if (count++ == 0) snprintf(first, size, "%.300s", line);
        }
        line = end ? end + 1 : NULL;
    }
    free(buf);
    return count;
}

static int run_child(int first, const char* lib_path, const char* models)
{
    const char* mem = getenv("STYLEFILTER_CORPUS_MEM_MB");
    long mem_mb = mem ? atol(mem) : 4096;
    if (mem_mb > 0) {
        struct rlimit r = {(rlim_t)mem_mb << 20, (rlim_t)mem_mb << 20};
        setrlimit(RLIMIT_AS, &r);
    }
    fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_APPEND);
    snprintf(g_good, sizeof g_good, "%s/zoo_dynamic.onnx", models);

    char err[1024];
    if (!sf_load(lib_path, err, sizeof err)) {
        printf("setup: %s\n@SETUP-FAILED\n", err);
        return 2;
    }

    pthread_t t;
    pthread_create(&t, NULL, watchdog, NULL);
    /* With a callback installed, neither the engine nor ONNX Runtime may write to stderr. */
    sf_set_log_callback(log_fn, NULL, SF_LOG_DEBUG);
    sf_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.intra_op_threads = 1; /* the machine is shared: one core is enough for 64x48 frames */
    o.device = SF_DEVICE_CPU;
    g_in = image_new(SF_FORMAT_RGBA8);
    g_out8 = image_new(SF_FORMAT_RGBA8);
    g_outf = image_new(SF_FORMAT_RGBA32F);
    paint(&g_in);
    int s = sf_engine_create(&o, &g_engine);
    if (s == SF_OK) s = sf_engine_load_style(g_engine, g_good);
    if (s != SF_OK || !good_style_works("setup")) {
        printf("setup: engine with %s: %s %s %s\n@SETUP-FAILED\n", g_good, status_name(s), sf_last_error(), g_why);
        return 2;
    }

    for (int i = first; i < g_count; i++) {
        const test_case* c = &g_cases[i];
        printf("@START %d\n", i);
        fflush(stdout);
        g_why[0] = 0;
        struct stat st;
        off_t err_at = fstat(2, &st) == 0 ? st.st_size : 0;
        reset_peak();
        long peak_before = status_kib("VmHWM"); /* the resident size now, or the old peak where resets fail */
        g_current = i;
        g_deadline = now_s() + budget_s(c);
        double started = now_s();
        char said[4096];
        run_case(c, said, sizeof said);
        g_deadline = 0;
        double took = now_s() - started;
        long peak = status_kib("VmHWM");
        if (peak_before > 0 && peak > 0 && peak - peak_before > 768 * 1024)
            fail("peak memory %ld MiB above the %ld MiB before the case", (peak - peak_before) / 1024,
                 peak_before / 1024);
        char ort[512] = "";
        int n = ort_lines_since(err_at, ort, sizeof ort);
        if (n) fail("%d ONNX Runtime line(s) on stderr, e.g. %s", n, ort);
        if (strstr(said, "SF_ERR_INTERNAL")) fail("SF_ERR_INTERNAL");
        int ok = g_why[0] == 0;
        printf("%s  %-32s %.1fs  %s\n", ok ? "PASS" : "FAIL", c->name, took, said);
        if (!ok) printf("      %s  [%s]\n", g_why, c->description);
        printf("@DONE %d %s\n", i, ok ? "PASS" : "FAIL");
        fflush(stdout);
    }
    sf_engine_destroy(g_engine);
    printf("@END\n");
    fflush(stdout);
    return 0;
}

/* ---- the supervisor ----------------------------------------------------------------------------------- */

int main(int argc, char** argv)
{
    if (argc == 6 && strcmp(argv[1], "--child") == 0) {
        read_cases(argv[5]);
        return run_child(atoi(argv[2]), argv[3], argv[4]);
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s PATH/stylefilter.so MODELS_DIR CORPUS_DIR\n", argv[0]);
        return 2;
    }
    read_cases(argv[3]);
    printf("test_corpus: %s, %d cases from %s/cases.tsv\n", argv[1], g_count, argv[3]);
    fflush(stdout);

    char err_path[] = "/tmp/test_corpus_stderr_XXXXXX";
    int err_fd = mkstemp(err_path);
    if (err_fd < 0) {
        perror("mkstemp");
        return 2;
    }
    unlink(err_path);

    int pass = 0, wrong = 0, hangs = 0, next = 0, bad_exit = 0;
    while (next < g_count) {
        int fds[2];
        if (pipe(fds) != 0) {
            perror("pipe");
            return 2;
        }
        char first[16];
        snprintf(first, sizeof first, "%d", next);
        if (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) != 0) {
            perror("stderr file");
            return 2;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            dup2(fds[1], 1);
            dup2(err_fd, 2);
            close(fds[0]);
            close(fds[1]);
            char* args[] = {argv[0], "--child", first, argv[1], argv[2], argv[3], NULL};
            execv("/proc/self/exe", args);
            _exit(127);
        }
        close(fds[1]);
        FILE* r = fdopen(fds[0], "r");
        char line[16384];
        int current = -1, hung = -1, setup_failed = 0;
        while (fgets(line, sizeof line, r)) {
            int i;
            char result[16];
            if (sscanf(line, "@START %d", &i) == 1)
                current = i;
            else if (sscanf(line, "@DONE %d %15s", &i, result) == 2) {
                if (strcmp(result, "PASS") == 0)
                    pass++;
                else
                    wrong++;
                current = -1;
                next = i + 1;
            } else if (sscanf(line, "@HANG %d", &i) == 1)
                hung = i;
            else if (strncmp(line, "@SETUP-FAILED", 13) == 0)
                setup_failed = 1;
            else if (line[0] != '@')
                fputs(line, stdout);
        }
        fclose(r);
        int status = 0;
        waitpid(pid, &status, 0);
        if (current >= 0) { /* the child died inside a case */
            if (hung == current)
                hangs++;
            else {
                wrong++;
                printf("FAIL  %-32s the process died: %s %d  [%s]\n", g_cases[current].name,
                       WIFSIGNALED(status) ? "signal" : "exit status",
                       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), g_cases[current].description);
                char tail[2048];
                ssize_t n = pread(err_fd, tail, sizeof tail - 1, 0);
                if (n > 0) {
                    tail[n] = 0;
                    printf("      its stderr began: %s\n", tail);
                }
            }
            next = current + 1;
        } else if (next >= g_count && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            printf("test_corpus: the child ended badly after the last case (%s %d, destroying the engine?)\n",
                   WIFSIGNALED(status) ? "signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            bad_exit = 1;
        } else if (next < g_count) { /* died between cases, or could not set up: count the rest as failures */
            printf("test_corpus: the child stopped before case %d (%s)%s; the remaining %d cases count as failures\n",
                   next, g_cases[next].name, setup_failed ? ": setup failed" : "", g_count - next);
            wrong += g_count - next;
            break;
        }
    }
    printf("\ntest_corpus: %d models, %d pass, %d wrong results, %d hangs\n", g_count, pass, wrong, hangs);
    return wrong + hangs + bad_exit == 0 ? 0 : 1;
}
