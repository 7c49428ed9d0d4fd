package testkit_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestRecoverPanic(t *testing.T) {
	if p := testkit.RecoverPanic(func() {}); p != nil {
		t.Errorf("RecoverPanic(returns) = %v; want nil", p)
	}
	if p := testkit.RecoverPanic(func() { panic("boom") }); p != "boom" {
		t.Errorf("RecoverPanic(panics) = %v; want %q", p, "boom")
	}
	var pn *runtime.PanicNilError
	if p := testkit.RecoverPanic(func() { panic(nil) }); !errors.As(p.(error), &pn) {
		t.Errorf("RecoverPanic(panic(nil)) = %T %v; want a *runtime.PanicNilError", p, p)
	}
}

type kitError struct{}

func (*kitError) Error() string { return "kit error" }

func TestAs(t *testing.T) {
	want := &kitError{}
	if got := testkit.As[*kitError](t, want); got != want {
		t.Errorf("As() = %v; want %v", got, want)
	}
	ft := &fakeT{}
	if got := testkit.As[*kitError](ft, "a string"); got != nil || len(ft.fatals) != 1 {
		t.Fatalf("As(a string) = %v, reported %q; want nil and one fatal error", got, ft.fatals)
	}
	if !contains(ft.fatals[0], "recovered string a string", "want a *testkit_test.kitError") {
		t.Errorf("As(a string) reported %q; want what was recovered and what was wanted", ft.fatals[0])
	}
}

func TestGoexits(t *testing.T) {
	tests := []struct {
		name       string
		fn         func()
		wantGoexit bool
		wantPanic  any
	}{
		{"returns", func() {}, false, nil},
		{"Goexit", runtime.Goexit, true, nil},
		{"panics", func() { panic("boom") }, false, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goexited, p := testkit.Goexits(tt.fn)
			if goexited != tt.wantGoexit || p != tt.wantPanic {
				t.Errorf("Goexits() = %v, %v; want %v, %v", goexited, p, tt.wantGoexit, tt.wantPanic)
			}
		})
	}
}
