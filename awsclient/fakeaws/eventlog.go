package fakeaws

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
)

// The CloudTrail event history of a server with a state file lives in an
// event log beside it (the state file's name with ".json" replaced by
// ".events.jsonl"), so that a call costs the same whatever the history
// holds: every KMS call adds an event, and rewriting the whole history at
// each call made the demo slower the longer it was used.
//
// The log is JSON lines: a header line (logHeader, padded with spaces to
// logHeaderBytes), then one trailEvent per line in the order the events
// happened (increasing Seq). A call appends its events in one write,
// opened with O_APPEND, under the state lock. Appends are not synced: a
// killed process loses nothing (the kernel holds what it wrote), and a
// power cut may lose the last seconds of audit trail, which a demo can
// spare; a write cut short leaves a last line without its newline, which
// readers ignore and the next append cuts off. What data depends on, the
// keys, is in the state file, which is synced at every change.
//
// Each server remembers how far it has read the log (eventLog): at each
// lock it reads only what others appended since, and only once the events
// are needed (LookupEvents); until then it reads the last line alone, for
// the next event's number. Events older than CloudTrail's retention are
// dropped by compaction, which rewrites the log atomically, as rarely as
// keeps its cost per event constant.

// eventLogVersion is the header's format version; a log of another version
// is refused rather than misread.
const eventLogVersion = 1

// logHeader is the first line of the event log.
type logHeader struct {
	Version int `json:"eventLog"`
	// NextSeq is at most the number of the next event, when the log was
	// written: the events that follow have larger numbers.
	NextSeq int64 `json:"nextSeq"`
	// CompactAt is when the log is next due for compaction; zero means
	// when its first event expires.
	CompactAt time.Time `json:"compactAt,omitzero"`
}

// logHeaderBytes is the size of the header line, newline included: a
// compaction writes the header last, into room left at the start.
const logHeaderBytes = 128

// maxLogLineBytes bounds one line of the log. A record keeps at most
// maxRecordedParamBytes of each parameter, and a request is at most
// maxRequestBytes; a longer line is damage, not an event.
const maxLogLineBytes = 4 << 20

// compactionRetry is how long a server waits before it tries again a
// compaction that failed (a full disk, say).
const compactionRetry = time.Hour

// eventLogPath is the event log beside stateFile.
func eventLogPath(stateFile string) string {
	return strings.TrimSuffix(stateFile, ".json") + ".events.jsonl"
}

// eventLog is what a server knows of its event log file, as of its last
// lock.
type eventLog struct {
	path  string
	info  fs.FileInfo // the file as last seen; nil when there was none
	token string      // the lock file's log token then
	size  int64       // the file's size then; -1 when unknown
	// complete is where the last complete line ends; what follows, up to
	// size, is a write cut short.
	complete int64
	header   bool  // the file starts with a complete header line
	events   int64 // where the events start: after the header
	lines    int   // complete lines read (header included), when loaded
	nextSeq  int64
	// compactAt is the header's; firstEvent is the time of the log's
	// first event (zero when unknown or none).
	compactAt, firstEvent time.Time
	retryCompactionAt     time.Time
	// loaded is true when the server's index holds every event of the
	// file up to complete.
	loaded bool
}

// compactionDue tells whether the log has events old enough to drop.
func (l *eventLog) compactionDue(now time.Time) bool {
	if l.path == "" || !l.header || now.Before(l.retryCompactionAt) {
		return false
	}
	due := l.compactAt
	if due.IsZero() {
		if l.firstEvent.IsZero() {
			return false
		}
		due = l.firstEvent.Add(eventRetention)
	}
	return !now.Before(due)
}

// forgetLogLocked makes the server read the log as a new file at its next
// lock.
func (s *Server) forgetLogLocked() {
	s.log = eventLog{path: s.log.path, size: -1, nextSeq: s.log.nextSeq, loaded: s.log.loaded, retryCompactionAt: s.log.retryCompactionAt}
	s.index.reset()
}

// eventIndex is the history as LookupEvents searches it: every event, in
// the order of the log, and the events of each name.
type eventIndex struct {
	events []*trailEvent
	byName map[string][]int // positions in events
	intern map[string]string
}

func (x *eventIndex) reset() { *x = eventIndex{} }

func (x *eventIndex) add(e *trailEvent) {
	if x.byName == nil {
		x.byName = make(map[string][]int)
		x.intern = make(map[string]string)
	}
	// Most fields repeat from event to event: one copy of each in memory.
	for _, f := range []*string{&e.Name, &e.Source, &e.AccessKeyID, &e.Username} {
		*f = x.interned(*f)
	}
	for i := range e.Resources {
		e.Resources[i] = x.interned(e.Resources[i])
	}
	x.byName[e.Name] = append(x.byName[e.Name], len(x.events))
	x.events = append(x.events, e)
}

func (x *eventIndex) interned(v string) string {
	if w, ok := x.intern[v]; ok {
		return w
	}
	x.intern[v] = v
	return v
}

// logDamaged is the error for a log whose content the fake cannot use.
func (s *Server) logDamaged(format string, args ...any) error {
	return &StateFileError{Op: StateDamaged, Path: s.log.path, Err: fmt.Errorf(format, args...)}
}

// openLog opens the event log to read it, without following a symbolic
// link; nil, nil when there is none.
func (s *Server) openLog() (*os.File, error) {
	f, err := openNoFollow(s.log.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &StateFileError{Op: StateRead, Path: s.log.path, Err: err}
	}
	return f, nil
}

// syncLogLocked brings what the server knows of the event log up to date:
// nothing to read when the file is as it last saw it; the lines appended
// since, when the events are loaded; else the last line, for the next
// event's number.
func (s *Server) syncLogLocked() error {
	l := &s.log
	token := s.mu.tokens[tokenLog]
	info, err := os.Lstat(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if l.info != nil || l.size != 0 || l.token != token {
			s.forgetLogLocked()
			l.size, l.token = 0, token
		}
		return nil
	case err != nil:
		return &StateFileError{Op: StateRead, Path: l.path, Err: err}
	case !info.Mode().IsRegular():
		return &StateFileError{Op: StateRead, Path: l.path, Err: errNotRegular}
	}
	replaced := l.info == nil || !os.SameFile(l.info, info) || l.token != token || info.Size() < l.complete
	if !replaced && info.Size() == l.size {
		return nil
	}
	if replaced {
		s.forgetLogLocked()
	}
	f, err := s.openLog()
	if err != nil || f == nil {
		return err
	}
	defer f.Close()
	l.info, l.token = info, token
	if err := s.readLogLocked(f, info.Size()); err != nil {
		s.forgetLogLocked()
		return err
	}
	return nil
}

// readLogLocked reads what the server needs of the log file f, of size
// bytes, beyond what it knows already.
func (s *Server) readLogLocked(f *os.File, size int64) error {
	l := &s.log
	if !l.header {
		line, end, err := readLineAt(f, 0, size)
		if err != nil {
			return s.logDamaged("its header: %v", err)
		}
		if line == nil {
			// Empty, or a first write cut short: no event yet.
			l.size, l.complete = size, 0
			return nil
		}
		var h logHeader
		if err := json.Unmarshal(line, &h); err != nil || h.Version == 0 {
			return s.logDamaged("its first line is not an event log header")
		}
		if h.Version != eventLogVersion {
			return s.logDamaged("format version %d, want %d (was it written by another version of cse-workshop?)", h.Version, eventLogVersion)
		}
		if err := checkNextSeq(h.NextSeq); err != nil {
			return s.logDamaged("its header: %v", err)
		}
		l.header, l.complete, l.events, l.lines = true, end, end, 1
		l.nextSeq = max(l.nextSeq, h.NextSeq)
		l.compactAt = h.CompactAt.UTC()
		if !l.loaded {
			first, _, err := readLineAt(f, end, size)
			if err != nil {
				return s.logDamaged("its first event: %v", err)
			}
			if first != nil {
				e, err := parseEventLine(first)
				if err != nil {
					return s.logDamaged("its first event: %v", err)
				}
				l.firstEvent = e.Time
			}
		}
	}
	if l.loaded {
		return s.readEventsLocked(f, size)
	}
	start, end, err := readLastLine(f, size)
	if err != nil {
		return s.logDamaged("its last line: %v", err)
	}
	l.size = size
	if end <= l.complete {
		return nil // nothing but a write cut short since
	}
	line := make([]byte, end-1-start)
	if _, err := f.ReadAt(line, start); err != nil {
		return &StateFileError{Op: StateRead, Path: l.path, Err: err}
	}
	e, err := parseEventLine(line)
	if err != nil {
		return s.logDamaged("the line at byte %d: %v", start, err)
	}
	l.complete = end
	l.nextSeq = max(l.nextSeq, e.Seq+1)
	return nil
}

// readEventsLocked adds to the index the events of f from where the
// server stopped reading to size.
func (s *Server) readEventsLocked(f *os.File, size int64) error {
	l := &s.log
	last := int64(-1)
	if n := len(s.index.events); n > 0 {
		last = s.index.events[n-1].Seq
	}
	complete, err := scanLines(f, l.complete, size, func(at int64, line []byte) error {
		l.lines++
		e, err := parseEventLine(line)
		if err != nil {
			return s.logDamaged("line %d: %v", l.lines, err)
		}
		if e.Seq <= last {
			return s.logDamaged("line %d: event number %d does not follow %d", l.lines, e.Seq, last)
		}
		last = e.Seq
		e.Record, e.at, e.size = nil, at, len(line)+1
		s.index.add(e)
		return nil
	})
	if err != nil {
		return err
	}
	l.size, l.complete = size, complete
	l.nextSeq = max(l.nextSeq, last+1)
	if len(s.index.events) > 0 {
		l.firstEvent = s.index.events[0].Time
	}
	return nil
}

// loadEventsLocked reads the whole log into the index, once.
func (s *Server) loadEventsLocked() error {
	if s.stateFile == "" || s.log.loaded {
		return nil
	}
	if s.mu.err != nil {
		return s.mu.err
	}
	s.log.loaded = true
	s.log.header = false
	s.index.reset()
	f, err := s.openLog()
	if err == nil && f != nil {
		defer f.Close()
		var info fs.FileInfo
		if info, err = f.Stat(); err == nil {
			s.log.complete = 0
			err = s.readLogLocked(f, info.Size())
		}
	}
	if err != nil {
		s.log.loaded = false
		s.forgetLogLocked()
		return err
	}
	return nil
}

// recordLocked is e's CloudTrail record: kept in memory, or read again from
// the log f.
func (s *Server) recordLocked(f *os.File, e *trailEvent) (json.RawMessage, error) {
	if e.Record != nil {
		return e.Record, nil
	}
	line := make([]byte, e.size)
	if _, err := f.ReadAt(line, e.at); err != nil {
		return nil, &StateFileError{Op: StateRead, Path: s.log.path, Err: err}
	}
	var full trailEvent
	if err := json.Unmarshal(line, &full); err != nil || full.ID != e.ID {
		return nil, s.logDamaged("the line at byte %d changed under its lock", e.at)
	}
	return full.Record, nil
}

// appendEventsLocked appends events to the log in one write, with the
// header first when the log has none yet; a write cut short by an earlier
// crash is cut off first. On failure the log is left as it was.
func (s *Server) appendEventsLocked(events []*trailEvent) error {
	l := &s.log
	start := l.complete
	var buf bytes.Buffer
	if !l.header {
		start = 0
		buf.Write(headerLine(logHeader{Version: eventLogVersion, NextSeq: events[0].Seq}))
	}
	for _, e := range events {
		data, err := json.Marshal(e)
		if err != nil {
			panic("fakeaws: marshal event: " + err.Error()) // plain JSON values
		}
		e.at, e.size = start+int64(buf.Len()), len(data)+1
		buf.Write(data)
		buf.WriteByte('\n')
	}
	fail := func(err error) error {
		l.nextSeq = events[0].Seq
		l.size = -1 // look again at the next lock
		return err
	}
	f, err := openNoFollow(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if l.size != start {
		if err := f.Truncate(start); err != nil {
			return fail(err)
		}
	}
	if err := s.writeLog(f, buf.Bytes()); err != nil {
		f.Truncate(start)
		return fail(err)
	}
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if !l.header {
		l.header, l.events, l.lines, l.compactAt = true, logHeaderBytes, 1, time.Time{}
	}
	l.info, l.size, l.complete = info, start+int64(buf.Len()), start+int64(buf.Len())
	if l.firstEvent.IsZero() {
		l.firstEvent = events[0].Time
	}
	if l.loaded {
		for _, e := range events {
			e.Record = nil
			l.lines++
			s.index.add(e)
		}
	}
	return nil
}

// writeLog writes p to the log f, in one write.
func (s *Server) writeLog(f *os.File, p []byte) error {
	if s.failAppends != nil {
		f.Write(p[:len(p)/2])
		return &fs.PathError{Op: "write", Path: f.Name(), Err: s.failAppends}
	}
	_, err := f.Write(p)
	return err
}

// headerLine is h as the log's first line, padded to logHeaderBytes.
func headerLine(h logHeader) []byte {
	h.CompactAt = h.CompactAt.UTC()
	data, err := json.Marshal(h)
	if err != nil || len(data) >= logHeaderBytes {
		panic(fmt.Sprintf("fakeaws: event log header of %d bytes: %v", len(data), err))
	}
	line := bytes.Repeat([]byte{' '}, logHeaderBytes)
	copy(line, data)
	line[logHeaderBytes-1] = '\n'
	return line
}

// parseEventLine reads one event of the log, checked, without its record,
// which the index does not keep.
func parseEventLine(line []byte) (*trailEvent, error) {
	var parsed struct {
		trailEvent
		Record recordShape `json:"record"`
	}
	if err := json.Unmarshal(line, &parsed); err != nil {
		return nil, err
	}
	e := &parsed.trailEvent
	if err := e.checkFields(); err != nil {
		return nil, fmt.Errorf("event %q: %w", e.ID, err)
	}
	if !parsed.Record {
		return nil, fmt.Errorf("event %q: its record is not a JSON object", e.ID)
	}
	return e, nil
}

// recordShape checks that a record is a JSON object, and keeps nothing.
type recordShape bool

func (r *recordShape) UnmarshalJSON(data []byte) error {
	*r = len(data) > 0 && data[0] == '{'
	return nil
}

// firstReadWindow is how much of the log readLineAt and readLastLine read
// at first: a line or two of the usual sizes (the header is
// logHeaderBytes, an event about 2 KiB). A longer line takes a few more
// reads, each twice the last.
const firstReadWindow = 4 << 10

// readLineAt reads the complete line that starts at offset at, of a file
// of size bytes: nil when there is none (the file ends before a newline),
// else the line without its newline and where the next line starts.
func readLineAt(f *os.File, at, size int64) (line []byte, next int64, err error) {
	for window := int64(firstReadWindow); ; window *= 2 {
		n := min(window, size-at, maxLogLineBytes+1)
		if n <= 0 {
			return nil, at, nil
		}
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, at); err != nil {
			return nil, 0, err
		}
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i], at + int64(i) + 1, nil
		}
		switch {
		case n > maxLogLineBytes:
			return nil, 0, fmt.Errorf("a line longer than %d MiB", maxLogLineBytes>>20)
		case n == size-at:
			return nil, at, nil // cut short
		}
	}
}

// readLastLine finds the last complete line of a file of size bytes: where
// it starts and where it ends (after its newline). With no complete line,
// both are 0.
func readLastLine(f *os.File, size int64) (start, end int64, err error) {
	for window := int64(firstReadWindow); ; window *= 2 {
		from := max(0, size-window)
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, err
		}
		nl := bytes.LastIndexByte(buf, '\n')
		if nl < 0 {
			if from == 0 {
				return 0, 0, nil
			}
			if size-from > maxLogLineBytes {
				return 0, 0, fmt.Errorf("no line ends in its last %d MiB", maxLogLineBytes>>20)
			}
			continue
		}
		prev := bytes.LastIndexByte(buf[:nl], '\n')
		if prev >= 0 || from == 0 {
			return from + int64(prev) + 1, from + int64(nl) + 1, nil
		}
		if int64(nl) > maxLogLineBytes {
			return 0, 0, fmt.Errorf("a line longer than %d MiB", maxLogLineBytes>>20)
		}
	}
}

// scanLines calls fn with each complete line of f between from and to (a
// line start) and where it starts, and returns where the last one ends.
func scanLines(f *os.File, from, to int64, fn func(at int64, line []byte) error) (complete int64, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, from, to-from), 64<<10)
	at := from
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		switch {
		case err == nil:
			line := chunk[:len(chunk)-1]
			if long != nil {
				line = append(long, line...)
				long = nil
			}
			if len(line) > maxLogLineBytes {
				return 0, fmt.Errorf("the line at byte %d is longer than %d MiB", at, maxLogLineBytes>>20)
			}
			if err := fn(at, line); err != nil {
				return 0, err
			}
			at += int64(len(line)) + 1
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, chunk...)
			if len(long) > maxLogLineBytes {
				return 0, fmt.Errorf("the line at byte %d is longer than %d MiB", at, maxLogLineBytes>>20)
			}
		case errors.Is(err, io.EOF):
			return at, nil // what is left is a write cut short
		default:
			return 0, err
		}
	}
}

// compactLocked rewrites the log without the events older than
// CloudTrail's retention, atomically (see replaceFile). Its header says
// when the next compaction is due: when half the events kept have expired,
// so that each compaction drops at least as many events as it keeps, in
// the usual case, and its cost per event stays constant.
func (s *Server) compactLocked() error {
	l := &s.log
	src, err := s.openLog()
	if err != nil || src == nil {
		return err
	}
	defer src.Close()
	cutoff := s.clock.Now().Add(-eventRetention)
	var kept eventIndex
	var lines int
	info, token, err := s.replaceFile(l.path, tokenLog, func(dst *os.File) error {
		w := bufio.NewWriterSize(dst, 64<<10)
		at := int64(logHeaderBytes)
		w.Write(bytes.Repeat([]byte{' '}, logHeaderBytes))
		_, err := scanLines(src, l.events, l.complete, func(_ int64, line []byte) error {
			lines++
			e, err := parseEventLine(line)
			if err != nil {
				return s.logDamaged("line %d: %v", lines+1, err)
			}
			if !e.Time.After(cutoff) {
				return nil
			}
			e.at, e.size = at, len(line)+1
			kept.add(e)
			w.Write(line)
			w.WriteByte('\n')
			at += int64(len(line)) + 1
			return nil
		})
		if err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		h := logHeader{Version: eventLogVersion, NextSeq: l.nextSeq}
		if n := len(kept.events); n > 0 {
			h.CompactAt = kept.events[n/2].Time.Add(eventRetention)
		}
		_, err = dst.WriteAt(headerLine(h), 0)
		return err
	})
	if err != nil {
		var fileErr *StateFileError
		if errors.As(err, &fileErr) {
			return err
		}
		return &StateFileError{Op: StateSave, Path: l.path, Err: fmt.Errorf("drop expired events: %w", err)}
	}
	loaded := l.loaded
	s.forgetLogLocked()
	if info == nil {
		return nil // read again at the next lock
	}
	size := info.Size()
	*l = eventLog{path: l.path, info: info, token: token, size: size, complete: size, header: true,
		events: logHeaderBytes, lines: 1 + len(kept.events), nextSeq: l.nextSeq, loaded: loaded}
	if n := len(kept.events); n > 0 {
		l.compactAt = kept.events[n/2].Time.Add(eventRetention).UTC()
		l.firstEvent = kept.events[0].Time
	}
	if loaded {
		s.index = kept
	}
	return nil
}

// migrateLocked moves the events of a state file of version 1 to a new
// event log, then rewrites the state file without them. A crash between
// the two leaves the version 1 file, migrated again at the next load.
func (s *Server) migrateLocked(h *legacyHistory) error {
	var buf bytes.Buffer
	buf.Write(headerLine(logHeader{Version: eventLogVersion, NextSeq: h.NextSeq}))
	for _, e := range h.Events {
		data, err := json.Marshal(e)
		if err != nil {
			panic("fakeaws: marshal event: " + err.Error()) // checked at load
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	s.forgetLogLocked()
	_, _, err := s.replaceFile(s.log.path, tokenLog, func(f *os.File) error {
		_, err := f.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return &StateFileError{Op: StateSave, Path: s.log.path, Err: fmt.Errorf("move the events of %s out of it: %w", s.stateFile, err)}
	}
	return s.saveLocked()
}
