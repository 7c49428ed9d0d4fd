package report

import (
	"fmt"
	"strings"

	"github.com/threadrunner/threadrunner/bench/peers"
)

// A Target is one goal of the performance issues, judged from the medians,
// or a number kept for the record.
type Target struct {
	Goal     string
	Measured string // the numbers the verdict rests on
	Verdict  string // "MET", "NOT MET", "NOT MEASURED", or "RECORDED" for a number with no goal
}

// Met reports whether the target was measured and met.
func (t Target) Met() bool { return t.Verdict == "MET" }

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

var notMeasured = Target{Measured: "not measured in this run", Verdict: "NOT MEASURED"}

// Targets judges the performance targets from the medians: the callback,
// timer and hop targets of the loop-callbacks issue; the older targets,
// kept as the check that nothing regressed; and the cost of tracing and
// profile labels, for the record.
func (r *Results) Targets() []Target {
	pin, unpin, naive, chn := peers.NamePinned, peers.NameUnpinned, peers.NameNaive, peers.NameChan
	var ts []Target
	add := func(goal string, measured bool, met bool, format string, args ...any) {
		ts = append(ts, target(goal, measured, met, format, args...))
	}
	record := func(what string, measured bool, format string, args ...any) {
		t := notMeasured
		if measured {
			t = Target{Measured: fmt.Sprintf(format, args...), Verdict: "RECORDED"}
		}
		t.Goal = "(for the record) " + what
		ts = append(ts, t)
	}
	// ratio returns case c on system a over the same case on b.
	ratio := func(c, a, b string) (x, av, bv float64, ok bool) {
		sa, ok1 := r.Stat(c, a)
		sb, ok2 := r.Stat(c, b)
		if !ok1 || !ok2 || sb.Median == 0 {
			return 0, 0, 0, false
		}
		return sa.Median / sb.Median, sa.Median, sb.Median, true
	}

	for _, c := range []string{"timer-10ms", "timer-100ms"} {
		x, a, b, ok := ratio(c, pin, chn)
		add(c+": idle CPU of a timer-only loop <= 1.1x a goroutine sleeping at the same period", ok, x <= 1.1,
			"%.2fx (%.2f against %.2f cpu-ms/s)", x, a, b)
	}
	for _, v := range []struct{ goal, c, sys string }{
		{"pinned Run <= 1.0x a plain unlocked channel round trip", "run", pin},
		{"unpinned Run <= 1.0x a plain unlocked channel round trip", "run", unpin},
		{"8 callers, pinned, aggregate per call <= 1.0x the channel's with 8 callers", "run-8", pin},
	} {
		x, a, b, ok := ratio(v.c, v.sys, chn)
		add(v.goal, ok, x <= 1.0, "%.2fx (%.0f ns against %.0f ns)", x, a, b)
	}
	p, ok1 := r.Stat("run", pin)
	sw, ok2 := r.Stat("submit", pin)
	add("0 allocations per Run and per Submit+Wait", ok1 && ok2, p.Allocs < 0.005 && sw.Allocs < 0.005,
		"%.2f per pinned Run, %.2f per Submit+Wait", p.Allocs, sw.Allocs)
	x, a, b, ok := ratio("post", pin, peers.NameGojaLoop)
	add("Post round trip (Loop.Do) <= 1.0x goja_nodejs RunOnLoop", ok, x <= 1.0,
		"%.2fx (%.0f ns against %.0f ns)", x, a, b)
	x, a, b, ok = ratio("post-chan", pin, peers.NameGojaLoop)
	record("Post + a channel receive, against RunOnLoop + a channel", ok,
		"%.2fx (%.0f ns against %.0f ns): see the README's Limits", x, a, b)
	x, a, b, ok = ratio("afterfunc", pin, chn)
	add("AfterFunc(1 ms): no later than time.AfterFunc", ok, x <= 1.0,
		"%.2fx (%.0f ns late against %.0f ns)", x, a, b)

	// The older targets: no regression.
	x, a, b, ok = ratio("run", naive, pin)
	add("no regression: pinned Run >= 20x faster than the naive locked channel loop", ok, x >= 20,
		"%s faster (%.0f ns against %.0f ns)", formatRatio(x), b, a)
	it, ok1 := r.Stat("iter", pin)
	ch, ok2 := r.Stat("iter", chn)
	add("no regression: Iter >= 20 million items/s and >= half a buffered channel's rate", ok1 && ok2, it.Median >= 20e6 && it.Median/ch.Median >= 0.5,
		"%s items/s, %.2fx the buffered channel's %s items/s", formatValue(it.Median, "items/s"), it.Median/ch.Median, formatValue(ch.Median, "items/s"))
	x, a, b, ok = ratio("spawn", pin, chn)
	add("no regression: spawn + await a child on the loop no slower than a goroutine + channel", ok, x <= 1.0,
		"%.2fx (%.0f ns against %.0f ns)", x, a, b)
	id, ok1 := r.Stat("idle", pin)
	add("no regression: idle loop < 1 ms of CPU per second (whole process, right after work)", ok1, id.Median < 1,
		"%.2f cpu-ms/s pinned", id.Median)

	// Tracing and labels: what they cost.
	x, a, b, ok = ratio("step-traced", pin, pin)
	if st, ok1 := r.Stat("step", pin); ok && ok1 {
		x, b = a/st.Median, st.Median
	}
	record("a step with runtime/trace on, against tracing off", ok,
		"%.2fx (%.0f ns against %.0f ns)", x, a, b)
	x, a, b, ok = ratio("run-traced", pin, pin)
	if st, ok1 := r.Stat("run", pin); ok && ok1 {
		x, b = a/st.Median, st.Median
	}
	record("a Run with runtime/trace on, against tracing off", ok,
		"%.2fx (%.0f ns against %.0f ns)", x, a, b)
	x, a, b, ok = ratio("step", peers.NameLabels, pin)
	record("a step with ProfileLabels, against without", ok,
		"%.2fx (%.0f ns against %.0f ns)", x, a, b)
	return append(ts, r.jsTargets()...)
}

// target is one judged goal; measured false gives NOT MEASURED.
func target(goal string, measured, met bool, format string, args ...any) Target {
	t := notMeasured
	if measured {
		t = Target{Measured: fmt.Sprintf(format, args...), Verdict: verdict(met)}
	}
	t.Goal = goal
	return t
}

// TargetsMarkdown returns the targets as a markdown table.
func (r *Results) TargetsMarkdown() string {
	var b strings.Builder
	b.WriteString("### Targets of the performance issue, judged on the medians\n\n")
	b.WriteString("| target | measured | verdict |\n|---|---|---|\n")
	for _, t := range r.Targets() {
		fmt.Fprintf(&b, "| %s | %s | **%s** |\n", t.Goal, t.Measured, t.Verdict)
	}
	return b.String()
}
