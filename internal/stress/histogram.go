package stress

import (
	"math/bits"
	"time"
)

// A Histogram counts durations in log-linear buckets: 16 per power of two,
// so a percentile is off by at most 1/16 of its value. Its memory is fixed,
// which keeps it out of the soak's memory verdict. Its zero value is empty
// and ready to use; it is not safe for concurrent use.
type Histogram struct {
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

// Add counts d.
func (h *Histogram) Add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's counts to h's.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// N returns how many durations h counted.
func (h *Histogram) N() uint64 { return h.n }

// Max returns the longest duration h counted, or 0.
func (h *Histogram) Max() time.Duration { return h.max }

// Percentile returns the duration below which a fraction p of the samples
// fall (the lower bound of its bucket), or 0 if there are none.
func (h *Histogram) Percentile(p float64) time.Duration {
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
