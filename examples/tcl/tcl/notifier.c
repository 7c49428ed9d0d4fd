//go:build linux && cgo

// notifier.c is Tcl's notifier, replaced (Tcl_SetNotifier) so that an aio
// loop drives Tcl's events. Tcl keeps its events per thread, and so does
// this notifier: each thread has its file handlers, an eventfd that other
// threads alert it with, and, on a loop's thread, the Go host (notifier.go)
// that the hooks tell about timers and file handlers.
//
// Outside any Tcl event loop, the Go host does the waiting, on the aio
// loop: a task sleeping until the timer is due, and a task in
// aio.WaitReadable (or aio.WaitWritable) per file, each of which calls
// Tcl_ServiceAll. Inside one (vwait, update, a C caller's Tcl_DoOneEvent),
// Tcl calls waitForEvent, which must block the thread: it polls the file
// handlers and the eventfd with Tcl's timeout.

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "_cgo_export.h"
#include "abi.h"

typedef struct handler {
	int fd;
	int mask;   // TH_READABLE | TH_WRITABLE | TH_EXCEPTION
	int queued; // a file event for it is in Tcl's queue
	th_FileProc *proc;
	th_ClientData cd;
	struct handler *next;
} handler;

typedef struct notifier {
	handler *handlers;
	int alertfd;
} notifier;

// The state of the calling thread's notifier, and its Go host (a
// cgo.Handle, 0 on a thread that no loop hosts).
static __thread notifier *tn;
static __thread uintptr_t thost;

void th_host_set(uintptr_t host) { thost = host; }
uintptr_t th_host_get(void) { return thost; }

static th_ClientData init_notifier(void) {
	notifier *n = calloc(1, sizeof *n);
	n->alertfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tn = n;
	return n;
}

static void finalize_notifier(th_ClientData cd) {
	notifier *n = cd;
	while (n->handlers != NULL) {
		handler *h = n->handlers;
		n->handlers = h->next;
		free(h);
	}
	if (n->alertfd >= 0) close(n->alertfd);
	if (tn == n) tn = NULL;
	free(n);
}

// alert_notifier may be called from any thread (Tcl_ThreadAlert).
static void alert_notifier(th_ClientData cd) {
	notifier *n = cd;
	uint64_t one = 1;
	if (n->alertfd >= 0) (void)!write(n->alertfd, &one, sizeof one);
}

static void service_mode_hook(int mode) { (void)mode; }

// Set by set_timer when Tcl asks to be serviced again at once.
static __thread int tagain;

static void set_timer(const th_Time *t) {
	tagain = t != NULL && t->sec == 0 && t->usec == 0;
	if (thost != 0) goSetTimer(thost, t != NULL, t ? t->sec : 0, t ? t->usec : 0);
}

static handler *find(int fd) {
	for (handler *h = tn ? tn->handlers : NULL; h != NULL; h = h->next) {
		if (h->fd == fd) return h;
	}
	return NULL;
}

static void create_file_handler(int fd, int mask, th_FileProc *proc, th_ClientData cd) {
	if (tn == NULL) return;
	handler *h = find(fd);
	if (h == NULL) {
		h = calloc(1, sizeof *h);
		h->fd = fd;
		h->next = tn->handlers;
		tn->handlers = h;
	}
	h->mask = mask;
	h->proc = proc;
	h->cd = cd;
	if (thost != 0) goWatch(thost, fd, mask);
}

static void delete_file_handler(int fd) {
	if (tn == NULL) return;
	for (handler **p = &tn->handlers; *p != NULL; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			handler *h = *p;
			*p = h->next;
			free(h);
			break;
		}
	}
	if (thost != 0) goWatch(thost, fd, 0);
}

// ready returns which of mask's conditions hold for fd now.
static int ready(int fd, int mask) {
	struct pollfd p = {.fd = fd};
	if (mask & TH_READABLE) p.events |= POLLIN;
	if (mask & TH_WRITABLE) p.events |= POLLOUT;
	if (mask & TH_EXCEPTION) p.events |= POLLPRI;
	if (poll(&p, 1, 0) <= 0) return 0;
	int got = 0;
	if (p.revents & (POLLIN | POLLHUP | POLLERR)) got |= TH_READABLE;
	if (p.revents & (POLLOUT | POLLERR)) got |= TH_WRITABLE;
	if (p.revents & POLLPRI) got |= TH_EXCEPTION;
	return got & mask;
}

typedef struct file_event {
	th_Event header;
	int fd;
} file_event;

// file_event_proc runs a file handler when its event reaches the front of
// Tcl's queue. It looks at the descriptor again first: between the wait and
// now another path (the other of the two waits, a handler that read) may
// have consumed what made it ready, and calling a handler of a blocking
// channel then would block the thread.
static int file_event_proc(th_Event *ev, int flags) {
	if (!(flags & TH_FILE_EVENTS)) return 0;
	handler *h = find(((file_event *)ev)->fd);
	if (h == NULL) return 1;
	h->queued = 0;
	int mask = ready(h->fd, h->mask);
	if (mask != 0) h->proc(h->cd, mask);
	return 1;
}

static void queue(handler *h) {
	if (h->queued) return;
	file_event *ev = (file_event *)th.Alloc(sizeof *ev);
	ev->header.proc = file_event_proc;
	ev->fd = h->fd;
	h->queued = 1;
	th.QueueEvent(&ev->header, TH_QUEUE_TAIL);
}

// th_file_ready queues a file event for fd, which the Go host saw ready.
void th_file_ready(int fd) {
	handler *h = find(fd);
	if (h != NULL) queue(h);
}

// wait_for_event blocks the thread until a file handler's descriptor is
// ready, the notifier is alerted, or time passes (forever if NULL), and
// queues file events for what is ready. With nothing to wait for and no
// time limit it returns -1 at once, so that a vwait that could never end
// fails ("would wait forever") instead of blocking the loop for good.
static int wait_for_event(const th_Time *t) {
	if (tn == NULL) return -1;
	int n = 1;
	for (handler *h = tn->handlers; h != NULL; h = h->next) n++;
	if (n == 1 && t == NULL) return -1;
	struct pollfd stack[64];
	struct pollfd *fds = n <= 64 ? stack : calloc(n, sizeof *fds);
	fds[0] = (struct pollfd){.fd = tn->alertfd, .events = POLLIN};
	int i = 1;
	for (handler *h = tn->handlers; h != NULL; h = h->next, i++) {
		fds[i] = (struct pollfd){.fd = h->fd};
		if (h->mask & TH_READABLE) fds[i].events |= POLLIN;
		if (h->mask & TH_WRITABLE) fds[i].events |= POLLOUT;
		if (h->mask & TH_EXCEPTION) fds[i].events |= POLLPRI;
	}
	int timeout = -1;
	if (t != NULL) {
		long long ms = (long long)t->sec * 1000 + (t->usec + 999) / 1000;
		timeout = ms > 1 << 30 ? 1 << 30 : (int)ms;
	}
	int got = poll(fds, n, timeout);
	if (got > 0) {
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			(void)!read(tn->alertfd, &v, sizeof v);
		}
		// Queue in the order of the handlers, as they were when polled.
		i = 1;
		for (handler *h = tn->handlers; h != NULL && i < n; h = h->next, i++) {
			if (fds[i].revents != 0 && fds[i].fd == h->fd) queue(h);
		}
	}
	if (fds != stack) free(fds);
	return 0; // an interrupted poll (EINTR) too: Tcl looks again
}

// th_service services Tcl's events: what is due and queued, then idle
// handlers; it resets the timer (set_timer) on its way out. When that asks
// for another pass at once, as it does after running due timers (Tcl's
// setup procs ran before the handlers), it makes it here, up to a few
// times, rather than through another task: the pass's set_timer then
// replaces the immediate timer before it fires.
void th_service(void) {
	for (int pass = 0; pass < 4; pass++) {
		tagain = 0;
		th.ServiceAll();
		if (!tagain) break;
	}
}

// th_service_mode_all lets Tcl_ServiceAll service events on this thread
// (a thread's mode starts as TCL_SERVICE_NONE).
void th_service_mode_all(void) { th.SetServiceMode(TH_SERVICE_ALL); }

static th_NotifierProcs procs = {
	.setTimer = set_timer,
	.waitForEvent = wait_for_event,
	.createFileHandler = create_file_handler,
	.deleteFileHandler = delete_file_handler,
	.initNotifier = init_notifier,
	.finalizeNotifier = finalize_notifier,
	.alertNotifier = alert_notifier,
	.serviceModeHook = service_mode_hook,
};

// th_start installs the notifier, before anything else of Tcl runs, and
// initializes Tcl. It is called once, after th_load.
void th_start(void) {
	th.SetNotifier(&procs);
	th.FindExecutable(NULL);
}
