//go:build linux && cgo

package tcl_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// abiCheck is C that fails to compile unless abi.h's declarations match
// tcl.h's: the layout of the structs package tcl shares with Tcl, and the
// constants it passes.
const abiCheck = `#include <stddef.h>
#include <tcl.h>
#include "abi.h"

#define SAME(a, b) _Static_assert((a) == (b), #a " != " #b)
SAME(sizeof(th_Time), sizeof(Tcl_Time));
SAME(offsetof(th_Time, usec), offsetof(Tcl_Time, usec));
SAME(sizeof(th_Event), sizeof(Tcl_Event));
SAME(offsetof(th_Event, next), offsetof(Tcl_Event, nextPtr));
SAME(sizeof(th_NotifierProcs), sizeof(Tcl_NotifierProcs));
SAME(offsetof(th_NotifierProcs, setTimer), offsetof(Tcl_NotifierProcs, setTimerProc));
SAME(offsetof(th_NotifierProcs, waitForEvent), offsetof(Tcl_NotifierProcs, waitForEventProc));
SAME(offsetof(th_NotifierProcs, createFileHandler), offsetof(Tcl_NotifierProcs, createFileHandlerProc));
SAME(offsetof(th_NotifierProcs, deleteFileHandler), offsetof(Tcl_NotifierProcs, deleteFileHandlerProc));
SAME(offsetof(th_NotifierProcs, initNotifier), offsetof(Tcl_NotifierProcs, initNotifierProc));
SAME(offsetof(th_NotifierProcs, finalizeNotifier), offsetof(Tcl_NotifierProcs, finalizeNotifierProc));
SAME(offsetof(th_NotifierProcs, alertNotifier), offsetof(Tcl_NotifierProcs, alertNotifierProc));
SAME(offsetof(th_NotifierProcs, serviceModeHook), offsetof(Tcl_NotifierProcs, serviceModeHookProc));
SAME(TH_OK, TCL_OK);
SAME(TH_ERROR, TCL_ERROR);
SAME(TH_READABLE, TCL_READABLE);
SAME(TH_WRITABLE, TCL_WRITABLE);
SAME(TH_EXCEPTION, TCL_EXCEPTION);
SAME(TH_FILE_EVENTS, TCL_FILE_EVENTS);
SAME(TH_SERVICE_ALL, TCL_SERVICE_ALL);
SAME(TH_QUEUE_TAIL, TCL_QUEUE_TAIL);
SAME(TH_EVAL_GLOBAL, TCL_EVAL_GLOBAL);
SAME(TH_GLOBAL_ONLY, TCL_GLOBAL_ONLY);
SAME(TH_CANCEL_UNWIND, TCL_CANCEL_UNWIND);
SAME(2, TCL_RETURN); // eval_cgo.go's tclReturn
`

// TestABIMatchesHeaders compiles abiCheck against the installed tcl.h. It
// is skipped where Tcl's headers or a C compiler are missing: package tcl
// itself never needs the headers.
func TestABIMatchesHeaders(t *testing.T) {
	const include = "/usr/include/tcl8.6"
	if _, err := os.Stat(filepath.Join(include, "tcl.h")); err != nil {
		t.Skip("no tcl.h (tcl8.6-dev):", err)
	}
	cc := "cc"
	if out, err := exec.Command("go", "env", "CC").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		cc = strings.Fields(string(out))[0]
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skip("no C compiler:", err)
	}
	src := filepath.Join(t.TempDir(), "abi_check.c")
	if err := os.WriteFile(src, []byte(abiCheck), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	out, err := exec.Command(cc, "-std=c11", "-fsyntax-only", "-I"+include, "-I"+wd, src).CombinedOutput()
	if err != nil {
		t.Errorf("abi.h does not match tcl.h: %v\n%s", err, out)
	}
}
