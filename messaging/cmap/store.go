// Package cmap is Corosync's cmap for Vigil: a concurrency-safe, typed
// key/value store of the cluster configuration (totem.*, nodelist.*,
// quorum.*, logging.*) and of runtime state (runtime.*, stats.*), with
// prefix listing and prefix watches, served over gRPC by Service.
//
// Every key the store may hold is declared once, with its corosync type, in
// schema.go. LoadConfig fills the configuration keys from vigil.conf the way
// corosync fills them from corosync.conf and derives runtime.config.totem.*;
// the messaging daemon writes runtime state with SetRuntime, SetMember and
// SetLinkStats. Clients may Set only the keys Changeable lists; the daemon
// learns of such changes through OnSet. docs/cmap.md describes the keys.
package cmap

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// Errors callers branch on. Returned errors wrap them with the key and
// what to do; Service maps them to gRPC status codes.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("cmap: no such key")
	// ErrNotChangeable: a client tried to Set a key that is not in the
	// Changeable list (configuration read from vigil.conf, runtime state,
	// or no key of Vigil's cmap at all).
	ErrNotChangeable = errors.New("cmap: read-only key")
	// ErrInvalidKey: the key is empty or not declared in the schema.
	ErrInvalidKey = errors.New("cmap: invalid key")
	// ErrType: the value's type does not fit the key.
	ErrType = errors.New("cmap: wrong type")
	// ErrInvalidValue: the value is of the right type but not acceptable
	// (out of range, below a minimum, inconsistent with another key).
	ErrInvalidValue = errors.New("cmap: invalid value")
	// ErrWatchOverflow: a watcher fell behind by more than its buffer and
	// was closed rather than let it miss changes.
	ErrWatchOverflow = errors.New("cmap: watch fell behind and was closed")
)

// DefaultWatchBuffer is the number of changes a watcher may fall behind
// before it is closed with ErrWatchOverflow.
const DefaultWatchBuffer = 1024

// Options configures a Store. The zero value is usable.
type Options struct {
	// WatchBuffer is the number of changes each watcher may have pending;
	// 0 means DefaultWatchBuffer.
	WatchBuffer int
	// Log receives a line when a watcher is closed for falling behind;
	// nil discards.
	Log *slog.Logger
}

// Entry is one key and its value.
type Entry struct {
	Key   string
	Value Value
}

// Store is the typed key/value store. All methods are safe for concurrent
// use. The zero Store is not usable: call New.
type Store struct {
	log         *slog.Logger
	watchBuffer int

	// setMu serialises client Sets, so that OnSet hooks see changes in the
	// order they were made; hooks run with setMu held and mu released.
	setMu sync.Mutex
	hooks []func(key string, v Value)

	mu       sync.RWMutex
	data     map[string]Value
	watchers map[*Watcher]struct{}
	// nodes is the size of the nodelist LoadConfig last read; the
	// token_coefficient rule depends on it.
	nodes int
}

// New returns an empty store.
func New(opts Options) *Store {
	if opts.WatchBuffer <= 0 {
		opts.WatchBuffer = DefaultWatchBuffer
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Store{
		log:         opts.Log,
		watchBuffer: opts.WatchBuffer,
		data:        map[string]Value{},
		watchers:    map[*Watcher]struct{}{},
	}
}

// Get returns the value of key, or an error wrapping ErrNotFound.
func (s *Store) Get(key string) (Value, error) {
	s.mu.RLock()
	v, ok := s.data[key]
	s.mu.RUnlock()
	if !ok {
		return Value{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return v, nil
}

// List returns every key that starts with prefix ("" for all), in
// byte-wise key order, as corosync-cmapctl lists them. The prefix is a
// plain string prefix: "totem.token" also lists "totem.token_coefficient".
func (s *Store) List(prefix string) []Entry {
	s.mu.RLock()
	out := make([]Entry, 0, len(s.data))
	for k, v := range s.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, Entry{Key: k, Value: v})
		}
	}
	s.mu.RUnlock()
	sortEntries(out)
	return out
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
}

// OnSet registers fn to be called after every successful client Set, with
// the key and the value as stored (converted to the key's type). Derived
// keys (runtime.config.totem.*) are already updated when fn runs. Hooks run
// in registration order, one Set at a time, in the order the Sets were
// made, with no store lock held: fn may call any method except Set and
// OnSet, which would deadlock.
func (s *Store) OnSet(fn func(key string, v Value)) {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// Set is a client's change of a key. Only the keys Changeable lists may be
// set (ErrNotChangeable otherwise, with what can be set); v is converted to
// the key's type (ErrType, ErrInvalidValue) and checked (ErrInvalidValue:
// e.g. a timeout below corosync's minimum of 30 ms, or a consensus shorter
// than join). Setting totem.consensus to 0 removes the key, so that
// consensus is derived from the token again, as 0 means in corosync.conf.
// A change of a totem timeout updates runtime.config.totem.* at once.
// Changes are not written to vigil.conf: they last until the daemon stops.
func (s *Store) Set(key string, v Value) error {
	spec, err := checkChangeable(key)
	if err != nil {
		return err
	}
	v, err = v.Convert(spec.typ)
	if err != nil {
		// Put the key first: "cmap: wrong type: totem.token is u32: ...".
		sentinel := ErrType
		if errors.Is(err, ErrInvalidValue) {
			sentinel = ErrInvalidValue
		}
		detail := strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
		return fmt.Errorf("%w: %s is %s: %s", sentinel, key, spec.typ, detail)
	}

	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.mu.Lock()
	if spec.check != nil {
		if err := spec.check(s, key, v); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	if key == keyConsensus && v.Uint() == 0 {
		s.deleteLocked(key)
	} else {
		s.setLocked(key, v)
	}
	if strings.HasPrefix(key, "totem.") {
		s.deriveLocked()
	}
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()

	for _, fn := range hooks {
		fn(key, v)
	}
	return nil
}

// SetRuntime is the daemon's write of any declared key, typically runtime
// state (runtime.*, stats.*): it bypasses the Changeable list and calls no
// OnSet hook. v must be of the key's declared type exactly (ErrType), and
// the key must be declared in the schema (ErrInvalidKey), so that every
// value clients see has a known type.
func (s *Store) SetRuntime(key string, v Value) error {
	if err := checkDeclared(key, v); err != nil {
		return err
	}
	s.mu.Lock()
	s.setLocked(key, v)
	s.mu.Unlock()
	return nil
}

func checkDeclared(key string, v Value) error {
	spec, ok := lookup(key)
	if !ok {
		return fmt.Errorf("%w: %s is not declared in Vigil's cmap schema (messaging/cmap/schema.go)", ErrInvalidKey, key)
	}
	if v.Type() != spec.typ {
		return fmt.Errorf("%w: %s is %s, not %s", ErrType, key, spec.typ, v.Type())
	}
	return nil
}

// Delete removes key and reports whether it existed. It is the daemon's:
// clients cannot delete keys.
func (s *Store) Delete(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteLocked(key)
}

// DeletePrefix removes every key that starts with prefix and returns how
// many there were. It is the daemon's: clients cannot delete keys.
func (s *Store) DeletePrefix(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone) // watchers see the deletions in key order
	for _, k := range gone {
		s.deleteLocked(k)
	}
	return len(gone)
}

// setLocked stores v and tells the watchers, unless the key already holds
// v: as in corosync, writing the same value again is not a change.
func (s *Store) setLocked(key string, v Value) {
	old, existed := s.data[key]
	if existed && old == v {
		return
	}
	s.data[key] = v
	kind := EventChanged
	if !existed {
		kind = EventAdded
	}
	s.notifyLocked(Event{Kind: kind, Key: key, Value: v})
}

func (s *Store) deleteLocked(key string) bool {
	old, ok := s.data[key]
	if !ok {
		return false
	}
	delete(s.data, key)
	s.notifyLocked(Event{Kind: EventDeleted, Key: key, Value: old})
	return true
}
