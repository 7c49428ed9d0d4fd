package report

import "github.com/threadrunner/threadrunner/bench/peers"

// jsTargets judges the targets of the JavaScript issue: package js against
// goja_nodejs (goja-promise) and goja called directly (goja-direct), and the
// pool's scaling, from the medians.
func (r *Results) jsTargets() []Target {
	var ts []Target
	// faster adds "tr-js takes at most limit times the peer's time in case c".
	faster := func(goal, c, peer string, limit float64) {
		ours, ok1 := r.Stat(c, peers.NameJS)
		theirs, ok2 := r.Stat(c, peer)
		x := ours.Median / theirs.Median
		ts = append(ts, target(goal, ok1 && ok2, x <= limit,
			"%.2fx %s's time (%.0f ns against %.0f ns)", x, peer, ours.Median, theirs.Median))
	}
	faster("call a trivial async JS function from Go, 1 caller: <= 0.5x goja_nodejs's time", "run", peers.NameGojaPromise, 0.5)
	faster("the same, 8 callers, aggregate per call: <= 0.5x goja_nodejs's time", "run-8", peers.NameGojaPromise, 0.5)
	faster("JS awaiting a Go async function: <= 0.7x goja_nodejs's time", "js-await-go", peers.NameGojaPromise, 0.7)
	faster("setTimeout(cb, 1) fired: <= 0.7x goja_nodejs's time", "js-timeout", peers.NameGojaPromise, 0.7)
	faster("JS async iterator item through Iter: <= 1.3x goja called directly", "js-iter", peers.NameGojaDirect, 1.3)

	ours, ok1 := r.Stat("js-pending", peers.NameJS)
	theirs, ok2 := r.Stat("js-pending", peers.NameGojaPromise)
	ts = append(ts, target("memory per pending promise awaited from Go: <= goja_nodejs's", ok1 && ok2, ours.Median <= theirs.Median,
		"%s bytes against %s bytes per await", formatValue(ours.Median, ""), formatValue(theirs.Median, "")))

	one, ok1 := r.Stat("js-pool-http", peers.NameJSPool1)
	two, ok2 := r.Stat("js-pool-http", peers.NameJSPool2)
	x := two.Median / one.Median
	ts = append(ts, target("the pool: HTTP handler throughput with 2 loops >= 1.7x with 1 loop", ok1 && ok2, x >= 1.7,
		"%.2fx (%s against %s requests/s)", x, formatValue(two.Median, ""), formatValue(one.Median, "")))
	return ts
}
