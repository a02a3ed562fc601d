/*
 * x_win.c - does to the top-level X windows of a process what a window manager would, for the
 * headless OBS scripts (there is no window manager on their Xvfb display):
 *   x_win close PID                 asks every window to close (a WM_DELETE_WINDOW client message), so
 *                                   OBS quits through its normal shutdown path
 *   x_win resize PID TITLE W H      moves the window whose title contains TITLE to 0,0 and resizes it
 * Exit status 0 when at least one window was found.
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long window_pid(Display *dpy, Window w, Atom pid_atom)
{
	Atom type;
	int format;
	unsigned long count, after;
	unsigned char *data = NULL;
	long pid = -1;
	if (XGetWindowProperty(dpy, w, pid_atom, 0, 1, False, XA_CARDINAL, &type, &format, &count, &after, &data) ==
		    Success &&
	    data && count == 1 && format == 32)
		pid = (long)*(unsigned long *)data;
	if (data)
		XFree(data);
	return pid;
}

static void ask_to_close(Display *dpy, Window w)
{
	XEvent ev = {0};
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	XSendEvent(dpy, w, False, NoEventMask, &ev);
}

static int title_contains(Display *dpy, Window w, const char *text)
{
	char *name = NULL;
	int found = XFetchName(dpy, w, &name) && name && strstr(name, text);
	if (name)
		XFree(name);
	return found;
}

int main(int argc, char **argv)
{
	int resize = argc == 6 && strcmp(argv[1], "resize") == 0;
	if (!resize && !(argc == 3 && strcmp(argv[1], "close") == 0)) {
		fprintf(stderr, "usage: x_win close PID | x_win resize PID TITLE W H\n");
		return 2;
	}
	long pid = atol(argv[2]);
	Display *dpy = XOpenDisplay(NULL);
	if (!dpy) {
		fprintf(stderr, "x_win: cannot open display\n");
		return 2;
	}
	Atom pid_atom = XInternAtom(dpy, "_NET_WM_PID", False);
	Window root_ret, parent_ret, *children = NULL;
	unsigned int n = 0;
	int found = 0;
	if (XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent_ret, &children, &n)) {
		for (unsigned int i = 0; i < n; i++) {
			XWindowAttributes attr;
			if (window_pid(dpy, children[i], pid_atom) != pid ||
			    !XGetWindowAttributes(dpy, children[i], &attr) || attr.map_state != IsViewable)
				continue;
			if (!resize) {
				ask_to_close(dpy, children[i]);
				found++;
			} else if (title_contains(dpy, children[i], argv[3])) {
				XMoveResizeWindow(dpy, children[i], 0, 0, (unsigned)atoi(argv[4]),
						  (unsigned)atoi(argv[5]));
				found++;
			}
		}
		if (children)
			XFree(children);
	}
	XFlush(dpy);
	XCloseDisplay(dpy);
	printf("x_win: %s %d window(s) of pid %ld\n", resize ? "resized" : "asked to close", found, pid);
	return found > 0 ? 0 : 1;
}
