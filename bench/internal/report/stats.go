package report

import (
	"math"
	"slices"

	"github.com/threadrunner/threadrunner/bench/internal/cases"
)

// A key names one (case, system) cell of the results.
type key struct{ c, s string }

// Results are the samples of every round, by case and system.
type Results struct {
	Machine Machine
	Config  Config
	Cases   []cases.Case
	Systems []string // in report order
	samples map[key][]cases.Sample
	errs    []error
}

// NewResults returns empty results for the given cases and systems, taken on
// this machine.
func NewResults(cfg Config, cs []cases.Case, systems []string) *Results {
	return &Results{Machine: ThisMachine(), Config: cfg, Cases: cs, Systems: systems, samples: map[key][]cases.Sample{}}
}

// Add records one round's sample of case c on system s.
func (r *Results) Add(c, s string, x cases.Sample) {
	r.samples[key{c, s}] = append(r.samples[key{c, s}], x)
}

// A Stat summarizes one cell across rounds.
type Stat struct {
	Median float64 // median value across rounds
	Best   float64 // the best round: lowest, or highest for higher-is-better units
	Allocs float64 // median allocations per op; NaN if not measured
	Rounds int
}

// Stat returns the summary of case c on system s, or false if it was not
// measured.
func (r *Results) Stat(c, s string) (Stat, bool) {
	ss := r.samples[key{c, s}]
	if len(ss) == 0 {
		return Stat{}, false
	}
	var vals, allocs []float64
	for _, x := range ss {
		vals = append(vals, x.Value)
		if !math.IsNaN(x.Allocs) {
			allocs = append(allocs, x.Allocs)
		}
	}
	st := Stat{Median: median(vals), Allocs: math.NaN(), Rounds: len(ss)}
	if len(allocs) > 0 {
		st.Allocs = median(allocs)
	}
	st.Best = slices.Min(vals)
	if cs, ok := r.caseNamed(c); ok && cs.HigherBetter {
		st.Best = slices.Max(vals)
	}
	return st, true
}

func (r *Results) caseNamed(name string) (cases.Case, bool) {
	for _, c := range r.Cases {
		if c.Name == name {
			return c, true
		}
	}
	return cases.Case{}, false
}

// Speedup returns how many times better the median of (c, s) is than the
// median of (refCase, refSys): above 1 is better, whatever the unit.
func (r *Results) Speedup(c, s, refCase, refSys string) (float64, bool) {
	cs, ok := r.caseNamed(c)
	if !ok || refCase == "" {
		return 0, false
	}
	a, ok1 := r.Stat(c, s)
	b, ok2 := r.Stat(refCase, refSys)
	if !ok1 || !ok2 || a.Median <= 0 || b.Median <= 0 {
		return 0, false
	}
	if cs.HigherBetter {
		return a.Median / b.Median, true
	}
	return b.Median / a.Median, true
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
