package cases_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
	"github.com/threadrunner/threadrunner/bench/peers"
	"github.com/threadrunner/threadrunner/internal/testkit"
)

func TestCounter(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		more, got := cases.Counter(n), 0
		for more() {
			got++
		}
		if got != n || more() {
			t.Errorf("Counter(%d) reported true %d times, then %v; want %d times, then false", n, got, more(), n)
		}
	}
}

func TestTimedCountsEveryOp(t *testing.T) {
	total := 0
	s, err := cases.Timed(2*time.Millisecond, func(n int) error {
		total += n
		time.Sleep(time.Microsecond)
		return nil
	})
	if err != nil || s.Ops < 1 || s.Value <= 0 || total < s.Ops {
		t.Errorf("Timed() = %+v, %v after %d ops in all; want Ops >= 1, Value > 0, nil", s, err, total)
	}
}

func TestTimedReturnsOpError(t *testing.T) {
	boom := errors.New("boom")
	if _, err := cases.Timed(time.Millisecond, func(int) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Timed() = %v; want %v", err, boom)
	}
}

func TestSuspendedBytesRejectsNoTasks(t *testing.T) {
	testkit.Check(t)
	s := peers.NewUnlocked()
	defer s.Close()
	if _, err := cases.SuspendedBytes(s, 0); err == nil {
		t.Errorf("SuspendedBytes(0 tasks) = nil error; want one")
	}
}

// ours names threadrunner's system for case c: the pinned runner, or for the
// JavaScript cases package js on one (the pool's case: a pool of one loop).
func ours(c cases.Case) string {
	switch {
	case c.Name == "js-pool-http":
		return peers.NameJSPool1
	case strings.HasPrefix(c.Name, "js-"):
		return peers.NameJS
	}
	return peers.NamePinned
}

func TestAllCasesApplyToThreadrunner(t *testing.T) {
	for _, c := range cases.All() {
		p, ok := peers.Find(ours(c))
		if !ok {
			t.Fatalf("Find(%q) found nothing", ours(c))
		}
		if !c.Applies(p) {
			t.Errorf("case %s does not apply to %s; want every case to apply to threadrunner", c.Name, p.Name)
		}
	}
}

func TestEveryCaseMeasuresThreadrunner(t *testing.T) {
	testkit.Check(t)
	cfg := cases.DefaultConfig()
	cfg.Duration, cfg.SuspendN, cfg.PendingN, cfg.IdleWindow, cfg.SleepTasks = time.Millisecond, 100, 100, time.Millisecond, 10
	for _, c := range cases.All() {
		t.Run(c.Name, func(t *testing.T) {
			p, _ := peers.Find(ours(c))
			sys, err := p.New()
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Close()
			s, ok, err := c.Measure(sys, cfg)
			if !ok || err != nil || s.Ops < 1 {
				t.Errorf("Measure() = %+v, %v, %v; want a sample, true, nil", s, ok, err)
			}
		})
	}
}
