package testkit

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// A LogSink is an slog.Handler that keeps every record it is given, both as a
// [Record] and as the text slog.TextHandler writes, for tests to read. It
// handles every level. Handlers derived with WithAttrs and WithGroup record
// into the same sink. Its zero value is ready to use; it is safe for
// concurrent use and must not be copied after first use.
type LogSink struct {
	mu      sync.Mutex // guards records and text
	records []Record
	text    bytes.Buffer
}

// A Record is one log record as a [LogSink] keeps it.
type Record struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string // resolved values by key; a group's keys as "group.key"
}

// Logger returns a logger that writes to s.
func (s *LogSink) Logger() *slog.Logger { return slog.New(s) }

// Enabled reports true: a sink keeps records of every level.
func (s *LogSink) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps r.
func (s *LogSink) Handle(ctx context.Context, r slog.Record) error { return s.handle(ctx, r, nil) }

// WithAttrs returns a handler that records into s with attrs added.
func (s *LogSink) WithAttrs(attrs []slog.Attr) slog.Handler {
	return (&derived{sink: s}).WithAttrs(attrs)
}

// WithGroup returns a handler that records into s with keys in group name.
func (s *LogSink) WithGroup(name string) slog.Handler {
	return (&derived{sink: s}).WithGroup(name)
}

// Records returns a copy of the records so far.
func (s *LogSink) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

// Find returns the records whose message is msg and whose attribute key
// contains sub.
func (s *LogSink) Find(msg, key, sub string) []Record {
	var found []Record
	for _, r := range s.Records() {
		if r.Message == msg && strings.Contains(r.Attrs[key], sub) {
			found = append(found, r)
		}
	}
	return found
}

// String returns every record so far as slog.TextHandler writes it, one line
// each.
func (s *LogSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text.String()
}

// A step is one WithAttrs or WithGroup of a derived handler.
type step struct {
	group string      // set for WithGroup
	attrs []slog.Attr // set for WithAttrs
}

// derived is a handler made from a sink by WithAttrs and WithGroup.
type derived struct {
	sink  *LogSink
	steps []step // immutable once made
}

func (d *derived) Enabled(context.Context, slog.Level) bool { return true }

func (d *derived) Handle(ctx context.Context, r slog.Record) error {
	return d.sink.handle(ctx, r, d.steps)
}

func (d *derived) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return d
	}
	return &derived{sink: d.sink, steps: append(slices.Clip(d.steps), step{attrs: slices.Clone(attrs)})}
}

func (d *derived) WithGroup(name string) slog.Handler {
	if name == "" {
		return d
	}
	return &derived{sink: d.sink, steps: append(slices.Clip(d.steps), step{group: name})}
}

// handle keeps r, with the attributes and groups of steps applied.
func (s *LogSink) handle(ctx context.Context, r slog.Record, steps []step) error {
	rec := Record{Level: r.Level, Message: r.Message, Attrs: map[string]string{}}
	prefix := ""
	for _, st := range steps {
		if st.group != "" {
			prefix += st.group + "."
		}
		for _, a := range st.attrs {
			addAttr(rec.Attrs, prefix, a)
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(rec.Attrs, prefix, a)
		return true
	})

	s.mu.Lock()
	defer s.mu.Unlock()
	var text slog.Handler = slog.NewTextHandler(&s.text, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, st := range steps {
		if st.group != "" {
			text = text.WithGroup(st.group)
		} else {
			text = text.WithAttrs(st.attrs)
		}
	}
	s.records = append(s.records, rec)
	return text.Handle(ctx, r)
}

// addAttr puts a's resolved value into m under prefix+key, and a group's
// members under prefix+key+"." (a group without a key inlines them).
func addAttr(m map[string]string, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup {
		m[prefix+a.Key] = v.String()
		return
	}
	if a.Key != "" {
		prefix += a.Key + "."
	}
	for _, member := range v.Group() {
		addAttr(m, prefix, member)
	}
}
