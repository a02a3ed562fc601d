/*
 * style-filter-settings.c - what the user sees of a Neural Style filter: its settings and their defaults,
 * the properties panel, the status text, and the "stylefilter_get_stats" procedure for scripts and tests.
 */
#include "style-filter.h"

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

void style_filter_defaults(obs_data_t *settings)
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

void style_filter_update(void *data, obs_data_t *settings)
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

obs_properties_t *style_filter_properties(void *data)
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

