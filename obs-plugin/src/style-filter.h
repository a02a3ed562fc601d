/*
 * style-filter.h - internal header of the "Neural Style" OBS video filter: its state, shared by
 *   style-filter.c           the obs_source_info: create, destroy, remove (and the data-flow picture)
 *   style-filter-settings.c  settings and defaults, the properties panel and its status, the stats procedure
 *   style-filter-threads.c   the inference worker and the style loader threads, the CPU budget
 *   style-filter-render.c    the render path on the OBS graphics thread
 */
#pragma once

#include <obs-module.h>
#include <graphics/graphics.h>
#include <util/bmem.h>
#include <util/dstr.h>
#include <util/platform.h>
#include <util/threading.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auto-resolution.h"
#include "sf-api.h"

#define STYLE_FILTER_ID "stylefilter_filter"

/* The Style list's entry for a model file picked by the user. */
#define STYLE_CUSTOM "__custom__"
/* Style mix sliders offered for multi-style models (more styles than this mix with weight 0). */
#define MAX_MIX 8
/* "Inference resolution" values other than a height: Auto (fits the machine) and Source (full size). */
#define RESOLUTION_AUTO (-1)
#define RESOLUTION_SOURCE 0

/* Scene-cut signature: each video frame drawn into SIG_W x SIG_H pixels (RGBA) on the GPU and read back.
 * The last stylised result stays on screen unless its frame's signature and the current one differ like a
 * scene cut: a mean largest-channel change over SIG_CUT, the engine's own scene-cut rule (TemporalBlender). */
#define SIG_W 32
#define SIG_H 18
#define SIG_BYTES (SIG_W * SIG_H * 4)
#define SIG_CUT 0.15

#define flog(level, f, format, ...) \
	blog(level, "[stylefilter] '%s': " format, (f)->name ? (f)->name : "?", ##__VA_ARGS__)

/* Time spent in one step of the render path, and how often it ran (graphics thread only). */
struct cost {
	uint64_t ns;
	uint64_t count;
};

static inline void cost_add(struct cost *c, uint64_t since_ns)
{
	c->ns += os_gettime_ns() - since_ns;
	c->count++;
}

static inline double cost_ms(const struct cost *c)
{
	return c->count ? (double)c->ns / 1e6 / (double)c->count : 0.0;
}

struct frame_buf {
	uint8_t *data; /* packed RGBA8 */
	size_t capacity;
	uint32_t width;
	uint32_t height;
	uint32_t linesize;
	uint32_t source_w, source_h; /* the video frame it was read back from (it may be smaller) */
	uint8_t sig[SIG_BYTES];      /* signature of the video frame this image is (or was stylised from) */
	bool has_sig;
};

struct style_filter {
	obs_source_t *source;
	char *name; /* copied at creation: log lines from the worker threads must not touch the source */
	uint64_t created_ns;

	/* ---- OBS graphics thread only ---- */
	gs_texrender_t *texrender;
	gs_stagesurf_t *stage[2];
	bool staged[2];
	int next_stage;
	uint32_t stage_w, stage_h;
	uint32_t stage_source_w, stage_source_h; /* the video frame size the staged frame was read from */
	gs_texrender_t *sig_render;
	gs_stagesurf_t *sig_stage[2];
	bool sig_staged[2];
	int next_sig;
	uint8_t frame_sig[SIG_BYTES]; /* signature of the newest video frame read back (one frame late) */
	bool have_frame_sig;
	gs_texture_t *out_tex;
	uint32_t out_w, out_h;               /* out_tex's size */
	uint32_t out_source_w, out_source_h; /* the size of the video frames its result belongs to */
	uint8_t out_sig[SIG_BYTES];          /* the signature of the frame it was made from */
	bool out_has_sig;
	bool out_valid;
	struct frame_buf *fill;  /* input buffer being filled from the stage surface */
	struct frame_buf *shown; /* result uploaded to out_tex */
	uint64_t shown_seq;
	uint64_t last_frame_time; /* obs_get_video_frame_time() of the last captured frame */
	bool drew_result;         /* the last video frame (of size cap_w x cap_h) showed out_tex */
	uint32_t cap_w, cap_h;
	uint32_t seen_w, seen_h; /* to log source size changes */
	bool in_cut;             /* the input is shown because the scene changed (logged once per cut) */

	/* ---- inference worker only ---- */
	struct frame_buf *work_in;
	struct frame_buf *work_out;
	sf_engine *applied_engine; /* the engine the settings below were applied to */
	uint32_t applied_height;   /* inference height asked for (0 = source size) */
	uint32_t applied_frame_h;
	uint64_t applied_mix_gen;
	uint64_t fail_run;
	struct auto_resolution auto_res;

	/* ---- style loader only ---- */
	bool tier_refused; /* the engine refused SF_PARAM_NETWORK_TIER (an older engine): logged once */

	/* ---- shared, guarded by mutex ---- */
	pthread_mutex_t mutex;
	pthread_cond_t work_cond; /* worker: a frame is pending, or stop */
	pthread_cond_t load_cond; /* loader: a load was requested, or stop */
	pthread_cond_t idle_cond; /* loader: the worker let go of the engine it was using */
	bool mutex_ok, work_cond_ok, load_cond_ok, idle_cond_ok;
	bool stop;
	sf_engine *engine;  /* created by the loader thread, destroyed by it (replaced) or in style_filter_destroy */
	int engine_threads; /* intra-op threads the engine was created with */
	struct frame_buf *pending;
	bool pending_full;
	struct frame_buf *ready;
	bool ready_full;
	uint64_t ready_seq;
	bool worker_busy;
	sf_engine *worker_engine; /* the engine the busy worker is using */
	uint64_t work_started_ns; /* when the worker took the frame it is busy with */
	uint64_t rest_until_ns;   /* the worker rests until then after a frame (its CPU share) */
	bool style_ready;         /* a style is loaded: frames are worth reading back */
	bool refresh_on_result;   /* refresh the panel when the first result of a new style is out */

	char *req_style; /* bundled style name or path requested by the settings */
	int req_device;
	int req_tier; /* network size, one of sf_tier; the loader sets it on the engine before each load */
	int req_threads;
	uint64_t req_gen, done_gen;
	bool loading;
	char *loaded_style; /* name of the style in use */
	char *load_error;   /* why the last load failed, as a sentence for the panel; NULL after a success */
	char *engine_error; /* why no engine could be created, as a sentence for the panel */

	double alpha, smoothing;
	bool follow_motion; /* smoothing follows the camera's motion (SF_PARAM_MOTION_COMPENSATION) */
	bool preserve;
	int resolution;        /* target inference height; RESOLUTION_AUTO or RESOLUTION_SOURCE */
	double auto_target_ms; /* Auto's target time per frame */
	float mix_weights[MAX_MIX];
	int mix_count;            /* styles the loaded model can mix; 0 = no mix */
	char *mix_names[MAX_MIX]; /* their names (sf_engine_get_style_mix_name) for the slider labels; NULL = unknown */
	uint64_t mix_gen;         /* bumped when the weights or the model change; the worker applies them */
	uint32_t infer_w, infer_h;
	uint32_t next_height; /* inference height the worker will use next (0: not known yet) */

	uint64_t frames_submitted;   /* frames read back and handed to the worker */
	uint64_t frames_dropped;     /* handed over but replaced by a newer one before the worker took it */
	uint64_t results;            /* frames the worker finished (pass-through copies included) */
	uint64_t results_shown;      /* video frames that showed a newly finished result */
	uint64_t frames_reused;      /* video frames that showed the previous result again */
	uint64_t frames_passthrough; /* video frames drawn untouched (no style, no result yet, size change, cut) */
	uint64_t frames_cut;         /* of those: after a result existed, because the scene changed */
	uint64_t frames_unstyled;    /* of those: after the first result was on screen (size change, cut) */
	uint64_t frames_failed;      /* frames the engine failed on (it passed them through) */
	uint64_t stalls;             /* times the video did not render for more than STALL_NS */
	double first_result_ms;      /* from creation to the first stylised frame on screen; 0 = none yet */
	uint64_t infer_ns_total;
	double last_infer_ms;
	uint64_t render_ns_total; /* graphics-thread time of the filter's video frames */
	uint64_t render_count;
	/* ...and of their costly steps: full-size capture + staging, mapping + copying it for the worker,
	 * uploading a result (the rest of a frame is the signature and one draw) */
	struct cost capture_cost, readback_cost, upload_cost;
	/* Engine statistics, refreshed by the worker after each frame: sf_engine_get_stats may be called
	 * from any thread, but the worker already has them at hand. */
	sf_stats stats;
	bool have_stats;

	pthread_t worker_thread, loader_thread;
	bool worker_started, loader_started;
};

/* ---- small helpers ---- */

static inline bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static inline void set_str(char **dst, const char *src)
{
	bfree(*dst);
	*dst = src ? bstrdup(src) : NULL;
}

static inline struct frame_buf *fb_new(void)
{
	return bzalloc(sizeof(struct frame_buf));
}

static inline void fb_free(struct frame_buf *fb)
{
	if (fb) {
		bfree(fb->data);
		bfree(fb);
	}
}

/* Makes room for a packed RGBA8 image of width x height. */
static inline void fb_reserve(struct frame_buf *fb, uint32_t width, uint32_t height)
{
	size_t need = (size_t)width * height * 4;
	if (fb->capacity < need) {
		bfree(fb->data);
		fb->data = bmalloc(need);
		fb->capacity = need;
	}
	fb->width = width;
	fb->height = height;
	fb->linesize = width * 4;
}

#define SWAP_BUF(a, b)                        \
	do {                                  \
		struct frame_buf *tmp_ = (a); \
		(a) = (b);                    \
		(b) = tmp_;                   \
	} while (0)

/* ---- style-filter-settings.c ---- */
const char *device_name(int device);
const char *tier_name(int tier);
int default_cpu_threads(void);
void style_filter_defaults(obs_data_t *settings);
void style_filter_update(void *data, obs_data_t *settings);
obs_properties_t *style_filter_properties(void *data);
void proc_get_stats(void *data, calldata_t *cd);
/* A sentence for the panel from a translatable format with `count` "%s" (the English fallback when a
 * translation does not have exactly those). */
void format_text(struct dstr *out, const char *key, const char *fallback, int count, ...);

/* ---- style-filter-threads.c ---- */
void *worker_main(void *data);
void *loader_main(void *data);
/* Sets strength, smoothing and colour preservation on the engine (never waits for a frame). */
void apply_params(struct style_filter *f, const struct sf_api *sf, sf_engine *engine);

/* ---- style-filter-render.c ---- */
void style_filter_render(void *data, gs_effect_t *effect);
enum gs_color_space style_filter_color_space(void *data, size_t count, const enum gs_color_space *preferred_spaces);
