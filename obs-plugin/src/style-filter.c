/*
 * style-filter.c - the "Neural Style" OBS video filter.
 *
 * Threads and data flow (one filter instance):
 *
 *   OBS graphics thread (video_render)            inference worker               style loader
 *   ----------------------------------            ----------------               ------------
 *   render the filter target into `texrender`
 *   stage it into stage[N]; map stage[N^1]
 *   (staged one frame earlier, so no stall)
 *   copy it into `fill`, swap fill <-> pending -->  take `pending` (newest only;
 *   (a pending frame not yet taken is dropped      older ones were dropped)
 *   and counted as skipped)                         sf_engine_process_cpu (RGBA8)
 *                                                   swap result <-> `ready`
 *   if `ready` is newer than what is shown:  <---
 *   swap ready <-> shown, upload `shown` into
 *   `out_tex`; draw out_tex (or, before the first
 *   result, the untouched texrender texture)
 *                                                                                  engine create,
 *                                                                                  sf_engine_load_style
 *                                                                                  (the old style keeps
 *                                                                                  serving frames)
 *
 * The render thread never waits for inference: the mutex only guards pointer swaps and counters.
 * While the worker is busy with a frame that will take several more video frames, no new frame is
 * read back (want_new_frame), so slow inference does not cost a GPU readback per video frame.
 * GPU zero-copy would plug in at capture_frame(): hand the texrender texture to
 * sf_engine_process_texture instead of staging it; the engine returns SF_ERR_UNSUPPORTED today.
 */
#include <obs-module.h>
#include <graphics/graphics.h>
#include <graphics/vec4.h>
#include <util/bmem.h>
#include <util/dstr.h>
#include <util/platform.h>
#include <util/threading.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sf-api.h"
#include "style-filter.h"

#define S_STYLE "style"
#define S_CUSTOM_PATH "custom_path"
#define S_STRENGTH "strength"
#define S_PRESERVE "preserve_colour"
#define S_SMOOTHING "smoothing"
#define S_RESOLUTION "resolution"
#define S_DEVICE "device"
#define S_STATUS "status"
#define S_REFRESH "refresh_status"
#define S_MIX_FMT "mix_%d"

/* Style mix sliders offered for multi-style models (more styles than this mix with weight 0). */
#define MAX_MIX 8

#define STYLE_CUSTOM "__custom__"
#define PROC_GET_STATS "stylefilter_get_stats"

/* A result older than this (filter hidden, then shown again) is not shown again. */
#define STALE_RESULT_NS 500000000ULL
/* While inference keeps failing, repeat the log line only every this many frames. */
#define FAIL_LOG_EVERY 300

#define flog(level, f, format, ...) \
	blog(level, "[stylefilter] '%s': " format, (f)->name ? (f)->name : "?", ##__VA_ARGS__)

struct frame_buf {
	uint8_t *data;
	size_t capacity;
	uint32_t width;
	uint32_t height;
	uint32_t linesize;
};

struct style_filter {
	obs_source_t *source;
	char *name; /* copied at creation: log lines from the worker threads must not touch the source */

	/* ---- OBS graphics thread only ---- */
	gs_texrender_t *texrender;
	gs_stagesurf_t *stage[2];
	bool staged[2];
	int next_stage;
	uint32_t stage_w, stage_h;
	gs_texture_t *out_tex;
	uint32_t out_w, out_h;
	bool out_valid;
	struct frame_buf *fill;  /* input buffer being filled from the stage surface */
	struct frame_buf *shown; /* result uploaded to out_tex */
	uint64_t shown_seq;
	uint64_t last_frame_time; /* obs_get_video_frame_time() of the last captured frame */
	bool captured;            /* texrender holds a frame of size cap_w x cap_h */
	uint32_t cap_w, cap_h;
	uint32_t seen_w, seen_h; /* to log source size changes */

	/* ---- inference worker only ---- */
	struct frame_buf *work_in;
	struct frame_buf *work_out;
	int applied_resolution;
	uint32_t applied_height;
	uint64_t applied_mix_gen;
	uint64_t fail_run;

	/* ---- shared, guarded by mutex ---- */
	pthread_mutex_t mutex;
	pthread_cond_t work_cond; /* worker: a frame is pending, or stop */
	pthread_cond_t load_cond; /* loader: a load was requested, or stop */
	bool mutex_ok, work_cond_ok, load_cond_ok;
	bool stop;
	sf_engine *engine; /* created by the loader thread, destroyed in style_filter_destroy */
	struct frame_buf *pending;
	bool pending_full;
	struct frame_buf *ready;
	bool ready_full;
	uint64_t ready_seq;
	bool worker_busy;
	uint64_t work_started_ns; /* when the worker took the frame it is busy with */
	bool style_ready; /* a style is loaded: frames are worth reading back */

	char *req_style; /* bundled style name or path requested by the settings */
	int req_device;
	uint64_t req_gen, done_gen;
	bool loading;
	char *loaded_style; /* name of the style in use */
	char *load_error;   /* last load failure, NULL after a success */
	char *engine_error; /* why no engine could be created */

	double alpha, smoothing;
	bool preserve;
	int resolution; /* target inference height; 0 = source size */
	float mix_weights[MAX_MIX];
	int mix_count;    /* styles the loaded model can mix; 0 = no mix */
	char *mix_names[MAX_MIX]; /* their names (sf_engine_get_style_mix_name) for the slider labels; NULL = unknown */
	uint64_t mix_gen; /* bumped when the weights or the model change; the worker applies them */
	uint32_t infer_w, infer_h;

	uint64_t frames_submitted;   /* frames read back and handed to the worker */
	uint64_t frames_dropped;     /* handed over but replaced by a newer one before the worker took it */
	uint64_t results;            /* frames the worker finished (pass-through copies included) */
	uint64_t results_shown;      /* video frames that showed a newly finished result */
	uint64_t frames_reused;      /* video frames that showed the previous result again */
	uint64_t frames_passthrough; /* video frames drawn untouched (no style, no result yet) */
	uint64_t frames_failed;      /* frames the engine failed on (it passed them through) */
	uint64_t infer_ns_total;
	double last_infer_ms;
	uint64_t render_ns_total; /* graphics-thread time of the frames that read back a new frame */
	uint64_t render_count;
	/* Engine statistics, refreshed by the worker after each frame: sf_engine_get_stats waits for a
	 * frame in progress, so the UI and render threads must never call it themselves. */
	sf_stats stats;
	bool have_stats;

	pthread_t worker_thread, loader_thread;
	bool worker_started, loader_started;
};

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void set_str(char **dst, const char *src)
{
	bfree(*dst);
	*dst = src ? bstrdup(src) : NULL;
}

static struct frame_buf *fb_new(void)
{
	return bzalloc(sizeof(struct frame_buf));
}

static void fb_free(struct frame_buf *fb)
{
	if (fb) {
		bfree(fb->data);
		bfree(fb);
	}
}

/* Makes room for a packed RGBA8 image of width x height. */
static void fb_reserve(struct frame_buf *fb, uint32_t width, uint32_t height)
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

#define SWAP_BUF(a, b)                       \
	do {                                 \
		struct frame_buf *tmp_ = (a); \
		(a) = (b);                   \
		(b) = tmp_;                  \
	} while (0)

/* A picked .../manifest.json stands for its style pack folder. */
static char *resolve_custom_path(const char *path)
{
	if (!path || !*path)
		return NULL;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (strcmp(base, "manifest.json") == 0 && slash) {
		size_t len = (size_t)(slash - path);
		char *dir = bmalloc(len + 1);
		memcpy(dir, path, len);
		dir[len] = '\0';
		return dir;
	}
	return bstrdup(path);
}

static const char *device_name(int device)
{
	switch (device) {
	case SF_DEVICE_AUTO:
		return "Auto";
	case SF_DEVICE_CPU:
		return "CPU";
	case SF_DEVICE_CUDA:
		return "CUDA";
	case SF_DEVICE_TENSORRT:
		return "TensorRT";
	case SF_DEVICE_DIRECTML:
		return "DirectML";
	}
	return "?";
}

/* ------------------------------------------------------------------------------------------ */
/* inference worker                                                                            */

static void report_frame_result(struct style_filter *f, sf_status st, const char *error)
{
	if (st == SF_OK) {
		if (f->fail_run > 0) {
			flog(LOG_INFO, f, "inference works again after %llu failed frame(s)",
			     (unsigned long long)f->fail_run);
			f->fail_run = 0;
		}
		return;
	}
	if (f->fail_run % FAIL_LOG_EVERY == 0)
		flog(LOG_ERROR, f, "inference failed (%s: %s); showing the frame unchanged%s", sf_status_name(st),
		     error && *error ? error : "no details",
		     f->fail_run ? " (still failing)" : "");
	f->fail_run++;
}

static void apply_resolution(struct style_filter *f, const struct sf_api *sf, sf_engine *engine,
			     int resolution, uint32_t width, uint32_t height)
{
	if (resolution == f->applied_resolution && height == f->applied_height)
		return;
	double scale = 1.0;
	if (resolution > 0 && (uint32_t)resolution < height)
		scale = (double)resolution / (double)height;
	sf_status st = sf->engine_set_param(engine, SF_PARAM_INFERENCE_SCALE, scale);
	if (st != SF_OK) {
		flog(LOG_WARNING, f, "could not set the inference resolution (scale %.3f): %s", scale,
		     sf->last_error());
		return;
	}
	f->applied_resolution = resolution;
	f->applied_height = height;
	uint32_t iw = (uint32_t)lround(width * scale), ih = (uint32_t)lround(height * scale);
	pthread_mutex_lock(&f->mutex);
	f->infer_w = iw;
	f->infer_h = ih;
	pthread_mutex_unlock(&f->mutex);
	flog(LOG_INFO, f, "frames are %ux%u, inference runs at about %ux%u (scale %.3f)", width, height, iw, ih,
	     scale);
}

/* Sets the style mix of a multi-style model (worker thread, between frames). */
static void apply_style_mix(struct style_filter *f, const struct sf_api *sf, sf_engine *engine,
			    const float *mix, int count)
{
	if (count <= 0 || !sf->engine_set_style_mix)
		return;
	float weights[64] = {0};
	if (count > 64)
		count = 64;
	bool any = false;
	for (int i = 0; i < count && i < MAX_MIX; i++) {
		weights[i] = mix[i];
		any |= mix[i] > 0.0f;
	}
	if (!any) {
		flog(LOG_WARNING, f, "all style mix weights are 0; keeping the previous mix");
		return;
	}
	sf_status st = sf->engine_set_style_mix(engine, weights, count);
	if (st != SF_OK)
		flog(LOG_WARNING, f, "could not set the style mix: %s (%s)", sf->last_error(), sf_status_name(st));
}

static void *worker_main(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();
	os_set_thread_name("stylefilter-inference");

	pthread_mutex_lock(&f->mutex);
	for (;;) {
		while (!f->stop && !f->pending_full)
			pthread_cond_wait(&f->work_cond, &f->mutex);
		if (f->stop)
			break;

		SWAP_BUF(f->pending, f->work_in);
		f->pending_full = false;
		sf_engine *engine = f->engine;
		int resolution = f->resolution;
		uint64_t mix_gen = f->mix_gen;
		int mix_count = f->mix_count;
		float mix[MAX_MIX];
		memcpy(mix, f->mix_weights, sizeof(mix));
		f->worker_busy = true;
		f->work_started_ns = os_gettime_ns();
		pthread_mutex_unlock(&f->mutex);

		bool publish = false, have_stats = false;
		sf_status st = SF_ERR_NO_STYLE;
		uint64_t elapsed = 0;
		sf_stats stats = {0};
		if (engine && sf) {
			struct frame_buf *in = f->work_in, *out = f->work_out;
			apply_resolution(f, sf, engine, resolution, in->width, in->height);
			if (mix_gen != f->applied_mix_gen) {
				apply_style_mix(f, sf, engine, mix, mix_count);
				f->applied_mix_gen = mix_gen;
			}
			fb_reserve(out, in->width, in->height);
			sf_frame fin = {in->data, (int32_t)in->width, (int32_t)in->height, (int32_t)in->linesize,
					SF_FORMAT_RGBA8};
			sf_frame fout = {out->data, (int32_t)out->width, (int32_t)out->height,
					 (int32_t)out->linesize, SF_FORMAT_RGBA8};
			uint64_t t0 = os_gettime_ns();
			st = sf->engine_process_cpu(engine, &fin, &fout);
			elapsed = os_gettime_ns() - t0;
			/* On a failed frame the engine writes the input into the output (pass-through), except
			 * for argument or handle errors, which leave the output untouched. */
			publish = st != SF_ERR_INVALID_ARGUMENT && st != SF_ERR_INVALID_HANDLE;
			report_frame_result(f, st, st == SF_OK ? NULL : sf->last_error());
			stats.struct_size = sizeof(stats);
			have_stats = sf->engine_get_stats(engine, &stats) == SF_OK;
		}

		pthread_mutex_lock(&f->mutex);
		f->worker_busy = false;
		if (publish) {
			SWAP_BUF(f->work_out, f->ready);
			f->ready_full = true;
			f->ready_seq++;
			f->results++;
			f->infer_ns_total += elapsed;
			f->last_infer_ms = (double)elapsed / 1e6;
		}
		if (st != SF_OK)
			f->frames_failed++;
		bool provider_changed = false;
		if (have_stats) {
			provider_changed = strcmp(stats.provider, f->stats.provider) != 0;
			f->stats = stats;
			f->have_stats = true;
		}
		if (provider_changed) {
			pthread_mutex_unlock(&f->mutex);
			flog(LOG_INFO, f, "inference runs on execution provider %s", stats.provider);
			pthread_mutex_lock(&f->mutex);
		}
	}
	pthread_mutex_unlock(&f->mutex);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* style loader                                                                                */

static void apply_params(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, double alpha,
			 double smoothing, bool preserve)
{
	if (sf->engine_set_param(engine, SF_PARAM_ALPHA, alpha) != SF_OK)
		flog(LOG_WARNING, f, "could not set style strength %.2f: %s", alpha, sf->last_error());
	if (sf->engine_set_param(engine, SF_PARAM_SMOOTHING, smoothing) != SF_OK)
		flog(LOG_WARNING, f, "could not set temporal smoothing %.2f: %s", smoothing, sf->last_error());
	if (sf->engine_set_param(engine, SF_PARAM_PRESERVE_COLOUR, preserve ? 1.0 : 0.0) != SF_OK)
		flog(LOG_WARNING, f, "could not set colour preservation: %s", sf->last_error());
}

static sf_engine *create_engine(struct style_filter *f, const struct sf_api *sf, int device)
{
	sf_engine_options options = {0};
	options.struct_size = sizeof(options);
	options.ort_library_path = sf_ort_path();
	options.intra_op_threads = 0;
	options.device = device;

	sf_engine *engine = NULL;
	sf_status st = sf->engine_create(&options, &engine);
	if (st != SF_OK || !engine) {
		struct dstr msg = {0};
		dstr_printf(&msg, "%s: %s", sf_status_name(st), sf->last_error());
		flog(LOG_ERROR, f, "could not create the StyleFilter engine (%s); video passes through unchanged",
		     msg.array);
		pthread_mutex_lock(&f->mutex);
		set_str(&f->engine_error, msg.array);
		pthread_mutex_unlock(&f->mutex);
		dstr_free(&msg);
		return NULL;
	}
	return engine;
}

/* Names of the first styles a freshly loaded model can mix (loader thread, no lock held): bstrdup'd into
 * names[0 .. min(count, MAX_MIX) - 1]; NULL where the engine has no name call or the call fails (the slider
 * then keeps its numbered label). */
static void read_mix_names(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, int32_t count,
			   char **names)
{
	if (count <= 0 || !sf->engine_get_style_mix_name)
		return;
	for (int32_t i = 0; i < count && i < MAX_MIX; i++) {
		char buf[256] = "";
		sf_status st = sf->engine_get_style_mix_name(engine, i, buf, sizeof(buf));
		if (st == SF_OK && buf[0])
			names[i] = bstrdup(buf);
		else
			flog(LOG_WARNING, f, "no name for mixable style %d (%s: %s); its slider is numbered",
			     (int)i + 1, sf_status_name(st), st == SF_OK ? "empty name" : sf->last_error());
	}
}

static void *loader_main(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();
	os_set_thread_name("stylefilter-loader");

	pthread_mutex_lock(&f->mutex);
	for (;;) {
		while (!f->stop && f->req_gen == f->done_gen)
			pthread_cond_wait(&f->load_cond, &f->mutex);
		if (f->stop)
			break;

		uint64_t gen = f->req_gen;
		char *style = f->req_style ? bstrdup(f->req_style) : NULL;
		int device = f->req_device;
		sf_engine *engine = f->engine;
		bool had_style = f->style_ready;
		char *previous = f->loaded_style ? bstrdup(f->loaded_style) : NULL;
		f->loading = true;
		pthread_mutex_unlock(&f->mutex);

		if (!engine) {
			engine = create_engine(f, sf, device);
			if (engine) {
				pthread_mutex_lock(&f->mutex);
				f->engine = engine;
				set_str(&f->engine_error, NULL);
				double alpha = f->alpha, smoothing = f->smoothing;
				bool preserve = f->preserve;
				pthread_mutex_unlock(&f->mutex);
				apply_params(f, sf, engine, alpha, smoothing, preserve);
				flog(LOG_INFO, f, "engine created (device preference: %s)", device_name(device));
			}
		}

		bool ok = false;
		char name[256] = "";
		struct dstr error = {0};
		if (engine) {
			if (sf->engine_set_param(engine, SF_PARAM_DEVICE, device) != SF_OK)
				flog(LOG_WARNING, f, "could not select device %s: %s", device_name(device),
				     sf->last_error());
			if (style && *style) {
				flog(LOG_INFO, f, "loading style '%s' (device preference: %s)", style,
				     device_name(device));
				uint64_t t0 = os_gettime_ns();
				sf_status st = sf->engine_load_style(engine, style);
				double ms = (double)(os_gettime_ns() - t0) / 1e6;
				if (st == SF_OK) {
					ok = true;
					if (sf->engine_get_style_name(engine, name, sizeof(name)) != SF_OK)
						snprintf(name, sizeof(name), "%s", style);
					flog(LOG_INFO, f, "style '%s' loaded in %.0f ms", name, ms);
					int32_t count = 0;
					if (sf->engine_get_style_mix_count &&
					    sf->engine_get_style_mix_count(engine, &count) != SF_OK)
						count = 0;
					char *names[MAX_MIX] = {0};
					read_mix_names(f, sf, engine, count, names);
					if (count > 0) {
						struct dstr list = {0};
						for (int i = 0; i < count && i < MAX_MIX; i++)
							dstr_catf(&list, "%s%s", i ? ", " : "",
								  names[i] ? names[i] : "?");
						flog(LOG_INFO, f, "style '%s' can mix %d styles: %s%s", name, (int)count,
						     list.array ? list.array : "",
						     count > MAX_MIX ? " (the first 8 are offered)" : "");
						dstr_free(&list);
					}
					pthread_mutex_lock(&f->mutex);
					f->mix_count = count;
					for (int i = 0; i < MAX_MIX; i++) {
						bfree(f->mix_names[i]);
						f->mix_names[i] = names[i];
					}
					f->mix_gen++; /* apply the mix settings to the new model */
					pthread_mutex_unlock(&f->mutex);
				} else {
					dstr_printf(&error, "%s (%s)", sf->last_error(), sf_status_name(st));
					if (had_style)
						flog(LOG_ERROR, f,
						     "could not load style '%s': %s; keeping the previous style '%s'",
						     style, error.array, previous ? previous : "?");
					else
						flog(LOG_ERROR, f,
						     "could not load style '%s': %s; video passes through unchanged",
						     style, error.array);
				}
			}
		} else {
			pthread_mutex_lock(&f->mutex);
			dstr_printf(&error, "engine not available: %s", f->engine_error ? f->engine_error : "?");
			pthread_mutex_unlock(&f->mutex);
		}

		pthread_mutex_lock(&f->mutex);
		f->done_gen = gen;
		f->loading = false;
		if (ok) {
			set_str(&f->loaded_style, name);
			set_str(&f->load_error, NULL);
			f->style_ready = true;
		} else if (error.array) {
			set_str(&f->load_error, error.array);
		}
		dstr_free(&error);
		bfree(style);
		bfree(previous);
	}
	pthread_mutex_unlock(&f->mutex);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* status                                                                                      */

struct filter_snapshot {
	uint64_t submitted, dropped, results, shown, reused, passthrough, failed;
	double worker_ms, render_ms;
	bool style_ready, busy, loading;
	int mix_count;
	uint32_t infer_w, infer_h;
	char style[256];
	char requested[512];
	char error[1024];
	int device;
	sf_stats stats;
	bool have_stats;
};

static void take_snapshot(struct style_filter *f, struct filter_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&f->mutex);
	s->submitted = f->frames_submitted;
	s->dropped = f->frames_dropped;
	s->results = f->results;
	s->shown = f->results_shown;
	s->reused = f->frames_reused;
	s->passthrough = f->frames_passthrough;
	s->failed = f->frames_failed;
	s->worker_ms = f->results ? (double)f->infer_ns_total / 1e6 / (double)f->results : 0.0;
	s->render_ms = f->render_count ? (double)f->render_ns_total / 1e6 / (double)f->render_count : 0.0;
	s->style_ready = f->style_ready;
	s->busy = f->worker_busy;
	s->loading = f->loading || f->req_gen != f->done_gen;
	s->infer_w = f->infer_w;
	s->infer_h = f->infer_h;
	s->mix_count = f->mix_count;
	s->device = f->req_device;
	snprintf(s->style, sizeof(s->style), "%s", f->loaded_style ? f->loaded_style : "");
	snprintf(s->requested, sizeof(s->requested), "%s", f->req_style ? f->req_style : "");
	if (f->engine_error)
		snprintf(s->error, sizeof(s->error), "engine not available: %s", f->engine_error);
	else if (f->load_error)
		snprintf(s->error, sizeof(s->error), "%s", f->load_error);
	s->stats = f->stats;
	s->have_stats = f->have_stats;
	pthread_mutex_unlock(&f->mutex);
}

static void format_status(struct style_filter *f, struct dstr *out)
{
	struct filter_snapshot s;
	if (!sf_api_get()) {
		dstr_printf(out, "%s: %s", obs_module_text("Status.NoEngine"), sf_api_error());
		return;
	}
	take_snapshot(f, &s);

	dstr_printf(out, "%s: %s", obs_module_text("Status.Style"),
		    s.style[0] ? s.style : obs_module_text("Status.None"));
	if (s.loading)
		dstr_catf(out, " (%s '%s'...)", obs_module_text("Status.Loading"), s.requested);
	if (s.error[0])
		dstr_catf(out, "\n%s: %s", obs_module_text("Status.Error"), s.error);
	if (!s.style_ready)
		dstr_catf(out, "\n%s", obs_module_text("Status.PassThrough"));

	dstr_catf(out, "\n%s: %s", obs_module_text("Status.Device"),
		  s.have_stats && s.stats.provider[0] ? s.stats.provider : "-");
	dstr_catf(out, " (%s: %s)", obs_module_text("Status.Requested"), device_name(s.device));

	if (s.have_stats && s.stats.frames > 0) {
		dstr_catf(out, "\n%s: %.1f ms (p50 %.1f, p99 %.1f)", obs_module_text("Status.MsPerFrame"),
			  s.stats.mean_ms, s.stats.p50_ms, s.stats.p99_ms);
		if (s.infer_w && s.infer_h)
			dstr_catf(out, ", %s %ux%u", obs_module_text("Status.InferenceAt"), s.infer_w, s.infer_h);
	}
	if (s.render_ms > 0.0)
		dstr_catf(out, "\n%s: %.2f ms", obs_module_text("Status.RenderCost"), s.render_ms);
	dstr_catf(out, "\n%s: %llu %s, %llu %s, %llu %s, %llu %s",
		  obs_module_text("Status.Frames"), (unsigned long long)s.results,
		  obs_module_text("Status.Processed"), (unsigned long long)s.reused,
		  obs_module_text("Status.Reused"), (unsigned long long)s.dropped,
		  obs_module_text("Status.Skipped"), (unsigned long long)s.failed,
		  obs_module_text("Status.Failed"));
}

/* proc "stylefilter_get_stats": numbers for scripts and tests. */
static void proc_get_stats(void *data, calldata_t *cd)
{
	struct style_filter *f = data;
	struct filter_snapshot s;
	take_snapshot(f, &s);
	struct dstr status = {0};
	format_status(f, &status);

	calldata_set_int(cd, "submitted", (long long)s.submitted);
	calldata_set_int(cd, "dropped", (long long)s.dropped);
	calldata_set_int(cd, "results", (long long)s.results);
	calldata_set_int(cd, "shown", (long long)s.shown);
	calldata_set_int(cd, "reused", (long long)s.reused);
	calldata_set_int(cd, "passthrough", (long long)s.passthrough);
	calldata_set_int(cd, "failed", (long long)s.failed);
	calldata_set_int(cd, "engine_frames", s.have_stats ? (long long)s.stats.frames : 0);
	calldata_set_float(cd, "mean_ms", s.have_stats ? s.stats.mean_ms : 0.0);
	calldata_set_float(cd, "p50_ms", s.have_stats ? s.stats.p50_ms : 0.0);
	calldata_set_float(cd, "p99_ms", s.have_stats ? s.stats.p99_ms : 0.0);
	calldata_set_float(cd, "worker_ms", s.worker_ms);
	calldata_set_float(cd, "render_ms", s.render_ms);
	calldata_set_bool(cd, "style_ready", s.style_ready);
	calldata_set_bool(cd, "busy", s.busy);
	calldata_set_bool(cd, "loading", s.loading);
	calldata_set_int(cd, "mix_count", s.mix_count);
	calldata_set_int(cd, "infer_width", s.infer_w);
	calldata_set_int(cd, "infer_height", s.infer_h);
	calldata_set_string(cd, "style", s.style);
	calldata_set_string(cd, "provider", s.have_stats ? s.stats.provider : "");
	calldata_set_string(cd, "error", s.error);
	calldata_set_string(cd, "status", status.array ? status.array : "");
	dstr_free(&status);
}

/* ------------------------------------------------------------------------------------------ */
/* OBS source callbacks                                                                        */

static const char *style_filter_get_name(void *unused)
{
	UNUSED_PARAMETER(unused);
	return obs_module_text("NeuralStyle");
}

/* The style a new filter starts on: DEFAULT_STYLE when it is bundled, else the first bundled style. */
#define DEFAULT_STYLE "starry_night"

static char *default_bundled_style(void)
{
	char *list = sf_list_styles_alloc();
	if (!list)
		return NULL;
	for (char *line = list; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len == strlen(DEFAULT_STYLE) && strncmp(line, DEFAULT_STYLE, len) == 0) {
			bfree(list);
			return bstrdup(DEFAULT_STYLE);
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	char *nl = strchr(list, '\n');
	if (nl)
		*nl = '\0';
	if (!*list) {
		bfree(list);
		return NULL;
	}
	return list;
}

static void style_filter_defaults(obs_data_t *settings)
{
	char *style = default_bundled_style();
	obs_data_set_default_string(settings, S_STYLE, style ? style : STYLE_CUSTOM);
	bfree(style);
	obs_data_set_default_string(settings, S_CUSTOM_PATH, "");
	obs_data_set_default_int(settings, S_STRENGTH, 100);
	obs_data_set_default_bool(settings, S_PRESERVE, false);
	obs_data_set_default_int(settings, S_SMOOTHING, 75); /* docs/benchmarks.md */
	obs_data_set_default_int(settings, S_RESOLUTION, 720);
	obs_data_set_default_int(settings, S_DEVICE, SF_DEVICE_AUTO);
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		snprintf(key, sizeof(key), S_MIX_FMT, i);
		obs_data_set_default_int(settings, key, i == 0 ? 100 : 0);
	}
}

static void style_filter_update(void *data, obs_data_t *settings)
{
	struct style_filter *f = data;
	const char *selection = obs_data_get_string(settings, S_STYLE);
	char *style = str_eq(selection, STYLE_CUSTOM)
			      ? resolve_custom_path(obs_data_get_string(settings, S_CUSTOM_PATH))
			      : (selection && *selection ? bstrdup(selection) : NULL);
	double alpha = (double)obs_data_get_int(settings, S_STRENGTH) / 100.0;
	double smoothing = (double)obs_data_get_int(settings, S_SMOOTHING) / 100.0;
	bool preserve = obs_data_get_bool(settings, S_PRESERVE);
	int resolution = (int)obs_data_get_int(settings, S_RESOLUTION);
	int device = (int)obs_data_get_int(settings, S_DEVICE);
	float mix[MAX_MIX];
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		snprintf(key, sizeof(key), S_MIX_FMT, i);
		long long v = obs_data_get_int(settings, key);
		mix[i] = (float)(v < 0 ? 0 : (v > 100 ? 100 : v)) / 100.0f;
	}

	alpha = alpha < 0.0 ? 0.0 : (alpha > 1.0 ? 1.0 : alpha);
	smoothing = smoothing < 0.0 ? 0.0 : (smoothing > 1.0 ? 1.0 : smoothing);
	if (resolution < 0)
		resolution = 0;
	if (device < SF_DEVICE_AUTO || device > SF_DEVICE_DIRECTML)
		device = SF_DEVICE_AUTO;

	pthread_mutex_lock(&f->mutex);
	bool style_changed = style && !str_eq(style, f->req_style);
	bool device_changed = device != f->req_device;
	f->alpha = alpha;
	f->smoothing = smoothing;
	f->preserve = preserve;
	f->resolution = resolution;
	if (memcmp(mix, f->mix_weights, sizeof(mix)) != 0) {
		memcpy(f->mix_weights, mix, sizeof(mix));
		f->mix_gen++;
	}
	sf_engine *engine = f->engine;
	bool request = false;
	if (style_changed || (device_changed && f->req_style)) {
		if (style_changed)
			set_str(&f->req_style, style);
		f->req_device = device;
		f->req_gen++;
		request = true;
		pthread_cond_signal(&f->load_cond);
	} else {
		f->req_device = device;
	}
	pthread_mutex_unlock(&f->mutex);

	if (!style && str_eq(selection, STYLE_CUSTOM))
		flog(LOG_INFO, f, "custom model selected but no file chosen yet; keeping the current style");
	if (request && device_changed && !style_changed)
		flog(LOG_INFO, f, "device preference changed to %s; reloading the style", device_name(device));

	const struct sf_api *sf = sf_api_get();
	if (engine && sf)
		apply_params(f, sf, engine, alpha, smoothing, preserve);
	bfree(style);
}

static void *style_filter_create(obs_data_t *settings, obs_source_t *source)
{
	struct style_filter *f = bzalloc(sizeof(*f));
	f->source = source;
	f->name = bstrdup(obs_source_get_name(source));
	f->applied_resolution = -1;
	f->req_device = -1;
	f->alpha = 1.0;
	f->smoothing = 0.75;
	f->resolution = 720;

	f->mutex_ok = pthread_mutex_init(&f->mutex, NULL) == 0;
	f->work_cond_ok = pthread_cond_init(&f->work_cond, NULL) == 0;
	f->load_cond_ok = pthread_cond_init(&f->load_cond, NULL) == 0;
	if (!f->mutex_ok || !f->work_cond_ok || !f->load_cond_ok) {
		flog(LOG_ERROR, f, "could not create synchronisation objects; the filter is not created");
		if (f->load_cond_ok)
			pthread_cond_destroy(&f->load_cond);
		if (f->work_cond_ok)
			pthread_cond_destroy(&f->work_cond);
		if (f->mutex_ok)
			pthread_mutex_destroy(&f->mutex);
		bfree(f->name);
		bfree(f);
		return NULL;
	}

	f->fill = fb_new();
	f->shown = fb_new();
	f->pending = fb_new();
	f->ready = fb_new();
	f->work_in = fb_new();
	f->work_out = fb_new();

	obs_enter_graphics();
	f->texrender = gs_texrender_create(GS_RGBA, GS_ZS_NONE);
	obs_leave_graphics();

	proc_handler_t *ph = obs_source_get_proc_handler(source);
	proc_handler_add(ph,
			 "void " PROC_GET_STATS "(out int submitted, out int dropped, out int results, "
			 "out int shown, out int reused, out int passthrough, out int failed, "
			 "out int engine_frames, out float mean_ms, out float p50_ms, out float p99_ms, "
			 "out float worker_ms, out float render_ms, out bool style_ready, out bool busy, out bool loading, "
			 "out int mix_count, out int infer_width, out int infer_height, out string style, out string provider, "
			 "out string error, out string status)",
			 proc_get_stats, f);

	style_filter_update(f, settings);

	if (!sf_api_get()) {
		flog(LOG_WARNING, f, "created without an engine (%s); video passes through unchanged",
		     sf_api_error());
		return f;
	}

	if (pthread_create(&f->worker_thread, NULL, worker_main, f) == 0)
		f->worker_started = true;
	if (pthread_create(&f->loader_thread, NULL, loader_main, f) == 0)
		f->loader_started = true;
	if (!f->worker_started || !f->loader_started)
		flog(LOG_ERROR, f, "could not start the filter threads; video passes through unchanged");

	pthread_mutex_lock(&f->mutex);
	flog(LOG_INFO, f, "created: style '%s', strength %.0f%%, smoothing %.0f%%, preserve colours %s, "
		       "inference resolution %s%d, device %s",
	     f->req_style ? f->req_style : "(none)", f->alpha * 100.0, f->smoothing * 100.0,
	     f->preserve ? "on" : "off", f->resolution ? "" : "source ", f->resolution,
	     device_name(f->req_device));
	pthread_mutex_unlock(&f->mutex);
	return f;
}

static void style_filter_destroy(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();

	if (f->mutex_ok) {
		pthread_mutex_lock(&f->mutex);
		f->stop = true;
		bool busy = f->worker_busy, loading = f->loading;
		double busy_ms = busy ? (double)(os_gettime_ns() - f->work_started_ns) / 1e6 : 0.0;
		if (f->work_cond_ok)
			pthread_cond_broadcast(&f->work_cond);
		if (f->load_cond_ok)
			pthread_cond_broadcast(&f->load_cond);
		pthread_mutex_unlock(&f->mutex);
		if (busy)
			flog(LOG_INFO, f, "stopping: waiting for the frame in progress (started %.0f ms ago)",
			     busy_ms);
		else if (loading)
			flog(LOG_INFO, f, "stopping: waiting for the style load in progress");
	}
	uint64_t t0 = os_gettime_ns();
	if (f->worker_started)
		pthread_join(f->worker_thread, NULL);
	if (f->loader_started)
		pthread_join(f->loader_thread, NULL);
	double waited_ms = (double)(os_gettime_ns() - t0) / 1e6;

	if (f->engine && sf) {
		flog(LOG_INFO, f,
		     "destroyed: %llu frames processed, %llu shown, %llu reused, %llu skipped, %llu failed "
		     "(threads stopped in %.0f ms)",
		     (unsigned long long)f->results, (unsigned long long)f->results_shown,
		     (unsigned long long)f->frames_reused, (unsigned long long)f->frames_dropped,
		     (unsigned long long)f->frames_failed, waited_ms);
		sf_status st = sf->engine_destroy(f->engine);
		if (st != SF_OK)
			flog(LOG_WARNING, f, "engine destroy returned %s", sf_status_name(st));
		f->engine = NULL;
	} else {
		flog(LOG_INFO, f, "destroyed");
	}

	obs_enter_graphics();
	gs_texrender_destroy(f->texrender);
	gs_stagesurface_destroy(f->stage[0]);
	gs_stagesurface_destroy(f->stage[1]);
	gs_texture_destroy(f->out_tex);
	obs_leave_graphics();

	fb_free(f->fill);
	fb_free(f->shown);
	fb_free(f->pending);
	fb_free(f->ready);
	fb_free(f->work_in);
	fb_free(f->work_out);
	bfree(f->req_style);
	bfree(f->loaded_style);
	bfree(f->load_error);
	bfree(f->engine_error);
	for (int i = 0; i < MAX_MIX; i++)
		bfree(f->mix_names[i]);
	bfree(f->name);
	if (f->load_cond_ok)
		pthread_cond_destroy(&f->load_cond);
	if (f->work_cond_ok)
		pthread_cond_destroy(&f->work_cond);
	if (f->mutex_ok)
		pthread_mutex_destroy(&f->mutex);
	bfree(f);
}

static void style_filter_remove(void *data, obs_source_t *parent)
{
	struct style_filter *f = data;
	flog(LOG_INFO, f, "removed from '%s'", parent ? obs_source_get_name(parent) : "?");
	if (f->mutex_ok) {
		/* Nothing will be shown any more: do not start on a frame still waiting. */
		pthread_mutex_lock(&f->mutex);
		f->pending_full = false;
		pthread_mutex_unlock(&f->mutex);
	}
}

/* ---- properties ---- */

/* Label of style mix slider i: "Style mix: <name>" with the name the engine gave, else numbered. */
static void mix_slider_label(struct dstr *label, int i, const char *name)
{
	if (name && *name)
		dstr_printf(label, "%s %s", obs_module_text("StyleMix.Named"), name);
	else
		dstr_printf(label, "%s %d", obs_module_text("StyleMix"), i + 1);
}

/* Updates what depends on the loaded style: the status text and the style mix sliders (shown for the
 * model's styles, labelled with their names). */
static void refresh_status_text(struct style_filter *f, obs_properties_t *props)
{
	char *names[MAX_MIX] = {0};
	pthread_mutex_lock(&f->mutex);
	int mix_count = f->mix_count;
	for (int i = 0; i < MAX_MIX; i++)
		names[i] = f->mix_names[i] ? bstrdup(f->mix_names[i]) : NULL;
	pthread_mutex_unlock(&f->mutex);
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		snprintf(key, sizeof(key), S_MIX_FMT, i);
		obs_property_t *slider = obs_properties_get(props, key);
		if (slider) {
			struct dstr label = {0};
			mix_slider_label(&label, i, i < mix_count ? names[i] : NULL);
			obs_property_set_description(slider, label.array);
			dstr_free(&label);
		}
		obs_property_set_visible(slider, i < mix_count);
		bfree(names[i]);
	}
	obs_property_t *p = obs_properties_get(props, S_STATUS);
	if (!p)
		return;
	struct dstr text = {0};
	format_status(f, &text);
	obs_property_set_description(p, text.array);
	dstr_free(&text);
}

static bool refresh_clicked(obs_properties_t *props, obs_property_t *property, void *data)
{
	UNUSED_PARAMETER(property);
	refresh_status_text(data, props);
	return true;
}

static bool style_modified(void *data, obs_properties_t *props, obs_property_t *property,
			   obs_data_t *settings)
{
	UNUSED_PARAMETER(property);
	bool custom = str_eq(obs_data_get_string(settings, S_STYLE), STYLE_CUSTOM);
	obs_property_set_visible(obs_properties_get(props, S_CUSTOM_PATH), custom);
	if (data)
		refresh_status_text(data, props);
	return true;
}

static obs_properties_t *style_filter_properties(void *data)
{
	struct style_filter *f = data;
	obs_properties_t *props = obs_properties_create();
	obs_property_t *p;

	p = obs_properties_add_list(props, S_STYLE, obs_module_text("Style"), OBS_COMBO_TYPE_LIST,
				    OBS_COMBO_FORMAT_STRING);
	char *list = sf_list_styles_alloc();
	if (list) {
		char *save = NULL;
		/* Label: the painting's title; value: the id, which saved scenes keep. */
		for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
			char title[256];
			sf_style_title(name, title, sizeof(title));
			obs_property_list_add_string(p, title, name);
		}
		bfree(list);
	}
	obs_property_list_add_string(p, obs_module_text("Style.Custom"), STYLE_CUSTOM);
	obs_property_set_modified_callback2(p, style_modified, f);

	obs_properties_add_path(props, S_CUSTOM_PATH, obs_module_text("CustomModel"), OBS_PATH_FILE,
				"ONNX models and style packs (*.onnx *.zip manifest.json);;All files (*.*)", NULL);
	p = obs_properties_get(props, S_CUSTOM_PATH);
	obs_property_set_long_description(p, obs_module_text("CustomModel.Help"));

	p = obs_properties_add_int_slider(props, S_STRENGTH, obs_module_text("Strength"), 0, 100, 1);
	obs_property_int_set_suffix(p, "%");

	/* Style mix: one weight per style of a multi-style model, shown only when the loaded model has
	 * several; numbered here, labelled with the styles' names by refresh_status_text once they are
	 * known (the loader reads them with sf_engine_get_style_mix_name). */
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		struct dstr label = {0};
		snprintf(key, sizeof(key), S_MIX_FMT, i);
		mix_slider_label(&label, i, NULL);
		p = obs_properties_add_int_slider(props, key, label.array, 0, 100, 1);
		obs_property_int_set_suffix(p, "%");
		obs_property_set_long_description(p, obs_module_text("StyleMix.Help"));
		obs_property_set_visible(p, false);
		dstr_free(&label);
	}

	obs_properties_add_bool(props, S_PRESERVE, obs_module_text("PreserveColour"));

	p = obs_properties_add_int_slider(props, S_SMOOTHING, obs_module_text("Smoothing"), 0, 100, 1);
	obs_property_int_set_suffix(p, "%");

	p = obs_properties_add_list(props, S_RESOLUTION, obs_module_text("Resolution"), OBS_COMBO_TYPE_LIST,
				    OBS_COMBO_FORMAT_INT);
	obs_property_list_add_int(p, "360p", 360);
	obs_property_list_add_int(p, "540p", 540);
	obs_property_list_add_int(p, "720p", 720);
	obs_property_list_add_int(p, "1080p", 1080);
	obs_property_list_add_int(p, obs_module_text("Resolution.Source"), 0);
	obs_property_set_long_description(p, obs_module_text("Resolution.Help"));

	p = obs_properties_add_list(props, S_DEVICE, obs_module_text("Device"), OBS_COMBO_TYPE_LIST,
				    OBS_COMBO_FORMAT_INT);
	obs_property_list_add_int(p, obs_module_text("Device.Auto"), SF_DEVICE_AUTO);
	obs_property_list_add_int(p, "CUDA", SF_DEVICE_CUDA);
	obs_property_list_add_int(p, "TensorRT", SF_DEVICE_TENSORRT);
	obs_property_list_add_int(p, "DirectML", SF_DEVICE_DIRECTML);
	obs_property_list_add_int(p, "CPU", SF_DEVICE_CPU);

	/* Read-only status: OBS shows the description when the setting is empty (it always is). */
	obs_properties_add_text(props, S_STATUS, "", OBS_TEXT_INFO);
	if (f)
		refresh_status_text(f, props);
	obs_properties_add_button2(props, S_REFRESH, obs_module_text("RefreshStatus"), refresh_clicked, f);
	return props;
}

/* ---- rendering (OBS graphics thread) ---- */

static void draw_texture(gs_texture_t *tex, uint32_t cx, uint32_t cy)
{
	gs_effect_t *effect = obs_get_base_effect(OBS_EFFECT_DEFAULT);
	gs_eparam_t *image = gs_effect_get_param_by_name(effect, "image");
	const bool linear_srgb = gs_get_linear_srgb();
	const bool previous = gs_framebuffer_srgb_enabled();
	gs_enable_framebuffer_srgb(linear_srgb);
	if (linear_srgb)
		gs_effect_set_texture_srgb(image, tex);
	else
		gs_effect_set_texture(image, tex);
	while (gs_effect_loop(effect, "Draw"))
		gs_draw_sprite(tex, 0, cx, cy);
	gs_enable_framebuffer_srgb(previous);
}

/* Renders the filter target into texrender. */
static bool capture_frame(struct style_filter *f, obs_source_t *target, obs_source_t *parent, uint32_t cx,
			  uint32_t cy)
{
	/* Like libobs does for a filter's input: a plain synchronous parent is drawn with the default
	 * effect active (its video_render expects it); async and custom-draw sources, and the next filter
	 * in the chain, set up their own drawing. */
	uint32_t parent_flags = obs_source_get_output_flags(parent);
	bool default_render = target == parent && (parent_flags & OBS_SOURCE_CUSTOM_DRAW) == 0 &&
			      (parent_flags & OBS_SOURCE_ASYNC) == 0;

	gs_texrender_reset(f->texrender);
	if (!gs_texrender_begin(f->texrender, cx, cy))
		return false;
	struct vec4 clear;
	vec4_zero(&clear);
	gs_clear(GS_CLEAR_COLOR, &clear, 0.0f, 0);
	gs_ortho(0.0f, (float)cx, 0.0f, (float)cy, -100.0f, 100.0f);
	gs_blend_state_push();
	gs_blend_function(GS_BLEND_ONE, GS_BLEND_ZERO);
	if (default_render)
		obs_source_default_render(target);
	else
		obs_source_video_render(target);
	gs_blend_state_pop();
	gs_texrender_end(f->texrender);
	return true;
}

static void reset_staging(struct style_filter *f, uint32_t cx, uint32_t cy)
{
	gs_stagesurface_destroy(f->stage[0]);
	gs_stagesurface_destroy(f->stage[1]);
	f->stage[0] = gs_stagesurface_create(cx, cy, GS_RGBA);
	f->stage[1] = gs_stagesurface_create(cx, cy, GS_RGBA);
	f->staged[0] = f->staged[1] = false;
	f->next_stage = 0;
	f->stage_w = cx;
	f->stage_h = cy;
}

/* Is a new frame worth reading back? While the worker is busy with a frame that will take several
 * more video frames, a frame read back now would only be replaced (skipped) before the worker could
 * take it: read back only in the last frames before the worker is expected to be free, so slow
 * inference (CPU) does not cost a GPU readback per video frame. */
static bool want_new_frame(struct style_filter *f)
{
	pthread_mutex_lock(&f->mutex);
	bool busy = f->worker_busy;
	uint64_t started = f->work_started_ns;
	double mean_ms = f->results ? (double)f->infer_ns_total / 1e6 / (double)f->results : 0.0;
	pthread_mutex_unlock(&f->mutex);
	if (!busy || mean_ms <= 0.0)
		return true;
	video_t *video = obs_get_video();
	double interval_ms = video ? (double)video_output_get_frame_time(video) / 1e6 : 33.3;
	double remaining_ms = mean_ms - (double)(os_gettime_ns() - started) / 1e6;
	/* the readback lands a frame later (double buffering), so start 3 frames ahead */
	return remaining_ms <= 3.0 * interval_ms;
}

/* Double-buffered readback: stage this frame into one surface (when wanted), map the one staged a
 * frame ago and hand it to the worker. */
static void read_back_and_submit(struct style_filter *f, gs_texture_t *tex, uint32_t cx, uint32_t cy,
				 bool stage_new)
{
	if (f->stage_w != cx || f->stage_h != cy || !f->stage[0] || !f->stage[1])
		reset_staging(f, cx, cy);
	if (!f->stage[0] || !f->stage[1])
		return;

	int cur = f->next_stage, prev = cur ^ 1;
	if (f->staged[prev]) {
		uint8_t *data = NULL;
		uint32_t linesize = 0;
		if (gs_stagesurface_map(f->stage[prev], &data, &linesize)) {
			fb_reserve(f->fill, cx, cy);
			uint32_t row = cx * 4;
			if (linesize == row) {
				memcpy(f->fill->data, data, (size_t)row * cy);
			} else {
				for (uint32_t y = 0; y < cy; y++)
					memcpy(f->fill->data + (size_t)y * row, data + (size_t)y * linesize, row);
			}
			gs_stagesurface_unmap(f->stage[prev]);

			pthread_mutex_lock(&f->mutex);
			if (f->pending_full)
				f->frames_dropped++;
			SWAP_BUF(f->fill, f->pending);
			f->pending_full = true;
			f->frames_submitted++;
			pthread_cond_signal(&f->work_cond);
			pthread_mutex_unlock(&f->mutex);
		}
		f->staged[prev] = false;
	}
	if (stage_new) {
		gs_stage_texture(f->stage[cur], tex);
		f->staged[cur] = true;
		f->next_stage = prev;
	}
}

/* Uploads the newest finished result, if there is one of the current size. */
static bool take_result(struct style_filter *f, uint32_t cx, uint32_t cy)
{
	bool got = false;
	pthread_mutex_lock(&f->mutex);
	if (f->ready_full && f->ready_seq != f->shown_seq) {
		SWAP_BUF(f->ready, f->shown);
		f->ready_full = false;
		f->shown_seq = f->ready_seq;
		got = true;
	}
	pthread_mutex_unlock(&f->mutex);

	if (!got || f->shown->width != cx || f->shown->height != cy)
		return false;

	if (!f->out_tex || f->out_w != cx || f->out_h != cy) {
		gs_texture_destroy(f->out_tex);
		f->out_tex = gs_texture_create(cx, cy, GS_RGBA, 1, NULL, GS_DYNAMIC);
		f->out_w = cx;
		f->out_h = cy;
		f->out_valid = false;
		if (!f->out_tex)
			return false;
	}
	gs_texture_set_image(f->out_tex, f->shown->data, f->shown->linesize, false);
	f->out_valid = true;
	return true;
}

static void count_frame(struct style_filter *f, uint64_t *counter)
{
	pthread_mutex_lock(&f->mutex);
	(*counter)++;
	pthread_mutex_unlock(&f->mutex);
}

static void style_filter_render(void *data, gs_effect_t *effect)
{
	UNUSED_PARAMETER(effect);
	struct style_filter *f = data;
	obs_source_t *target = obs_filter_get_target(f->source);
	obs_source_t *parent = obs_filter_get_parent(f->source);
	uint32_t cx = target ? obs_source_get_base_width(target) : 0;
	uint32_t cy = target ? obs_source_get_base_height(target) : 0;

	if (!target || !parent || !cx || !cy || !f->texrender || !f->worker_started || !f->loader_started) {
		obs_source_skip_video_filter(f->source);
		return;
	}

	uint64_t frame_time = obs_get_video_frame_time();
	bool new_frame = frame_time != f->last_frame_time;

	pthread_mutex_lock(&f->mutex);
	bool style_ready = f->style_ready;
	pthread_mutex_unlock(&f->mutex);
	if (!style_ready) {
		/* No style yet (loading, or it failed): untouched video, nothing read back. */
		if (new_frame) {
			f->last_frame_time = frame_time;
			count_frame(f, &f->frames_passthrough);
		}
		f->captured = false;
		obs_source_skip_video_filter(f->source);
		return;
	}

	/* The same video frame rendered again (preview + program, projectors): just draw it. */
	if (!new_frame && f->captured && f->cap_w == cx && f->cap_h == cy) {
		if (f->out_valid && f->out_w == cx && f->out_h == cy)
			draw_texture(f->out_tex, cx, cy);
		else
			draw_texture(gs_texrender_get_texture(f->texrender), cx, cy);
		return;
	}

	if (f->last_frame_time && frame_time - f->last_frame_time > STALE_RESULT_NS)
		f->out_valid = false; /* not rendered for a while: do not flash an old result */
	f->last_frame_time = frame_time;

	if (cx != f->seen_w || cy != f->seen_h) {
		if (f->seen_w)
			flog(LOG_INFO, f, "source size changed from %ux%u to %ux%u", f->seen_w, f->seen_h, cx, cy);
		f->seen_w = cx;
		f->seen_h = cy;
	}

	uint64_t t0 = os_gettime_ns();
	f->captured = capture_frame(f, target, parent, cx, cy);
	gs_texture_t *src_tex = f->captured ? gs_texrender_get_texture(f->texrender) : NULL;
	if (!src_tex) {
		f->captured = false;
		obs_source_skip_video_filter(f->source);
		return;
	}
	f->cap_w = cx;
	f->cap_h = cy;

	read_back_and_submit(f, src_tex, cx, cy, want_new_frame(f));

	bool fresh = take_result(f, cx, cy);
	bool have_result = f->out_valid && f->out_w == cx && f->out_h == cy;
	if (have_result)
		draw_texture(f->out_tex, cx, cy);
	else
		draw_texture(src_tex, cx, cy);

	uint64_t elapsed = os_gettime_ns() - t0;
	pthread_mutex_lock(&f->mutex);
	if (fresh)
		f->results_shown++;
	else if (have_result)
		f->frames_reused++;
	else
		f->frames_passthrough++;
	f->render_ns_total += elapsed;
	f->render_count++;
	pthread_mutex_unlock(&f->mutex);
}

static enum gs_color_space style_filter_color_space(void *data, size_t count,
						    const enum gs_color_space *preferred_spaces)
{
	UNUSED_PARAMETER(data);
	UNUSED_PARAMETER(count);
	UNUSED_PARAMETER(preferred_spaces);
	/* Frames go through 8-bit sRGB (RGBA8) on the way to the engine and back. */
	return GS_CS_SRGB;
}

void style_filter_register(void)
{
	struct obs_source_info info = {0};
	info.id = STYLE_FILTER_ID;
	info.type = OBS_SOURCE_TYPE_FILTER;
	info.output_flags = OBS_SOURCE_VIDEO | OBS_SOURCE_SRGB;
	info.get_name = style_filter_get_name;
	info.create = style_filter_create;
	info.destroy = style_filter_destroy;
	info.update = style_filter_update;
	info.get_defaults = style_filter_defaults;
	info.get_properties = style_filter_properties;
	info.video_render = style_filter_render;
	info.video_get_color_space = style_filter_color_space;
	info.filter_remove = style_filter_remove;
	obs_register_source(&info);
}
