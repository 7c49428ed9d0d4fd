package cases_test

import (
	"errors"
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

func TestAllCasesApplyToThreadrunner(t *testing.T) {
	p, ok := peers.Find(peers.NamePinned)
	if !ok {
		t.Fatalf("Find(%q) found nothing", peers.NamePinned)
	}
	for _, c := range cases.All() {
		if !c.Applies(p) {
			t.Errorf("case %s does not apply to %s; want every case to", c.Name, p.Name)
		}
	}
}

func TestEveryCaseMeasuresThreadrunner(t *testing.T) {
	testkit.Check(t)
	cfg := cases.DefaultConfig()
	cfg.Duration, cfg.SuspendN, cfg.IdleWindow, cfg.SleepTasks = time.Millisecond, 100, time.Millisecond, 10
	for _, c := range cases.All() {
		t.Run(c.Name, func(t *testing.T) {
			sys := peers.NewThreadrunner(true)
			defer sys.Close()
			s, ok, err := c.Measure(sys, cfg)
			if !ok || err != nil || s.Ops < 1 {
				t.Errorf("Measure() = %+v, %v, %v; want a sample, true, nil", s, ok, err)
			}
		})
	}
}
