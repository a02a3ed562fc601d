/*
 * style-filter-threads.c - the two threads of a Neural Style filter and the CPU budget they keep to.
 *
 * The inference worker takes the newest frame the render thread handed over, runs the engine on it and
 * publishes the result; with the "Auto" resolution it picks the inference size from the time each frame
 * took. The style loader creates the engine (again, when the CPU thread count changes) and loads styles
 * in the background while the current one keeps serving frames (again when the device or the network size
 * changes: the engine takes both at the next load); when a load finishes or fails it asks OBS to rebuild
 * the panel.
 *
 * CPU budget: both threads run at a lower priority (nice +10) than OBS's render, encoder and UI threads,
 * so inference only gets the CPU those leave; ONNX Runtime's own threads are created by the loader and
 * inherit it. The engine uses at most the "CPU threads" setting (default: half the cores).
 */
#include "style-filter.h"

#include <errno.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How much lower than OBS's threads inference runs (Linux nice levels; each is ~1.25x less CPU share). */
#define LOW_PRIORITY_NICE 10
/* While inference keeps failing, repeat the log line only every this many frames. */
#define FAIL_LOG_EVERY 300

/* Lowers the calling thread's priority: Linux nice values are per thread, and threads it creates
 * (ONNX Runtime's intra-op pool, created while the loader loads a style) start with the same. */
static void run_at_low_priority(struct style_filter *f, const char *thread)
{
#ifdef __linux__
	pid_t tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)tid);
	if (now == -1 && errno != 0)
		now = 0;
	int want = now + LOW_PRIORITY_NICE > 19 ? 19 : now + LOW_PRIORITY_NICE;
	if (setpriority(PRIO_PROCESS, (id_t)tid, want) != 0)
		flog(LOG_WARNING, f, "could not lower the %s thread's priority (nice %d): %s", thread, want,
		     strerror(errno));
#else
	UNUSED_PARAMETER(f);
	UNUSED_PARAMETER(thread);
#endif
}

/* Asks OBS to rebuild the filter's properties (status line, mix sliders) wherever they are shown; the
 * frontend does it on its UI thread. */
static void refresh_panel(struct style_filter *f)
{
	obs_source_update_properties(f->source);
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
		     error && *error ? error : "no details", f->fail_run ? " (still failing)" : "");
	f->fail_run++;
}

/* Runs inference on `in` at about `height` pixels high (0 or more than the frame: the frame's own size). */
static void apply_inference_height(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, uint32_t height,
				   const struct frame_buf *in)
{
	if (height == f->applied_height && in->height == f->applied_frame_h)
		return;
	double scale = height > 0 && height < in->height ? (double)height / (double)in->height : 1.0;
	sf_status st = sf->engine_set_param(engine, SF_PARAM_INFERENCE_SCALE, scale);
	if (st != SF_OK) {
		flog(LOG_WARNING, f, "could not set the inference resolution (scale %.3f): %s", scale,
		     sf->last_error());
		return;
	}
	bool first = f->applied_frame_h == 0;
	f->applied_height = height;
	f->applied_frame_h = in->height;
	uint32_t iw = (uint32_t)lround(in->width * scale), ih = (uint32_t)lround(in->height * scale);
	pthread_mutex_lock(&f->mutex);
	f->infer_w = iw;
	f->infer_h = ih;
	pthread_mutex_unlock(&f->mutex);
	char read_at[64] = "";
	if (in->width != in->source_w || in->height != in->source_h)
		snprintf(read_at, sizeof(read_at), " (read back at %ux%u)", in->width, in->height);
	flog(first ? LOG_INFO : LOG_DEBUG, f, "frames are %ux%u%s, inference runs at about %ux%u", in->source_w,
	     in->source_h, read_at, iw, ih);
}

/* Sets the style mix of a multi-style model (worker thread, between frames). */
static void apply_style_mix(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, const float *mix,
			    int count)
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

/* Auto resolution: feeds the frame's time and logs a change of size. */
static void adapt_resolution(struct style_filter *f, double ms, double target_ms, uint32_t frame_h)
{
	uint32_t before = auto_resolution_height(&f->auto_res, frame_h);
	char why[256] = "";
	if (!auto_resolution_update(&f->auto_res, ms, target_ms, frame_h, os_gettime_ns(), why, sizeof(why)))
		return;
	uint32_t after = auto_resolution_height(&f->auto_res, frame_h);
	if (after != before)
		flog(LOG_INFO, f, "auto resolution: %up -> %up (%s)", before, after, why);
}

/* The share of one core the inference worker may keep busy: after a frame that took t it rests for
 * t (1 - share) / share. On a 2-core machine OBS's render thread (software OpenGL included) and encoder need more
 * than the core a back-to-back worker leaves them, even at nice +10 (docs/obs.md); the temporal smoothing turns the
 * fewer style updates into a steady picture. STYLEFILTER_OBS_CPU_SHARE overrides it (0.1 .. 1) for measurements. */
static double worker_cpu_share(void)
{
	const char *env = getenv("STYLEFILTER_OBS_CPU_SHARE");
	if (env && *env) {
		double v = atof(env);
		if (v >= 0.1 && v <= 1.0)
			return v;
	}
	return os_get_logical_cores() <= 2 ? 0.5 : 1.0;
}

/* Waits (mutex held) until rest_until_ns on the monotonic clock, or until the filter stops. */
static void rest_until(struct style_filter *f, uint64_t rest_until_ns)
{
	for (;;) {
		uint64_t now = os_gettime_ns();
		if (f->stop || now >= rest_until_ns)
			return;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
		uint64_t ns = (uint64_t)ts.tv_nsec + (rest_until_ns - now);
		ts.tv_sec += (time_t)(ns / 1000000000ULL);
		ts.tv_nsec = (long)(ns % 1000000000ULL);
		pthread_cond_timedwait(&f->work_cond, &f->mutex, &ts);
	}
}

void *worker_main(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();
	os_set_thread_name("stylefilter-inference");
	run_at_low_priority(f, "inference");
	auto_resolution_init(&f->auto_res);
	pthread_mutex_lock(&f->mutex);
	f->next_height = auto_resolution_height(&f->auto_res, 1080);
	pthread_mutex_unlock(&f->mutex);

	const double share = worker_cpu_share();
	if (share < 1.0)
		flog(LOG_INFO, f, "inference keeps at most %.0f%% of a core busy (%d logical cores)", share * 100.0,
		     os_get_logical_cores());
	pthread_mutex_lock(&f->mutex);
	for (;;) {
		rest_until(f, f->rest_until_ns);
		while (!f->stop && !f->pending_full)
			pthread_cond_wait(&f->work_cond, &f->mutex);
		if (f->stop)
			break;

		SWAP_BUF(f->pending, f->work_in);
		f->pending_full = false;
		sf_engine *engine = f->engine;
		int resolution = f->resolution;
		double target_ms = f->auto_target_ms;
		uint64_t mix_gen = f->mix_gen;
		int mix_count = f->mix_count;
		float mix[MAX_MIX];
		memcpy(mix, f->mix_weights, sizeof(mix));
		f->worker_busy = true;
		f->worker_engine = engine;
		f->work_started_ns = os_gettime_ns();
		pthread_mutex_unlock(&f->mutex);

		bool publish = false, have_stats = false;
		sf_status st = SF_ERR_NO_STYLE;
		uint64_t elapsed = 0;
		sf_stats stats = {0};
		struct frame_buf *in = f->work_in, *out = f->work_out;
		if (engine && sf) {
			if (engine != f->applied_engine) {
				/* a new engine (other thread count): everything is applied afresh */
				f->applied_engine = engine;
				f->applied_height = 0;
				f->applied_frame_h = 0;
				f->applied_mix_gen = mix_gen - 1;
			}
			uint32_t height = resolution == RESOLUTION_AUTO
						  ? auto_resolution_height(&f->auto_res, in->source_h)
						  : (uint32_t)resolution;
			apply_inference_height(f, sf, engine, height, in);
			if (mix_gen != f->applied_mix_gen) {
				apply_style_mix(f, sf, engine, mix, mix_count);
				f->applied_mix_gen = mix_gen;
			}
			fb_reserve(out, in->width, in->height);
			sf_frame fin = {in->data, (int32_t)in->width, (int32_t)in->height, (int32_t)in->linesize,
					SF_FORMAT_RGBA8};
			sf_frame fout = {out->data, (int32_t)out->width, (int32_t)out->height, (int32_t)out->linesize,
					 SF_FORMAT_RGBA8};
			uint64_t t0 = os_gettime_ns();
			st = sf->engine_process_cpu(engine, &fin, &fout);
			elapsed = os_gettime_ns() - t0;
			/* On a failed frame the engine writes the input into the output (pass-through), except
			 * for argument or handle errors, which leave the output untouched. */
			publish = st != SF_ERR_INVALID_ARGUMENT && st != SF_ERR_INVALID_HANDLE;
			report_frame_result(f, st, st == SF_OK ? NULL : sf->last_error());
			if (st == SF_OK && resolution == RESOLUTION_AUTO)
				adapt_resolution(f, (double)elapsed / 1e6, target_ms, in->source_h);
			out->source_w = in->source_w;
			out->source_h = in->source_h;
			memcpy(out->sig, in->sig, sizeof(out->sig));
			out->has_sig = in->has_sig;
			stats.struct_size = sizeof(stats);
			have_stats = sf->engine_get_stats(engine, &stats) == SF_OK;
		}

		pthread_mutex_lock(&f->mutex);
		f->rest_until_ns = os_gettime_ns() + (uint64_t)((double)elapsed * (1.0 - share) / share);
		f->worker_busy = false;
		f->worker_engine = NULL;
		f->next_height = resolution == RESOLUTION_AUTO ? auto_resolution_height(&f->auto_res, in->source_h)
							       : (uint32_t)resolution;
		pthread_cond_broadcast(&f->idle_cond);
		bool refresh = false;
		if (publish) {
			SWAP_BUF(f->work_out, f->ready);
			f->ready_full = true;
			f->ready_seq++;
			f->results++;
			f->infer_ns_total += elapsed;
			f->last_infer_ms = (double)elapsed / 1e6;
			refresh = f->refresh_on_result && st == SF_OK;
			if (refresh)
				f->refresh_on_result = false;
		}
		if (st != SF_OK)
			f->frames_failed++;
		bool provider_changed = false;
		if (have_stats) {
			provider_changed = strcmp(stats.provider, f->stats.provider) != 0;
			f->stats = stats;
			f->have_stats = true;
		}
		if (provider_changed || refresh) {
			pthread_mutex_unlock(&f->mutex);
			if (provider_changed)
				flog(LOG_INFO, f, "inference runs on execution provider %s", stats.provider);
			/* the panel now has a device and a time per frame to show */
			refresh_panel(f);
			pthread_mutex_lock(&f->mutex);
		}
	}
	pthread_mutex_unlock(&f->mutex);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* style loader                                                                                */

void apply_params(struct style_filter *f, const struct sf_api *sf, sf_engine *engine)
{
	if (sf->engine_set_param(engine, SF_PARAM_ALPHA, f->alpha) != SF_OK)
		flog(LOG_WARNING, f, "could not set style strength %.2f: %s", f->alpha, sf->last_error());
	if (sf->engine_set_param(engine, SF_PARAM_SMOOTHING, f->smoothing) != SF_OK)
		flog(LOG_WARNING, f, "could not set temporal smoothing %.2f: %s", f->smoothing, sf->last_error());
	if (sf->engine_set_param(engine, SF_PARAM_MOTION_COMPENSATION, f->follow_motion ? 1.0 : 0.0) != SF_OK)
		flog(LOG_WARNING, f, "could not set motion compensation: %s", sf->last_error());
	if (sf->engine_set_param(engine, SF_PARAM_PRESERVE_COLOUR, f->preserve ? 1.0 : 0.0) != SF_OK)
		flog(LOG_WARNING, f, "could not set colour preservation: %s", sf->last_error());
}

/* The engine's message without the "sf_function: " it starts with (the log keeps the whole of it). */
static const char *engine_detail(const char *message)
{
	if (message && strncmp(message, "sf_", 3) == 0) {
		const char *colon = strstr(message, ": ");
		if (colon)
			return colon + 2;
	}
	return message && *message ? message : "no details";
}

static sf_engine *create_engine(struct style_filter *f, const struct sf_api *sf, int device, int threads,
				struct dstr *error)
{
	sf_engine_options options = {0};
	options.struct_size = sizeof(options);
	options.ort_library_path = sf_ort_path();
	options.intra_op_threads = threads;
	options.device = device;

	sf_engine *engine = NULL;
	sf_status st = sf->engine_create(&options, &engine);
	if (st != SF_OK || !engine) {
		const char *message = sf->last_error();
		flog(LOG_ERROR, f, "could not create the StyleFilter engine (%s: %s); video passes through unchanged",
		     sf_status_name(st), message);
		format_text(
			error, "Error.Engine",
			"The style engine could not start: %s. The video passes through unchanged; reinstalling the "
			"plugin may help.",
			1, engine_detail(message));
		return NULL;
	}
	flog(LOG_INFO, f, "engine created (device preference: %s, %d CPU thread%s)", device_name(device), threads,
	     threads == 1 ? "" : "s");
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

/* The sentence the panel shows when style `style` did not load; the log has the technical line. */
static void load_error_text(struct dstr *out, const char *style, sf_status st, const char *message)
{
	const char *detail = engine_detail(message);
	bool is_file = strchr(style, '/') != NULL;
	char title[256];
	sf_style_title(style, title, sizeof(title));
	if (st == SF_ERR_RUNTIME)
		format_text(out, "Error.Runtime",
			    "The style '%s' could not be run: %s. Setting Device to CPU may help.", 2,
			    is_file ? style : title, detail);
	else if (is_file)
		format_text(out, "Error.ModelFile",
			    "The model file '%s' could not be read: %s. Pick another file or a bundled style.", 2,
			    style, detail);
	else
		format_text(out, "Error.Style",
			    "The style '%s' could not be loaded: %s. Reinstalling the plugin may bring it back.", 2,
			    title, detail);
}

/* What a successful load brings: the style's name and the styles it can mix. */
struct loaded_style {
	char name[256];
	int32_t mix_count;
	char *mix_names[MAX_MIX];
};

/* Asks `engine` for network size `tier` at its next load. An engine older than SF_PARAM_NETWORK_TIER refuses it
 * and loads the style's own network: worth a line in the log, once, not a failed load. */
static void apply_tier(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, int tier)
{
	if (sf->engine_set_param(engine, SF_PARAM_NETWORK_TIER, tier) == SF_OK || f->tier_refused)
		return;
	f->tier_refused = true;
	flog(LOG_WARNING, f, "the engine does not take the network size (an older engine?): %s; styles load their own",
	     engine_detail(sf->last_error()));
}

/* Loads `style` into `engine`; on failure fills error. The name the engine reports (a pack's title) tells which
 * network size it loaded: the fast packs' titles say so, e.g. "The Starry Night (fast)". */
static bool load_style(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, const char *style,
		       int device, int tier, struct loaded_style *loaded, struct dstr *error)
{
	flog(LOG_INFO, f, "loading style '%s' (device preference: %s, network: %s)", style, device_name(device),
	     tier_name(tier));
	uint64_t t0 = os_gettime_ns();
	sf_status st = sf->engine_load_style(engine, style);
	double ms = (double)(os_gettime_ns() - t0) / 1e6;
	if (st != SF_OK) {
		const char *message = sf->last_error();
		flog(LOG_ERROR, f, "could not load style '%s': %s (%s)", style, message, sf_status_name(st));
		load_error_text(error, style, st, message);
		return false;
	}
	if (sf->engine_get_style_name(engine, loaded->name, sizeof(loaded->name)) != SF_OK)
		snprintf(loaded->name, sizeof(loaded->name), "%s", style);
	flog(LOG_INFO, f, "style '%s' loaded in %.0f ms", loaded->name, ms);

	int32_t count = 0;
	if (sf->engine_get_style_mix_count && sf->engine_get_style_mix_count(engine, &count) != SF_OK)
		count = 0;
	read_mix_names(f, sf, engine, count, loaded->mix_names);
	loaded->mix_count = count;
	if (count > 0) {
		struct dstr list = {0};
		for (int i = 0; i < count && i < MAX_MIX; i++)
			dstr_catf(&list, "%s%s", i ? ", " : "", loaded->mix_names[i] ? loaded->mix_names[i] : "?");
		flog(LOG_INFO, f, "style '%s' can mix %d styles: %s%s", loaded->name, (int)count,
		     list.array ? list.array : "", count > MAX_MIX ? " (the first 8 are offered)" : "");
		dstr_free(&list);
	}
	return true;
}

/* Makes a loaded style the one in use (f->mutex held): the worker applies its mix from the next frame. */
static void commit_style(struct style_filter *f, struct loaded_style *loaded)
{
	f->mix_count = loaded->mix_count;
	for (int i = 0; i < MAX_MIX; i++) {
		bfree(f->mix_names[i]);
		f->mix_names[i] = loaded->mix_names[i];
		loaded->mix_names[i] = NULL;
	}
	f->mix_gen++;
	set_str(&f->loaded_style, loaded->name);
	set_str(&f->load_error, NULL);
	f->style_ready = true;
	f->refresh_on_result = true;
}

/* Puts `fresh` in place of the current engine (with the style it loaded, if any) once the worker has let
 * go of the old one, and destroys the old one, which the worker can no longer pick up. */
static void replace_engine(struct style_filter *f, const struct sf_api *sf, sf_engine *fresh, int threads,
			   struct loaded_style *loaded)
{
	pthread_mutex_lock(&f->mutex);
	sf_engine *old = f->engine;
	apply_params(f, sf, fresh); /* under the lock: a settings change cannot slip in between */
	f->engine = fresh;
	f->engine_threads = threads;
	if (loaded)
		commit_style(f, loaded);
	while (old && f->worker_busy && f->worker_engine == old)
		pthread_cond_wait(&f->idle_cond, &f->mutex);
	pthread_mutex_unlock(&f->mutex);
	if (old) {
		sf_status st = sf->engine_destroy(old);
		if (st != SF_OK)
			flog(LOG_WARNING, f, "destroying the replaced engine returned %s", sf_status_name(st));
	}
}

void *loader_main(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();
	os_set_thread_name("stylefilter-loader");
	run_at_low_priority(f, "loader");

	pthread_mutex_lock(&f->mutex);
	for (;;) {
		while (!f->stop && f->req_gen == f->done_gen)
			pthread_cond_wait(&f->load_cond, &f->mutex);
		if (f->stop)
			break;

		uint64_t gen = f->req_gen;
		char *style = f->req_style ? bstrdup(f->req_style) : NULL;
		int device = f->req_device, tier = f->req_tier, threads = f->req_threads;
		sf_engine *engine = f->engine;
		bool new_engine = !engine || threads != f->engine_threads;
		bool had_style = f->style_ready;
		char *previous = f->loaded_style ? bstrdup(f->loaded_style) : NULL;
		f->loading = true;
		pthread_mutex_unlock(&f->mutex);

		/* A new thread count needs a new engine: it loads the style while the old one keeps running. */
		struct dstr error = {0};
		struct loaded_style loaded = {0};
		sf_engine *fresh = new_engine ? create_engine(f, sf, device, threads, &error) : NULL;
		sf_engine *target = fresh ? fresh : engine;
		bool ok = false;
		if (target) {
			if (sf->engine_set_param(target, SF_PARAM_DEVICE, device) != SF_OK)
				flog(LOG_WARNING, f, "could not select device %s: %s", device_name(device),
				     sf->last_error());
			if (style && *style) {
				apply_tier(f, sf, target, tier);
				ok = load_style(f, sf, target, style, device, tier, &loaded, &error);
				if (!ok && had_style)
					flog(LOG_INFO, f, "keeping the previous style '%s'", previous ? previous : "?");
				else if (!ok)
					flog(LOG_INFO, f, "video passes through unchanged until a style loads");
			}
		}
		if (fresh && (ok || !engine)) {
			replace_engine(f, sf, fresh, threads, ok ? &loaded : NULL);
			if (engine)
				flog(LOG_INFO, f, "now using %d CPU thread%s", threads, threads == 1 ? "" : "s");
		} else if (fresh) {
			sf->engine_destroy(fresh); /* the old engine keeps its working style */
		} else if (ok) {
			pthread_mutex_lock(&f->mutex);
			commit_style(f, &loaded);
			pthread_mutex_unlock(&f->mutex);
		}
		for (int i = 0; i < MAX_MIX; i++)
			bfree(loaded.mix_names[i]); /* left over when the style was not taken */
		sf_devices_probe();                 /* once per process, now that ONNX Runtime is loaded */

		pthread_mutex_lock(&f->mutex);
		f->done_gen = gen;
		f->loading = false;
		if (!ok && error.array) {
			/* no engine at all: the panel says the engine is missing; otherwise this load failed */
			set_str(target ? &f->load_error : &f->engine_error, error.array);
		}
		if (f->engine)
			set_str(&f->engine_error, NULL);
		pthread_mutex_unlock(&f->mutex);
		refresh_panel(f); /* status line, mix sliders, device list */
		pthread_mutex_lock(&f->mutex);

		dstr_free(&error);
		bfree(style);
		bfree(previous);
	}
	pthread_mutex_unlock(&f->mutex);
	return NULL;
}
