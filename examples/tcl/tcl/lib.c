//go:build linux && cgo

// lib.c opens libtcl8.6 at run time and fills the table of its functions.

#include <dlfcn.h>
#include <stddef.h>

#include "abi.h"

th_lib th;

static const char *libnames[] = {"libtcl8.6.so", "libtcl8.6.so.0", "libtcl.so", NULL};

#define SYM(name)                                   \
	do {                                            \
		*(void **)(&th.name) = dlsym(lib, "Tcl_" #name); \
		if (th.name == NULL) {                      \
			*err = "libtcl8.6 lacks Tcl_" #name;    \
			return 0;                               \
		}                                           \
	} while (0)

// th_load opens libtcl8.6 and looks up its functions. It returns 1, or 0
// with *err saying why. It is called once (sync.Once in Go).
int th_load(const char **err) {
	void *lib = NULL;
	for (const char **n = libnames; *n != NULL && lib == NULL; n++) {
		lib = dlopen(*n, RTLD_NOW | RTLD_GLOBAL);
	}
	if (lib == NULL) {
		*err = dlerror();
		return 0;
	}
	SYM(FindExecutable);
	SYM(SetNotifier);
	SYM(CreateInterp);
	SYM(Init);
	SYM(DeleteInterp);
	SYM(EvalEx);
	SYM(GetObjResult);
	SYM(SetObjResult);
	SYM(GetStringFromObj);
	SYM(NewStringObj);
	SYM(GetVar2);
	SYM(CreateObjCommand);
	SYM(ServiceAll);
	SYM(SetServiceMode);
	SYM(QueueEvent);
	SYM(Alloc);
	return 1;
}
