/*
 * x_close.c - asks the top-level X windows of a process to close, the way a window manager does
 * (a WM_DELETE_WINDOW client message), so a headless OBS quits through its normal shutdown path.
 *   x_close PID      exit 0 when at least one window was asked
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>

static long window_pid(Display *dpy, Window w, Atom pid_atom)
{
	Atom type;
	int format;
	unsigned long count, after;
	unsigned char *data = NULL;
	long pid = -1;
	if (XGetWindowProperty(dpy, w, pid_atom, 0, 1, False, XA_CARDINAL, &type, &format, &count, &after,
			       &data) == Success && data && count == 1 && format == 32)
		pid = (long)*(unsigned long *)data;
	if (data)
		XFree(data);
	return pid;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: x_close PID\n");
		return 2;
	}
	long pid = atol(argv[1]);
	Display *dpy = XOpenDisplay(NULL);
	if (!dpy) {
		fprintf(stderr, "x_close: cannot open display\n");
		return 2;
	}
	Atom pid_atom = XInternAtom(dpy, "_NET_WM_PID", False);
	Atom protocols = XInternAtom(dpy, "WM_PROTOCOLS", False);
	Atom delete_window = XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	Window root_ret, parent_ret, *children = NULL;
	unsigned int n = 0;
	int asked = 0;
	if (XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent_ret, &children, &n)) {
		for (unsigned int i = 0; i < n; i++) {
			XWindowAttributes attr;
			if (window_pid(dpy, children[i], pid_atom) != pid ||
			    !XGetWindowAttributes(dpy, children[i], &attr) || attr.map_state != IsViewable)
				continue;
			XEvent ev = {0};
			ev.xclient.type = ClientMessage;
			ev.xclient.window = children[i];
			ev.xclient.message_type = protocols;
			ev.xclient.format = 32;
			ev.xclient.data.l[0] = (long)delete_window;
			ev.xclient.data.l[1] = CurrentTime;
			XSendEvent(dpy, children[i], False, NoEventMask, &ev);
			asked++;
		}
		if (children)
			XFree(children);
	}
	XFlush(dpy);
	XCloseDisplay(dpy);
	printf("x_close: asked %d window(s) of pid %ld to close\n", asked, pid);
	return asked > 0 ? 0 : 1;
}
