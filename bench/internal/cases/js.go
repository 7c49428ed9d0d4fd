package cases

import (
	"fmt"
	"math"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// Units of the JavaScript cases.
const (
	BytesPerAwait = "bytes/await"
	RequestsPerS  = "requests/s"
)

// jsCases are the cases of the JavaScript peers (peers/js.go). Calling a
// trivial async JavaScript function from Go is the run and run-8 cases of
// those peers: their Call is that.
func jsCases() []Case {
	return []Case{
		{Name: "js-await-go", Applies: peers.Implements[peers.AwaitGoer], Title: "JS awaits a Go async function, called from Go", Unit: NsPerOp, Measure: measureAwaitGo},
		{Name: "js-timeout", Applies: peers.Implements[peers.TimeoutSetter], Title: "setTimeout(cb, 1) fired, per timer (many set at once)", Unit: NsPerOp, Measure: measureTimeouts},
		{Name: "js-iter", Applies: peers.Implements[peers.JSIterator], Title: "JS async iterator, per item, consumed from Go", Unit: NsPerOp, Measure: measureJSIter},
		{Name: "js-pending", Applies: peers.Implements[peers.PendingAwaiter], Title: "memory per pending JS promise awaited from Go (a goroutine each)", Unit: BytesPerAwait, Measure: measurePending},
		{Name: "js-pool-http", Applies: peers.Implements[peers.Loader], Title: "HTTP pages rendered in JS through a pool, 16 loopback clients", Unit: RequestsPerS, HigherBetter: true, Measure: measurePoolHTTP},
	}
}

func measureAwaitGo(sys peers.System, cfg Config) (Sample, bool, error) {
	a, ok := sys.(peers.AwaitGoer)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		for i := range n {
			v, err := a.AwaitGo(i)
			if err != nil {
				return err
			}
			if v != i+1 {
				return fmt.Errorf("cases: AwaitGo(%d) = %d; want %d", i, v, i+1)
			}
		}
		return nil
	})
	return s, true, err
}

func measureTimeouts(sys peers.System, cfg Config) (Sample, bool, error) {
	ts, ok := sys.(peers.TimeoutSetter)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, ts.Timeouts)
	return s, true, err
}

func measureJSIter(sys peers.System, cfg Config) (Sample, bool, error) {
	it, ok := sys.(peers.JSIterator)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error {
		got, sum, err := it.IterJS(Counter(n))
		if err != nil {
			return err
		}
		if want := n * (n - 1) / 2; got != n || sum != want {
			return fmt.Errorf("cases: IterJS gave %d values summing to %d; want %d summing to %d", got, sum, n, want)
		}
		return nil
	})
	return s, true, err
}

func measurePending(sys peers.System, cfg Config) (Sample, bool, error) {
	p, ok := sys.(peers.PendingAwaiter)
	if !ok {
		return Sample{}, false, nil
	}
	n := max(1, cfg.PendingN)
	b, err := SuspendedBytes(pendingAsSuspender{p}, n)
	return Sample{Value: b, Allocs: math.NaN(), Ops: n}, true, err
}

// pendingAsSuspender lets SuspendedBytes measure a PendingAwaiter.
type pendingAsSuspender struct{ p peers.PendingAwaiter }

func (s pendingAsSuspender) Suspend(n int, measure func()) error { return s.p.Pending(n, measure) }

// poolClients is how many clients load a pool's server at once.
const poolClients = 16

func measurePoolHTTP(sys peers.System, cfg Config) (Sample, bool, error) {
	l, ok := sys.(peers.Loader)
	if !ok {
		return Sample{}, false, nil
	}
	s, err := Timed(cfg.Duration, func(n int) error { return l.Load(n, min(n, poolClients)) })
	s.Value = 1e9 / s.Value
	return s, true, err
}
