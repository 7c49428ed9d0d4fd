package goid

import (
	"bytes"
	"iter"
)

// A Goroutine is one goroutine as a stack dump shows it.
type Goroutine struct {
	ID    uint64 // 0 if the block's header could not be read
	State string // what the header says in brackets: "running", "chan receive, 2 minutes", ...
	Stack string // the whole block, its header line first, without the blank line that ends it
}

// headerPrefix starts every goroutine's block in a dump.
const headerPrefix = "goroutine "

// Parse splits dump, as [Stacks] or runtime.Stack(buf, true) writes it, into
// its goroutines, in the order the dump lists them.
func Parse(dump []byte) []Goroutine {
	var gs []Goroutine
	for block := range blocks(dump) {
		id, state := header(block)
		gs = append(gs, Goroutine{ID: id, State: state, Stack: string(block)})
	}
	return gs
}

// All returns every goroutine, parsed from one dump taken now. It stops the
// world while it takes the dump.
func All() []Goroutine { return Parse(Stacks()) }

// Stack returns the block of goroutine id from a dump taken now, and whether
// that goroutine exists. It stops the world while it takes the dump.
func Stack(id uint64) (string, bool) {
	for block := range blocks(Stacks()) {
		if got, _ := header(block); got == id {
			return string(block), true
		}
	}
	return "", false
}

// blocks yields the non-empty blocks of a dump, each without the blank line
// that separates it from the next.
func blocks(dump []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for block := range bytes.SplitSeq(dump, []byte("\n\n")) {
			block = bytes.Trim(block, "\n")
			if len(block) > 0 && !yield(block) {
				return
			}
		}
	}
}

// header reads a block's first line: "goroutine 18 [chan receive]:", possibly
// with more fields before the brackets ("goroutine 18 gp=0x... m=nil [...]:",
// as GOTRACEBACK=system prints it).
func header(block []byte) (id uint64, state string) {
	line, _, _ := bytes.Cut(block, []byte("\n"))
	rest, ok := bytes.CutPrefix(line, []byte(headerPrefix))
	if !ok {
		return 0, ""
	}
	id = parseID(rest)
	if i, j := bytes.IndexByte(rest, '['), bytes.LastIndexByte(rest, ']'); 0 <= i && i < j {
		state = string(rest[i+1 : j])
	}
	return id, state
}

// parseID reads the decimal number that b starts with; 0 if there is none.
func parseID(b []byte) uint64 {
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
