/*
 * auto-resolution.h - the "Auto" inference resolution: the largest of a ladder of heights whose measured
 * time per frame fits a target, re-decided after every frame so it steps down when the machine gets busier
 * and back up (after a pause that grows when a step up keeps failing) when it gets freer.
 * Plain logic (no OBS or engine calls); the inference worker owns one per filter.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Default target time per stylised frame: about 4 style updates per second on a CPU, which the temporal
 * smoothing turns into a steady picture, while the first stylised frame still shows within 2 s. */
#define AUTO_TARGET_MS 250.0

struct auto_resolution {
	int step;                   /* index into the ladder of heights */
	double mean_ms;             /* smoothed time per frame at this step */
	int frames;                 /* frames measured at this step */
	bool skip_next;             /* the first frame at a new size pays for allocations: not measured */
	uint64_t no_climb_until_ns; /* after a step down, stay at or below it until then */
	uint64_t hold_ns;           /* how long the last step down holds (doubles when a climb fails again) */
	uint64_t changed_ns;        /* when the step last changed */
	bool last_was_climb;
};

void auto_resolution_init(struct auto_resolution *a);

/* The inference height to use now for a source of source_height (never above it). */
uint32_t auto_resolution_height(const struct auto_resolution *a, uint32_t source_height);

/* Feeds the time one frame took at the current height. Returns true when the height changed (the next
 * frame runs at auto_resolution_height); why then says why, for the log. */
bool auto_resolution_update(struct auto_resolution *a, double ms, double target_ms, uint32_t source_height,
			    uint64_t now_ns, char *why, int why_size);
