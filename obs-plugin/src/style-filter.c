/*
 * style-filter.c - the "Neural Style" OBS video filter: its obs_source_info, creation and destruction.
 *
 * Threads and data flow (one filter instance):
 *
 *   OBS graphics thread (video_render)            inference worker (nice +10)    style loader (nice +10)
 *   ----------------------------------            ---------------------------    -----------------------
 *   render the filter target into `texrender`;
 *   draw a 32x18 signature of it (scene cuts)
 *   stage both; map the ones staged a frame ago
 *   (so the GPU is never waited for)
 *   copy it into `fill`, swap fill <-> pending -->  take `pending` (newest only;
 *   (a pending frame not yet taken is dropped      older ones were dropped)
 *   and counted as skipped)                         sf_engine_process_cpu (RGBA8)
 *                                                   Auto: pick the next inference
 *                                                   size from this frame's time
 *                                                   swap result <-> `ready`
 *   if `ready` is newer than what is shown:  <---
 *   swap ready <-> shown, upload `shown` into
 *   `out_tex`; draw out_tex, or the untouched
 *   texrender texture before the first result,
 *   after a size change or a scene cut
 *                                                                                  engine create (again when
 *                                                                                  the CPU threads change),
 *                                                                                  sf_engine_load_style
 *                                                                                  (the old style keeps
 *                                                                                  serving frames), then
 *                                                                                  the panel is refreshed
 *
 * The render thread never waits for inference: the mutex only guards pointer swaps and counters.
 * While the worker is busy with a frame that will take several more video frames, no new frame is
 * read back (want_new_frame), so slow inference does not cost a GPU readback per video frame.
 * GPU zero-copy would plug in at capture_frame(): hand the texrender texture to
 * sf_engine_process_texture instead of staging it; the engine returns SF_ERR_UNSUPPORTED today.
 */
#include "style-filter.h"

#define PROC_GET_STATS "stylefilter_get_stats"

static const char *style_filter_get_name(void *unused)
{
	UNUSED_PARAMETER(unused);
	return obs_module_text("NeuralStyle");
}

static void free_sync(struct style_filter *f)
{
	if (f->idle_cond_ok)
		pthread_cond_destroy(&f->idle_cond);
	if (f->load_cond_ok)
		pthread_cond_destroy(&f->load_cond);
	if (f->work_cond_ok)
		pthread_cond_destroy(&f->work_cond);
	if (f->mutex_ok)
		pthread_mutex_destroy(&f->mutex);
}

static void style_filter_destroy(void *data)
{
	struct style_filter *f = data;
	const struct sf_api *sf = sf_api_get();

	pthread_mutex_lock(&f->mutex);
	f->stop = true;
	bool busy = f->worker_busy, loading = f->loading;
	double busy_ms = busy ? (double)(os_gettime_ns() - f->work_started_ns) / 1e6 : 0.0;
	pthread_cond_broadcast(&f->work_cond);
	pthread_cond_broadcast(&f->load_cond);
	pthread_mutex_unlock(&f->mutex);
	if (busy)
		flog(LOG_INFO, f, "stopping: waiting for the frame in progress (started %.0f ms ago)", busy_ms);
	else if (loading)
		flog(LOG_INFO, f, "stopping: waiting for the style load in progress");

	uint64_t t0 = os_gettime_ns();
	if (f->worker_started)
		pthread_join(f->worker_thread, NULL);
	if (f->loader_started)
		pthread_join(f->loader_thread, NULL);
	double waited_ms = (double)(os_gettime_ns() - t0) / 1e6;

	if (f->engine && sf) {
		flog(LOG_INFO, f,
		     "destroyed: %llu frames processed, %llu shown, %llu reused, %llu skipped, %llu failed; "
		     "%llu stalls, %llu unstyled after the first stylised frame (%llu after a scene cut); graphics thread %.2f ms per frame, capture %.1f ms x %llu, "
		     "readback %.1f ms x %llu, upload %.1f ms x %llu (threads stopped in %.0f ms)",
		     (unsigned long long)f->results, (unsigned long long)f->results_shown,
		     (unsigned long long)f->frames_reused, (unsigned long long)f->frames_dropped,
		     (unsigned long long)f->frames_failed, (unsigned long long)f->stalls,
		     (unsigned long long)f->frames_unstyled, (unsigned long long)f->frames_cut,
		     f->render_count ? (double)f->render_ns_total / 1e6 / (double)f->render_count : 0.0,
		     cost_ms(&f->capture_cost), (unsigned long long)f->capture_cost.count, cost_ms(&f->readback_cost),
		     (unsigned long long)f->readback_cost.count, cost_ms(&f->upload_cost),
		     (unsigned long long)f->upload_cost.count, waited_ms);
		sf_status st = sf->engine_destroy(f->engine);
		if (st != SF_OK)
			flog(LOG_WARNING, f, "engine destroy returned %s", sf_status_name(st));
		f->engine = NULL;
	} else {
		flog(LOG_INFO, f, "destroyed");
	}

	obs_enter_graphics();
	gs_texrender_destroy(f->texrender);
	gs_texrender_destroy(f->sig_render);
	for (int i = 0; i < 2; i++) {
		gs_stagesurface_destroy(f->stage[i]);
		gs_stagesurface_destroy(f->sig_stage[i]);
	}
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
	free_sync(f);
	bfree(f);
}

static void *style_filter_create(obs_data_t *settings, obs_source_t *source)
{
	struct style_filter *f = bzalloc(sizeof(*f));
	f->source = source;
	f->name = bstrdup(obs_source_get_name(source));
	f->created_ns = os_gettime_ns();
	f->req_device = -1;
	f->req_tier = -1;
	f->req_threads = -1;

	f->mutex_ok = pthread_mutex_init(&f->mutex, NULL) == 0;
	f->work_cond_ok = pthread_cond_init(&f->work_cond, NULL) == 0;
	f->load_cond_ok = pthread_cond_init(&f->load_cond, NULL) == 0;
	f->idle_cond_ok = pthread_cond_init(&f->idle_cond, NULL) == 0;
	if (!f->mutex_ok || !f->work_cond_ok || !f->load_cond_ok || !f->idle_cond_ok) {
		flog(LOG_ERROR, f, "could not create synchronisation objects; the filter is not created");
		free_sync(f);
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
	f->sig_render = gs_texrender_create(GS_RGBA, GS_ZS_NONE);
	f->sig_stage[0] = gs_stagesurface_create(SIG_W, SIG_H, GS_RGBA);
	f->sig_stage[1] = gs_stagesurface_create(SIG_W, SIG_H, GS_RGBA);
	obs_leave_graphics();

	proc_handler_t *ph = obs_source_get_proc_handler(source);
	proc_handler_add(
		ph,
		"void " PROC_GET_STATS "(out int submitted, out int dropped, out int results, "
		"out int shown, out int reused, out int passthrough, out int cut, out int unstyled, out int stalls, out int failed, "
		"out int engine_frames, out float mean_ms, out float p50_ms, out float p99_ms, "
		"out float worker_ms, out float last_ms, out float render_ms, out float first_result_ms, out bool style_ready, "
		"out bool busy, out bool loading, out int mix_count, out int infer_width, out int infer_height, "
		"out int cpu_threads, out string style, out string provider, out string error, out string status)",
		proc_get_stats, f);

	style_filter_update(f, settings);

	if (!sf_api_get()) {
		flog(LOG_WARNING, f, "created without an engine (%s); video passes through unchanged", sf_api_error());
		return f;
	}

	if (pthread_create(&f->worker_thread, NULL, worker_main, f) == 0)
		f->worker_started = true;
	if (pthread_create(&f->loader_thread, NULL, loader_main, f) == 0)
		f->loader_started = true;
	if (!f->worker_started || !f->loader_started)
		flog(LOG_ERROR, f, "could not start the filter threads; video passes through unchanged");

	pthread_mutex_lock(&f->mutex);
	char resolution[32];
	if (f->resolution == RESOLUTION_AUTO)
		snprintf(resolution, sizeof(resolution), "Auto (%.0f ms target)", f->auto_target_ms);
	else if (f->resolution == RESOLUTION_SOURCE)
		snprintf(resolution, sizeof(resolution), "source");
	else
		snprintf(resolution, sizeof(resolution), "%dp", f->resolution);
	flog(LOG_INFO, f,
	     "created: style '%s', strength %.0f%%, smoothing %.0f%%, preserve colours %s, inference resolution %s, "
	     "device %s, network %s, %d CPU thread%s at low priority",
	     f->req_style ? f->req_style : "(none)", f->alpha * 100.0, f->smoothing * 100.0, f->preserve ? "on" : "off",
	     resolution, device_name(f->req_device), tier_name(f->req_tier), f->req_threads,
	     f->req_threads == 1 ? "" : "s");
	pthread_mutex_unlock(&f->mutex);
	return f;
}

static void style_filter_remove(void *data, obs_source_t *parent)
{
	struct style_filter *f = data;
	flog(LOG_INFO, f, "removed from '%s'", parent ? obs_source_get_name(parent) : "?");
	/* Nothing will be shown any more: do not start on a frame still waiting. */
	pthread_mutex_lock(&f->mutex);
	f->pending_full = false;
	pthread_mutex_unlock(&f->mutex);
}

struct obs_source_info style_filter_info = {
	.id = STYLE_FILTER_ID,
	.type = OBS_SOURCE_TYPE_FILTER,
	.output_flags = OBS_SOURCE_VIDEO | OBS_SOURCE_SRGB,
	.get_name = style_filter_get_name,
	.update = style_filter_update,
	.destroy = style_filter_destroy,
	.create = style_filter_create,
	.video_render = style_filter_render,
	.get_properties = style_filter_properties,
	.get_defaults = style_filter_defaults,
	.video_get_color_space = style_filter_color_space,
	.filter_remove = style_filter_remove,
};
