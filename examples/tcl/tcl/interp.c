//go:build linux && cgo

// interp.c wraps the calls of interp.go and command.go into Tcl, so that Go
// calls plain C functions rather than pointers of the th table.

#include <stdint.h>

#include "_cgo_export.h"
#include "abi.h"

// th_create makes an interpreter and runs Tcl's init.tcl in it when it can
// be found (for package require, unknown, auto_path); without it the core
// commands still work, and *err says why it failed.
th_Interp *th_create(const char **err) {
	th_Interp *interp = th.CreateInterp();
	*err = NULL;
	if (interp != NULL && th.Init(interp) != TH_OK) {
		*err = th.GetStringFromObj(th.GetObjResult(interp), NULL);
	}
	return interp;
}

// th_eval evaluates script at global level and returns the code and the
// result. It returns a struct, rather than filling out-parameters, so that
// Go passes no pointer to its own memory and allocates nothing.
th_result th_eval(th_Interp *interp, const char *script, int len) {
	th_result r;
	r.code = th.EvalEx(interp, script, len, TH_EVAL_GLOBAL);
	r.s = th.GetStringFromObj(th.GetObjResult(interp), &r.len);
	return r;
}

const char *th_error_info(th_Interp *interp) {
	return th.GetVar2(interp, "errorInfo", NULL, TH_GLOBAL_ONLY);
}

void th_set_result(th_Interp *interp, const char *s, int len) {
	th.SetObjResult(interp, th.NewStringObj(s, len));
}

const char *th_arg(th_Obj *const *objv, int i, int *len) {
	return th.GetStringFromObj(objv[i], len);
}

static int command_proc(th_ClientData cd, th_Interp *interp, int objc, th_Obj *const *objv) {
	return goCommand((uintptr_t)cd, interp, objc, (th_Obj **)objv);
}

static void command_deleted(th_ClientData cd) { goCommandDeleted((uintptr_t)cd); }

void th_command(th_Interp *interp, const char *name, uintptr_t handle) {
	th.CreateObjCommand(interp, name, command_proc, (th_ClientData)handle, command_deleted);
}

void th_delete(th_Interp *interp) { th.DeleteInterp(interp); }
