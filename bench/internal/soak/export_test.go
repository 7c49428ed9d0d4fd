package soak

import "time"

// Classify exposes classify to the tests.
var Classify = classify

// Allowed builds the allowed set of classify.
func Allowed(own, panic, ctx bool) allowed { return allowed{own: own, panic: panic, ctx: ctx} }

// PanicValue is the value the soak's tasks panic with.
func PanicValue(id uint64) panicValue { return panicValue{id} }

// Percentiles adds ds to a histogram and returns its percentiles ps, and its
// maximum.
func Percentiles(ds []time.Duration, ps ...float64) ([]time.Duration, time.Duration) {
	var h histogram
	for _, d := range ds {
		h.add(d)
	}
	var out []time.Duration
	for _, p := range ps {
		out = append(out, h.percentile(p))
	}
	return out, h.max
}

// ErrOwn is the error the soak's tasks return on purpose.
var ErrOwn = errOwn
