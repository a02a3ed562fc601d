/*
 * style-filter-render.c - the render path of a Neural Style filter on the OBS graphics thread: capture
 * the filter's input, read it back (double-buffered) for the worker, upload and draw the newest result.
 *
 * What is drawn: the newest stylised result of the frame's size, also after the video stalled (a result
 * stays until a newer one replaces it), unless the picture changed like a scene cut since the frame the
 * result was made from; the input itself before the first result, after a size change and after a cut,
 * until a result of the new picture is out. A cut is told by a tiny signature of every frame (SIG_W x
 * SIG_H, drawn and read back on the GPU, double-buffered like the frames themselves).
 */
#include "style-filter.h"

#include <graphics/vec4.h>

/* A gap this long between two video frames counts as a stall (the render loop or the source paused). */
#define STALL_NS 500000000ULL

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

/* Renders the filter target (cx x cy) into `tr`, scaled to width x height. */
static bool render_target(gs_texrender_t *tr, obs_source_t *target, obs_source_t *parent, uint32_t cx, uint32_t cy,
			  uint32_t width, uint32_t height)
{
	/* Like libobs does for a filter's input: a plain synchronous parent is drawn with the default
	 * effect active (its video_render expects it); async and custom-draw sources, and the next filter
	 * in the chain, set up their own drawing. */
	uint32_t parent_flags = obs_source_get_output_flags(parent);
	bool default_render = target == parent && (parent_flags & OBS_SOURCE_CUSTOM_DRAW) == 0 &&
			      (parent_flags & OBS_SOURCE_ASYNC) == 0;

	gs_texrender_reset(tr);
	if (!gs_texrender_begin(tr, width, height))
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
	gs_texrender_end(tr);
	return true;
}

/* Renders this frame's signature (the source drawn at SIG_W x SIG_H: cheap), stages it, and maps the one
 * staged a frame ago into f->frame_sig: the signature of the frame read_back_and_submit maps in the same
 * call. */
static void update_signature(struct style_filter *f, obs_source_t *target, obs_source_t *parent, uint32_t cx,
			     uint32_t cy)
{
	if (!f->sig_render || !f->sig_stage[0] || !f->sig_stage[1])
		return;
	int cur = f->next_sig, prev = cur ^ 1;
	if (f->sig_staged[prev]) {
		uint8_t *data = NULL;
		uint32_t linesize = 0;
		if (gs_stagesurface_map(f->sig_stage[prev], &data, &linesize)) {
			for (uint32_t y = 0; y < SIG_H; y++)
				memcpy(f->frame_sig + (size_t)y * SIG_W * 4, data + (size_t)y * linesize, SIG_W * 4);
			gs_stagesurface_unmap(f->sig_stage[prev]);
			f->have_frame_sig = true;
		}
		f->sig_staged[prev] = false;
	}
	if (!render_target(f->sig_render, target, parent, cx, cy, SIG_W, SIG_H))
		return;
	gs_stage_texture(f->sig_stage[cur], gs_texrender_get_texture(f->sig_render));
	f->sig_staged[cur] = true;
	f->next_sig = prev;
}

/* The engine's scene-cut rule on two signatures: the mean over the samples of the largest R/G/B change. */
static bool is_scene_cut(const uint8_t *a, const uint8_t *b)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < SIG_W * SIG_H; i++) {
		int dr = abs((int)a[i * 4] - (int)b[i * 4]);
		int dg = abs((int)a[i * 4 + 1] - (int)b[i * 4 + 1]);
		int db = abs((int)a[i * 4 + 2] - (int)b[i * 4 + 2]);
		int m = dr > dg ? dr : dg;
		sum += (uint64_t)(m > db ? m : db);
	}
	return (double)sum / (255.0 * SIG_W * SIG_H) > SIG_CUT;
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

/* Is a new frame worth reading back? Each readback costs the graphics thread a capture and a copy, so
 * only when the worker will want it: when it is idle and nothing waits for it, or in the last frames
 * before it is expected to be free (estimated from the last frame's time; before the first one, not at
 * all until it is free). */
static bool want_new_frame(struct style_filter *f)
{
	pthread_mutex_lock(&f->mutex);
	bool busy = f->worker_busy, waiting = f->pending_full;
	uint64_t now = os_gettime_ns();
	double busy_ms = (double)(now - f->work_started_ns) / 1e6;
	double rest_ms = f->rest_until_ns > now ? (double)(f->rest_until_ns - now) / 1e6 : 0.0;
	double last_ms = f->last_infer_ms;
	pthread_mutex_unlock(&f->mutex);
	if (waiting || (busy && last_ms <= 0.0))
		return false;
	video_t *video = obs_get_video();
	double interval_ms = video ? (double)video_output_get_frame_time(video) / 1e6 : 33.3;
	if (!busy) /* resting between frames (its CPU share): the frame it takes next is read back near the end */
		return rest_ms <= 3.0 * interval_ms;
	/* the readback lands a frame later (double buffering), so start 3 frames ahead */
	return last_ms - busy_ms <= 3.0 * interval_ms;
}

/* The size to read a frame back at: the inference size when the engine needs no more (strength 100%,
 * colours not preserved: the result is the network's output scaled up, which the GPU does as well as the
 * engine would), else the full frame, whose detail strength and colour preservation mix back in. Reading
 * back and uploading a quarter of the pixels is most of what the filter costs OBS's graphics thread. */
static void readback_size(struct style_filter *f, uint32_t cx, uint32_t cy, uint32_t *w, uint32_t *h)
{
	pthread_mutex_lock(&f->mutex);
	bool full = f->alpha < 1.0 || f->preserve;
	uint32_t want = f->resolution == RESOLUTION_AUTO ? f->next_height
			: f->resolution > 0              ? (uint32_t)f->resolution
							 : 0;
	pthread_mutex_unlock(&f->mutex);
	if (full || want == 0 || want >= cy) {
		*w = cx;
		*h = cy;
		return;
	}
	*h = want;
	*w = (uint32_t)(((uint64_t)cx * want + cy / 2) / cy);
	if (*w < 1)
		*w = 1;
}

/* Double-buffered readback: maps the frame staged a frame ago and hands it to the worker, then stages
 * `tex` (w x h, read from a cx x cy video frame; NULL: no new frame wanted). */
static void read_back_and_submit(struct style_filter *f, gs_texture_t *tex, uint32_t w, uint32_t h, uint32_t cx,
				 uint32_t cy)
{
	int cur = f->next_stage, prev = cur ^ 1;
	if (f->staged[prev]) {
		uint64_t t0 = os_gettime_ns();
		uint8_t *data = NULL;
		uint32_t linesize = 0;
		if (gs_stagesurface_map(f->stage[prev], &data, &linesize)) {
			uint32_t sw = f->stage_w, sh = f->stage_h;
			fb_reserve(f->fill, sw, sh);
			uint32_t row = sw * 4;
			if (linesize == row) {
				memcpy(f->fill->data, data, (size_t)row * sh);
			} else {
				for (uint32_t y = 0; y < sh; y++)
					memcpy(f->fill->data + (size_t)y * row, data + (size_t)y * linesize, row);
			}
			gs_stagesurface_unmap(f->stage[prev]);
			cost_add(&f->readback_cost, t0);
			f->fill->source_w = f->stage_source_w;
			f->fill->source_h = f->stage_source_h;
			/* update_signature mapped this frame's signature in the same call */
			memcpy(f->fill->sig, f->frame_sig, sizeof(f->fill->sig));
			f->fill->has_sig = f->have_frame_sig;

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
	if (!tex)
		return;
	if (f->stage_w != w || f->stage_h != h || !f->stage[0] || !f->stage[1])
		reset_staging(f, w, h);
	if (!f->stage[0] || !f->stage[1])
		return;
	uint64_t t0 = os_gettime_ns();
	gs_stage_texture(f->stage[cur], tex);
	cost_add(&f->capture_cost, t0);
	f->stage_source_w = cx;
	f->stage_source_h = cy;
	f->staged[cur] = true;
	f->next_stage = prev;
}

/* Uploads the newest finished result, if there is one for video frames of the current size. */
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

	struct frame_buf *r = f->shown;
	if (!got || r->source_w != cx || r->source_h != cy)
		return false;

	if (!f->out_tex || f->out_w != r->width || f->out_h != r->height) {
		gs_texture_destroy(f->out_tex);
		f->out_tex = gs_texture_create(r->width, r->height, GS_RGBA, 1, NULL, GS_DYNAMIC);
		f->out_w = r->width;
		f->out_h = r->height;
		f->out_valid = false;
		if (!f->out_tex)
			return false;
	}
	uint64_t t0 = os_gettime_ns();
	gs_texture_set_image(f->out_tex, r->data, r->linesize, false);
	cost_add(&f->upload_cost, t0);
	f->out_source_w = cx;
	f->out_source_h = cy;
	memcpy(f->out_sig, r->sig, sizeof(f->out_sig));
	f->out_has_sig = r->has_sig;
	f->out_valid = true;
	return true;
}

static void count_frame(struct style_filter *f, uint64_t *counter)
{
	pthread_mutex_lock(&f->mutex);
	(*counter)++;
	pthread_mutex_unlock(&f->mutex);
}

/* Is the result on out_tex the one to draw for the current frame? Not after a scene cut since the
 * frame it was made from (logged once per cut). */
static bool result_fits(struct style_filter *f, uint32_t cx, uint32_t cy)
{
	if (!f->out_valid || f->out_source_w != cx || f->out_source_h != cy)
		return false;
	bool cut = f->have_frame_sig && f->out_has_sig && is_scene_cut(f->out_sig, f->frame_sig);
	if (cut && !f->in_cut)
		flog(LOG_DEBUG, f, "the picture changed like a scene cut: showing it unstyled until its result is out");
	f->in_cut = cut;
	return !cut;
}

/* The first stylised frame on screen: how long it took, for the status and the log. */
static void note_first_result(struct style_filter *f)
{
	double ms = (double)(os_gettime_ns() - f->created_ns) / 1e6;
	pthread_mutex_lock(&f->mutex);
	bool first = f->first_result_ms == 0.0;
	if (first)
		f->first_result_ms = ms;
	pthread_mutex_unlock(&f->mutex);
	if (first)
		flog(LOG_INFO, f, "first stylised frame on screen %.1f s after the filter was created", ms / 1000.0);
}

/* Per video frame: the source's signature always (tiny); the full-size capture only when the worker
 * wants a frame or the input has to be drawn from it. Drawing a result costs no more than drawing the
 * source itself, so a filter showing results adds little to OBS's own rendering. */
void style_filter_render(void *data, gs_effect_t *effect)
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
		f->drew_result = false;
		obs_source_skip_video_filter(f->source);
		return;
	}

	/* The same video frame rendered again (preview + program, projectors): draw what it showed. */
	if (!new_frame && f->cap_w == cx && f->cap_h == cy) {
		if (f->drew_result)
			draw_texture(f->out_tex, cx, cy);
		else
			obs_source_skip_video_filter(f->source);
		return;
	}

	/* A stall keeps the last result: it is still the newest picture of this source. */
	if (f->last_frame_time && frame_time - f->last_frame_time > STALL_NS)
		count_frame(f, &f->stalls);
	f->last_frame_time = frame_time;
	f->cap_w = cx;
	f->cap_h = cy;

	if (cx != f->seen_w || cy != f->seen_h) {
		if (f->seen_w)
			flog(LOG_INFO, f, "source size changed from %ux%u to %ux%u", f->seen_w, f->seen_h, cx, cy);
		f->seen_w = cx;
		f->seen_h = cy;
	}

	uint64_t t0 = os_gettime_ns();
	update_signature(f, target, parent, cx, cy);
	gs_texture_t *captured = NULL;
	uint32_t rw = cx, rh = cy;
	if (want_new_frame(f)) {
		uint64_t t_capture = os_gettime_ns();
		readback_size(f, cx, cy, &rw, &rh);
		if (render_target(f->texrender, target, parent, cx, cy, rw, rh))
			captured = gs_texrender_get_texture(f->texrender);
		f->capture_cost.ns += os_gettime_ns() - t_capture; /* + staging, counted in read_back_and_submit */
	}
	read_back_and_submit(f, captured, rw, rh, cx, cy);

	bool fresh = take_result(f, cx, cy);
	f->drew_result = result_fits(f, cx, cy);
	if (f->drew_result)
		draw_texture(f->out_tex, cx, cy); /* scaled up when it was read back smaller */
	else
		obs_source_skip_video_filter(f->source);
	if (fresh && f->drew_result)
		note_first_result(f);

	uint64_t elapsed = os_gettime_ns() - t0;
	pthread_mutex_lock(&f->mutex);
	if (fresh && f->drew_result)
		f->results_shown++;
	else if (f->drew_result)
		f->frames_reused++;
	else
		f->frames_passthrough++;
	if (!f->drew_result && f->first_result_ms > 0.0)
		f->frames_unstyled++;
	if (f->in_cut)
		f->frames_cut++;
	f->render_ns_total += elapsed;
	f->render_count++;
	pthread_mutex_unlock(&f->mutex);
}

enum gs_color_space style_filter_color_space(void *data, size_t count, const enum gs_color_space *preferred_spaces)
{
	UNUSED_PARAMETER(data);
	UNUSED_PARAMETER(count);
	UNUSED_PARAMETER(preferred_spaces);
	/* Frames go through 8-bit sRGB (RGBA8) on the way to the engine and back. */
	return GS_CS_SRGB;
}
