package soak_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/soak"
	"github.com/threadrunner/threadrunner/internal/stress"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestSoakShort(t *testing.T) {
	testkit.Check(t)
	res, err := soak.Run(soak.Config{Duration: 2 * time.Second, Seed: 1})
	if err != nil {
		t.Fatalf("Run() = %v; want nil", err)
	}
	var out bytes.Buffer
	res.Print(&out)
	if !res.OK() {
		t.Errorf("soak failed:\n%s", out.String())
	}
	for _, k := range []stress.Kind{stress.Value, stress.OwnError, stress.Panic, stress.CtxError} {
		if res.Count(k) == 0 {
			t.Errorf("Count(%v) = 0; want > 0: the mix should produce every kind\n%s", k, out.String())
		}
	}
	for _, want := range []string{"calls served:", "Run latency: p50", "after Close", "kept resources: 3 exited once each", "memory did not grow", "verdict: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print() output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSoakRejectsZeroDuration(t *testing.T) {
	if _, err := soak.Run(soak.Config{}); err == nil {
		t.Errorf("Run(zero Config) = nil error; want one")
	}
}
