package threadrunner_test

import (
	"testing"

	"github.com/threadrunner/threadrunner/internal/leaktest"
)

// relMaxFuzzOps bounds the operations decoded from one fuzz input, so that
// each input runs in milliseconds.
const relMaxFuzzOps = 48

// relDecodeProgram turns fuzz bytes into a model program: the first byte's
// low bit picks an unpinned runner, then every three bytes are one
// operation (kind, a, b). A trailing partial operation is dropped.
func relDecodeProgram(data []byte) relProgram {
	var p relProgram
	if len(data) == 0 {
		return p
	}
	p.unpinned = data[0]&1 != 0
	data = data[1:]
	for len(data) >= 3 && len(p.ops) < relMaxFuzzOps {
		p.ops = append(p.ops, relOp{kind: relOpKind(data[0] % uint8(relOpKinds)), a: data[1], b: data[2]})
		data = data[3:]
	}
	return p
}

// relEncodeProgram is the inverse of relDecodeProgram, for the seed corpus.
func relEncodeProgram(p relProgram) []byte {
	var data []byte
	if p.unpinned {
		data = append(data, 1)
	} else {
		data = append(data, 0)
	}
	for _, op := range p.ops {
		data = append(data, byte(op.kind), op.a, op.b)
	}
	return data
}

func FuzzRunnerOps(f *testing.F) {
	seeds := []relProgram{
		{},
		{ops: []relOp{{relOpRun, 0, 1}, {relOpRun, 1, 2}, {relOpRun, 2, 3}}},
		{ops: []relOp{{relOpKeep, 0, 0}, {relOpOpen, 0, 0}, {relOpKeep, 2, 0}, {relOpOpen, 2, 0}, {relOpClose, 0, 0}, {relOpRelease, 0, 0}, {relOpRelease, 1, 1}}},
		{ops: []relOp{{relOpOpen, 0, 0}, {relOpRelease, 0, 1}, {relOpRelease, 0, 0}, {relOpOpen, 1, 0}, {relOpWith, 2, 1}, {relOpWith, 0, 2}, {relOpWith, 2, 2}}},
		{unpinned: true, ops: []relOp{{relOpIter, 19, 5}, {relOpIter, 0x80 | 7, 0}, {relOpIter, 10, 10}, {relOpCancel, 0, 0}, {relOpCancel, 1, 0}, {relOpSubmitCancel, 0, 0}}},
		{ops: []relOp{{relOpClose, 0, 0}, {relOpRun, 0, 0}, {relOpIter, 3, 0}, {relOpWith, 0, 0}, {relOpKeep, 0, 0}, {relOpCancel, 0, 0}, {relOpSubmitCancel, 0, 0}}},
	}
	for _, p := range seeds {
		f.Add(relEncodeProgram(p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		leaktest.Check(t)
		if err := relRunProgram(relDecodeProgram(data)); err != nil {
			t.Fatal(err)
		}
	})
}
