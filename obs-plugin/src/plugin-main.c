/*
 * plugin-main.c - the OBS module entry points of the StyleFilter plugin.
 */
#include <obs-module.h>

#include "sf-api.h"

/* style-filter.c */
extern struct obs_source_info style_filter_info;

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("stylefilter-obs", "en-US")

MODULE_EXPORT const char *obs_module_name(void)
{
	return "StyleFilter";
}

MODULE_EXPORT const char *obs_module_description(void)
{
	return "Neural style transfer video filter (StyleFilter engine)";
}

bool obs_module_load(void)
{
	blog(LOG_INFO, "[stylefilter] StyleFilter OBS plugin %s loading (built against libobs %d.%d.%d, running %s)",
	     STYLEFILTER_OBS_VERSION, LIBOBS_API_MAJOR_VER, LIBOBS_API_MINOR_VER, LIBOBS_API_PATCH_VER,
	     obs_get_version_string());

	/* A missing or broken engine does not stop the module: the filter is still registered so that
	 * scenes using it load, and it passes video through with the reason in its status and the log. */
	if (!sf_api_load(NULL))
		blog(LOG_ERROR,
		     "[stylefilter] engine not available, the Neural Style filter will pass video through: %s",
		     sf_api_error());

	obs_register_source(&style_filter_info);
	blog(LOG_INFO, "[stylefilter] registered filter '%s' (%s)", style_filter_info.id,
	     obs_module_text("NeuralStyle"));
	return true;
}

void obs_module_unload(void)
{
	sf_api_unload();
	blog(LOG_INFO, "[stylefilter] plugin unloaded");
}
