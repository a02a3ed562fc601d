/*
 * fuzz_abi.c - randomised calls through stylefilter.h, each checked by an oracle (issue 12).
 *
 *     fuzz_abi PATH/stylefilter.so MODELS_DIR [--seed N] [--seconds S] [--threads T]
 *
 * Phase 1 (guard pages): versioned structs that end right before an unmapped page, with a struct_size the
 * engine must reject (or accept) after reading struct_size alone. Each case runs in a forked child, so a
 * crash is reported as that case's failure, not as a dead fuzzer.
 *
 * Phase 2 (fuzzing): T threads call random ABI functions with random but memory-valid arguments (pointers
 * are NULL or point at real memory; a frame's memory covers what its description claims wherever the
 * description can be covered at all, so only rejecting it keeps a library safe), on engines private to a thread,
 * engines shared by all threads, destroyed handles, NULL and never-created handle values. The oracle checks
 * what the header and the issue-12 guarantees let it predict: statuses, sf_last_error, values read back,
 * finite output, untouched padding, a failed load keeping the previous style. A private engine carries a
 * mirror of its state (style, parameters, frame counts), so its calls are checked exactly; calls on shared
 * engines are checked only for what holds whatever the other threads did.
 *
 * The run is deterministic per seed and thread (each thread has its own generator), not in how threads
 * interleave. Defaults: --seed 1 --seconds 60 (the whole run) --threads 4. MODELS_DIR is the folder of
 * build/make_models.py; it is also put in STYLEFILTER_MODELS so that bundled names resolve.
 *
 * Exit status: 0 all results as predicted, 1 wrong results, 2 usage or setup error, 3 a call hung (the
 * watchdog saw one run longer than 20 s; it names the call). A crash is the process dying.
 */
#define _GNU_SOURCE
#include "sf_loader.h"

#include <dlfcn.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the library ---------------------------------------------------------------------------------------- */

static const char* status_name(int s)
{
    static const char* const names[] = {
        "SF_OK",           "SF_ERR_INVALID_ARGUMENT", "SF_ERR_MODEL",   "SF_ERR_RUNTIME", "SF_ERR_INVALID_HANDLE",
        "SF_ERR_NO_STYLE", "SF_ERR_UNSUPPORTED",      "SF_ERR_INTERNAL"};
    return s >= 0 && s <= SF_ERR_INTERNAL ? names[s] : "(status out of range)";
}

/* A set of statuses as a bit mask. */
#define S(status) (1u << (status))

/* ---- small tools ---------------------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* splitmix64: one generator per thread, seeded from seed and thread number. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng* r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int below(rng* r, int n) { return (int)(rnd(r) % (uint64_t)n); }
static int between(rng* r, int lo, int hi) { return lo + below(r, hi - lo + 1); }
static int one_in(rng* r, int n) { return below(r, n) == 0; }
static double uniform(rng* r) { return (double)(rnd(r) >> 11) * (1.0 / 9007199254740992.0); }
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PICK(r, a) ((a)[below((r), COUNT(a))])

static long atomic_add(long* p, long n) { return __atomic_add_fetch(p, n, __ATOMIC_RELAXED); }
static long atomic_get(long* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void* xmalloc(size_t n)
{
    void* p = malloc(n ? n : 1);
    if (!p) {
        perror("fuzz_abi: malloc");
        exit(2);
    }
    return p;
}

/* ---- results -------------------------------------------------------------------------------------------- */

enum { WRONG_SUCCESS, WRONG_FAILURE, WRONG_OTHER };
static const char* const g_wrong_names[] = {"wrong success", "wrong failure", "wrong result"};

/* One kind of wrong result: a short key (call, what came back, what was due) and its first example. */
typedef struct finding {
    char key[240];
    char example[1200];
    int kind;
    long count;
} finding;

enum { MAX_FINDINGS = 256, EXAMPLES_PRINTED = 2 };
static finding g_findings[MAX_FINDINGS];
static int g_nfindings;
static pthread_mutex_t g_findings_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_wrong[3], g_calls;

static void record(int kind, const char* key, const char* example)
{
    pthread_mutex_lock(&g_findings_lock);
    g_wrong[kind]++;
    finding* f = NULL;
    for (int i = 0; i < g_nfindings && !f; i++)
        if (strcmp(g_findings[i].key, key) == 0) f = &g_findings[i];
    if (!f && g_nfindings < MAX_FINDINGS) {
        f = &g_findings[g_nfindings++];
        snprintf(f->key, sizeof f->key, "%s", key);
        snprintf(f->example, sizeof f->example, "%s", example);
        f->kind = kind;
    }
    long n = f ? ++f->count : 0;
    if (n <= EXAMPLES_PRINTED) printf("WRONG (%s) %s\n    %s\n", g_wrong_names[kind], key, example);
    fflush(stdout);
    pthread_mutex_unlock(&g_findings_lock);
}

static void print_summary(int seed, int threads, long hangs)
{
    pthread_mutex_lock(&g_findings_lock);
    long wrong = g_wrong[0] + g_wrong[1] + g_wrong[2];
    if (g_nfindings) {
        printf("\nfuzz_abi: %d kinds of wrong results (count, kind, first example):\n", g_nfindings);
        for (int i = 0; i < g_nfindings; i++)
            printf("  %6ld  %-13s %s\n          e.g. %s\n", g_findings[i].count, g_wrong_names[g_findings[i].kind],
                   g_findings[i].key, g_findings[i].example);
    }
    printf("fuzz_abi: %ld wrong successes, %ld wrong failures, %ld other wrong results\n", g_wrong[0], g_wrong[1],
           g_wrong[2]);
    printf("fuzz_abi: seed %d threads %d: %ld calls, %ld wrong results, %ld hangs (calls over 20 s), 0 crashes\n", seed,
           threads, atomic_get(&g_calls), wrong, hangs);
    fflush(stdout);
    pthread_mutex_unlock(&g_findings_lock);
}

/* ---- phase 1: structs that end at an unmapped page --------------------------------------------------------- */

enum { GUARD_OPTIONS, GUARD_STATS, GUARD_INFO };

typedef struct guard_case {
    int which;            /* GUARD_OPTIONS, GUARD_STATS, GUARD_INFO */
    uint32_t bytes;       /* mapped bytes of the struct: they end where the unmapped page starts */
    uint32_t struct_size; /* the value written into struct_size */
    int want;
} guard_case;

/* Runs in the child: the struct's last byte is the last byte before a PROT_NONE page. Exit 0 when as wanted. */
static int guard_child(const char* lib, const guard_case* c)
{
    char err[512];
    if (!sf_load(lib, err, sizeof err)) {
        printf("  %s\n", err);
        return 2;
    }
    long page = sysconf(_SC_PAGESIZE);
    unsigned char* map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map + page, (size_t)page, PROT_NONE) != 0) {
        perror("mmap");
        return 2;
    }
    unsigned char* p = map + page - c->bytes;
    memcpy(p, &c->struct_size, sizeof c->struct_size); /* fields after struct_size stay zero */
    sf_engine* e = NULL;
    int got, rc = 0;
    switch (c->which) {
    case GUARD_OPTIONS:
        got = sf_engine_create((const sf_engine_options*)(void*)p, &e);
        if (got == SF_OK && sf_engine_destroy(e) != SF_OK) {
            printf("  destroy after create failed\n");
            rc = 1;
        }
        break;
    case GUARD_STATS:
        if (sf_engine_create(NULL, &e) != SF_OK) {
            printf("  create: %s\n", sf_last_error());
            return 2;
        }
        got = sf_engine_get_stats(e, (sf_stats*)(void*)p);
        sf_engine_destroy(e);
        break;
    default: got = sf_get_style_info("zoo_dynamic", (sf_style_info*)(void*)p); break;
    }
    if (got != c->want) {
        printf("  got %s, want %s (last error \"%s\")\n", status_name(got), status_name(c->want), sf_last_error());
        rc = 1;
    }
    fflush(stdout);
    return rc;
}

static void guard_phase(const char* lib)
{
    const uint32_t opt = sizeof(sf_engine_options), stats = sizeof(sf_stats), info = sizeof(sf_style_info);
    const guard_case cases[] = {
        /* The crash: struct_size says "too small", and only that many bytes exist. */
        {GUARD_OPTIONS, 4, 4, SF_ERR_INVALID_ARGUMENT},
        {GUARD_OPTIONS, 8, 8, SF_ERR_INVALID_ARGUMENT},
        {GUARD_OPTIONS, 16, 16, SF_ERR_INVALID_ARGUMENT},
        {GUARD_OPTIONS, 23, 23, SF_ERR_INVALID_ARGUMENT},
        /* Rejected on struct_size alone, whatever follows it. */
        {GUARD_OPTIONS, 4, 23, SF_ERR_INVALID_ARGUMENT},
        {GUARD_OPTIONS, 4, 4097, SF_ERR_INVALID_ARGUMENT},
        {GUARD_OPTIONS, 4, UINT32_MAX, SF_ERR_INVALID_ARGUMENT},
        /* A whole struct at the end of the page, and a newer host's 4096-byte struct, are read and accepted. */
        {GUARD_OPTIONS, opt, opt, SF_OK},
        {GUARD_OPTIONS, 4096, 4096, SF_OK},
        /* The output structs follow the same rule. */
        {GUARD_STATS, 4, 4, SF_ERR_INVALID_ARGUMENT},
        {GUARD_STATS, 8, 8, SF_ERR_INVALID_ARGUMENT},
        {GUARD_STATS, stats, stats, SF_OK},
        {GUARD_INFO, 4, 4, SF_ERR_INVALID_ARGUMENT},
        {GUARD_INFO, info, info, SF_OK},
    };
    static const char* const what[] = {"sf_engine_create(options", "sf_engine_get_stats(stats",
                                       "sf_get_style_info(info"};
    printf("== phase 1: structs ending at an unmapped page\n");
    for (int i = 0; i < COUNT(cases); i++) {
        const guard_case* c = &cases[i];
        char name[160];
        snprintf(name, sizeof name, "%s: %u bytes before a PROT_NONE page, struct_size %u) -> %s", what[c->which],
                 c->bytes, c->struct_size, status_name(c->want));
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(60);
            _exit(guard_child(lib, c));
        }
        int ws = 0;
        if (pid < 0 || waitpid(pid, &ws, 0) != pid) {
            perror("fuzz_abi: fork");
            exit(2);
        }
        char example[400], key[200];
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
            printf("  ok    %s\n", name);
            continue;
        }
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 2) {
            printf("fuzz_abi: guard case could not start: %s\n", name);
            exit(2);
        }
        if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM) {
            snprintf(key, sizeof key, "guard page: %s) did not return within 60 s", what[c->which]);
            snprintf(example, sizeof example, "%s: hung", name);
        } else if (WIFSIGNALED(ws)) {
            snprintf(key, sizeof key, "guard page: %s crashed (%s)", what[c->which], strsignal(WTERMSIG(ws)));
            snprintf(example, sizeof example, "%s: the child died of signal %d (%s)", name, WTERMSIG(ws),
                     strsignal(WTERMSIG(ws)));
        } else {
            snprintf(key, sizeof key, "guard page: %s) returned the wrong status", what[c->which]);
            snprintf(example, sizeof example, "%s: see the line above", name);
        }
        printf("  FAIL  %s\n", name);
        record(c->want == SF_OK ? WRONG_FAILURE : WRONG_OTHER, key, example);
    }
}

/* ---- styles --------------------------------------------------------------------------------------------- */

typedef struct style {
    char arg[4200];  /* what sf_engine_load_style gets */
    char token[128]; /* what the error message must name: the last path component without extension */
    int valid;       /* 1 loads, 0 fails with SF_ERR_MODEL, -1 fails with SF_ERR_INVALID_ARGUMENT */
    int exists;      /* the file exists (sf_get_style_info reads manifests only, so it may describe it) */
    char name[256];  /* valid: the style name once loaded (learnt in setup from sf_get_style_info's title) */
    int mix_count;   /* valid: sf_engine_get_style_mix_count once loaded (learnt in setup) */
    char mix_names[4][64];
} style;

static style g_styles[24];
static int g_nstyles;
static size_t g_list_needed;
static const char* g_models;
static int g_log_tag;
static long g_log_messages, g_log_bad;

static void add_style(int valid, int exists, const char* fmt, const char* rel)
{
    style* s = &g_styles[g_nstyles++];
    memset(s, 0, sizeof *s);
    snprintf(s->arg, sizeof s->arg, fmt, g_models, rel);
    const char* slash = strrchr(s->arg, '/');
    snprintf(s->token, sizeof s->token, "%s", slash ? slash + 1 : s->arg);
    char* dot = strrchr(s->token, '.');
    if (dot && dot != s->token) *dot = 0; /* messages may name a model by its file name without extension */
    s->valid = valid;
    s->exists = exists;
}

static void define_styles(void)
{
    add_style(1, 1, "%s/%s", "zoo_dynamic.onnx");
    add_style(1, 1, "%.0s%s", "zoo_dynamic"); /* a bundled name (STYLEFILTER_MODELS) */
    add_style(1, 1, "%s/%s", "zoo_fixed64.onnx");
    add_style(1, 1, "%s/%s", "identity.onnx");
    add_style(1, 1, "%s/%s", "pack_basic");
    add_style(1, 1, "%.0s%s", "pack_basic");
    add_style(1, 1, "%s/%s", "pack_basic.zip");
    add_style(1, 1, "%s/%s", "pack_mix");
    add_style(0, 1, "%s/%s", "corrupt.onnx");
    add_style(0, 1, "%s/%s", "wrong_rank.onnx");
    add_style(0, 0, "%s/%s", "no_such_dir/missing_style.onnx");
    add_style(0, 0, "%s/%s", "no_such_pack");
    add_style(0, 0, "%.0s%s", "/nonexistent_fuzz_dir/absent.onnx");
    add_style(0, 0, "%.0s%s", "no_such_style_xyz");
    add_style(-1, 0, "%.0s%s", "");
}

static void on_log(void* user, int32_t level, const char* message)
{
    atomic_add(&g_log_messages, 1);
    if (user != &g_log_tag || level < SF_LOG_ERROR || level > SF_LOG_DEBUG || message == NULL)
        atomic_add(&g_log_bad, 1);
}

/* ---- stderr: ONNX Runtime must not write there itself (spec 9) ----------------------------------------------- */

/*
 * stderr becomes a pipe to a forked process that passes everything on to the real stderr and counts the lines of
 * ONNX Runtime's own default logger ("[E:onnxruntime:..."), which belong in the log callback. A process, not a
 * thread, so that what a dying fuzzer wrote last still reaches the terminal.
 */
static int g_real_stderr = -1, g_tee_result = -1;
static pid_t g_tee_pid;

static void tee_main(int in, int result)
{
    char buf[4096], line[4096], example[300] = "";
    size_t used = 0;
    long ort_lines = 0;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(2, buf, (size_t)n) < 0) { /* nothing to do: the line is still counted */
        }
        for (ssize_t i = 0; i <= n; i++) {
            int eol = i == n ? 0 : buf[i] == '\n';
            if (i < n && !eol && used < sizeof line - 1 && (unsigned char)buf[i] >= ' ')
                line[used++] = buf[i]; /* no colour codes */
            if (!eol) continue;
            line[used] = 0;
            if (strstr(line, ":onnxruntime:") && strncmp(line, "[stylefilter]", 13) != 0 && ort_lines++ == 0)
                snprintf(example, sizeof example, "%.250s", line);
            used = 0;
        }
    }
    char report[400];
    int len = snprintf(report, sizeof report, "%ld\n%s", ort_lines, example);
    if (write(result, report, (size_t)len) < 0) _exit(1);
    _exit(0);
}

static void start_stderr_tee(void)
{
    int data[2], result[2];
    if (pipe(data) != 0 || pipe(result) != 0) return;
    fflush(stderr);
    g_tee_pid = fork();
    if (g_tee_pid == 0) {
        close(data[1]);
        close(result[0]);
        tee_main(data[0], result[1]);
    }
    close(data[0]);
    close(result[1]);
    if (g_tee_pid < 0) {
        close(data[1]);
        close(result[0]);
        return;
    }
    g_real_stderr = dup(2);
    dup2(data[1], 2);
    close(data[1]);
    g_tee_result = result[0];
}

/* Restores stderr; returns the number of ONNX Runtime lines seen (-1: unknown) and the first in example. */
static long finish_stderr_tee(char* example, size_t size)
{
    example[0] = 0;
    if (g_tee_result < 0) return -1;
    fflush(stderr);
    dup2(g_real_stderr, 2); /* closes the pipe's last write end: the tee sees the end and reports */
    struct pollfd p = {g_tee_result, POLLIN, 0};
    char report[400];
    ssize_t n = poll(&p, 1, 5000) == 1 ? read(g_tee_result, report, sizeof report - 1) : -1;
    waitpid(g_tee_pid, NULL, WNOHANG);
    if (n <= 0) return -1;
    report[n] = 0;
    char* nl = strchr(report, '\n');
    snprintf(example, size, "%s", nl ? nl + 1 : "");
    return atol(report);
}

/* ---- threads, engines and mirrors ----------------------------------------------------------------------- */

enum { PRIVATE_ENGINES = 2, SHARED_ENGINES = 2, DEAD_MAX = 512 };
/* A call running longer is a hang (the spec's own limits: 10 s per load probe, 30 s per frame for hostile models;
 * the test models take well under a second). */
#ifndef HANG_SECONDS
#define HANG_SECONDS 20
#endif

#define LAST_PARAM SF_PARAM_NETWORK_TIER

/* A private engine and what this thread knows of it. */
typedef struct engine {
    sf_engine* h;
    int known;                    /* 1: the fields below mirror the engine; 0 after a surprise, until resynchronised */
    int style;                    /* index into g_styles of the loaded style, -1 for none */
    double param[LAST_PARAM + 1]; /* by sf_param id */
    uint64_t frames, pass_through;
    char label[48]; /* "private", with the options it was created with when they were not the usual ones */
} engine;

typedef struct worker {
    int id;
    rng r;
    pthread_t thread;
    engine priv[PRIVATE_ENGINES];
    pthread_mutex_t lock; /* what and since, read by the watchdog */
    char what[600];       /* the call in progress (or the last one) */
    const char* fn;
    double since;  /* when the call in progress started; 0 when none */
    char err[700]; /* sf_last_error of the last call */
} worker;

static sf_engine* g_shared[SHARED_ENGINES];
static pthread_mutex_t g_shared_lock = PTHREAD_MUTEX_INITIALIZER;
static sf_engine* g_dead[DEAD_MAX];
static int g_ndead;
static pthread_mutex_t g_dead_lock = PTHREAD_MUTEX_INITIALIZER;
static worker* g_workers;
static int g_nworkers;
static double g_deadline;
static volatile int g_done;
static int g_seed_arg, g_threads_arg;
static char g_bogus_anchor[64]; /* its address is a handle value the library never handed out */

static void begin(worker* w, const char* fn, const char* fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&w->lock);
    w->fn = fn;
    va_start(ap, fmt);
    vsnprintf(w->what, sizeof w->what, fmt, ap);
    va_end(ap);
    w->since = now_s();
    pthread_mutex_unlock(&w->lock);
}

static void end(worker* w)
{
    pthread_mutex_lock(&w->lock);
    w->since = 0;
    pthread_mutex_unlock(&w->lock);
    atomic_add(&g_calls, 1);
    const char* e = sf_last_error(); /* before any other call: the string lives until the next one */
    snprintf(w->err, sizeof w->err, "%s", e ? e : "(NULL)");
    if (e == NULL) w->err[0] = 1; /* never NULL: flagged by expect */
}

static void wrong(worker* w, int kind, const char* key, const char* fmt, ...)
{
    char detail[300] = "", example[1200];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    snprintf(example, sizeof example, "thread %d: %s%s%s (last error \"%.200s\")", w->id, w->what,
             detail[0] ? ": " : "", detail, w->err);
    record(kind, key, example);
}

static void mask_names(unsigned mask, char* out, size_t size)
{
    out[0] = 0;
    for (int s = 0; s <= SF_ERR_INTERNAL; s++)
        if (mask & S(s)) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%s%s", used ? "|" : "", status_name(s));
        }
}

/*
 * The oracle's verdict on a status: allowed is the set the call may return; tag says what kind of call it was
 * (it becomes part of the finding's key). Also checks sf_last_error: "" after SF_OK, a message after a failure.
 * Returns 1 when the status was allowed.
 */
static int expect(worker* w, int got, unsigned allowed, const char* tag)
{
    char key[200], want[160];
    int ok = got >= SF_OK && got <= SF_ERR_INTERNAL && (allowed & S(got));
    if (!ok) {
        /* A shared engine may also say INVALID_HANDLE; leaving that out of the key groups it with private ones. */
        unsigned outcomes = S(SF_OK) | S(SF_ERR_NO_STYLE) | S(SF_ERR_MODEL) | S(SF_ERR_UNSUPPORTED);
        unsigned shown = allowed & outcomes ? allowed & ~S(SF_ERR_INVALID_HANDLE) : allowed;
        mask_names(shown, want, sizeof want);
        snprintf(key, sizeof key, "%s: %s, want %s [%s]", w->fn, status_name(got), want, tag);
        int kind = got == SF_OK ? WRONG_SUCCESS : got > SF_OK && got <= SF_ERR_INTERNAL ? WRONG_FAILURE : WRONG_OTHER;
        wrong(w, kind, key, "returned %d", got);
    }
    if (w->err[0] == 1) {
        snprintf(key, sizeof key, "sf_last_error returned NULL after %s", w->fn);
        wrong(w, WRONG_OTHER, key, NULL);
    } else if (got == SF_OK && w->err[0]) {
        snprintf(key, sizeof key, "%s: sf_last_error not \"\" after SF_OK", w->fn);
        wrong(w, WRONG_OTHER, key, NULL);
    } else if (got != SF_OK && !w->err[0]) {
        snprintf(key, sizeof key, "%s: sf_last_error \"\" after %s", w->fn, status_name(got));
        wrong(w, WRONG_OTHER, key, NULL);
    }
    return ok;
}

static void add_dead(sf_engine* h)
{
    pthread_mutex_lock(&g_dead_lock);
    g_dead[g_ndead++ % DEAD_MAX] = h;
    pthread_mutex_unlock(&g_dead_lock);
}

static int was_destroyed(sf_engine* h)
{
    int found = 0;
    pthread_mutex_lock(&g_dead_lock);
    for (int i = 0; i < g_ndead && i < DEAD_MAX; i++) found |= g_dead[i] == h;
    pthread_mutex_unlock(&g_dead_lock);
    return found;
}

/* Handle to pass, and what the oracle may assume about it. */
typedef struct target {
    sf_engine* h;
    engine* priv;      /* a private engine (its mirror is usable when priv->known), else NULL */
    int live;          /* 0: destroyed, NULL or never created: every call must say SF_ERR_INVALID_HANDLE */
    int shared;        /* another thread may destroy it at any time */
    const char* label; /* for messages */
} target;

/* Makes e the private engine for handle h and mirrors it. */
static void adopt(worker* w, engine* e, sf_engine* h, const char* label);

static const char* param_name(int p);
static void resync(worker* w, engine* e);

/* A private engine: created with one intra-op thread (the CPU is shared), mirrored from its get_param. */
static void create_private(worker* w, engine* e)
{
    sf_engine_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.intra_op_threads = 1;
    sf_engine* h = NULL;
    begin(w, "sf_engine_create", "sf_engine_create({struct_size %u, intra_op_threads 1}) for a private engine",
          o.struct_size);
    int st = sf_engine_create(&o, &h);
    end(w);
    if (!expect(w, st, S(SF_OK), "private engine") || h == NULL) return;
    adopt(w, e, h, "private");
}

static target pick_target(worker* w)
{
    target t = {NULL, NULL, 1, 0, "private"};
    int k = below(&w->r, 100);
    if (k < 50) {
        engine* e = &w->priv[below(&w->r, PRIVATE_ENGINES)];
        if (!e->h) create_private(w, e);
        if (e->h) {
            t.h = e->h;
            t.priv = e;
            t.label = e->label;
            return t;
        }
        k = 50;
    }
    if (k < 75) {
        pthread_mutex_lock(&g_shared_lock);
        t.h = g_shared[below(&w->r, SHARED_ENGINES)];
        pthread_mutex_unlock(&g_shared_lock);
        t.shared = t.h != NULL;
        t.live = t.h != NULL; /* NULL while another thread replaces it */
        t.label = t.h ? "shared" : "NULL (shared slot being replaced)";
        return t;
    }
    t.live = 0;
    if (k < 88) {
        pthread_mutex_lock(&g_dead_lock);
        int n = g_ndead < DEAD_MAX ? g_ndead : DEAD_MAX;
        t.h = n ? g_dead[below(&w->r, n)] : NULL;
        pthread_mutex_unlock(&g_dead_lock);
        t.label = t.h ? "destroyed" : "NULL";
    } else if (k < 94) {
        t.label = "NULL";
    } else {
        static const uintptr_t bogus[] = {0x1234, 0xdeadbeef, UINTPTR_MAX, 0x8000000000000001ull};
        uintptr_t v = one_in(&w->r, 2) ? PICK(&w->r, bogus) : (uintptr_t)&g_bogus_anchor[below(&w->r, 64)];
        t.h = (sf_engine*)v;
        t.label = "never created";
    }
    return t;
}

/* Usable mirror of the target, or NULL. */
static engine* mirror(const target* t) { return t->priv && t->priv->known ? t->priv : NULL; }

/* The allowed set for a call on t, given what a live engine may return; bad_args: the arguments are also invalid. */
static unsigned on_target(const target* t, unsigned live_allowed, int bad_args)
{
    if (!t->live) return S(SF_ERR_INVALID_HANDLE) | (bad_args ? S(SF_ERR_INVALID_ARGUMENT) : 0);
    return live_allowed | (t->shared ? S(SF_ERR_INVALID_HANDLE) : 0);
}

static const char* style_label(const target* t)
{
    engine* m = mirror(t);
    if (!m) return t->live ? (t->shared ? "shared engine" : "private engine, state unknown") : "dead handle";
    return m->style < 0 ? "no style" : g_styles[m->style].token;
}

/* ---- images --------------------------------------------------------------------------------------------- */

enum { TAIL = 64, FILL = 0xA5 };

typedef struct image {
    unsigned char* mem; /* the frame's span, then TAIL bytes that must stay FILL */
    size_t span, bytes;
    sf_frame f;
    int nonfinite, huge; /* RGBA32F input holds NaN/inf, or huge finite values */
} image;

static int bytes_per_pixel(int format) { return format == SF_FORMAT_RGBA32F ? 16 : 4; }

static void image_alloc(image* im, int w, int h, int stride, int format)
{
    memset(im, 0, sizeof *im);
    int bpp = format >= SF_FORMAT_RGBA8 && format <= SF_FORMAT_RGBA32F ? bytes_per_pixel(format) : 4;
    im->span = (size_t)stride * (size_t)(h - 1) + (size_t)w * (size_t)bpp;
    im->bytes = im->span + TAIL;
    im->mem = xmalloc(im->bytes);
    memset(im->mem, FILL, im->bytes);
    im->f.data = im->mem;
    im->f.width = w;
    im->f.height = h;
    im->f.stride = stride;
    im->f.format = format;
}

static void image_free(image* im)
{
    free(im->mem);
    im->mem = NULL;
}

static int random_stride(rng* r, int w, int format)
{
    int row = w * bytes_per_pixel(format);
    if (below(r, 100) < 60) return row;
    return row + (format == SF_FORMAT_RGBA32F ? 4 * between(r, 1, 16) : between(r, 1, 64));
}

static float* fpx(image* im, int x, int y)
{
    return (float*)(void*)(im->mem + (size_t)y * im->f.stride + (size_t)x * 16);
}

/* Picture content: gradients and noise; for RGBA32F sometimes NaN, inf or huge values (hostile 1). */
static void paint(image* im, rng* r, int hostile)
{
    uint32_t s = (uint32_t)rnd(r);
    int w = im->f.width, h = im->f.height;
    for (int y = 0; y < h; y++) {
        unsigned char* row = im->mem + (size_t)y * im->f.stride;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++) {
                s = s * 1664525u + 1013904223u;
                int v = (c == 0   ? x * 255 / (w > 1 ? w - 1 : 1)
                         : c == 1 ? y * 255 / (h > 1 ? h - 1 : 1)
                         : c == 2 ? 128
                                  : 255) +
                        (int)(s >> 27) - 16;
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                if (im->f.format == SF_FORMAT_RGBA32F) {
                    float f = (float)v / 255.0f;
                    memcpy(row + (size_t)x * 16 + (size_t)c * 4, &f, sizeof f);
                } else {
                    row[x * 4 + c] = (unsigned char)v;
                }
            }
    }
    if (!hostile || im->f.format != SF_FORMAT_RGBA32F) return;
    static const float nonfinite[] = {NAN, -NAN, INFINITY, -INFINITY};
    static const float huge[] = {1e30f, -3e38f, FLT_MAX, 65504.0f * 4};
    int mode = below(r, 6);
    if (mode <= 2) { /* a few pixels */
        for (int i = between(r, 1, 5); i > 0; i--) fpx(im, below(r, w), below(r, h))[below(r, 4)] = PICK(r, nonfinite);
        im->nonfinite = 1;
    } else if (mode == 3) { /* a whole row, every channel */
        int y = below(r, h);
        float v = PICK(r, nonfinite);
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++) fpx(im, x, y)[c] = v;
        im->nonfinite = 1;
    } else if (mode == 4) { /* huge but finite */
        for (int i = between(r, 1, 5); i > 0; i--) fpx(im, below(r, w), below(r, h))[below(r, 3)] = PICK(r, huge);
        im->huge = 1;
    } else { /* HDR: modest values beyond 0..1 everywhere */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) fpx(im, x, y)[c] = fpx(im, x, y)[c] * 3.0f - 1.0f;
    }
}

static int padding_intact(const image* im)
{
    int row = im->f.width * bytes_per_pixel(im->f.format);
    for (int y = 0; y + 1 < im->f.height; y++)
        for (int i = row; i < im->f.stride; i++)
            if (im->mem[(size_t)y * im->f.stride + i] != FILL) return 0;
    for (size_t i = im->span; i < im->bytes; i++)
        if (im->mem[i] != FILL) return 0;
    return 1;
}

/* Index of the first non-finite float of an RGBA32F image, or -1. */
static long first_nonfinite(image* im)
{
    if (im->f.format != SF_FORMAT_RGBA32F) return -1;
    for (int y = 0; y < im->f.height; y++)
        for (int x = 0; x < im->f.width; x++)
            for (int c = 0; c < 4; c++)
                if (!isfinite(fpx(im, x, y)[c])) return ((long)y * im->f.width + x) * 4 + c;
    return -1;
}

/* Index of the first non-finite float of an RGBA32F output that is not the host's own NaN/inf handed back
 * (alpha 0 and pass-through copy the input untouched; what must never happen is NaN spreading), or -1.
 * in_mem is a snapshot of the input taken before the call (the input itself when the call was in place). */
static long first_spread_nonfinite(image* out, const image* in, unsigned char* in_mem)
{
    if (out->f.format != SF_FORMAT_RGBA32F) return -1;
    image src = *in;
    src.mem = in_mem;
    for (int y = 0; y < out->f.height; y++)
        for (int x = 0; x < out->f.width; x++)
            for (int c = 0; c < 4; c++) {
                if (isfinite(fpx(out, x, y)[c])) continue;
                if (src.f.format == SF_FORMAT_RGBA32F && !isfinite(fpx(&src, x, y)[c])) continue;
                return ((long)y * out->f.width + x) * 4 + c;
            }
    return -1;
}

/* 8-bit channel c (0=R .. 3=A) of pixel (x, y). */
static int px8(const image* im, int x, int y, int c)
{
    const unsigned char* row = im->mem + (size_t)y * im->f.stride;
    return im->f.format == SF_FORMAT_BGRA8 ? row[x * 4 + (c == 3 ? 3 : 2 - c)] : row[x * 4 + c];
}

static int max_diff8(const image* a, const image* b)
{
    int worst = 0;
    for (int y = 0; y < a->f.height; y++)
        for (int x = 0; x < a->f.width; x++)
            for (int c = 0; c < 4; c++) {
                int d = abs(px8(a, x, y, c) - px8(b, x, y, c));
                if (d > worst) worst = d;
            }
    return worst;
}

static const char* format_name(int f)
{
    return f == SF_FORMAT_RGBA8     ? "RGBA8"
           : f == SF_FORMAT_BGRA8   ? "BGRA8"
           : f == SF_FORMAT_RGBA32F ? "RGBA32F"
                                    : "format?";
}

/* A simple frame through t, as the oracle's follow-up (e.g. after a failed load): w x h RGBA8. */
static int probe_frame(worker* w, const target* t, image* out_copy, int width, int height)
{
    image in, out;
    image_alloc(&in, width, height, width * 4, SF_FORMAT_RGBA8);
    image_alloc(&out, width, height, width * 4, SF_FORMAT_RGBA8);
    rng r = {0x5EED};
    paint(&in, &r, 0);
    engine* m = mirror(t);
    char scale[32] = "";
    if (m) snprintf(scale, sizeof scale, ", scale %.9g", m->param[SF_PARAM_INFERENCE_SCALE]);
    begin(w, "sf_engine_process_cpu", "sf_engine_process_cpu(%s [%s%s], %dx%d RGBA8 probe frame)", t->label,
          style_label(t), scale, width, height);
    int st = sf_engine_process_cpu(t->h, &in.f, &out.f);
    end(w);
    if (m && st != SF_ERR_INVALID_ARGUMENT && st != SF_ERR_INVALID_HANDLE) {
        m->frames++;
        if (st != SF_OK) m->pass_through++;
    }
    if (out_copy)
        *out_copy = out;
    else
        image_free(&out);
    image_free(&in);
    return st;
}

/* ---- parameters ----------------------------------------------------------------------------------------- */

static const char* param_name(int p)
{
    static const char* const names[] = {
        "?",           "ALPHA", "SMOOTHING", "PRESERVE_COLOUR", "INFERENCE_SCALE", "DEVICE", "MOTION_COMPENSATION",
        "NETWORK_TIER"};
    return p >= 1 && p <= LAST_PARAM ? names[p] : "unknown id";
}

/* set_param's rule, on the double as passed (before any rounding to float). */
static int param_accepts(int p, double v)
{
    if (!isfinite(v)) return 0;
    switch (p) {
    case SF_PARAM_ALPHA:
    case SF_PARAM_SMOOTHING: return v >= 0 && v <= 1;
    case SF_PARAM_PRESERVE_COLOUR:
    case SF_PARAM_MOTION_COMPENSATION: return v == 0 || v == 1;
    case SF_PARAM_INFERENCE_SCALE: return v > 0 && v <= 1;
    case SF_PARAM_DEVICE: return v == floor(v) && v >= SF_DEVICE_AUTO && v <= SF_DEVICE_DIRECTML;
    case SF_PARAM_NETWORK_TIER: return v == floor(v) && v >= SF_TIER_AUTO && v <= SF_TIER_FULL;
    default: return 0;
    }
}

/* May get_param read back got after set_param(p, set) succeeded? Engines store floats, so the float rounding counts. */
static int readback_ok(int p, double set, double got)
{
    if (got == set || got == (double)(float)set) return 1;
    /* The spec accepts any positive scale but does not say what a tiny one reads back (it may be raised to a floor). */
    return p == SF_PARAM_INFERENCE_SCALE && set <= 1e-5 && got >= 0 && got <= 1e-5;
}

/* What any engine's parameter may hold. */
static int in_domain(int p, double v)
{
    switch (p) {
    case SF_PARAM_ALPHA:
    case SF_PARAM_SMOOTHING: return v >= 0 && v <= 1;
    case SF_PARAM_PRESERVE_COLOUR:
    case SF_PARAM_MOTION_COMPENSATION: return v == 0 || v == 1;
    case SF_PARAM_INFERENCE_SCALE: return v >= 0 && v <= 1;
    case SF_PARAM_NETWORK_TIER: return v == floor(v) && v >= SF_TIER_AUTO && v <= SF_TIER_FULL;
    default: return v == floor(v) && v >= SF_DEVICE_AUTO && v <= SF_DEVICE_DIRECTML;
    }
}

static void adopt(worker* w, engine* e, sf_engine* h, const char* label)
{
    memset(e, 0, sizeof *e);
    e->h = h;
    e->style = -1;
    snprintf(e->label, sizeof e->label, "%s", label);
    resync(w, e);
}

/* Rebuilds a private engine's mirror from the engine itself (after creation, or after a surprise). */
static void resync(worker* w, engine* e)
{
    e->known = 0;
    for (int p = SF_PARAM_ALPHA; p <= LAST_PARAM; p++) {
        double v = -1;
        begin(w, "sf_engine_get_param", "sf_engine_get_param(private, %s) to resynchronise", param_name(p));
        int st = sf_engine_get_param(e->h, p, &v);
        end(w);
        if (!expect(w, st, S(SF_OK), "private engine, resync")) return;
        e->param[p] = v;
    }
    sf_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    char name[512] = "";
    begin(w, "sf_engine_get_stats", "sf_engine_get_stats(private) to resynchronise");
    int st = sf_engine_get_stats(e->h, &s);
    end(w);
    if (!expect(w, st, S(SF_OK), "private engine, resync")) return;
    begin(w, "sf_engine_get_style_name", "sf_engine_get_style_name(private, 512) to resynchronise");
    st = sf_engine_get_style_name(e->h, name, sizeof name);
    end(w);
    if (!expect(w, st, S(SF_OK), "private engine, resync")) return;
    e->frames = s.frames;
    e->pass_through = s.pass_through_frames;
    e->style = -1;
    if (name[0]) {
        for (int i = 0; i < g_nstyles && e->style < 0; i++)
            if (g_styles[i].valid == 1 && strcmp(g_styles[i].name, name) == 0) e->style = i;
        if (e->style < 0) return; /* a name no valid style has: stays unknown */
    }
    e->known = 1;
}

/* ---- the calls: one function per kind, each with its oracle --------------------------------------------- */

static const double g_values[] = {
    0,
    -0.0,
    1,
    0.5,
    0.25,
    0.75,
    2,
    3,
    4,
    5,
    -1,
    1.5,
    0.01,
    1e-7,
    1.0000000001,
    0.9999999999,
    1 + DBL_EPSILON,
    4.0000000001,
    3.0000000001,
    -1e-300,
    1e-300,
    4.9406564584124654e-324,
    -4.9406564584124654e-324,
    DBL_MIN,
    1e-45,
    -1e-45,
    1e-39,
    NAN,
    -NAN,
    INFINITY,
    -INFINITY,
    1e300,
    -1e300,
    DBL_MAX,
    -DBL_MAX,
    FLT_MAX,
    3e38,
};

static double random_value(rng* r)
{
    switch (below(r, 6)) {
    case 0: return uniform(r) * 2 - 0.5;
    case 1: return uniform(r);
    case 2: return between(r, -2, 6);
    default: return PICK(r, g_values);
    }
}

static void call_set_param(worker* w)
{
    target t = pick_target(w);
    static const int bad_ids[] = {0, LAST_PARAM + 1, -1, 99, INT_MIN, INT_MAX};
    int p = below(&w->r, 10) < 8 ? between(&w->r, SF_PARAM_ALPHA, LAST_PARAM) : PICK(&w->r, bad_ids);
    if (p == SF_PARAM_DEVICE && below(&w->r, 3)) p = SF_PARAM_SMOOTHING; /* device changes are rarer */
    double v = random_value(&w->r);
    int ok = param_accepts(p, v);
    char tag[96];
    snprintf(tag, sizeof tag, "%s %s", param_name(p),
             ok         ? "in range"
             : isnan(v) ? "NaN"
             : isinf(v) ? "inf"
                        : "out of range");
    begin(w, "sf_engine_set_param", "sf_engine_set_param(%s, %d (%s), %.17g)", t.label, p, param_name(p), v);
    int st = sf_engine_set_param(t.h, p, v);
    end(w);
    int as_expected = expect(w, st, on_target(&t, ok ? S(SF_OK) : S(SF_ERR_INVALID_ARGUMENT), !ok), tag);
    engine* m = mirror(&t);
    if (!m || p < SF_PARAM_ALPHA || p > LAST_PARAM) return;
    if (!as_expected) {
        resync(w, m);
        return;
    }
    /* Read it back: the value set, or the old one after a rejection. */
    double got = -12345;
    begin(w, "sf_engine_get_param", "sf_engine_get_param(private, %s) after set_param(%.17g) -> %s", param_name(p), v,
          status_name(st));
    int st2 = sf_engine_get_param(t.h, p, &got);
    end(w);
    if (!expect(w, st2, S(SF_OK), "read back")) return;
    int fine = st == SF_OK ? readback_ok(p, v, got) : got == m->param[p];
    if (!fine) {
        char key[200];
        snprintf(key, sizeof key, "sf_engine_get_param: %s reads back a wrong value after %s", param_name(p),
                 st == SF_OK ? "set_param succeeded" : "a rejected set_param");
        wrong(w, WRONG_OTHER, key, "read %.17g, set %.17g, before %.17g", got, v, m->param[p]);
        resync(w, m);
        return;
    }
    m->param[p] = got;
}

static void call_get_param(worker* w)
{
    target t = pick_target(w);
    int p = below(&w->r, 10) < 8 ? between(&w->r, SF_PARAM_ALPHA, LAST_PARAM)
                                 : PICK(&w->r, ((const int[]){0, LAST_PARAM + 1, -7, 1000}));
    int null_out = one_in(&w->r, 10);
    int bad = null_out || p < SF_PARAM_ALPHA || p > LAST_PARAM;
    double v = -12345;
    begin(w, "sf_engine_get_param", "sf_engine_get_param(%s, %d (%s), %s)", t.label, p, param_name(p),
          null_out ? "NULL" : "&value");
    int st = sf_engine_get_param(t.h, p, null_out ? NULL : &v);
    end(w);
    if (!expect(w, st, on_target(&t, bad ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK), bad),
                bad ? "invalid argument" : "valid"))
        return;
    if (st != SF_OK) return;
    engine* m = mirror(&t);
    char key[200];
    if (!in_domain(p, v)) {
        snprintf(key, sizeof key, "sf_engine_get_param: %s outside its range", param_name(p));
        wrong(w, WRONG_OTHER, key, "read %.17g", v);
    } else if (m && v != m->param[p]) {
        snprintf(key, sizeof key, "sf_engine_get_param: %s differs from the last value set", param_name(p));
        wrong(w, WRONG_OTHER, key, "read %.17g, mirror %.17g", v, m->param[p]);
        resync(w, m);
    }
}

/* A frame through process_cpu: valid (any size, format, stride, in place) or with one invalid detail. */
static void call_process(worker* w)
{
    target t = pick_target(w);
    rng* r = &w->r;
    int width, height;
    const char* size_class;
    int k = below(r, 100);
    if (k < 22) {
        width = between(r, 1, 8);
        height = between(r, 1, 8);
        size_class = "1..8 px";
    } else if (k < 32) {
        static const int thin[][2] = {{641, 1}, {1, 300}, {700, 2}, {3, 400}, {64, 1}, {1, 64}};
        int i = below(r, COUNT(thin));
        width = thin[i][0];
        height = thin[i][1];
        if (one_in(r, 2)) {
            if (width > height)
                width = between(r, 9, 700);
            else
                height = between(r, 9, 400);
        }
        size_class = "thin";
    } else if (k < 67) {
        width = between(r, 9, 96);
        height = between(r, 9, 96);
        size_class = "9..96 px";
    } else if (k < 88) {
        width = between(r, 97, 256);
        height = between(r, 64, 256);
        size_class = "97..256 px";
    } else if (k < 97) {
        width = between(r, 257, 700);
        height = between(r, 150, 400);
        size_class = "up to 700x400";
    } else {
        int i = below(r, 3);
        width = i == 1 ? 1 : 16384;
        height = i == 0 ? 1 : i == 1 ? 16384 : 2;
        size_class = "16384 on a side";
    }

    int fin = between(r, 1, 3), fout = between(r, 1, 3);
    int in_place = one_in(r, 7);
    if (in_place) fout = fin;
    int hostile = fin == SF_FORMAT_RGBA32F && one_in(r, 3);
    /* One invalid detail in one call in five; the memory still covers what the description claims. */
    int corrupt = one_in(r, 5) ? between(r, 1, 14) : 0;
    if (corrupt == 13) {
        width = 16385;
        height = 1;
        in_place = 0;
        fin = fout = SF_FORMAT_RGBA8;
    }
    if (corrupt == 14) {
        width = 1;
        height = 16385;
        in_place = 0;
        fin = fout = SF_FORMAT_RGBA8;
    }
    if (corrupt == 11) {
        fin = SF_FORMAT_RGBA32F;
        in_place = 0;
    }

    image in, out;
    int in_stride = corrupt == 11 ? width * 16 + 2 : random_stride(r, width, fin);
    image_alloc(&in, width, height, in_stride, fin);
    paint(&in, r, hostile);
    if (in_place)
        out = in;
    else
        image_alloc(&out, width, height, random_stride(r, width, fout), fout);

    sf_frame fi = in.f, fo = out.f;
    const sf_frame *pi = &fi, *po = in_place ? &fi : &fo;
    const char* what_bad = "";
    switch (corrupt) {
    case 1:
        pi = NULL;
        what_bad = "input NULL";
        break;
    case 2:
        po = NULL;
        what_bad = "output NULL";
        break;
    case 3:
        fi.data = NULL;
        what_bad = "input data NULL";
        break;
    case 4:
        fo.data = NULL;
        po = &fo;
        what_bad = "output data NULL";
        break;
    case 5:
        fi.width = one_in(r, 2) ? 0 : -width;
        what_bad = "width <= 0";
        break;
    case 6:
        fi.height = one_in(r, 2) ? 0 : INT_MIN;
        what_bad = "height <= 0";
        break;
    case 7:
        fi.stride = fi.width * bytes_per_pixel(fin) - between(r, 1, 3);
        what_bad = "stride below a row";
        break;
    case 8:
        fo.stride = one_in(r, 2) ? 0 : -fo.stride;
        po = &fo;
        what_bad = "output stride <= 0";
        break;
    case 9:
        fi.format = PICK(r, ((const int[]){0, 4, -1, 99}));
        what_bad = "input format unknown";
        break;
    case 10:
        fo.format = PICK(r, ((const int[]){0, 4, INT_MAX}));
        po = &fo;
        what_bad = "output format unknown";
        break;
    case 11: what_bad = "RGBA32F stride not a multiple of 4"; break;
    case 12: /* the output smaller than the input (never larger than its memory) */
        if (width > 1)
            fo.width = width - 1;
        else if (height > 1)
            fo.height = height - 1;
        else
            fo.format = 0; /* 1x1: nothing smaller exists */
        po = &fo;
        what_bad = "output size differs";
        break;
    case 13: what_bad = "width 16385"; break;
    case 14: what_bad = "height 16385"; break;
    }
    int bad = corrupt != 0;

    /* Snapshots: an invalid call must not write the output; no call may write the input of a separate buffer. */
    unsigned char* in_copy = NULL;
    unsigned char* out_copy = NULL;
    if (!in_place || in.nonfinite) {
        in_copy = xmalloc(in.bytes);
        memcpy(in_copy, in.mem, in.bytes);
    }
    if (bad) {
        out_copy = xmalloc(out.bytes);
        memcpy(out_copy, out.mem, out.bytes);
    }

    engine* m = mirror(&t);
    unsigned live = S(SF_OK) | S(SF_ERR_NO_STYLE);
    if (m) live = m->style < 0 ? S(SF_ERR_NO_STYLE) : S(SF_OK);
    if (in.huge && live & S(SF_OK)) live |= S(SF_ERR_MODEL); /* the spec's non-finite model output case */
    if (bad) live = S(SF_ERR_INVALID_ARGUMENT);
    unsigned allowed = on_target(&t, live, bad);

    char scale[128] = "";
    if (m)
        snprintf(scale, sizeof scale, ", scale %.9g, alpha %.9g, smoothing %.9g, preserve %g",
                 m->param[SF_PARAM_INFERENCE_SCALE], m->param[SF_PARAM_ALPHA], m->param[SF_PARAM_SMOOTHING],
                 m->param[SF_PARAM_PRESERVE_COLOUR]);
    const char* input_kind = in.nonfinite ? "NaN/inf input" : in.huge ? "huge input" : "clean input";
    begin(w, "sf_engine_process_cpu",
          "sf_engine_process_cpu(%s [%s%s], in %dx%d %s stride %d%s, out %s stride %d%s%s%s)", t.label, style_label(&t),
          scale, fi.width, fi.height, format_name(fi.format), fi.stride,
          hostile ? (in.nonfinite ? " with NaN/inf"
                     : in.huge    ? " with huge values"
                                  : " HDR")
                  : "",
          format_name(fo.format), fo.stride, in_place ? ", in place" : "", bad ? ", invalid: " : "", what_bad);
    int st = sf_engine_process_cpu(t.h, pi, po);
    end(w);
    char tag[160];
    if (bad)
        snprintf(tag, sizeof tag, "invalid frame: %s", what_bad);
    else
        snprintf(tag, sizeof tag, "%s, %s", size_class, input_kind);
    int as_expected = expect(w, st, allowed, tag);
    char key[240];

    if (st == SF_OK) {
        long nf = in_copy ? first_spread_nonfinite(&out, &in, in_copy) : first_nonfinite(&out);
        if (nf >= 0) {
            snprintf(key, sizeof key, "sf_engine_process_cpu: SF_OK with a non-finite output [%s]", input_kind);
            long p = nf / 4;
            wrong(w, WRONG_SUCCESS, key, "output pixel (%ld, %ld) channel %ld is %g", p % width, p / width, nf % 4,
                  (double)fpx(&out, (int)(p % width), (int)(p / width))[nf % 4]);
        }
    }
    if (!padding_intact(&out) || (!in_place && !padding_intact(&in))) {
        snprintf(key, sizeof key, "sf_engine_process_cpu: wrote into row padding or past the frame [%s]", tag);
        wrong(w, WRONG_OTHER, key, NULL);
    } else if (in_copy && !in_place && memcmp(in_copy, in.mem, in.bytes) != 0) {
        snprintf(key, sizeof key, "sf_engine_process_cpu: wrote into the input [%s]", tag);
        wrong(w, WRONG_OTHER, key, NULL);
    } else if (out_copy && st == SF_ERR_INVALID_ARGUMENT && memcmp(out_copy, out.mem, out.bytes) != 0) {
        snprintf(key, sizeof key, "sf_engine_process_cpu: an invalid call wrote the output [%s]", what_bad);
        wrong(w, WRONG_OTHER, key, NULL);
    } else if (st == SF_ERR_NO_STYLE && !in_place && fin != SF_FORMAT_RGBA32F && fout != SF_FORMAT_RGBA32F &&
               max_diff8(&in, &out)) {
        wrong(w, WRONG_OTHER, "sf_engine_process_cpu: SF_ERR_NO_STYLE output is not a pass-through copy", "max diff %d",
              max_diff8(&in, &out));
    }
    if (m) {
        if (!as_expected)
            resync(w, m);
        else if (st != SF_ERR_INVALID_ARGUMENT && st != SF_ERR_INVALID_HANDLE) {
            m->frames++;
            if (st != SF_OK) m->pass_through++;
        }
    }
    free(in_copy);
    free(out_copy);
    if (!in_place) image_free(&out);
    image_free(&in);
}

static void call_load_style(worker* w)
{
    target t = pick_target(w);
    int null_name = one_in(&w->r, 15);
    const style* s = &g_styles[below(&w->r, g_nstyles)];
    if (!null_name && s->valid == 0 && below(&w->r, 2))
        s = &g_styles[below(&w->r, g_nstyles)]; /* valid loads more often */
    int bad = null_name || s->valid < 0;
    unsigned live = bad ? S(SF_ERR_INVALID_ARGUMENT) : s->valid ? S(SF_OK) : S(SF_ERR_MODEL);
    engine* m = mirror(&t);
    int before = m ? m->style : -1;
    begin(w, "sf_engine_load_style", "sf_engine_load_style(%s [%s], %s%s%s)", t.label, style_label(&t),
          null_name ? "" : "\"", null_name ? "NULL" : s->arg, null_name ? "" : "\"");
    int st = sf_engine_load_style(t.h, null_name ? NULL : s->arg);
    end(w);
    char tag[160];
    snprintf(tag, sizeof tag, "%s", null_name ? "NULL" : s->arg[0] ? s->token : "empty string");
    int as_expected = expect(w, st, on_target(&t, live, bad), tag);
    char key[240];
    if (st == SF_ERR_MODEL && !strstr(w->err, s->token)) {
        snprintf(key, sizeof key, "sf_engine_load_style: the error does not name the style [%s]", s->token);
        wrong(w, WRONG_OTHER, key, NULL);
    }
    if (!m) return;
    if (!as_expected) {
        resync(w, m);
        return;
    }
    if (st == SF_OK) m->style = (int)(s - g_styles);
    /* The style now loaded: the new one, or the previous one after a failure. */
    const char* want = m->style < 0 ? "" : g_styles[m->style].name;
    char name[512] = "";
    begin(w, "sf_engine_get_style_name", "sf_engine_get_style_name(private, 512) after load_style(\"%s\") -> %s",
          null_name ? "NULL" : s->arg, status_name(st));
    int st2 = sf_engine_get_style_name(t.h, name, sizeof name);
    end(w);
    if (expect(w, st2, S(SF_OK), "after load_style") && strcmp(name, want) != 0) {
        snprintf(key, sizeof key, "sf_engine_get_style_name: wrong name after %s",
                 st == SF_OK ? "a load" : "a failed load");
        wrong(w, WRONG_OTHER, key, "name \"%s\", want \"%s\" (loaded before: %s)", name, want,
              before < 0 ? "none" : g_styles[before].token);
        resync(w, m);
        return;
    }
    if (st != SF_OK) { /* the previous style keeps working */
        int st3 = probe_frame(w, &t, NULL, 40, 24);
        snprintf(tag, sizeof tag, "40x24 frame after a failed load, %s",
                 m->style < 0 ? "no style" : "previous style kept");
        if (!expect(w, st3, m->style < 0 ? S(SF_ERR_NO_STYLE) : S(SF_OK), tag)) resync(w, m);
    }
}

static void call_set_style_mix(worker* w)
{
    target t = pick_target(w);
    rng* r = &w->r;
    enum { WEIGHTS = 1100 }; /* covers the largest count passed, so every count is memory-valid */
    float* wt = xmalloc(WEIGHTS * sizeof(float));
    memset(wt, 0, WEIGHTS * sizeof(float));
    static const float values[] = {1,      0,     0.5f, 2,        3e38f,     FLT_MAX, 1e-45f,
                                   1e-38f, -0.0f, NAN,  INFINITY, -INFINITY, -1,      -1e-45f};
    int count = below(r, 10) < 7 ? 2 : PICK(r, ((const int[]){0, 1, 3, -1, 1025, INT_MIN}));
    int n = count > 0 && count <= 1024 ? count : 2;
    for (int i = 0; i < n; i++) wt[i] = one_in(r, 3) ? (float)(uniform(r) * 10) : PICK(r, values);
    if (one_in(r, 6))
        for (int i = 0; i < n; i++) wt[i] = 3e38f; /* the overflow */
    int null_weights = one_in(r, 12);
    int weights_bad = 0, all_zero = 1;
    for (int i = 0; i < n; i++) {
        if (!isfinite(wt[i]) || wt[i] < 0) weights_bad = 1;
        if (wt[i] != 0) all_zero = 0;
    }
    weights_bad |= all_zero;
    int bad = null_weights || count <= 0 || count > 1024 || weights_bad;
    engine* m = mirror(&t);
    unsigned live;
    if (!m)
        live = S(SF_ERR_NO_STYLE) | S(SF_ERR_UNSUPPORTED) | S(SF_ERR_INVALID_ARGUMENT) | (bad ? 0 : S(SF_OK));
    else if (m->style < 0)
        live = S(SF_ERR_NO_STYLE) | (bad ? S(SF_ERR_INVALID_ARGUMENT) : 0);
    else if (g_styles[m->style].mix_count == 0)
        live = S(SF_ERR_UNSUPPORTED) | (bad ? S(SF_ERR_INVALID_ARGUMENT) : 0);
    else
        live = bad || count != g_styles[m->style].mix_count ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK);
    char list[200] = "";
    for (int i = 0; i < n && i < 4; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%g", i ? ", " : "", (double)wt[i]);
    begin(w, "sf_engine_set_style_mix", "sf_engine_set_style_mix(%s [%s], %s{%s%s}, %d)", t.label, style_label(&t),
          null_weights ? "NULL, not " : "", list, n > 4 ? ", ..." : "", count);
    int st = sf_engine_set_style_mix(t.h, null_weights ? NULL : wt, count);
    end(w);
    char tag[120];
    snprintf(tag, sizeof tag, "%s, %s", style_label(&t),
             bad              ? "invalid weights or count"
             : wt[0] >= 1e38f ? "huge weights"
                              : "valid weights");
    int as_expected = expect(w, st, on_target(&t, live, bad), tag);
    if (m && !as_expected) resync(w, m);
    if (!m || st != SF_OK) {
        free(wt);
        return;
    }

    /* The mix is normalised in double: the same picture as the weights divided by their sum. */
    double sum = 0;
    for (int i = 0; i < count; i++) sum += wt[i];
    float norm[8];
    for (int i = 0; i < count && i < 8; i++) norm[i] = (float)(wt[i] / sum);
    image a, b;
    begin(w, "sf_engine_reset_history", "sf_engine_reset_history(private) before a mix comparison");
    int st2 = sf_engine_reset_history(t.h);
    end(w);
    expect(w, st2, S(SF_OK), "mix comparison");
    int sa = probe_frame(w, &t, &a, 48, 32);
    begin(w, "sf_engine_set_style_mix", "sf_engine_set_style_mix(private [%s], {%g, %g} normalised in double)",
          style_label(&t), (double)norm[0], (double)norm[1]);
    st2 = sf_engine_set_style_mix(t.h, norm, count);
    end(w);
    expect(w, st2, S(SF_OK), "normalised weights");
    begin(w, "sf_engine_reset_history", "sf_engine_reset_history(private) before a mix comparison");
    sf_engine_reset_history(t.h);
    end(w);
    int sb = probe_frame(w, &t, &b, 48, 32);
    if (sa == SF_OK && sb == SF_OK && max_diff8(&a, &b) > 2) {
        pthread_mutex_lock(&w->lock);
        snprintf(w->what, sizeof w->what,
                 "sf_engine_set_style_mix(private [%s], {%s}, %d) then a 48x32 frame, vs {%g, %g}", style_label(&t),
                 list, count, (double)norm[0], (double)norm[1]);
        pthread_mutex_unlock(&w->lock);
        wrong(w, WRONG_SUCCESS, "sf_engine_set_style_mix: SF_OK but the picture differs from the normalised weights",
              "max difference %d of 255", max_diff8(&a, &b));
    }
    image_free(&a);
    image_free(&b);
    free(wt);
}

static void call_get_style_mix_count(worker* w)
{
    target t = pick_target(w);
    int null_out = one_in(&w->r, 8);
    int32_t n = -7;
    begin(w, "sf_engine_get_style_mix_count", "sf_engine_get_style_mix_count(%s [%s], %s)", t.label, style_label(&t),
          null_out ? "NULL" : "&count");
    int st = sf_engine_get_style_mix_count(t.h, null_out ? NULL : &n);
    end(w);
    if (!expect(w, st, on_target(&t, null_out ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK), null_out),
                null_out ? "NULL" : "valid") ||
        st != SF_OK)
        return;
    engine* m = mirror(&t);
    int want = m ? (m->style < 0 ? 0 : g_styles[m->style].mix_count) : -1;
    if ((want >= 0 && n != want) || (want < 0 && n != 0 && n != 2)) {
        char key[160];
        snprintf(key, sizeof key, "sf_engine_get_style_mix_count: wrong count [%s]", style_label(&t));
        wrong(w, WRONG_OTHER, key, "count %d, want %d", n, want);
    }
}

/* Buffers for names: NULL, 0, tiny, exact, large. The oracle knows the name on private engines. */
static void call_get_style_name(worker* w)
{
    target t = pick_target(w);
    static const size_t sizes[] = {0, 1, 2, 3, 5, 8, 16, 64, 256};
    size_t size = PICK(&w->r, sizes);
    int null_buf = one_in(&w->r, 8);
    char buf[300];
    memset(buf, 'X', sizeof buf);
    engine* m = mirror(&t);
    const char* want = m ? (m->style < 0 ? "" : g_styles[m->style].name) : NULL;
    unsigned live = null_buf || size == 0 ? S(SF_ERR_INVALID_ARGUMENT)
                    : want                ? (strlen(want) + 1 <= size ? S(SF_OK) : S(SF_ERR_INVALID_ARGUMENT))
                                          : S(SF_OK) | S(SF_ERR_INVALID_ARGUMENT);
    begin(w, "sf_engine_get_style_name", "sf_engine_get_style_name(%s [%s], %s, %zu)", t.label, style_label(&t),
          null_buf ? "NULL" : "buffer", size);
    int st = sf_engine_get_style_name(t.h, null_buf ? NULL : buf, size);
    end(w);
    if (!expect(w, st, on_target(&t, live, null_buf || size == 0), want ? "known name" : "any name")) return;
    if (st == SF_OK && (!memchr(buf, 0, size) || (want && strcmp(buf, want) != 0)))
        wrong(w, WRONG_OTHER, "sf_engine_get_style_name: wrong or unterminated name", "got \"%.*s\", want \"%s\"",
              (int)size, buf, want ? want : "?");
    if (st == SF_ERR_INVALID_ARGUMENT && !null_buf && size > 0 && buf[0] != 0)
        wrong(w, WRONG_OTHER, "sf_engine_get_style_name: buffer too small but buffer[0] is not NUL", NULL);
    if (!null_buf && buf[size] != 'X')
        wrong(w, WRONG_OTHER, "sf_engine_get_style_name: wrote past the buffer size", NULL);
}

static void call_get_style_mix_name(worker* w)
{
    target t = pick_target(w);
    static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 64};
    size_t size = PICK(&w->r, sizes);
    int index = below(&w->r, 3) ? between(&w->r, 0, 1) : PICK(&w->r, ((const int[]){-1, 2, 3, INT_MAX, INT_MIN}));
    int null_buf = one_in(&w->r, 8);
    char buf[100];
    memset(buf, 'X', sizeof buf);
    engine* m = mirror(&t);
    const char* want = NULL;
    unsigned live = S(SF_OK) | S(SF_ERR_INVALID_ARGUMENT);
    if (m) {
        int count = m->style < 0 ? 0 : g_styles[m->style].mix_count;
        want = index >= 0 && index < count ? g_styles[m->style].mix_names[index] : NULL;
        live = want && !null_buf && strlen(want) + 1 <= size ? S(SF_OK) : S(SF_ERR_INVALID_ARGUMENT);
    }
    begin(w, "sf_engine_get_style_mix_name", "sf_engine_get_style_mix_name(%s [%s], %d, %s, %zu)", t.label,
          style_label(&t), index, null_buf ? "NULL" : "buffer", size);
    int st = sf_engine_get_style_mix_name(t.h, index, null_buf ? NULL : buf, size);
    end(w);
    if (!expect(w, st, on_target(&t, live, 1), m ? "known style" : "any style")) return;
    if (st == SF_OK && (!memchr(buf, 0, size) || (want && strcmp(buf, want) != 0)))
        wrong(w, WRONG_OTHER, "sf_engine_get_style_mix_name: wrong or unterminated name", "got \"%.*s\", want \"%s\"",
              (int)size, buf, want ? want : "?");
    if (st != SF_OK && !null_buf && buf[0] != 'X' && buf[0] != 0)
        wrong(w, WRONG_OTHER, "sf_engine_get_style_mix_name: a failed call left a truncated name", "buffer \"%.*s\"",
              (int)size, buf);
    if (!null_buf && buf[size] != 'X')
        wrong(w, WRONG_OTHER, "sf_engine_get_style_mix_name: wrote past the buffer size", NULL);
}

static void call_reset_history(worker* w)
{
    target t = pick_target(w);
    begin(w, "sf_engine_reset_history", "sf_engine_reset_history(%s)", t.label);
    int st = sf_engine_reset_history(t.h);
    end(w);
    expect(w, st, on_target(&t, S(SF_OK), 0), t.live ? "live" : "dead");
}

static void call_get_stats(worker* w)
{
    target t = pick_target(w);
    const uint32_t v1 = sizeof(sf_stats);
    uint32_t sizes[] = {v1, v1, v1, 0, 4, 8, v1 - 1, v1 + 8, 4096, 4097, UINT32_MAX, (uint32_t)between(&w->r, 0, 5000)};
    uint32_t size = PICK(&w->r, sizes);
    int null_out = one_in(&w->r, 12);
    static __thread union {
        sf_stats s;
        unsigned char raw[8192];
    } buf;
    memset(buf.raw, 0xEE, sizeof buf.raw);
    buf.s.struct_size = size;
    int bad = null_out || size < v1 || size > 4096;
    begin(w, "sf_engine_get_stats", "sf_engine_get_stats(%s, %s struct_size %u)", t.label,
          null_out ? "NULL, not" : "stats", size);
    int st = sf_engine_get_stats(t.h, null_out ? NULL : &buf.s);
    end(w);
    if (!expect(w, st, on_target(&t, bad ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK), bad),
                bad ? "invalid struct" : "valid struct") ||
        st != SF_OK)
        return;
    int beyond = 1;
    for (uint32_t i = v1; i < size; i++) beyond &= buf.raw[i] == 0xEE;
    if (buf.s.struct_size != size || !beyond)
        wrong(w, WRONG_OTHER, "sf_engine_get_stats: changed struct_size or wrote past version 1's fields",
              "struct_size now %u", buf.s.struct_size);
    if (!memchr(buf.s.provider, 0, sizeof buf.s.provider) || !(buf.s.mean_ms >= 0) ||
        !(buf.s.p99_ms >= buf.s.p50_ms || buf.s.frames == 0))
        wrong(w, WRONG_OTHER, "sf_engine_get_stats: provider unterminated or latencies implausible",
              "mean %g p50 %g p99 %g", buf.s.mean_ms, buf.s.p50_ms, buf.s.p99_ms);
    engine* m = mirror(&t);
    if (m && (buf.s.frames != m->frames || buf.s.pass_through_frames != m->pass_through)) {
        wrong(w, WRONG_OTHER, "sf_engine_get_stats: frame counts differ from the calls made",
              "frames %llu (made %llu), pass-through %llu (made %llu)", (unsigned long long)buf.s.frames,
              (unsigned long long)m->frames, (unsigned long long)buf.s.pass_through_frames,
              (unsigned long long)m->pass_through);
        m->frames = buf.s.frames;
        m->pass_through = buf.s.pass_through_frames;
    }
}

static void call_list_styles(worker* w)
{
    static __thread char buf[8192];
    size_t needed = 12345;
    int mode = below(&w->r, 6);
    size_t size = mode == 2 ? g_list_needed - 1 : mode == 3 ? 0 : g_list_needed + (size_t)below(&w->r, 3);
    char* b = mode == 0 || mode == 1 ? NULL : buf;
    size_t* n = mode == 1 || (mode == 4 && one_in(&w->r, 2)) ? NULL : &needed;
    if (size > sizeof buf) size = sizeof buf;
    memset(buf, 'X', sizeof buf);
    int bad = (b == NULL && n == NULL) || (b != NULL && size < g_list_needed);
    begin(w, "sf_list_styles", "sf_list_styles(%s, %zu, %s) (%zu bytes needed)", b ? "buffer" : "NULL", size,
          n ? "&needed" : "NULL", g_list_needed);
    int st = sf_list_styles(b, size, n);
    end(w);
    if (!expect(w, st, bad ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK), bad ? "invalid buffer" : "valid")) return;
    if (n && !(b == NULL && n == NULL) && needed != g_list_needed)
        wrong(w, WRONG_OTHER, "sf_list_styles: *needed differs from the first call's", "needed %zu, want %zu", needed,
              g_list_needed);
    if (st == SF_OK && b && strlen(buf) + 1 != g_list_needed)
        wrong(w, WRONG_OTHER, "sf_list_styles: the list's length is not needed - 1", NULL);
    if (st != SF_OK && b && size > 0 && buf[0] != 0)
        wrong(w, WRONG_OTHER, "sf_list_styles: buffer too small but buffer[0] is not NUL", NULL);
    if (b && size < sizeof buf && buf[size] != 'X')
        wrong(w, WRONG_OTHER, "sf_list_styles: wrote past the buffer size", NULL);
}

static void call_get_style_info(worker* w)
{
    const style* s = &g_styles[below(&w->r, g_nstyles)];
    int null_name = one_in(&w->r, 15), null_out = one_in(&w->r, 15);
    const uint32_t v1 = sizeof(sf_style_info);
    uint32_t sizes[] = {v1, v1, v1, v1, 0, 4, v1 - 1, v1 + 4, 4096, 4097, UINT32_MAX};
    uint32_t size = PICK(&w->r, sizes);
    static __thread union {
        sf_style_info i;
        unsigned char raw[8192];
    } buf;
    memset(buf.raw, 0xEE, sizeof buf.raw);
    buf.i.struct_size = size;
    int bad = null_name || null_out || s->valid < 0 || size < v1 || size > 4096;
    /* Reads manifests only: a broken model file may still be described. */
    unsigned allowed = bad         ? S(SF_ERR_INVALID_ARGUMENT)
                       : s->valid  ? S(SF_OK)
                       : s->exists ? S(SF_OK) | S(SF_ERR_MODEL)
                                   : S(SF_ERR_MODEL);
    begin(w, "sf_get_style_info", "sf_get_style_info(%s%s%s, %s struct_size %u)", null_name ? "" : "\"",
          null_name ? "NULL" : s->arg, null_name ? "" : "\"", null_out ? "NULL, not" : "info", size);
    int st = sf_get_style_info(null_name ? NULL : s->arg, null_out ? NULL : &buf.i);
    end(w);
    if (!expect(w, st, allowed, bad ? "invalid argument" : s->token) || st != SF_OK) return;
    int beyond = 1;
    for (uint32_t i = v1; i < size; i++) beyond &= buf.raw[i] == 0xEE;
    if (buf.i.struct_size != size || !beyond)
        wrong(w, WRONG_OTHER, "sf_get_style_info: changed struct_size or wrote past version 1's fields", NULL);
    if (!memchr(buf.i.id, 0, sizeof buf.i.id) || !memchr(buf.i.title, 0, sizeof buf.i.title) ||
        !memchr(buf.i.artist, 0, sizeof buf.i.artist) || !memchr(buf.i.year, 0, sizeof buf.i.year))
        wrong(w, WRONG_OTHER, "sf_get_style_info: a string is not NUL-terminated", NULL);
    else if (s->valid == 1 && strcmp(buf.i.title, s->name) != 0)
        wrong(w, WRONG_OTHER, "sf_get_style_info: title differs from the first call's", "title \"%s\", want \"%s\"",
              buf.i.title, s->name);
}

static void call_create(worker* w)
{
    rng* r = &w->r;
    static __thread unsigned char buf[8192];
    memset(buf, 0, sizeof buf);
    sf_engine_options* o = (sf_engine_options*)(void*)buf;
    int with_options = below(r, 4) > 0;
    const uint32_t v1 = sizeof(sf_engine_options);
    uint32_t sizes[] = {
        v1, v1, v1, v1, v1, 0, 4, 8, 16, v1 - 1, v1 + 8, 4096, 4097, UINT32_MAX, (uint32_t)between(r, 0, 5000)};
    int32_t threads[] = {0, 0, 0, 1, 1, 2, 4, -1, 1025, INT_MIN, INT_MAX, 1024, between(r, 0, 1024)};
    int32_t devices[] = {0, 0, 1, 1, 2, 3, 4, -1, 5, INT_MIN};
    o->struct_size = PICK(r, sizes);
    o->intra_op_threads = PICK(r, threads);
    o->device = PICK(r, devices);
    o->ort_library_path =
        one_in(r, 20) ? "/nonexistent_fuzz_dir/libonnxruntime.so" : NULL; /* ignored: ORT is already loaded */
    int null_out = one_in(r, 20);
    int ok =
        !null_out && (!with_options || (o->struct_size >= v1 && o->struct_size <= 4096 && o->intra_op_threads >= 0 &&
                                        o->intra_op_threads <= 1024 && o->device >= 0 && o->device <= 4));
    sf_engine* h = (sf_engine*)(void*)g_bogus_anchor;
    if (with_options)
        begin(w, "sf_engine_create",
              "sf_engine_create({struct_size %u, intra_op_threads %d, device %d, ort path %s}, %s)", o->struct_size,
              o->intra_op_threads, o->device, o->ort_library_path ? "bogus" : "NULL", null_out ? "NULL" : "&engine");
    else
        begin(w, "sf_engine_create", "sf_engine_create(NULL, %s)", null_out ? "NULL" : "&engine");
    int st = sf_engine_create(with_options ? o : NULL, null_out ? NULL : &h);
    end(w);
    expect(w, st, ok ? S(SF_OK) : S(SF_ERR_INVALID_ARGUMENT), ok ? "valid options" : "invalid options");
    if (st != SF_OK) {
        if (!null_out && h != NULL) wrong(w, WRONG_OTHER, "sf_engine_create: *out not NULL after a failure", NULL);
        return;
    }
    if (null_out || h == NULL || was_destroyed(h)) {
        wrong(w, WRONG_OTHER, "sf_engine_create: SF_OK without a new handle (NULL or a destroyed one's value)",
              "handle %p", (void*)h);
        return;
    }
    /* Half of them replace a private engine, so engines made with odd options (1024 threads) get used too. */
    engine* e = &w->priv[below(r, PRIVATE_ENGINES)];
    sf_engine* old = !e->h ? NULL : one_in(r, 2) ? e->h : h;
    if (old) {
        begin(w, "sf_engine_destroy", "sf_engine_destroy(%s)",
              old == h ? "the new engine" : "a private engine it replaces");
        st = sf_engine_destroy(old);
        end(w);
        if (expect(w, st, S(SF_OK), "private")) add_dead(old);
        if (old == h) return;
    }
    char label[48];
    if (with_options)
        snprintf(label, sizeof label, "private, intra_op_threads %d, device %d", o->intra_op_threads, o->device);
    adopt(w, e, h, with_options ? label : "private");
}

static void call_destroy(worker* w)
{
    rng* r = &w->r;
    int k = below(r, 10);
    if (k < 4) { /* a private engine */
        engine* e = &w->priv[below(r, PRIVATE_ENGINES)];
        if (!e->h) return;
        begin(w, "sf_engine_destroy", "sf_engine_destroy(private [%s])",
              e->known && e->style >= 0 ? g_styles[e->style].token : "?");
        int st = sf_engine_destroy(e->h);
        end(w);
        if (expect(w, st, S(SF_OK), "private")) add_dead(e->h);
        e->h = NULL;
        return;
    }
    if (k < 6) { /* a shared engine: others may be using it right now (they get SF_ERR_INVALID_HANDLE) */
        int i = below(r, SHARED_ENGINES);
        pthread_mutex_lock(&g_shared_lock);
        sf_engine* h = g_shared[i];
        g_shared[i] = NULL;
        pthread_mutex_unlock(&g_shared_lock);
        if (!h) return;
        begin(w, "sf_engine_destroy", "sf_engine_destroy(shared)");
        int st = sf_engine_destroy(h);
        end(w);
        if (expect(w, st, S(SF_OK), "shared")) add_dead(h);
        sf_engine* fresh = NULL;
        sf_engine_options o;
        memset(&o, 0, sizeof o);
        o.struct_size = sizeof o;
        o.intra_op_threads = 1;
        begin(w, "sf_engine_create", "sf_engine_create(one intra-op thread) to replace a shared engine");
        st = sf_engine_create(&o, &fresh);
        end(w);
        expect(w, st, S(SF_OK), "shared replacement");
        pthread_mutex_lock(&g_shared_lock);
        g_shared[i] = fresh;
        pthread_mutex_unlock(&g_shared_lock);
        return;
    }
    target t = pick_target(w);
    if (t.live) return; /* destroying live ones is above */
    begin(w, "sf_engine_destroy", "sf_engine_destroy(%s)", t.label);
    int st = sf_engine_destroy(t.h);
    end(w);
    expect(w, st, S(SF_ERR_INVALID_HANDLE), t.label);
}

static void call_process_texture(worker* w)
{
    target t = pick_target(w);
    sf_texture tex;
    memset(&tex, 0, sizeof tex);
    tex.api = SF_TEXTURE_OPENGL;
    tex.handle = 1;
    tex.width = 64;
    tex.height = 48;
    tex.format = SF_FORMAT_RGBA8;
    int null_in = one_in(&w->r, 4), null_out = one_in(&w->r, 4);
    begin(w, "sf_engine_process_texture", "sf_engine_process_texture(%s, %s, %s)", t.label, null_in ? "NULL" : "&tex",
          null_out ? "NULL" : "&tex");
    int st = sf_engine_process_texture(t.h, null_in ? NULL : &tex, null_out ? NULL : &tex);
    end(w);
    unsigned live = S(SF_ERR_UNSUPPORTED) | (null_in || null_out ? S(SF_ERR_INVALID_ARGUMENT) : 0);
    expect(w, st, on_target(&t, live, null_in || null_out), "not implemented");
}

/* Installs, replaces or removes the callback; a removal is undone at once so that the engine stays off stderr. */
static void call_set_log_callback(worker* w)
{
    int level =
        below(&w->r, 4) ? between(&w->r, SF_LOG_ERROR, SF_LOG_DEBUG) : PICK(&w->r, ((const int[]){0, 5, -1, INT_MAX}));
    int remove = one_in(&w->r, 4);
    int bad = !remove && (level < SF_LOG_ERROR || level > SF_LOG_DEBUG);
    begin(w, "sf_set_log_callback", "sf_set_log_callback(%s, %d)", remove ? "NULL" : "counting callback", level);
    int st = sf_set_log_callback(remove ? NULL : on_log, remove ? NULL : &g_log_tag, level);
    end(w);
    expect(w, st, bad ? S(SF_ERR_INVALID_ARGUMENT) : S(SF_OK), remove ? "remove" : bad ? "bad level" : "install");
    if (remove || bad) {
        begin(w, "sf_set_log_callback", "sf_set_log_callback(counting callback, SF_LOG_DEBUG) to reinstall");
        st = sf_set_log_callback(on_log, &g_log_tag, SF_LOG_DEBUG);
        end(w);
        expect(w, st, S(SF_OK), "reinstall");
    }
}

static void call_version(worker* w)
{
    begin(w, "sf_abi_version", "sf_abi_version()");
    uint32_t v = sf_abi_version();
    end(w);
    if (v != SF_ABI_VERSION) wrong(w, WRONG_OTHER, "sf_abi_version: differs from the header's", "%u", v);
}

typedef struct call_kind {
    const char* name;
    int weight;
    void (*run)(worker*);
} call_kind;

static long g_kind_runs[32]; /* how often each kind ran, for the coverage line */

static const call_kind g_kinds[] = {
    {"process_cpu", 30, call_process},
    {"set_param", 14, call_set_param},
    {"get_param", 5, call_get_param},
    {"load_style", 8, call_load_style},
    {"set_style_mix", 6, call_set_style_mix},
    {"get_style_mix_count", 2, call_get_style_mix_count},
    {"get_style_mix_name", 3, call_get_style_mix_name},
    {"get_style_name", 3, call_get_style_name},
    {"reset_history", 3, call_reset_history},
    {"get_stats", 4, call_get_stats},
    {"list_styles", 2, call_list_styles},
    {"get_style_info", 3, call_get_style_info},
    {"create", 3, call_create},
    {"destroy", 3, call_destroy},
    {"process_texture", 1, call_process_texture},
    {"set_log_callback", 1, call_set_log_callback},
    {"abi_version", 1, call_version},
};

static void* worker_main(void* arg)
{
    worker* w = arg;
    int total = 0;
    for (int i = 0; i < COUNT(g_kinds); i++) total += g_kinds[i].weight;
    while (now_s() < g_deadline) {
        int k = below(&w->r, total), i = 0;
        while (k >= g_kinds[i].weight) k -= g_kinds[i++].weight;
        atomic_add(&g_kind_runs[i], 1);
        g_kinds[i].run(w);
    }
    for (int i = 0; i < PRIVATE_ENGINES; i++)
        if (w->priv[i].h) {
            begin(w, "sf_engine_destroy", "sf_engine_destroy(private) at the end");
            int st = sf_engine_destroy(w->priv[i].h);
            end(w);
            expect(w, st, S(SF_OK), "end");
        }
    return NULL;
}

/* Notices a call that has not returned after HANG_SECONDS, names it and ends the run (exit 3). */
static void* watchdog_main(void* arg)
{
    (void)arg;
    while (!g_done) {
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        double now = now_s();
        for (int i = 0; i < g_nworkers; i++) {
            worker* w = &g_workers[i];
            char what[600];
            pthread_mutex_lock(&w->lock);
            double since = w->since;
            snprintf(what, sizeof what, "%s", w->what);
            pthread_mutex_unlock(&w->lock);
            if (since > 0 && now - since > HANG_SECONDS) {
                printf("\nHANG: thread %d: %s has not returned after %.0f s\n", w->id, what, now - since);
                print_summary(g_seed_arg, g_threads_arg, 1);
                _exit(3);
            }
        }
    }
    return NULL;
}

/* ---- setup and main ------------------------------------------------------------------------------------- */

static void die(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("fuzz_abi: setup failed: ");
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(2);
}

/* Learns what the oracle compares against: each valid style's name and mix, the size of the style list. */
static void learn_styles(void)
{
    sf_engine* e = NULL;
    if (sf_engine_create(NULL, &e) != SF_OK) die("sf_engine_create: %s", sf_last_error());
    for (int i = 0; i < g_nstyles; i++) {
        style* s = &g_styles[i];
        if (s->valid != 1) continue;
        sf_style_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (sf_get_style_info(s->arg, &info) != SF_OK) die("sf_get_style_info(%s): %s", s->arg, sf_last_error());
        snprintf(s->name, sizeof s->name, "%s", info.title);
        if (sf_engine_load_style(e, s->arg) != SF_OK) die("sf_engine_load_style(%s): %s", s->arg, sf_last_error());
        char name[512];
        int32_t n = 0;
        if (sf_engine_get_style_name(e, name, sizeof name) != SF_OK || strcmp(name, s->name) != 0)
            die("style name of %s is \"%s\", its sf_style_info title \"%s\"", s->arg, name, s->name);
        if (sf_engine_get_style_mix_count(e, &n) != SF_OK || n < 0 || n > 4) die("mix count of %s: %d", s->arg, n);
        s->mix_count = n;
        for (int j = 0; j < n; j++)
            if (sf_engine_get_style_mix_name(e, j, s->mix_names[j], sizeof s->mix_names[j]) != SF_OK)
                die("mix name %d of %s: %s", j, s->arg, sf_last_error());
        printf("  style %-40s name \"%s\", mixes %d\n", s->arg, s->name, n);
    }
    sf_engine_destroy(e);
    if (sf_list_styles(NULL, 0, &g_list_needed) != SF_OK || g_list_needed == 0 || g_list_needed > 8000)
        die("sf_list_styles size query: %s", sf_last_error());
}

int main(int argc, char** argv)
{
    int seed = 1, threads = 4;
    double seconds = 60;
    if (argc < 3) {
        fprintf(stderr, "usage: %s PATH/stylefilter.so MODELS_DIR [--seed N] [--seconds S] [--threads T]\n", argv[0]);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
            seed = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "fuzz_abi: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || !(seconds > 0)) {
        fprintf(stderr, "fuzz_abi: --threads 1..64, --seconds > 0\n");
        return 2;
    }
    double start = now_s();
    g_seed_arg = seed;
    g_threads_arg = threads;
    g_models = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);
    setenv("STYLEFILTER_MODELS", g_models, 1); /* bundled names resolve to the test models; read at the first call */
    printf("fuzz_abi: %s, models %s, seed %d, %d threads, %.0f s\n\n", argv[1], g_models, seed, threads, seconds);

    /* Phase 1 before this process touches the library: the children fork from a process without the runtime. */
    guard_phase(argv[1]);

    start_stderr_tee();
    char err[512];
    if (!sf_load(argv[1], err, sizeof err)) die("%s", err);
    if (sf_abi_version() != SF_ABI_VERSION) die("sf_abi_version() = %u, header %d", sf_abi_version(), SF_ABI_VERSION);
    if (sf_set_log_callback(on_log, &g_log_tag, SF_LOG_DEBUG) != SF_OK) die("sf_set_log_callback: %s", sf_last_error());
    printf("\n== phase 2: fuzzing\n");
    define_styles();
    learn_styles();
    for (int i = 0; i < SHARED_ENGINES; i++) {
        sf_engine_options o;
        memset(&o, 0, sizeof o);
        o.struct_size = sizeof o;
        o.intra_op_threads = 1;
        if (sf_engine_create(&o, &g_shared[i]) != SF_OK) die("shared engine: %s", sf_last_error());
    }
    if (sf_engine_load_style(g_shared[0], g_styles[0].arg) != SF_OK) die("shared engine style: %s", sf_last_error());

    g_deadline = start + (seconds > 6 ? seconds - 3 : seconds / 2); /* leave time for calls in progress and teardown */
    g_nworkers = threads;
    g_workers = calloc((size_t)threads, sizeof *g_workers);
    if (!g_workers) die("calloc");
    pthread_t watchdog;
    pthread_create(&watchdog, NULL, watchdog_main, NULL);
    for (int i = 0; i < threads; i++) {
        worker* w = &g_workers[i];
        w->id = i;
        w->r.s = (uint64_t)seed * 0x100000001B3ull + (uint64_t)i; /* seed + thread */
        for (int k = 0; k < 4; k++) rnd(&w->r);
        pthread_mutex_init(&w->lock, NULL);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) die("pthread_create");
    }
    for (int i = 0; i < threads; i++) pthread_join(g_workers[i].thread, NULL);

    worker* w = &g_workers[0]; /* teardown calls are checked like the others */
    for (int i = 0; i < SHARED_ENGINES; i++)
        if (g_shared[i]) {
            begin(w, "sf_engine_destroy", "sf_engine_destroy(shared) at the end");
            int st = sf_engine_destroy(g_shared[i]);
            end(w);
            expect(w, st, S(SF_OK), "end");
        }
    g_done = 1;
    pthread_join(watchdog, NULL);
    if (atomic_get(&g_log_bad))
        wrong(w, WRONG_OTHER,
              "log callback: a level outside SF_LOG_ERROR..SF_LOG_DEBUG, a NULL message or the wrong user pointer",
              "%ld of %ld messages", atomic_get(&g_log_bad), atomic_get(&g_log_messages));
    snprintf(w->what, sizeof w->what, "the whole run"); /* for the two checks below */
    w->err[0] = 0;
    char example[300];
    long ort_lines = finish_stderr_tee(example, sizeof example);
    if (ort_lines > 0)
        wrong(w, WRONG_OTHER, "ONNX Runtime wrote to stderr itself instead of through the log callback",
              "%ld lines, the first: %s", ort_lines, example);
    printf("\nfuzz_abi: %.0f s, %ld log messages through the callback; call kinds run:", now_s() - start,
           atomic_get(&g_log_messages));
    for (int i = 0; i < COUNT(g_kinds); i++)
        printf("%s %s %ld", i ? "," : "", g_kinds[i].name, atomic_get(&g_kind_runs[i]));
    printf("\n");
    print_summary(seed, threads, 0);
    return g_wrong[0] + g_wrong[1] + g_wrong[2] ? 1 : 0;
}
