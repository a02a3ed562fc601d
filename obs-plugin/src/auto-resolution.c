/*
 * auto-resolution.c - see auto-resolution.h.
 *
 * Time per frame grows with the number of pixels, so the time at another height is predicted as the time
 * measured here times the ratio of the areas. It climbs one step when the prediction leaves 20% of the
 * target free, after a few frames at this step; it steps down (as far as the prediction says) when the
 * smoothed time is 30% over the target, or at once when one frame takes three times the target. The gap
 * between the two keeps it from hopping between neighbouring sizes, and each size change restarts the
 * engine's temporal history, so a step down also holds for a while before it may climb again.
 */
#include "auto-resolution.h"

#include <stdio.h>

static const uint32_t ladder[] = {144, 180, 216, 270, 360, 432, 540, 720, 1080};
#define LADDER_STEPS ((int)(sizeof(ladder) / sizeof(ladder[0])))
/* Where it starts: small enough for a first stylised frame within 2 s on a 2-core CPU. */
#define START_STEP 2

#define CLIMB_HEADROOM 0.8 /* climb when the next step is predicted within 80% of the target */
#define DROP_OVER 1.3      /* step down when the smoothed time is 30% over the target... */
#define DROP_SPIKE 3.0     /* ...or one frame took three times the target */
#define DROP_FIT 0.9       /* and go as far down as needed to be predicted within 90% of it */
#define FRAMES_BEFORE_CLIMB 3
#define HOLD_FIRST_NS 5000000000ULL    /* a step down holds 5 s... */
#define HOLD_MAX_NS 160000000000ULL    /* ...doubling up to 160 s while climbs keep failing */
#define FAILED_CLIMB_NS 20000000000ULL /* a step down within 20 s of a climb means the climb failed */

void auto_resolution_init(struct auto_resolution *a)
{
	*a = (struct auto_resolution){.step = START_STEP, .skip_next = true, .hold_ns = HOLD_FIRST_NS};
}

/* Largest step not above the source height; -1 when the source is smaller than every step. */
static int max_step(uint32_t source_height)
{
	int max = -1;
	for (int i = 0; i < LADDER_STEPS; i++)
		if (ladder[i] <= source_height)
			max = i;
	return max;
}

static double area_ratio(int to, int from)
{
	double r = (double)ladder[to] / (double)ladder[from];
	return r * r;
}

uint32_t auto_resolution_height(const struct auto_resolution *a, uint32_t source_height)
{
	int max = max_step(source_height);
	if (max < 0)
		return source_height;
	return ladder[a->step < max ? a->step : max];
}

static void move_to(struct auto_resolution *a, int step, uint64_t now_ns, bool climb)
{
	a->step = step;
	a->frames = 0;
	a->mean_ms = 0.0;
	a->skip_next = true;
	a->last_was_climb = climb;
	a->changed_ns = now_ns;
}

bool auto_resolution_update(struct auto_resolution *a, double ms, double target_ms, uint32_t source_height,
			    uint64_t now_ns, char *why, int why_size)
{
	int max = max_step(source_height);
	if (max < 0 || target_ms <= 0.0)
		return false;
	if (a->step > max)
		a->step = max; /* a smaller source: the height in use is already this one */
	if (a->skip_next) {
		a->skip_next = false;
		return false;
	}
	a->frames++;
	a->mean_ms = a->frames == 1 ? ms : 0.6 * a->mean_ms + 0.4 * ms;

	bool slow = (a->frames >= 2 && a->mean_ms > DROP_OVER * target_ms) || ms > DROP_SPIKE * target_ms;
	if (slow && a->step > 0) {
		int from = a->step, to = from - 1;
		while (to > 0 && a->mean_ms * area_ratio(to, from) > DROP_FIT * target_ms)
			to--;
		bool failed_climb = a->last_was_climb && now_ns - a->changed_ns < FAILED_CLIMB_NS;
		a->hold_ns =
			failed_climb ? (a->hold_ns * 2 < HOLD_MAX_NS ? a->hold_ns * 2 : HOLD_MAX_NS) : HOLD_FIRST_NS;
		a->no_climb_until_ns = now_ns + a->hold_ns;
		snprintf(why, (size_t)why_size,
			 "%.0f ms per frame at %up is over the %.0f ms target; next climb in %.0f s", a->mean_ms,
			 ladder[from], target_ms, (double)a->hold_ns / 1e9);
		move_to(a, to, now_ns, false);
		return true;
	}

	if (a->frames >= FRAMES_BEFORE_CLIMB && a->step < max && now_ns >= a->no_climb_until_ns) {
		double predicted = a->mean_ms * area_ratio(a->step + 1, a->step);
		if (predicted <= CLIMB_HEADROOM * target_ms) {
			snprintf(why, (size_t)why_size,
				 "%.0f ms per frame at %up; %up should take about %.0f ms of the %.0f ms target",
				 a->mean_ms, ladder[a->step], ladder[a->step + 1], predicted, target_ms);
			move_to(a, a->step + 1, now_ns, true);
			return true;
		}
	}
	return false;
}
