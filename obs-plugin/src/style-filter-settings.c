/*
 * style-filter-settings.c - what the user sees of a Neural Style filter: its settings and their defaults,
 * the properties panel (every property with a one-line help text) and its status, and the
 * "stylefilter_get_stats" procedure for scripts and tests. The panel is rebuilt by OBS when the loader or
 * the worker asks for it (obs_source_update_properties): after a style loads or fails, and when the first
 * stylised frame of a new style is out.
 */
#include "style-filter.h"

#include <stdarg.h>

#define SETTING_STYLE "style"
#define TEXT_STYLE obs_module_text("Style")
#define TEXT_STYLE_HELP obs_module_text("Style.Help")
#define TEXT_STYLE_CUSTOM obs_module_text("Style.Custom")
#define SETTING_CUSTOM_PATH "custom_path"
#define TEXT_CUSTOM_PATH obs_module_text("CustomModel")
#define TEXT_CUSTOM_PATH_HELP obs_module_text("CustomModel.Help")
#define SETTING_STRENGTH "strength"
#define TEXT_STRENGTH obs_module_text("Strength")
#define TEXT_STRENGTH_HELP obs_module_text("Strength.Help")
#define SETTING_MIX_FMT "mix_%d"
#define TEXT_MIX obs_module_text("StyleMix")
#define TEXT_MIX_NAMED obs_module_text("StyleMix.Named")
#define TEXT_MIX_HELP obs_module_text("StyleMix.Help")
#define SETTING_PRESERVE "preserve_colour"
#define TEXT_PRESERVE obs_module_text("PreserveColour")
#define TEXT_PRESERVE_HELP obs_module_text("PreserveColour.Help")
#define SETTING_SMOOTHING "smoothing"
#define TEXT_SMOOTHING obs_module_text("Smoothing")
#define TEXT_SMOOTHING_HELP obs_module_text("Smoothing.Help")
#define SETTING_FOLLOW_MOTION "follow_motion"
#define TEXT_FOLLOW_MOTION obs_module_text("FollowMotion")
#define TEXT_FOLLOW_MOTION_HELP obs_module_text("FollowMotion.Help")
#define SETTING_RESOLUTION "resolution"
#define TEXT_RESOLUTION obs_module_text("Resolution")
#define TEXT_RESOLUTION_HELP obs_module_text("Resolution.Help")
#define TEXT_RESOLUTION_AUTO obs_module_text("Resolution.Auto")
#define TEXT_RESOLUTION_SOURCE obs_module_text("Resolution.Source")
#define SETTING_CPU_THREADS "cpu_threads"
#define TEXT_CPU_THREADS obs_module_text("CpuThreads")
#define TEXT_CPU_THREADS_HELP obs_module_text("CpuThreads.Help")
#define SETTING_DEVICE "device"
#define TEXT_DEVICE obs_module_text("Device")
#define TEXT_DEVICE_HELP obs_module_text("Device.Help")
#define TEXT_DEVICE_AUTO obs_module_text("Device.Auto")
#define SETTING_NETWORK "network"
#define TEXT_NETWORK obs_module_text("Network")
#define TEXT_NETWORK_HELP obs_module_text("Network.Help")
#define TEXT_NETWORK_AUTO obs_module_text("Network.Auto")
#define TEXT_NETWORK_FAST obs_module_text("Network.Fast")
#define TEXT_NETWORK_COMPACT obs_module_text("Network.Compact")
#define TEXT_NETWORK_FULL obs_module_text("Network.Full")
#define SETTING_STATUS "status"
#define SETTING_REFRESH "refresh_status"
#define TEXT_REFRESH obs_module_text("RefreshStatus")
#define TEXT_REFRESH_HELP obs_module_text("RefreshStatus.Help")
/* Not in the panel: Auto's target time per frame in ms (0 or absent: AUTO_TARGET_MS), for tests and tuning. */
#define SETTING_AUTO_TARGET "auto_target_ms"

/* The style a new filter starts on: DEFAULT_STYLE when it is bundled, else the first bundled style. */
#define DEFAULT_STYLE "starry_night"
/* docs/benchmarks.md: where the flicker measurements stop gaining. */
#define DEFAULT_SMOOTHING 75
/* Inference threads are capped here: beyond it these networks gain little and OBS loses more. */
#define MAX_DEFAULT_THREADS 8

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

const char *device_name(int device)
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

const char *tier_name(int tier)
{
	switch (tier) {
	case SF_TIER_AUTO:
		return "Auto";
	case SF_TIER_FAST:
		return "Fast";
	case SF_TIER_COMPACT:
		return "Compact";
	case SF_TIER_FULL:
		return "Full";
	}
	return "?";
}

/* Half of the logical processors, so OBS's rendering, encoding and UI keep the other half. */
int default_cpu_threads(void)
{
	int cores = os_get_logical_cores();
	int threads = cores / 2;
	return threads < 1 ? 1 : (threads > MAX_DEFAULT_THREADS ? MAX_DEFAULT_THREADS : threads);
}

/* Does fmt hold exactly `count` "%s" and no other conversion? */
static bool only_string_placeholders(const char *fmt, int count)
{
	int found = 0;
	for (const char *p = strchr(fmt, '%'); p; p = strchr(p + 2, '%')) {
		if (p[1] != 's')
			return false;
		found++;
	}
	return found == count;
}

void format_text(struct dstr *out, const char *key, const char *fallback, int count, ...)
{
	const char *fmt = obs_module_text(key);
	if (!fmt || !only_string_placeholders(fmt, count))
		fmt = fallback;
	va_list args;
	va_start(args, count);
	dstr_vprintf(out, fmt, args);
	va_end(args);
}

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

static long long clamp_ll(long long v, long long lo, long long hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------------------------ */
/* status                                                                                      */

struct filter_snapshot {
	uint64_t submitted, dropped, results, shown, reused, passthrough, cut, unstyled, failed, stalls;
	double worker_ms, last_ms, render_ms, first_result_ms, auto_target_ms;
	bool style_ready, busy, loading;
	int mix_count, resolution, threads;
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
	s->cut = f->frames_cut;
	s->unstyled = f->frames_unstyled;
	s->failed = f->frames_failed;
	s->stalls = f->stalls;
	s->first_result_ms = f->first_result_ms;
	s->last_ms = f->last_infer_ms;
	s->worker_ms = f->results ? (double)f->infer_ns_total / 1e6 / (double)f->results : 0.0;
	s->render_ms = f->render_count ? (double)f->render_ns_total / 1e6 / (double)f->render_count : 0.0;
	s->style_ready = f->style_ready;
	s->busy = f->worker_busy;
	s->loading = f->loading || f->req_gen != f->done_gen;
	s->infer_w = f->infer_w;
	s->infer_h = f->infer_h;
	s->mix_count = f->mix_count;
	s->resolution = f->resolution;
	s->auto_target_ms = f->auto_target_ms;
	s->threads = f->engine ? f->engine_threads : f->req_threads;
	s->device = f->req_device;
	snprintf(s->style, sizeof(s->style), "%s", f->loaded_style ? f->loaded_style : "");
	snprintf(s->requested, sizeof(s->requested), "%s", f->req_style ? f->req_style : "");
	if (f->engine_error)
		snprintf(s->error, sizeof(s->error), "%s", f->engine_error);
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
		format_text(out, "Error.NoEngine",
			    "The StyleFilter engine could not be loaded: %s. The video passes through unchanged; "
			    "reinstalling the plugin may help.",
			    1, sf_api_error());
		return;
	}
	take_snapshot(f, &s);

	dstr_printf(out, "%s: %s", obs_module_text("Status.Style"),
		    s.style[0] ? s.style : obs_module_text("Status.None"));
	if (s.loading) {
		char title[256];
		sf_style_title(s.requested, title, sizeof(title));
		dstr_catf(out, " (%s '%s'...)", obs_module_text("Status.Loading"), title);
	}
	if (s.error[0])
		dstr_catf(out, "\n%s", s.error);
	if (!s.style_ready)
		dstr_catf(out, "\n%s", obs_module_text("Status.PassThrough"));

	dstr_catf(out, "\n%s: %s", obs_module_text("Status.Device"),
		  s.have_stats && s.stats.provider[0] ? s.stats.provider : "-");
	if (s.threads > 0)
		dstr_catf(out, ", %d %s", s.threads,
			  obs_module_text(s.threads == 1 ? "Status.Thread" : "Status.Threads"));
	dstr_catf(out, " (%s: %s)", obs_module_text("Status.Requested"), device_name(s.device));

	if (s.have_stats && s.stats.frames > 0) {
		dstr_catf(out, "\n%s: %.0f ms (p50 %.0f, p99 %.0f)", obs_module_text("Status.MsPerFrame"),
			  s.stats.mean_ms, s.stats.p50_ms, s.stats.p99_ms);
		if (s.infer_w && s.infer_h)
			dstr_catf(out, "\n%s %ux%u", obs_module_text("Status.InferenceAt"), s.infer_w, s.infer_h);
		if (s.infer_w && s.infer_h && s.resolution == RESOLUTION_AUTO)
			dstr_catf(out, " (%s %.0f ms)", obs_module_text("Status.AutoTarget"), s.auto_target_ms);
	}
	if (s.first_result_ms > 0.0)
		dstr_catf(out, "\n%s: %.1f s", obs_module_text("Status.FirstResult"), s.first_result_ms / 1000.0);
	if (s.render_ms > 0.0)
		dstr_catf(out, "\n%s: %.2f ms", obs_module_text("Status.RenderCost"), s.render_ms);
	dstr_catf(out, "\n%s: %llu %s, %llu %s, %llu %s, %llu %s", obs_module_text("Status.Frames"),
		  (unsigned long long)s.results, obs_module_text("Status.Processed"), (unsigned long long)s.reused,
		  obs_module_text("Status.Reused"), (unsigned long long)s.dropped, obs_module_text("Status.Skipped"),
		  (unsigned long long)s.failed, obs_module_text("Status.Failed"));
}

/* proc "stylefilter_get_stats": numbers for scripts and tests. */
void proc_get_stats(void *data, calldata_t *cd)
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
	calldata_set_int(cd, "cut", (long long)s.cut);
	calldata_set_int(cd, "unstyled", (long long)s.unstyled);
	calldata_set_int(cd, "stalls", (long long)s.stalls);
	calldata_set_int(cd, "failed", (long long)s.failed);
	calldata_set_int(cd, "engine_frames", s.have_stats ? (long long)s.stats.frames : 0);
	calldata_set_float(cd, "mean_ms", s.have_stats ? s.stats.mean_ms : 0.0);
	calldata_set_float(cd, "p50_ms", s.have_stats ? s.stats.p50_ms : 0.0);
	calldata_set_float(cd, "p99_ms", s.have_stats ? s.stats.p99_ms : 0.0);
	calldata_set_float(cd, "worker_ms", s.worker_ms);
	calldata_set_float(cd, "last_ms", s.last_ms);
	calldata_set_float(cd, "render_ms", s.render_ms);
	calldata_set_float(cd, "first_result_ms", s.first_result_ms);
	calldata_set_bool(cd, "style_ready", s.style_ready);
	calldata_set_bool(cd, "busy", s.busy);
	calldata_set_bool(cd, "loading", s.loading);
	calldata_set_int(cd, "mix_count", s.mix_count);
	calldata_set_int(cd, "infer_width", s.infer_w);
	calldata_set_int(cd, "infer_height", s.infer_h);
	calldata_set_int(cd, "cpu_threads", s.threads);
	calldata_set_string(cd, "style", s.style);
	calldata_set_string(cd, "provider", s.have_stats ? s.stats.provider : "");
	calldata_set_string(cd, "error", s.error);
	calldata_set_string(cd, "status", status.array ? status.array : "");
	dstr_free(&status);
}

/* ------------------------------------------------------------------------------------------ */
/* defaults and update                                                                         */

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

void style_filter_defaults(obs_data_t *settings)
{
	char *style = default_bundled_style();
	obs_data_set_default_string(settings, SETTING_STYLE, style ? style : STYLE_CUSTOM);
	bfree(style);
	obs_data_set_default_string(settings, SETTING_CUSTOM_PATH, "");
	obs_data_set_default_int(settings, SETTING_STRENGTH, 100);
	obs_data_set_default_bool(settings, SETTING_PRESERVE, false);
	obs_data_set_default_int(settings, SETTING_SMOOTHING, DEFAULT_SMOOTHING);
	obs_data_set_default_bool(settings, SETTING_FOLLOW_MOTION, true);
	obs_data_set_default_int(settings, SETTING_RESOLUTION, RESOLUTION_AUTO);
	obs_data_set_default_int(settings, SETTING_CPU_THREADS, default_cpu_threads());
	obs_data_set_default_int(settings, SETTING_DEVICE, SF_DEVICE_AUTO);
	obs_data_set_default_int(settings, SETTING_NETWORK, SF_TIER_AUTO);
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		snprintf(key, sizeof(key), SETTING_MIX_FMT, i);
		obs_data_set_default_int(settings, key, i == 0 ? 100 : 0);
	}
}

void style_filter_update(void *data, obs_data_t *settings)
{
	struct style_filter *f = data;
	const char *selection = obs_data_get_string(settings, SETTING_STYLE);
	char *style = str_eq(selection, STYLE_CUSTOM)
			      ? resolve_custom_path(obs_data_get_string(settings, SETTING_CUSTOM_PATH))
			      : (selection && *selection ? bstrdup(selection) : NULL);
	double alpha = (double)clamp_ll(obs_data_get_int(settings, SETTING_STRENGTH), 0, 100) / 100.0;
	double smoothing = (double)clamp_ll(obs_data_get_int(settings, SETTING_SMOOTHING), 0, 100) / 100.0;
	bool preserve = obs_data_get_bool(settings, SETTING_PRESERVE);
	bool follow_motion = obs_data_get_bool(settings, SETTING_FOLLOW_MOTION);
	int resolution = (int)clamp_ll(obs_data_get_int(settings, SETTING_RESOLUTION), RESOLUTION_AUTO, 16384);
	int threads = (int)clamp_ll(obs_data_get_int(settings, SETTING_CPU_THREADS), 0, 1024);
	if (threads == 0)
		threads = default_cpu_threads();
	double target_ms = (double)clamp_ll(obs_data_get_int(settings, SETTING_AUTO_TARGET), 0, 60000);
	if (target_ms <= 0.0)
		target_ms = AUTO_TARGET_MS;
	int device = (int)obs_data_get_int(settings, SETTING_DEVICE);
	if (device < SF_DEVICE_AUTO || device > SF_DEVICE_DIRECTML)
		device = SF_DEVICE_AUTO;
	int tier = (int)obs_data_get_int(settings, SETTING_NETWORK);
	if (tier < SF_TIER_AUTO || tier > SF_TIER_FULL)
		tier = SF_TIER_AUTO;
	float mix[MAX_MIX];
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		snprintf(key, sizeof(key), SETTING_MIX_FMT, i);
		mix[i] = (float)clamp_ll(obs_data_get_int(settings, key), 0, 100) / 100.0f;
	}

	pthread_mutex_lock(&f->mutex);
	bool style_changed = style && !str_eq(style, f->req_style);
	bool device_changed = device != f->req_device;
	bool tier_changed = tier != f->req_tier;
	bool threads_changed = threads != f->req_threads;
	f->alpha = alpha;
	f->smoothing = smoothing;
	f->follow_motion = follow_motion;
	f->preserve = preserve;
	f->resolution = resolution;
	f->auto_target_ms = target_ms;
	if (memcmp(mix, f->mix_weights, sizeof(mix)) != 0) {
		memcpy(f->mix_weights, mix, sizeof(mix));
		f->mix_gen++;
	}
	/* A new style, device, network or thread count goes to the loader; the current style keeps running meanwhile. */
	bool request = style_changed || ((device_changed || tier_changed || threads_changed) && f->req_style);
	if (style_changed)
		set_str(&f->req_style, style);
	f->req_device = device;
	f->req_tier = tier;
	f->req_threads = threads;
	if (request) {
		f->req_gen++;
		pthread_cond_signal(&f->load_cond);
	}
	const struct sf_api *sf = sf_api_get();
	if (f->engine && sf)
		apply_params(f, sf, f->engine); /* never waits for a frame */
	pthread_mutex_unlock(&f->mutex);

	if (!style && str_eq(selection, STYLE_CUSTOM))
		flog(LOG_INFO, f, "custom model selected but no file chosen yet; keeping the current style");
	if (request && !style_changed && device_changed)
		flog(LOG_INFO, f, "device preference changed to %s; reloading the style", device_name(device));
	if (request && !style_changed && tier_changed)
		flog(LOG_INFO, f, "network changed to %s; reloading the style", tier_name(tier));
	if (request && !style_changed && threads_changed)
		flog(LOG_INFO, f, "CPU threads changed to %d; reloading the style", threads);
	bfree(style);
}

/* ------------------------------------------------------------------------------------------ */
/* properties                                                                                  */

/* Label of style mix slider i: "Style mix: <name>" with the name the engine gave, else numbered. */
static void mix_slider_label(struct dstr *label, int i, const char *name)
{
	if (name && *name)
		dstr_printf(label, "%s %s", TEXT_MIX_NAMED, name);
	else
		dstr_printf(label, "%s %d", TEXT_MIX, i + 1);
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
		snprintf(key, sizeof(key), SETTING_MIX_FMT, i);
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
	obs_property_t *p = obs_properties_get(props, SETTING_STATUS);
	if (!p)
		return;
	struct dstr text = {0};
	format_status(f, &text);
	obs_property_set_description(p, text.array);
	/* for the smoke test and for diagnosing the panel: when it was (re)built and with what style */
	const char *nl = strchr(text.array, '\n');
	flog(LOG_DEBUG, f, "panel built: %.*s", nl ? (int)(nl - text.array) : (int)text.len, text.array);
	dstr_free(&text);
}

static bool refresh_clicked(obs_properties_t *props, obs_property_t *property, void *data)
{
	UNUSED_PARAMETER(property);
	refresh_status_text(data, props);
	return true;
}

static bool style_modified(void *data, obs_properties_t *props, obs_property_t *property, obs_data_t *settings)
{
	UNUSED_PARAMETER(property);
	bool custom = str_eq(obs_data_get_string(settings, SETTING_STYLE), STYLE_CUSTOM);
	obs_property_set_visible(obs_properties_get(props, SETTING_CUSTOM_PATH), custom);
	if (data)
		refresh_status_text(data, props);
	return true;
}

/* One device entry, greyed out and marked when this machine cannot run it; the reason goes into `why`
 * (the Device help text), since a reason in the entry itself would widen the whole panel. */
static void add_device(obs_property_t *list, const char *label, int device, struct dstr *why)
{
	char reason[256];
	bool unavailable = sf_device_state(device, reason, sizeof(reason)) == SF_DEVICE_UNAVAILABLE;
	struct dstr text = {0};
	if (unavailable) {
		format_text(&text, "Device.Unavailable", "%s (not available)", 1, label);
		dstr_catf(why, "\n%s: %s", label, reason);
	} else {
		dstr_copy(&text, label);
	}
	size_t index = obs_property_list_add_int(list, text.array, device);
	obs_property_list_item_disable(list, index, unavailable);
	dstr_free(&text);
}

obs_properties_t *style_filter_properties(void *data)
{
	struct style_filter *f = data;
	obs_properties_t *props = obs_properties_create();
	obs_property_t *p;

	p = obs_properties_add_list(props, SETTING_STYLE, TEXT_STYLE, OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_STRING);
	obs_property_set_long_description(p, TEXT_STYLE_HELP);
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
	obs_property_list_add_string(p, TEXT_STYLE_CUSTOM, STYLE_CUSTOM);
	obs_property_set_modified_callback2(p, style_modified, f);

	p = obs_properties_add_path(props, SETTING_CUSTOM_PATH, TEXT_CUSTOM_PATH, OBS_PATH_FILE,
				    "ONNX models and style packs (*.onnx *.zip manifest.json);;All files (*.*)", NULL);
	obs_property_set_long_description(p, TEXT_CUSTOM_PATH_HELP);

	p = obs_properties_add_int_slider(props, SETTING_STRENGTH, TEXT_STRENGTH, 0, 100, 1);
	obs_property_int_set_suffix(p, "%");
	obs_property_set_long_description(p, TEXT_STRENGTH_HELP);

	/* Style mix: one weight per style of a multi-style model, shown only when the loaded model has
	 * several; numbered here, labelled with the styles' names by refresh_status_text once they are
	 * known (the loader reads them with sf_engine_get_style_mix_name). */
	for (int i = 0; i < MAX_MIX; i++) {
		char key[16];
		struct dstr label = {0};
		snprintf(key, sizeof(key), SETTING_MIX_FMT, i);
		mix_slider_label(&label, i, NULL);
		p = obs_properties_add_int_slider(props, key, label.array, 0, 100, 1);
		obs_property_int_set_suffix(p, "%");
		obs_property_set_long_description(p, TEXT_MIX_HELP);
		obs_property_set_visible(p, false);
		dstr_free(&label);
	}

	p = obs_properties_add_bool(props, SETTING_PRESERVE, TEXT_PRESERVE);
	obs_property_set_long_description(p, TEXT_PRESERVE_HELP);

	p = obs_properties_add_int_slider(props, SETTING_SMOOTHING, TEXT_SMOOTHING, 0, 100, 1);
	obs_property_int_set_suffix(p, "%");
	obs_property_set_long_description(p, TEXT_SMOOTHING_HELP);

	p = obs_properties_add_bool(props, SETTING_FOLLOW_MOTION, TEXT_FOLLOW_MOTION);
	obs_property_set_long_description(p, TEXT_FOLLOW_MOTION_HELP);

	p = obs_properties_add_list(props, SETTING_RESOLUTION, TEXT_RESOLUTION, OBS_COMBO_TYPE_LIST,
				    OBS_COMBO_FORMAT_INT);
	obs_property_list_add_int(p, TEXT_RESOLUTION_AUTO, RESOLUTION_AUTO);
	obs_property_list_add_int(p, "360p", 360);
	obs_property_list_add_int(p, "540p", 540);
	obs_property_list_add_int(p, "720p", 720);
	obs_property_list_add_int(p, "1080p", 1080);
	obs_property_list_add_int(p, TEXT_RESOLUTION_SOURCE, RESOLUTION_SOURCE);
	obs_property_set_long_description(p, TEXT_RESOLUTION_HELP);

	int cores = os_get_logical_cores();
	p = obs_properties_add_int_slider(props, SETTING_CPU_THREADS, TEXT_CPU_THREADS, 1, cores > 1 ? cores : 1, 1);
	obs_property_set_long_description(p, TEXT_CPU_THREADS_HELP);

	p = obs_properties_add_list(props, SETTING_DEVICE, TEXT_DEVICE, OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_INT);
	struct dstr help = {0};
	dstr_copy(&help, TEXT_DEVICE_HELP);
	add_device(p, TEXT_DEVICE_AUTO, SF_DEVICE_AUTO, &help);
	add_device(p, "CPU", SF_DEVICE_CPU, &help);
	add_device(p, "CUDA", SF_DEVICE_CUDA, &help);
	add_device(p, "TensorRT", SF_DEVICE_TENSORRT, &help);
	add_device(p, "DirectML", SF_DEVICE_DIRECTML, &help);
	obs_property_set_long_description(p, help.array);
	dstr_free(&help);

	p = obs_properties_add_list(props, SETTING_NETWORK, TEXT_NETWORK, OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_INT);
	obs_property_list_add_int(p, TEXT_NETWORK_AUTO, SF_TIER_AUTO);
	obs_property_list_add_int(p, TEXT_NETWORK_FAST, SF_TIER_FAST);
	obs_property_list_add_int(p, TEXT_NETWORK_COMPACT, SF_TIER_COMPACT);
	obs_property_list_add_int(p, TEXT_NETWORK_FULL, SF_TIER_FULL);
	obs_property_set_long_description(p, TEXT_NETWORK_HELP);

	/* Read-only status: OBS shows the description when the setting is empty (it always is). */
	obs_properties_add_text(props, SETTING_STATUS, "", OBS_TEXT_INFO); /* no help: it is the help */
	if (f)
		refresh_status_text(f, props);
	p = obs_properties_add_button2(props, SETTING_REFRESH, TEXT_REFRESH, refresh_clicked, f);
	obs_property_set_long_description(p, TEXT_REFRESH_HELP);
	return props;
}
