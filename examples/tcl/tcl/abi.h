// abi.h declares the part of Tcl 8.6's C interface that package tcl uses,
// so that it builds without Tcl's headers: libtcl8.6 is opened at run time
// (dlopen) and its functions are called through the table below. The types
// and constants match tcl.h of Tcl 8.6 (abi_test.go checks them against
// tcl.h where it is installed). Every name has the prefix th_.

#ifndef THREADRUNNER_TCL_ABI_H
#define THREADRUNNER_TCL_ABI_H

#include <stdint.h>

typedef struct th_Interp th_Interp;
typedef struct th_Obj th_Obj;
typedef void *th_ClientData;

typedef struct th_Time {
	long sec;
	long usec;
} th_Time;

typedef struct th_Event th_Event;
typedef int(th_EventProc)(th_Event *ev, int flags);
struct th_Event {
	th_EventProc *proc;
	th_Event *next;
};

typedef int(th_ObjCmdProc)(th_ClientData cd, th_Interp *interp, int objc, th_Obj *const *objv);
typedef void(th_CmdDeleteProc)(th_ClientData cd);
typedef void(th_FileProc)(th_ClientData cd, int mask);

typedef struct th_NotifierProcs {
	void (*setTimer)(const th_Time *time);
	int (*waitForEvent)(const th_Time *time);
	void (*createFileHandler)(int fd, int mask, th_FileProc *proc, th_ClientData cd);
	void (*deleteFileHandler)(int fd);
	th_ClientData (*initNotifier)(void);
	void (*finalizeNotifier)(th_ClientData cd);
	void (*alertNotifier)(th_ClientData cd);
	void (*serviceModeHook)(int mode);
} th_NotifierProcs;

enum {
	TH_OK = 0,
	TH_ERROR = 1,
	TH_READABLE = 1 << 1,
	TH_WRITABLE = 1 << 2,
	TH_EXCEPTION = 1 << 3,
	TH_FILE_EVENTS = 1 << 3,
	TH_SERVICE_ALL = 1,
	TH_QUEUE_TAIL = 0,
	TH_EVAL_GLOBAL = 0x020000,
	TH_GLOBAL_ONLY = 1,
	TH_CANCEL_UNWIND = 0x100000,
};

// th_lib is the table of libtcl's functions, filled by th_load.
typedef struct th_lib {
	void (*FindExecutable)(const char *argv0);
	void (*SetNotifier)(th_NotifierProcs *procs);
	th_Interp *(*CreateInterp)(void);
	int (*Init)(th_Interp *interp);
	void (*DeleteInterp)(th_Interp *interp);
	int (*EvalEx)(th_Interp *interp, const char *script, int len, int flags);
	th_Obj *(*GetObjResult)(th_Interp *interp);
	void (*SetObjResult)(th_Interp *interp, th_Obj *obj);
	char *(*GetStringFromObj)(th_Obj *obj, int *len);
	th_Obj *(*NewStringObj)(const char *s, int len);
	const char *(*GetVar2)(th_Interp *interp, const char *name, const char *index, int flags);
	void *(*CreateObjCommand)(th_Interp *interp, const char *name, th_ObjCmdProc *proc, th_ClientData cd, th_CmdDeleteProc *del);
	int (*ServiceAll)(void);
	int (*SetServiceMode)(int mode);
	void (*QueueEvent)(th_Event *ev, int position);
	char *(*Alloc)(unsigned int size);
} th_lib;

extern th_lib th;

// lib.c
int th_load(const char **err);
void th_start(void);

// notifier.c
void th_host_set(uintptr_t host);
uintptr_t th_host_get(void);
void th_file_ready(int fd);
void th_service(void);
void th_service_mode_all(void);

// interp.c
th_Interp *th_create(const char **err);
typedef struct th_result {
	int code;
	const char *s; // the interpreter's result, valid until its next call
	int len;
} th_result;
th_result th_eval(th_Interp *interp, const char *script, int len);
const char *th_error_info(th_Interp *interp);
void th_set_result(th_Interp *interp, const char *s, int len);
const char *th_arg(th_Obj *const *objv, int i, int *len);
void th_command(th_Interp *interp, const char *name, uintptr_t handle);
void th_delete(th_Interp *interp);

#endif
