package soak

import (
	"math/bits"
	"time"
)

// A histogram counts durations in log-linear buckets: 16 per power of two,
// so a percentile is off by at most 1/16 of its value. Its memory is fixed,
// which keeps it out of the soak's memory verdict.
type histogram struct {
	counts [64 * 16]uint64
	n      uint64
	max    time.Duration
}

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 16 {
		return int(v)
	}
	e := bits.Len64(v) // v has e bits, e >= 5
	return (e-4)*16 + int((v>>(e-5))&15)
}

// lowest returns the smallest duration that falls in bucket i.
func lowest(i int) time.Duration {
	if i < 16 {
		return time.Duration(i)
	}
	e := i/16 + 4
	return time.Duration((16 | uint64(i%16)) << (e - 5))
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// percentile returns the duration below which a fraction p of the samples
// fall (the lower bound of its bucket), or 0 if there are none.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(p * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return lowest(i)
		}
	}
	return h.max
}
