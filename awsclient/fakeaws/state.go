package fakeaws

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is written into the state file; a file of another version is
// refused rather than misread.
const stateVersion = 1

// state is everything the fake remembers, and what the state file holds.
type state struct {
	Version int                `json:"version"`
	Region  string             `json:"region,omitempty"` // the one region the keys live in
	Keys    map[string]*kmsKey `json:"keys"`             // by key ID
	Aliases map[string]*alias  `json:"aliases"`          // by alias name, "alias/..."
	Events  []*trailEvent      `json:"events"`           // in the order they happened
	NextSeq int64              `json:"nextSeq"`          // sequence number of the next event
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
}

func newState() *state {
	return &state{
		Version: stateVersion,
		Keys:    make(map[string]*kmsKey),
		Aliases: make(map[string]*alias),
	}
}

// loadState reads the state file; it returns nil, nil when there is none.
func loadState(path string) (*state, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load fake aws state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("load fake aws state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("load fake aws state %s: version %d, want %d", path, st.Version, stateVersion)
	}
	if st.Keys == nil {
		st.Keys = make(map[string]*kmsKey)
	}
	if st.Aliases == nil {
		st.Aliases = make(map[string]*alias)
	}
	// A key the fake could not use would make every request naming it
	// panic, so a damaged one stops the load instead.
	for id, k := range st.Keys {
		if k == nil || k.ID != id || !keyIDPattern.MatchString(id) || len(k.Material) != keyMaterialBytes {
			return nil, fmt.Errorf("load fake aws state %s: key %q is damaged", path, id)
		}
	}
	for name, a := range st.Aliases {
		if a == nil || a.Name != name {
			return nil, fmt.Errorf("load fake aws state %s: alias %q is damaged", path, name)
		}
	}
	return st, nil
}

// Save writes the state to opts.StateFile (no-op without one).
func (s *Server) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// eventRetention is how long CloudTrail event history keeps events.
const eventRetention = 90 * 24 * time.Hour

// saveLocked writes the state file atomically: a temporary file in the same
// folder, renamed over the old one, so that a crash leaves either the old
// state or the new one.
func (s *Server) saveLocked() error {
	if s.stateFile == "" {
		return nil
	}
	s.dropOldEventsLocked()
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("save fake aws state: %w", err)
	}
	dir := filepath.Dir(s.stateFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save fake aws state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.stateFile)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save fake aws state: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save fake aws state: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save fake aws state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save fake aws state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save fake aws state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.stateFile); err != nil {
		return fmt.Errorf("save fake aws state: %w", err)
	}
	return nil
}

func (s *Server) dropOldEventsLocked() {
	cutoff := s.clock.Now().Add(-eventRetention)
	kept := s.st.Events[:0]
	for _, e := range s.st.Events {
		if e.Time.After(cutoff) {
			kept = append(kept, e)
		}
	}
	clear(s.st.Events[len(kept):])
	s.st.Events = kept
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
