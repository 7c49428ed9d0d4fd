package stress_test

import (
	"testing"
	"time"

	"github.com/threadrunner/threadrunner/internal/stress"
)

func TestHistogramPercentiles(t *testing.T) {
	var h stress.Histogram
	for i := 1; i <= 1000; i++ {
		h.Add(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"p50", h.Percentile(0.5), 500 * time.Microsecond},
		{"p99", h.Percentile(0.99), 990 * time.Microsecond},
		{"p0", h.Percentile(0), time.Microsecond},
	}
	for _, tt := range tests {
		// A bucket spans 1/16 of its value: the percentile is its lower bound.
		if tt.got > tt.want+time.Microsecond || tt.got < tt.want-tt.want/16-time.Microsecond {
			t.Errorf("%s = %v; want within 1/16 below %v", tt.name, tt.got, tt.want)
		}
	}
	if h.Max() != time.Millisecond || h.N() != 1000 {
		t.Errorf("Max(), N() = %v, %d; want 1ms, 1000", h.Max(), h.N())
	}
	var merged stress.Histogram
	merged.Merge(&h)
	merged.Merge(&h)
	if merged.N() != 2000 || merged.Max() != h.Max() || merged.Percentile(0.5) != h.Percentile(0.5) {
		t.Errorf("two merges of h: N %d, max %v, p50 %v; want 2000, %v, %v", merged.N(), merged.Max(), merged.Percentile(0.5), h.Max(), h.Percentile(0.5))
	}
	var empty stress.Histogram
	if got := empty.Percentile(0.5); got != 0 {
		t.Errorf("p50 of nothing = %v; want 0", got)
	}
}
