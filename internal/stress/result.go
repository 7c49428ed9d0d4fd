package stress

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Result is what a run saw.
type Result struct {
	Workers      int
	Elapsed      time.Duration    // from the first call to the last worker's return
	CloseTook    time.Duration    // from the first Close call to the last one's return
	CloseErrs    []error          // what each Close call returned
	Outcomes     [NumKinds]uint64 // calls by how they ended
	ByOp         []OpOutcomes     // the same, for each operation of the mix
	Disallowed   []string         // the first MaxDisallowed disallowed outcomes, each naming its call
	Latency      Histogram        // of every threadrunner.Run call
	KeptProblems []string         // how Close failed the resources kept before the load
	Problems     []string         // what else the end of the run revealed
	Resources    int              // resources the calls entered or tried to
	ByClose      int              // of which Close exited
	Stuck        string           // if not "": Close or the workers did not return; what was in flight, and every stack
}

// OpOutcomes counts the outcomes of one operation.
type OpOutcomes struct {
	Name     string
	Outcomes [NumKinds]uint64
}

// Count returns how many calls ended with outcome k.
func (res *Result) Count(k Kind) uint64 { return res.Outcomes[k] }

// Calls returns the number of calls that ended.
func (res *Result) Calls() uint64 {
	var n uint64
	for _, c := range res.Outcomes {
		n += c
	}
	return n
}

// CloseErr returns the errors of the Close calls, joined.
func (res *Result) CloseErr() error { return errors.Join(res.CloseErrs...) }

// OK reports whether the run saw nothing wrong: it made calls, none ended in
// a disallowed way, Close returned nil, and the end of the run revealed no
// problem.
func (res *Result) OK() bool {
	return res.Stuck == "" && res.Calls() > 0 && res.Outcomes[Disallowed] == 0 &&
		res.CloseErr() == nil && len(res.KeptProblems) == 0 && len(res.Problems) == 0
}

// Summary describes the outcomes, in all and by operation, and the
// resources, for a test's log.
func (res *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d calls:", res.Calls())
	for k := range NumKinds {
		fmt.Fprintf(&b, " %s %d", k, res.Outcomes[k])
		if k < NumKinds-1 {
			b.WriteString(",")
		}
	}
	b.WriteString("; by call:")
	for _, op := range res.ByOp {
		fmt.Fprintf(&b, "\n  %-22s", op.Name)
		for k, n := range op.Outcomes {
			if n > 0 {
				fmt.Fprintf(&b, "  %s: %d", Kind(k), n)
			}
		}
	}
	fmt.Fprintf(&b, "\n%d resources, %d exited by Close; Close took %v", res.Resources, res.ByClose, res.CloseTook)
	return b.String()
}
