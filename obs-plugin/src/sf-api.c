/*
 * sf-api.c - loads the StyleFilter engine library beside this module and routes its log to OBS.
 */
#define _GNU_SOURCE
#include "sf-api.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <obs-module.h>
#include <util/bmem.h>

#define ENGINE_FILE "stylefilter.so"
#define ORT_FILE "libonnxruntime.so"

static struct sf_api api;
static bool api_loaded;
static void *engine_lib;
static char load_error[1024];
static char module_dir[PATH_MAX];
static char ort_path[PATH_MAX];

/* The function pointer types must match stylefilter.h exactly; the compiler checks it. */
#define SF_CHECK_SIG(field, fn)                                                                                \
	_Static_assert(__builtin_types_compatible_p(__typeof__(((struct sf_api *)0)->field), __typeof__(&fn)), \
		       "sf_api." #field " does not match stylefilter.h")
SF_CHECK_SIG(abi_version, sf_abi_version);
SF_CHECK_SIG(last_error, sf_last_error);
SF_CHECK_SIG(set_log_callback, sf_set_log_callback);
SF_CHECK_SIG(engine_create, sf_engine_create);
SF_CHECK_SIG(engine_destroy, sf_engine_destroy);
SF_CHECK_SIG(engine_load_style, sf_engine_load_style);
SF_CHECK_SIG(engine_set_param, sf_engine_set_param);
SF_CHECK_SIG(engine_get_param, sf_engine_get_param);
SF_CHECK_SIG(engine_process_cpu, sf_engine_process_cpu);
SF_CHECK_SIG(engine_process_texture, sf_engine_process_texture);
SF_CHECK_SIG(engine_reset_history, sf_engine_reset_history);
SF_CHECK_SIG(engine_get_stats, sf_engine_get_stats);
SF_CHECK_SIG(list_styles, sf_list_styles);
SF_CHECK_SIG(engine_get_style_name, sf_engine_get_style_name);
SF_CHECK_SIG(engine_get_style_mix_count, sf_engine_get_style_mix_count);
SF_CHECK_SIG(engine_set_style_mix, sf_engine_set_style_mix);
SF_CHECK_SIG(engine_get_style_mix_name, sf_engine_get_style_mix_name);
SF_CHECK_SIG(get_style_info, sf_get_style_info);
SF_CHECK_SIG(device_status, sf_device_status);

/* Engine log -> OBS log. Called on any thread, possibly the engine's inference threads. */
static void engine_log(void *user, int32_t level, const char *message)
{
	(void)user;
	int obs_level;
	switch (level) {
	case SF_LOG_ERROR:
		obs_level = LOG_ERROR;
		break;
	case SF_LOG_WARNING:
		obs_level = LOG_WARNING;
		break;
	case SF_LOG_INFO:
		obs_level = LOG_INFO;
		break;
	default:
		obs_level = LOG_DEBUG;
		break;
	}
	blog(obs_level, "[stylefilter] engine: %s", message ? message : "");
}

static void find_module_dir(void)
{
	Dl_info info;
	module_dir[0] = '\0';
	if (dladdr((void *)&find_module_dir, &info) && info.dli_fname) {
		char resolved[PATH_MAX];
		const char *path = realpath(info.dli_fname, resolved) ? resolved : info.dli_fname;
		snprintf(module_dir, sizeof(module_dir), "%s", path);
		char *slash = strrchr(module_dir, '/');
		if (slash)
			*slash = '\0';
		else
			module_dir[0] = '\0';
	}
}

#define LOAD_SYM(field, name)                                                                          \
	do {                                                                                           \
		*(void **)&api.field = dlsym(engine_lib, name);                                        \
		if (!api.field) {                                                                      \
			snprintf(load_error, sizeof(load_error),                                       \
				 "%s has no symbol %s (wrong or damaged engine library)", path, name); \
			goto fail;                                                                     \
		}                                                                                      \
	} while (0)

bool sf_api_load(const char *dir_override)
{
	char path[PATH_MAX];

	if (api_loaded)
		return true;
	if (dir_override && *dir_override)
		snprintf(module_dir, sizeof(module_dir), "%s", dir_override);
	else
		find_module_dir();

	if (!module_dir[0]) {
		snprintf(load_error, sizeof(load_error), "could not find the folder of the OBS module (dladdr failed)");
		return false;
	}

	snprintf(ort_path, sizeof(ort_path), "%s/" ORT_FILE, module_dir);
	if (access(ort_path, R_OK) != 0)
		ort_path[0] = '\0';

	snprintf(path, sizeof(path), "%s/" ENGINE_FILE, module_dir);
	engine_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!engine_lib) {
		const char *why = dlerror();
		snprintf(load_error, sizeof(load_error), "could not load %s: %s", path, why ? why : "unknown error");
		return false;
	}

	LOAD_SYM(abi_version, "sf_abi_version");
	uint32_t abi = api.abi_version();
	if (abi != SF_ABI_VERSION) {
		snprintf(load_error, sizeof(load_error),
			 "%s has ABI version %u but this plugin was built for version %d; "
			 "install matching versions of the plugin and the engine",
			 path, abi, SF_ABI_VERSION);
		goto fail;
	}
	LOAD_SYM(last_error, "sf_last_error");
	LOAD_SYM(set_log_callback, "sf_set_log_callback");
	LOAD_SYM(engine_create, "sf_engine_create");
	LOAD_SYM(engine_destroy, "sf_engine_destroy");
	LOAD_SYM(engine_load_style, "sf_engine_load_style");
	LOAD_SYM(engine_set_param, "sf_engine_set_param");
	LOAD_SYM(engine_get_param, "sf_engine_get_param");
	LOAD_SYM(engine_process_cpu, "sf_engine_process_cpu");
	LOAD_SYM(engine_process_texture, "sf_engine_process_texture");
	LOAD_SYM(engine_reset_history, "sf_engine_reset_history");
	LOAD_SYM(engine_get_stats, "sf_engine_get_stats");
	LOAD_SYM(list_styles, "sf_list_styles");
	LOAD_SYM(engine_get_style_name, "sf_engine_get_style_name");
	*(void **)&api.engine_get_style_mix_count = dlsym(engine_lib, "sf_engine_get_style_mix_count");
	*(void **)&api.engine_set_style_mix = dlsym(engine_lib, "sf_engine_set_style_mix");
	*(void **)&api.engine_get_style_mix_name = dlsym(engine_lib, "sf_engine_get_style_mix_name");
	if (!api.engine_get_style_mix_count || !api.engine_set_style_mix) {
		api.engine_get_style_mix_count = NULL;
		api.engine_set_style_mix = NULL;
		api.engine_get_style_mix_name = NULL;
		blog(LOG_INFO, "[stylefilter] this engine has no style mix calls; Style mix is not offered");
	} else if (!api.engine_get_style_mix_name) {
		blog(LOG_INFO, "[stylefilter] this engine has no sf_engine_get_style_mix_name; "
			       "the style mix sliders are numbered");
	}
	*(void **)&api.get_style_info = dlsym(engine_lib, "sf_get_style_info");
	if (!api.get_style_info)
		blog(LOG_INFO, "[stylefilter] this engine has no sf_get_style_info; the style list shows ids");
	*(void **)&api.device_status = dlsym(engine_lib, "sf_device_status");
	if (!api.device_status)
		blog(LOG_INFO, "[stylefilter] this engine has no sf_device_status; every device is offered");

	api.set_log_callback(engine_log, NULL, SF_LOG_INFO);
	api_loaded = true;
	load_error[0] = '\0';
	blog(LOG_INFO, "[stylefilter] engine loaded: %s (ABI %u), ONNX Runtime: %s", path, abi,
	     ort_path[0] ? ort_path : "(not bundled; the engine searches the system)");
	return true;

fail:
	/* Deliberately not dlclose()d: the NativeAOT runtime may already have started threads. */
	memset(&api, 0, sizeof(api));
	return false;
}

void sf_api_unload(void)
{
	if (api_loaded && api.set_log_callback)
		api.set_log_callback(NULL, NULL, SF_LOG_ERROR);
	/* No dlclose: a NativeAOT library cannot be unloaded safely. Filters are gone by now. */
}

const struct sf_api *sf_api_get(void)
{
	return api_loaded ? &api : NULL;
}

const char *sf_api_error(void)
{
	return load_error;
}

const char *sf_module_dir(void)
{
	return module_dir;
}

const char *sf_ort_path(void)
{
	return ort_path[0] ? ort_path : NULL;
}

const char *sf_status_name(sf_status st)
{
	switch (st) {
	case SF_OK:
		return "SF_OK";
	case SF_ERR_INVALID_ARGUMENT:
		return "SF_ERR_INVALID_ARGUMENT";
	case SF_ERR_MODEL:
		return "SF_ERR_MODEL";
	case SF_ERR_RUNTIME:
		return "SF_ERR_RUNTIME";
	case SF_ERR_INVALID_HANDLE:
		return "SF_ERR_INVALID_HANDLE";
	case SF_ERR_NO_STYLE:
		return "SF_ERR_NO_STYLE";
	case SF_ERR_UNSUPPORTED:
		return "SF_ERR_UNSUPPORTED";
	case SF_ERR_INTERNAL:
		return "SF_ERR_INTERNAL";
	}
	return "SF_ERR_?";
}

char *sf_list_styles_alloc(void)
{
	const struct sf_api *sf = sf_api_get();
	if (!sf)
		return NULL;
	/* The list can change between the size query and the copy (a style added on disk): retry. */
	for (int attempt = 0; attempt < 3; attempt++) {
		size_t needed = 0;
		if (sf->list_styles(NULL, 0, &needed) != SF_OK || needed == 0)
			return NULL;
		char *buf = bzalloc(needed);
		sf_status st = sf->list_styles(buf, needed, &needed);
		if (st == SF_OK)
			return buf;
		bfree(buf);
		if (st != SF_ERR_INVALID_ARGUMENT)
			return NULL;
	}
	return NULL;
}

void sf_style_title(const char *id, char *buf, size_t size)
{
	const struct sf_api *sf = sf_api_get();
	sf_style_info info = {.struct_size = sizeof(info)};
	if (sf && sf->get_style_info && sf->get_style_info(id, &info) == SF_OK && info.title[0])
		snprintf(buf, size, "%s", info.title);
	else
		snprintf(buf, size, "%s", id);
}

#define DEVICE_COUNT (SF_DEVICE_DIRECTML + 1)
static pthread_mutex_t devices_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool devices_probed;
static enum sf_device_state device_states[DEVICE_COUNT];
static char device_reasons[DEVICE_COUNT][256];

void sf_devices_probe(void)
{
	const struct sf_api *sf = sf_api_get();
	if (!sf || !sf->device_status)
		return;
	pthread_mutex_lock(&devices_mutex);
	bool done = devices_probed;
	pthread_mutex_unlock(&devices_mutex);
	if (done)
		return;

	static const char *const names[DEVICE_COUNT] = {"Auto", "CPU", "CUDA", "TensorRT", "DirectML"};
	enum sf_device_state states[DEVICE_COUNT];
	char reasons[DEVICE_COUNT][256];
	for (int d = 0; d < DEVICE_COUNT; d++) {
		reasons[d][0] = '\0';
		sf_status st = sf->device_status(d, reasons[d], sizeof(reasons[d]));
		states[d] = st == SF_OK ? SF_DEVICE_AVAILABLE : SF_DEVICE_UNAVAILABLE;
		if (st != SF_OK && st != SF_ERR_UNSUPPORTED)
			snprintf(reasons[d], sizeof(reasons[d]), "%s", sf->last_error());
		if (st != SF_OK)
			blog(LOG_INFO, "[stylefilter] %s cannot be used on this machine: %s", names[d], reasons[d]);
	}
	pthread_mutex_lock(&devices_mutex);
	memcpy(device_states, states, sizeof(states));
	memcpy(device_reasons, reasons, sizeof(reasons));
	devices_probed = true;
	pthread_mutex_unlock(&devices_mutex);
}

enum sf_device_state sf_device_state(int device, char *reason, size_t size)
{
	if (size)
		reason[0] = '\0';
	if (device < 0 || device >= DEVICE_COUNT)
		return SF_DEVICE_UNKNOWN;
	pthread_mutex_lock(&devices_mutex);
	enum sf_device_state state = devices_probed ? device_states[device] : SF_DEVICE_UNKNOWN;
	if (size && state == SF_DEVICE_UNAVAILABLE)
		snprintf(reason, size, "%s", device_reasons[device]);
	pthread_mutex_unlock(&devices_mutex);
	return state;
}
