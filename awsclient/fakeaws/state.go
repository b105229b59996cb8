package fakeaws

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// stateVersion is written into the state file; a file of another version is
// refused rather than misread. Version 1 files, which also held the
// CloudTrail events, are migrated when first read: their events move to the
// event log (see eventlog.go).
const (
	stateVersion       = 2
	legacyStateVersion = 1
)

// state is the simulated account's keys and aliases: what the state file
// holds. It is small, and rewritten whole when a key or alias changes; the
// CloudTrail events, which every call adds, go to the event log.
type state struct {
	Version int                `json:"version"`
	Region  string             `json:"region,omitempty"` // the one region the keys live in
	Keys    map[string]*kmsKey `json:"keys"`             // by key ID
	Aliases map[string]*alias  `json:"aliases"`          // by alias name, "alias/..."
}

// legacyState is a state file of version 1: the state and, in the same
// file, the whole event history.
type legacyState struct {
	state
	Events  []*trailEvent `json:"events"`  // in the order they happened
	NextSeq int64         `json:"nextSeq"` // sequence number of the next event
}

// kmsKey is a symmetric KMS key. Material is the fake's own AES-256 key:
// it never leaves the fake except into the state file.
type kmsKey struct {
	ID           string    `json:"id"`
	Created      time.Time `json:"created"`
	Description  string    `json:"description"`
	State        string    `json:"state"` // keyStateEnabled, ...
	DeletionDate time.Time `json:"deletionDate,omitzero"`
	Tags         []tag     `json:"tags,omitempty"`
	Material     []byte    `json:"material"`
	// KeyManager, Policy and Rotation are described in kms_ops.go.
	KeyManager string       `json:"keyManager,omitempty"`
	Policy     string       `json:"policy,omitempty"`
	Rotation   *keyRotation `json:"rotation,omitempty"`
}

type tag struct {
	Key   string `json:"TagKey"`
	Value string `json:"TagValue"`
}

type alias struct {
	Name    string    `json:"name"`
	KeyID   string    `json:"keyId"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// trailEvent is one CloudTrail record and the fields LookupEvents filters on.
type trailEvent struct {
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Source      string    `json:"source"`
	ReadOnly    bool      `json:"readOnly"`
	AccessKeyID string    `json:"accessKeyId"`
	Username    string    `json:"username"`
	Time        time.Time `json:"time"`
	// DeliveryDraw places the event in the server's delivery window, from 0
	// (its Min) to 1 (its Max); see (*Server).visibleAt.
	DeliveryDraw float64         `json:"deliveryDraw"`
	Resources    []string        `json:"resources,omitempty"` // key ARNs
	Record       json.RawMessage `json:"record"`

	// at and size place the event's line in the event log. An event read
	// from the log keeps only its place, not its Record, which is read
	// again when LookupEvents returns it: the index stays small.
	at   int64
	size int
}

func newState() *state {
	return &state{
		Version: stateVersion,
		Keys:    make(map[string]*kmsKey),
		Aliases: make(map[string]*alias),
	}
}

// StateFileError is a failure to use the state file: to lock it, to read it
// (a file that does not hold a valid state included) or to save it. Its
// message names the file and the cause, which is what a person can act on.
type StateFileError struct {
	Op   string // StateLock, StateRead, StateDamaged or StateSave
	Path string // the state file
	Err  error
}

// StateFileError operations.
const (
	StateLock    = "lock"
	StateRead    = "read"
	StateDamaged = "damaged" // the file was read but does not hold a valid state
	StateSave    = "save"
)

func (e *StateFileError) Error() string {
	cause := e.Err.Error()
	// The operating system's error names a file this message names already
	// (the state file, its temporary copy, its lock file): keep its cause.
	var pathErr *fs.PathError
	if errors.As(e.Err, &pathErr) {
		cause = pathErr.Err.Error()
	}
	switch e.Op {
	case StateLock:
		return fmt.Sprintf("lock the demo's state file %s: %s", e.Path, cause)
	case StateRead:
		return fmt.Sprintf("read the demo's state from %s: %s", e.Path, cause)
	case StateDamaged:
		return fmt.Sprintf("the demo's state file %s is damaged: %s", e.Path, cause)
	}
	return fmt.Sprintf("save the demo's state to %s: %s", e.Path, cause)
}

func (e *StateFileError) Unwrap() error { return e.Err }

// RetryableError tells the AWS SDK not to send the request again: the file
// will not heal in the next second, and the cause should reach the person
// at once.
func (e *StateFileError) RetryableError() bool { return false }

// errNotRegular is why a state file that is a folder, a FIFO or a device
// is not read.
var errNotRegular = errors.New("it is not a regular file")

// maxStateBytes bounds the state file read at load. A state file of
// version 1 held the whole event history, rewritten at every change, so a
// file this large is not one the demo could have used.
const maxStateBytes = 256 << 20

// loadState reads the state file and the file's identity as it was read; it
// returns nil, nil, nil, nil when there is no file. A file of version 1 is
// returned as a state and, apart, the event history it held.
func loadState(path string) (*state, *legacyHistory, fs.FileInfo, error) {
	// Only a regular file is opened: opening a FIFO would wait for a
	// writer, and a device such as /dev/zero would be read for ever.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, nil, nil, &StateFileError{Op: StateRead, Path: path, Err: errNotRegular}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, &StateFileError{Op: StateRead, Path: path, Err: err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, nil, &StateFileError{Op: StateRead, Path: path, Err: err}
	}
	if !info.Mode().IsRegular() {
		return nil, nil, nil, &StateFileError{Op: StateRead, Path: path, Err: errNotRegular}
	}
	tooLarge := &StateFileError{Op: StateDamaged, Path: path, Err: fmt.Errorf("it is larger than %d MiB, which the demo never writes", maxStateBytes>>20)}
	if info.Size() > maxStateBytes {
		return nil, nil, nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return nil, nil, nil, &StateFileError{Op: StateRead, Path: path, Err: err}
	}
	if len(data) > maxStateBytes {
		return nil, nil, nil, tooLarge // it grew while being read
	}
	st, legacy, err := decodeState(data)
	if err != nil {
		return nil, nil, nil, &StateFileError{Op: StateDamaged, Path: path, Err: err}
	}
	return st, legacy, info, nil
}

// legacyHistory is the event history a state file of version 1 held.
type legacyHistory struct {
	Events  []*trailEvent
	NextSeq int64
}

// decodeState parses a state file and checks every record in it: a record
// the fake could not use would make the first request that meets it panic
// or misbehave, so a damaged file is refused as a whole. For a file of
// version 1 it also returns the event history the file held, checked.
func decodeState(data []byte) (*state, *legacyHistory, error) {
	var file legacyState
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, nil, err
	}
	st := &file.state
	switch st.Version {
	case stateVersion, legacyStateVersion:
	case 0: // also a file that is just null, or {}
		return nil, nil, errors.New("it has no format version, so it does not hold the demo's state")
	default:
		return nil, nil, fmt.Errorf("format version %d, want %d (was it written by another version of cse-workshop?)", st.Version, stateVersion)
	}
	if st.Keys == nil {
		st.Keys = make(map[string]*kmsKey)
	}
	if st.Aliases == nil {
		st.Aliases = make(map[string]*alias)
	}
	if err := st.check(); err != nil {
		return nil, nil, err
	}
	if st.Version == stateVersion {
		return st, nil, nil
	}
	history := &legacyHistory{Events: file.Events, NextSeq: file.NextSeq}
	if err := history.check(); err != nil {
		return nil, nil, err
	}
	st.Version = stateVersion
	return st, history, nil
}

// maxEventSeq bounds event numbers: far more events than any use of the
// demo makes, and far from overflowing.
const maxEventSeq = 1 << 53

// check tells what is wrong with a state just read, if anything.
func (st *state) check() error {
	if st.Region != "" && !isRegionName(st.Region) {
		return fmt.Errorf("region %q is not a region name", st.Region)
	}
	for id, k := range st.Keys {
		if err := k.check(id); err != nil {
			return fmt.Errorf("key %q: %w", id, err)
		}
	}
	for name, a := range st.Aliases {
		switch {
		case a == nil:
			return fmt.Errorf("alias %q is null", name)
		case a.Name != name:
			return fmt.Errorf("alias %q is filed under %q", a.Name, name)
		case !isAliasName(name) || len(name) > maxAliasNameLength:
			return fmt.Errorf("alias %q is not an alias name", name)
		case st.Keys[a.KeyID] == nil:
			return fmt.Errorf("alias %q names key %q, which is not in the file", name, a.KeyID)
		}
	}
	return nil
}

// check tells what is wrong with the event history of a version 1 file,
// if anything.
func (h *legacyHistory) check() error {
	if err := checkNextSeq(h.NextSeq); err != nil {
		return err
	}
	last := int64(-1)
	for i, e := range h.Events {
		if e == nil {
			return fmt.Errorf("event %d is null", i)
		}
		if err := e.check(); err != nil {
			return fmt.Errorf("event %d (%q): %w", i, e.ID, err)
		}
		if e.Seq <= last {
			return fmt.Errorf("event %d (%q): number %d does not follow %d", i, e.ID, e.Seq, last)
		}
		last = e.Seq
	}
	if h.NextSeq <= last {
		return fmt.Errorf("next event number %d is not after the last event's, %d", h.NextSeq, last)
	}
	return nil
}

// checkNextSeq tells what is wrong with the number of the next event, if
// anything.
func checkNextSeq(next int64) error {
	switch {
	case next < 0:
		return fmt.Errorf("next event number %d is negative", next)
	case next > maxEventSeq:
		// The next event's number would overflow, and the file saved
		// after it would be refused.
		return fmt.Errorf("next event number %d is too large", next)
	}
	return nil
}

// check tells what is wrong with the key filed under id, if anything.
func (k *kmsKey) check(id string) error {
	switch {
	case k == nil:
		return errors.New("null")
	case k.ID != id:
		return fmt.Errorf("filed under another key ID (its own is %q)", k.ID)
	case !isKeyID(id):
		return errors.New("not a key ID")
	case len(k.Material) != keyMaterialBytes:
		return fmt.Errorf("key material of %d bytes, want %d", len(k.Material), keyMaterialBytes)
	}
	switch k.State {
	case keyStateEnabled, keyStateDisabled:
		if !k.DeletionDate.IsZero() {
			return fmt.Errorf("a deletion date on a key that is %s", k.State)
		}
	case keyStatePendingDeletion:
		if k.DeletionDate.IsZero() {
			return errors.New("pending deletion without a deletion date")
		}
	default:
		return fmt.Errorf("unknown key state %q", k.State)
	}
	return nil
}

// check tells what is wrong with a CloudTrail event, if anything.
func (e *trailEvent) check() error {
	if err := e.checkFields(); err != nil {
		return err
	}
	if len(e.Record) == 0 || e.Record[0] != '{' {
		return errors.New("its record is not a JSON object")
	}
	return nil
}

// checkFields tells what is wrong with a CloudTrail event, its record
// aside, if anything.
func (e *trailEvent) checkFields() error {
	switch {
	case e.Seq < 0:
		return fmt.Errorf("negative number %d", e.Seq)
	case e.Seq >= maxEventSeq:
		return fmt.Errorf("number %d is too large", e.Seq)
	case e.ID == "" || e.Name == "" || e.Source == "":
		return errors.New("no ID, name or source")
	case e.Time.IsZero():
		return errors.New("no time")
	case !(e.DeliveryDraw >= 0 && e.DeliveryDraw <= 1):
		return fmt.Errorf("delivery draw %v is outside 0 to 1", e.DeliveryDraw)
	}
	return nil
}

// Save makes sure the state file exists and holds the current state, and
// drops from the event log the events that have outlived CloudTrail's
// retention, when enough have. Every request that changes the state saves
// it already, so Save writes only when there is no file yet or the log is
// due for compaction.
func (s *Server) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.err != nil {
		return s.mu.err
	}
	if s.stateFile == "" {
		return nil
	}
	if s.seen.info == nil {
		if err := s.saveLocked(); err != nil {
			return err
		}
	}
	if s.log.compactionDue(s.clock.Now()) {
		return s.compactLocked()
	}
	return nil
}

// eventRetention is how long CloudTrail event history keeps events.
const eventRetention = 90 * 24 * time.Hour

// saveLocked writes the state file (no-op without one). It refuses to when
// this server could not lock or read the file, since its state in memory
// may then be older than the file's. After a failure, the state in memory
// holds a change that was not saved: it is read again at the next lock.
func (s *Server) saveLocked() error {
	if s.stateFile == "" {
		return nil
	}
	if s.mu.err != nil {
		return s.mu.err
	}
	if err := s.writeStateLocked(); err != nil {
		s.stale = true
		return &StateFileError{Op: StateSave, Path: s.stateFile, Err: err}
	}
	s.keysChanged = false
	return nil
}

// writeStateLocked writes the state file atomically (see replaceFile),
// synced unless SkipSync, so that a power cut does not lose a key that
// data was encrypted under.
func (s *Server) writeStateLocked() error {
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	info, token, err := s.replaceFile(s.stateFile, tokenState, func(f *os.File) error {
		_, err := f.Write(append(data, '\n'))
		return err
	})
	if err != nil {
		return err
	}
	if info == nil {
		// Saved, but this server cannot tell the file apart from the next
		// one: it reads it again at the next lock.
		s.stale = true
		return nil
	}
	s.seen = fileVersion{token: token, info: info}
	return nil
}

// replaceFile replaces the file at path with what write writes, atomically:
// a temporary file in the same folder, synced (unless SkipSync), renamed
// over the old one, so that a crash leaves either the old file or the new
// one (without the sync, a power cut may leave neither whole). Before the
// rename, it leaves a new token of kind in the lock file, so that other
// servers know to read the file again. It returns the new file's identity
// (nil if it cannot be had) and the token.
func (s *Server) replaceFile(path string, kind tokenKind, write func(*os.File) error) (fs.FileInfo, string, error) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp-"
	removeStaleTemps(dir, prefix)
	tmp, err := s.createTemp(dir, prefix+"*")
	if err != nil {
		return nil, "", err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, "", err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return nil, "", err
	}
	if !s.skipSync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return nil, "", err
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, "", err
	}
	token, err := s.mu.writeToken(kind)
	if err != nil {
		return nil, "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, "", err
	}
	info, err := os.Lstat(path)
	if err != nil {
		return nil, token, nil
	}
	return info, token, nil
}

// removeStaleTemps removes the temporary files of saves that a killed
// process left: each is a copy of the state, key material included. Saves
// run under the state lock, so while it is held no other one is under way.
func removeStaleTemps(dir, prefix string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// newUUID returns a random (version 4) UUID, the form of KMS key IDs and of
// AWS request and event IDs.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
