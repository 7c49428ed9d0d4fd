package threadrunner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/threadrunner/threadrunner"
	"github.com/threadrunner/threadrunner/aio"
	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// Model-based tests: random programs of runner operations, run one after
// another against a real runner and checked, after every operation, against
// a model of what must have happened: each operation's outcome, and the
// exact sequence of Enter and Exit calls the resources saw.

// relOpKind is an operation of a model program.
type relOpKind uint8

const (
	relOpOpen         relOpKind = iota // Open a new resource; a&1: Enter fails, a&2: Exit fails
	relOpRelease                       // release handle a%n (released or not) with nil or, if b&1, an error
	relOpKeep                          // Keep a new resource; flags as for Open
	relOpRun                           // Run a task that returns a value, an error or panics (a%3)
	relOpIter                          // range over a generator of a%20 values, breaking after b%24 (0: never)
	relOpCancel                        // Run a task that waits until its ctx is cancelled (a&1: by a deadline)
	relOpSubmitCancel                  // Submit a task that waits forever, Cancel it, Wait
	relOpWith                          // With a new resource (flags as for Open); body ok, fails or panics (b%3)
	relOpClose                         // Close
	relOpKinds
)

// relOp is one operation of a model program, with two parameters.
type relOp struct {
	kind relOpKind
	a, b uint8
}

func (o relOp) String() string {
	names := [...]string{"Open", "Release", "Keep", "Run", "Iter", "Cancel", "SubmitCancel", "With", "Close"}
	return fmt.Sprintf("%s(%d,%d)", names[o.kind], o.a, o.b)
}

// relProgram is a model program: whether the runner is pinned, and its ops.
type relProgram struct {
	unpinned bool
	ops      []relOp
}

func (p relProgram) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unpinned=%v:", p.unpinned)
	for _, op := range p.ops {
		b.WriteString(" " + op.String())
	}
	return b.String()
}

// relRandomProgram returns a program of up to maxOps operations drawn with
// intN; Close is rare, so that most programs do a lot before it.
func relRandomProgram(intN func(int) int, maxOps int) relProgram {
	p := relProgram{unpinned: intN(4) == 0}
	for range 1 + intN(maxOps) {
		kind := relOpKind(intN(int(relOpKinds) - 1))
		if intN(15) == 0 {
			kind = relOpClose
		}
		p.ops = append(p.ops, relOp{kind: kind, a: uint8(intN(256)), b: uint8(intN(256))})
	}
	return p
}

// Generate makes relProgram a quick.Generator.
func (relProgram) Generate(r *mathrand.Rand, size int) reflect.Value {
	return reflect.ValueOf(relRandomProgram(r.Intn, max(1, min(size, 40))))
}

// relModelRes is a resource as the model knows it.
type relModelRes struct {
	res  *relResource
	kept bool
}

// relHandle is a resource opened by Open, and its release.
type relHandle struct {
	m        *relModelRes
	release  func(error) error
	released bool // release has been called
	exited   bool // the model says it has been exited
}

// relMachine runs a program against a real runner and its model.
type relMachine struct {
	r      *threadrunner.Runner
	ledger *relLedger // loop-owned; read after each op, which synchronizes with the loop
	log    *relRecorder

	// The model.
	closed    bool
	closeErrs []error        // the Exit errors Close must return
	entered   []*relModelRes // entered and not yet exited, in order of entry
	handles   []*relHandle
	events    []relEvent // what the ledger must hold
	resources []*relResource
	wantLogs  int // records the loop must have logged
	nextID    int
}

// relRunProgram runs p and returns the first difference between the runner
// and the model, or nil. It always closes the runner.
func relRunProgram(p relProgram) (err error) {
	opts := []aio.Option{}
	if p.unpinned {
		opts = append(opts, aio.Unpinned())
	}
	rec := &relRecorder{}
	m := &relMachine{
		r:      threadrunner.New(append(opts, aio.Logger(slog.New(rec)))...),
		ledger: &relLedger{},
		log:    rec,
	}
	defer func() {
		if !m.closed {
			m.r.Close()
		}
	}()
	ops := slices.Clone(p.ops)
	if len(ops) == 0 || ops[len(ops)-1].kind != relOpClose {
		ops = append(ops, relOp{kind: relOpClose})
	}
	for i, op := range ops {
		if err := m.step(op); err != nil {
			return fmt.Errorf("op %d, %v: %w\nprogram: %v", i, op, err, p)
		}
		if err := m.compare(); err != nil {
			return fmt.Errorf("after op %d, %v: %w\nprogram: %v", i, op, err, p)
		}
	}
	for _, res := range m.resources {
		if err := res.check(); err != nil {
			return err
		}
	}
	if l := m.r.Loop(); l != nil { // nil if the program never started it
		select {
		case <-l.Done():
		default:
			return errors.New("the loop still runs after Close")
		}
	}
	return nil
}

// compare checks the ledger and the log against the model.
func (m *relMachine) compare() error {
	if !slices.Equal(m.ledger.events, m.events) {
		return fmt.Errorf("resources saw %v; want %v", m.ledger.events, m.events)
	}
	if got := len(m.log.list()); got != m.wantLogs {
		return fmt.Errorf("the loop logged %d records (%v); want %d", got, m.log.list(), m.wantLogs)
	}
	return nil
}

// newResource makes the resource of an Open, Keep or With.
func (m *relMachine) newResource(flags uint8, kept bool) *relModelRes {
	m.nextID++
	res := &relResource{id: m.nextID, ledger: m.ledger}
	if flags&1 != 0 {
		res.enterErr = fmt.Errorf("enter %d failed", res.id)
	}
	if flags&2 != 0 {
		res.exitErr = fmt.Errorf("exit %d failed", res.id)
	}
	m.resources = append(m.resources, res)
	return &relModelRes{res: res, kept: kept}
}

// enter predicts an Enter: it fails or registers the resource.
func (m *relMachine) enter(mr *relModelRes) bool {
	if mr.res.enterErr != nil {
		m.events = append(m.events, relEvent{kind: "enter-fail", id: mr.res.id})
		return false
	}
	m.events = append(m.events, relEvent{kind: "enter", id: mr.res.id})
	m.entered = append(m.entered, mr)
	return true
}

// exit predicts an Exit told how, and returns the error Exit returns.
func (m *relMachine) exit(mr *relModelRes, how error) error {
	m.events = append(m.events, relEvent{kind: "exit", id: mr.res.id, how: relHow(how)})
	m.entered = slices.DeleteFunc(m.entered, func(e *relModelRes) bool { return e == mr })
	return mr.res.exitErr
}

// wantErr returns an error unless got is want (errors.Is; nil means nil).
func relWantErr(what string, got, want error) error {
	if want == nil && got != nil || want != nil && !errors.Is(got, want) {
		return fmt.Errorf("%s = %v; want %v", what, got, want)
	}
	return nil
}

// wantOnly returns an error unless got holds want and nothing else.
func relWantOnly(what string, got error, want ...error) error {
	if len(want) == 0 {
		return relWantErr(what, got, nil)
	}
	for _, w := range want {
		if !errors.Is(got, w) {
			return fmt.Errorf("%s = %v; want it to hold %v", what, got, w)
		}
	}
	if stray := relStrayLeaf(got, want...); stray != nil {
		return fmt.Errorf("%s = %v, which holds %v; want only %v", what, got, stray, want)
	}
	return nil
}

func (m *relMachine) step(op relOp) error {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	switch op.kind {
	case relOpOpen, relOpKeep:
		kept := op.kind == relOpKeep
		mr := m.newResource(op.a, kept)
		var (
			v       int
			release func(error) error
			err     error
		)
		if kept {
			v, err = threadrunner.Keep(ctx, m.r, mr.res)
		} else {
			v, release, err = threadrunner.Open(ctx, m.r, mr.res)
		}
		switch {
		case m.closed:
			return relWantErr("after Close", err, aio.ErrClosed)
		case !m.enter(mr):
			if release != nil {
				return errors.New("returned a release after Enter failed")
			}
			return relWantOnly("Enter failing", err, mr.res.enterErr)
		case err != nil || v != mr.res.id:
			return fmt.Errorf("= %d, %v; want %d, nil", v, err, mr.res.id)
		}
		if !kept {
			m.handles = append(m.handles, &relHandle{m: mr, release: release})
		}

	case relOpRelease:
		if len(m.handles) == 0 {
			return nil
		}
		h := m.handles[int(op.a)%len(m.handles)]
		var how error
		if op.b&1 != 0 {
			how = fmt.Errorf("use of %d failed", h.m.res.id)
		}
		err := h.release(how)
		first := !h.released
		h.released = true
		switch {
		case !first:
			return relWantErr("second release", err, nil)
		case h.exited: // by Close
			return relWantOnly("release after Close", err, aio.ErrClosed)
		}
		h.exited = true
		var want []error
		if exitErr := m.exit(h.m, how); exitErr != nil {
			want = append(want, exitErr)
		}
		return relWantOnly("release", err, want...)

	case relOpRun:
		mode := op.a % 3
		own := fmt.Errorf("task %d failed", op.b)
		ownPanic := &relPanicValue{int64(op.b)}
		ran := false
		var (
			v   int
			err error
		)
		p := relCatch(func() {
			v, err = threadrunner.Run(ctx, m.r, func(t *aio.Task) (int, error) {
				ran = true
				if op.b&1 != 0 {
					_ = aio.Sleep(t, 0)
				}
				switch mode {
				case 1:
					return 0, own
				case 2:
					panic(ownPanic)
				}
				return int(op.b), nil
			})
		})
		switch {
		case m.closed:
			if p != nil || ran {
				return fmt.Errorf("ran (panic %v) after Close", p)
			}
			return relWantErr("after Close", err, aio.ErrClosed)
		case mode == 2:
			if pe, ok := p.(*aio.PanicError); !ok || pe.Value != any(ownPanic) {
				return fmt.Errorf("= %v, %v, panic %v; want its panic as a *aio.PanicError", v, err, p)
			}
		case p != nil:
			return fmt.Errorf("panicked with %v", p)
		case mode == 1:
			return relWantOnly("Run", err, own)
		case v != int(op.b) || err != nil:
			return fmt.Errorf("= %v, %v; want %v, nil", v, err, op.b)
		}

	case relOpIter:
		return m.iterate(ctx, op)

	case relOpCancel:
		started := make(chan struct{})
		returned := make(chan struct{})
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		want := context.Canceled
		if op.a&1 != 0 {
			want = context.DeadlineExceeded
			runCtx, stop = context.WithTimeout(runCtx, time.Millisecond)
			defer stop()
		} else {
			go func() {
				select {
				case <-started:
					stop()
				case <-returned:
				}
			}()
		}
		ran := false
		_, err := threadrunner.Run(runCtx, m.r, func(t *aio.Task) (int, error) {
			ran = true
			close(started)
			return 0, aio.Sleep(t, time.Hour)
		})
		close(returned)
		if m.closed {
			if ran {
				return errors.New("ran after Close")
			}
			return relWantErr("after Close", err, aio.ErrClosed)
		}
		if err := relWantOnly("Run", err, want); err != nil {
			return err
		}
		if want == context.Canceled && !ran {
			return errors.New("Run returned context.Canceled but its task never ran, yet the test cancels only after it started")
		}

	case relOpSubmitCancel:
		f := threadrunner.Submit(ctx, m.r, func(t *aio.Task) (int, error) {
			return 1, aio.Sleep(t, time.Hour)
		})
		f.Cancel()
		_, err := f.Wait(ctx)
		if m.closed {
			return relWantErr("after Close", err, aio.ErrClosed)
		}
		return relWantOnly("Wait after Cancel", err, context.Canceled)

	case relOpWith:
		return m.with(ctx, op)

	case relOpClose:
		err := m.r.Close()
		if !m.closed {
			m.closed = true
			for len(m.entered) > 0 {
				mr := m.entered[len(m.entered)-1]
				how := aio.ErrClosed
				if mr.kept {
					how = nil
				}
				if exitErr := m.exit(mr, how); exitErr != nil {
					m.closeErrs = append(m.closeErrs, exitErr)
				}
				for _, h := range m.handles {
					if h.m == mr {
						h.exited = true
					}
				}
			}
		}
		return relWantOnly("Close", err, m.closeErrs...)
	}
	return nil
}

// iterate runs a relOpIter.
func (m *relMachine) iterate(ctx context.Context, op relOp) error {
	n, k := int(op.a%20), int(op.b%24)
	var genErr error
	if op.a&0x80 != 0 {
		genErr = fmt.Errorf("generator %d failed", op.a)
	}
	started, cleaned := 0, 0 // loop-owned
	seq := func(t *aio.Task, yield func(int) bool) error {
		started++
		defer func() { cleaned++ }()
		for i := range n {
			if i%3 == 2 {
				if err := aio.Sleep(t, 0); err != nil {
					return err
				}
			}
			if !yield(i) {
				return nil
			}
		}
		return genErr
	}
	var (
		got  []int
		errs []error
	)
	opts := []threadrunner.IterOption{threadrunner.BatchSize(1 + int(op.b>>5)%4), threadrunner.Buffer(1)}
	for v, err := range threadrunner.Iter(ctx, m.r, seq, opts...) {
		if err != nil {
			if v != 0 {
				return fmt.Errorf("yielded (%d, %v); want a zero value with the error", v, err)
			}
			errs = append(errs, err)
			continue
		}
		got = append(got, v)
		if len(got) == k {
			break
		}
	}
	if m.closed {
		if len(got) != 0 || len(errs) != 1 || started != 0 {
			return fmt.Errorf("after Close yielded %v, %v (generator started %d times); want one ErrClosed", got, errs, started)
		}
		return relWantErr("after Close", errs[0], aio.ErrClosed)
	}
	want := make([]int, 0, n)
	for i := range n {
		want = append(want, i)
	}
	broke := k > 0 && k <= n
	if broke {
		want = want[:k]
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("yielded %v; want %v", got, want)
	}
	switch {
	case !broke && genErr != nil:
		if len(errs) != 1 || errs[0] != genErr {
			return fmt.Errorf("ended with %v; want the generator's error %v", errs, genErr)
		}
	case len(errs) != 0:
		return fmt.Errorf("yielded errors %v; want none", errs)
	}
	// The range loop ends after the generator's task: its cleanup ran.
	if started != 1 || cleaned != 1 {
		return fmt.Errorf("generator started %d times and cleaned up %d times; want 1 and 1", started, cleaned)
	}
	return nil
}

// with runs a relOpWith.
func (m *relMachine) with(ctx context.Context, op relOp) error {
	mr := m.newResource(op.a, false)
	mode := op.b % 3
	bodyErr := fmt.Errorf("body of %d failed", mr.res.id)
	bodyPanic := &relPanicValue{int64(mr.res.id)}
	ran := false
	var err error
	p := relCatch(func() {
		err = threadrunner.With(ctx, m.r, mr.res, func(v int) error {
			ran = true
			if v != mr.res.id {
				return fmt.Errorf("body got %d; want %d", v, mr.res.id)
			}
			switch mode {
			case 1:
				return bodyErr
			case 2:
				panic(bodyPanic)
			}
			return nil
		})
	})
	if m.closed {
		if ran || p != nil {
			return fmt.Errorf("ran its body (panic %v) after Close", p)
		}
		return relWantErr("after Close", err, aio.ErrClosed)
	}
	if !m.enter(mr) {
		if ran || p != nil {
			return fmt.Errorf("ran its body (panic %v) after Enter failed", p)
		}
		return relWantOnly("With, Enter failing", err, mr.res.enterErr)
	}
	if !ran {
		return fmt.Errorf("= %v, panic %v, and did not run its body", err, p)
	}
	var how error
	var want []error
	switch mode {
	case 1:
		how = bodyErr
		want = append(want, bodyErr)
	case 2:
		how = &aio.PanicError{Value: bodyPanic}
	}
	if exitErr := m.exit(mr, how); exitErr != nil {
		want = append(want, exitErr)
		if mode == 2 {
			m.wantLogs++ // nobody can receive Exit's error: the panic goes on
		}
	}
	if mode == 2 {
		if p != any(bodyPanic) {
			return fmt.Errorf("= %v, panic %v; want the body's panic to go on", err, p)
		}
		return nil
	}
	if p != nil {
		return fmt.Errorf("panicked with %v", p)
	}
	return relWantOnly("With", err, want...)
}

// relModelSeeds is how many random programs TestModel runs.
const relModelSeeds = 120

func TestModel(t *testing.T) {
	for seed := range uint64(relModelSeeds) {
		p := relRandomProgram(rand.New(rand.NewPCG(seed, 0x7e57)).IntN, 30)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			leaktest.Check(t)
			if err := relRunProgram(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestModelQuick(t *testing.T) {
	leaktest.Check(t)
	var failure error
	check := func(p relProgram) bool {
		failure = relRunProgram(p)
		return failure == nil
	}
	cfg := &quick.Config{MaxCount: 40, Rand: mathrand.New(mathrand.NewSource(1))}
	if err := quick.Check(check, cfg); err != nil {
		t.Fatalf("%v\n%v", err, failure)
	}
}

// TestModelCatchesDifferences checks that the model can fail: a runner
// that exits kept resources in the order of entry, or runs work after Close,
// would be caught, so the model's passes mean something.
func TestModelCatchesDifferences(t *testing.T) {
	leaktest.Check(t)
	p := relProgram{ops: []relOp{{kind: relOpKeep}, {kind: relOpKeep}, {kind: relOpOpen}, {kind: relOpClose}}}
	if err := relRunProgram(p); err != nil {
		t.Fatalf("relRunProgram(%v) = %v; want nil", p, err)
	}
	// The same program, with a model that is wrong on purpose: it expects
	// the exits in the order of entry.
	rec := &relRecorder{}
	m := &relMachine{r: threadrunner.New(aio.Logger(slog.New(rec))), ledger: &relLedger{}, log: rec}
	for _, op := range p.ops[:3] {
		if err := m.step(op); err != nil {
			t.Fatalf("step(%v) = %v; want nil", op, err)
		}
	}
	slices.Reverse(m.entered)
	if err := m.step(relOp{kind: relOpClose}); err != nil {
		t.Fatalf("Close step = %v; want nil", err)
	}
	if err := m.compare(); err == nil {
		t.Error("a model expecting Close to exit in order of entry agreed with the runner; want a difference")
	}
}
