/*
 * style-filter.h - the "Neural Style" OBS video filter.
 */
#pragma once

#define STYLE_FILTER_ID "stylefilter_filter"

/* Registers the filter with obs_register_source. */
void style_filter_register(void);
