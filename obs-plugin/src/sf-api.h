/*
 * sf-api.h - the StyleFilter engine (stylefilter.so) loaded at run time with dlopen.
 *
 * The OBS module does not link against the engine: it loads stylefilter.so from the module's own
 * folder, so the plugin works from any plugin folder (per-user, system, portable) without
 * LD_LIBRARY_PATH. All engine calls go through the table below.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stylefilter.h"

struct sf_api {
	uint32_t (*abi_version)(void);
	const char *(*last_error)(void);
	sf_status (*set_log_callback)(sf_log_fn fn, void *user, int32_t min_level);
	sf_status (*engine_create)(const sf_engine_options *options, sf_engine **out);
	sf_status (*engine_destroy)(sf_engine *engine);
	sf_status (*engine_load_style)(sf_engine *engine, const char *name_or_path);
	sf_status (*engine_set_param)(sf_engine *engine, int32_t param, double value);
	sf_status (*engine_get_param)(sf_engine *engine, int32_t param, double *value);
	sf_status (*engine_process_cpu)(sf_engine *engine, const sf_frame *in, const sf_frame *out);
	sf_status (*engine_process_texture)(sf_engine *engine, const sf_texture *in, const sf_texture *out);
	sf_status (*engine_reset_history)(sf_engine *engine);
	sf_status (*engine_get_stats)(sf_engine *engine, sf_stats *out);
	sf_status (*list_styles)(char *buffer, size_t size, size_t *needed);
	sf_status (*engine_get_style_name)(sf_engine *engine, char *buffer, size_t size);
	/* Style mix: optional (NULL with an engine built before the calls were added to ABI 1). */
	sf_status (*engine_get_style_mix_count)(sf_engine *engine, int32_t *count);
	sf_status (*engine_set_style_mix)(sf_engine *engine, const float *weights, int32_t count);
	/* Optional as well (NULL: the mix sliders keep numbered labels). */
	sf_status (*engine_get_style_mix_name)(sf_engine *engine, int32_t index, char *buffer, size_t size);
	/* Optional as well (NULL: the style list shows the styles' ids instead of their titles). */
	sf_status (*get_style_info)(const char *name_or_path, sf_style_info *out);
	/* Optional as well (NULL: every device is offered, and the engine falls back to the CPU). */
	sf_status (*device_status)(int32_t device, char *reason, size_t size);
};

/* Loads <module_dir>/stylefilter.so, checks its ABI version and routes its log to blog().
 * Returns true on success; otherwise sf_api_error() says why. Safe to call once. */
bool sf_api_load(const char *module_dir);

/* Stops routing engine logs. The engine library stays mapped: a NativeAOT runtime cannot be unloaded. */
void sf_api_unload(void);

/* The loaded table, or NULL when the engine could not be loaded. */
const struct sf_api *sf_api_get(void);

/* Why sf_api_load failed ("" after success). */
const char *sf_api_error(void);

/* Folder holding this OBS module (and stylefilter.so, ONNX Runtime, models/). "" if unknown. */
const char *sf_module_dir(void);

/* Full path of the bundled ONNX Runtime (<module_dir>/libonnxruntime.so), or NULL if it is not there. */
const char *sf_ort_path(void);

/* Short name of a status code, e.g. "SF_ERR_MODEL". */
const char *sf_status_name(sf_status st);

/* Bundled style ids from sf_list_styles as one '\n'-separated string (bfree it), or NULL. */
char *sf_list_styles_alloc(void);

/* The title to show for bundled style `id` in buf (the id itself with an engine that cannot tell). */
void sf_style_title(const char *id, char *buf, size_t size);

/* What this machine can run, asked once per process (sf_devices_probe, off the UI thread: the first
 * question about a GPU device loads its provider library) and then read by the properties. */
enum sf_device_state { SF_DEVICE_UNKNOWN, SF_DEVICE_AVAILABLE, SF_DEVICE_UNAVAILABLE };
void sf_devices_probe(void);
/* The probed state of `device` (one of sf_device); the reason it is unavailable goes into reason. */
enum sf_device_state sf_device_state(int device, char *reason, size_t size);
