package cmap

import (
	"fmt"
	"strings"
	"sync"
)

// EventKind is what happened to a watched key.
type EventKind uint8

// The kinds of change, as corosync's cmap tracks them.
const (
	EventAdded   EventKind = iota + 1 // the key did not exist
	EventChanged                      // the key's value changed
	EventDeleted                      // the key was removed
)

func (k EventKind) String() string {
	switch k {
	case EventAdded:
		return "added"
	case EventChanged:
		return "changed"
	case EventDeleted:
		return "deleted"
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is one change of a key. Value is the new value, or for
// EventDeleted the value the key had.
type Event struct {
	Kind  EventKind
	Key   string
	Value Value
}

// Watcher receives the changes of the keys under one prefix, in the order
// they were made, from the moment Watch returned. Changes are queued in a
// bounded buffer; writers never wait for a watcher. A watcher that falls
// behind by more than the buffer is closed: its channel is closed and Err
// returns an error wrapping ErrWatchOverflow. It never silently skips a
// change. After an overflow, Watch again and List to resynchronise.
type Watcher struct {
	store  *Store
	prefix string
	ch     chan Event

	mu     sync.Mutex
	closed bool
	err    error
}

// Watch starts a watch of every key that starts with prefix ("" for all).
// The caller must Close the watcher when done with it.
func (s *Store) Watch(prefix string) *Watcher {
	w := &Watcher{store: s, prefix: prefix, ch: make(chan Event, s.watchBuffer)}
	s.mu.Lock()
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	return w
}

// Events returns the channel of changes. It is closed by Close, or when
// the watcher falls behind (see Err).
func (w *Watcher) Events() <-chan Event { return w.ch }

// Prefix returns the watched prefix.
func (w *Watcher) Prefix() string { return w.prefix }

// Err returns why the watcher ended: nil while it runs or after Close, an
// error wrapping ErrWatchOverflow if it fell behind.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close ends the watch and closes the Events channel. It may be called
// more than once and concurrently with writers.
func (w *Watcher) Close() {
	w.store.mu.Lock()
	defer w.store.mu.Unlock()
	w.endLocked(nil)
}

// endLocked closes the watcher with err; the store's mu is held.
func (w *Watcher) endLocked(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed, w.err = true, err
	close(w.ch)
	delete(w.store.watchers, w)
}

// notifyLocked queues ev for every watcher of a prefix of its key, with
// the store's mu held, so that every watcher sees changes in commit order.
func (s *Store) notifyLocked(ev Event) {
	for w := range s.watchers {
		if !strings.HasPrefix(ev.Key, w.prefix) {
			continue
		}
		select {
		case w.ch <- ev:
		default:
			err := fmt.Errorf("%w: the watch of prefix %q had %d changes pending, its limit, when %s was %s",
				ErrWatchOverflow, w.prefix, cap(w.ch), ev.Key, ev.Kind)
			s.log.Warn("cmap: closing a watcher that fell behind", "prefix", w.prefix, "pending", cap(w.ch))
			w.endLocked(err)
		}
	}
}
