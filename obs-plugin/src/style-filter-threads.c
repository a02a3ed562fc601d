/*
 * style-filter-threads.c - the two threads of a Neural Style filter: the inference worker (takes the
 * newest frame the render thread handed over, runs the engine on it, publishes the result) and the
 * style loader (creates the engine, loads styles in the background). See style-filter.c for the picture.
 */
#include "style-filter.h"

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

void *worker_main(void *data)
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

void apply_params(struct style_filter *f, const struct sf_api *sf, sf_engine *engine, double alpha,
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

void *loader_main(void *data)
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

