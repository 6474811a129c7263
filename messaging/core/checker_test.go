package core

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// history records what every node run did, and checks the guarantees of
// the protocol on it (docs/messaging-protocol.md, "What is guaranteed").
type history struct {
	runs    map[NodeRef][]Event
	order   []NodeRef
	sends   map[msgKey][]byte
	crashes map[NodeRef]bool
}

func newHistory() *history {
	return &history{runs: map[NodeRef][]Event{}, sends: map[msgKey][]byte{}, crashes: map[NodeRef]bool{}}
}

func (h *history) record(r NodeRef, ev Event) {
	if _, ok := h.runs[r]; !ok {
		h.order = append(h.order, r)
	}
	h.runs[r] = append(h.runs[r], ev)
}

func (h *history) sent(r NodeRef, counter uint64, data []byte) {
	h.sends[msgKey{r, counter}] = data
}

func (h *history) crashed(r NodeRef) { h.crashes[r] = true }

// check returns every violation it finds (the first few).
func (h *history) check() error {
	var errs []error
	fail := func(format string, args ...any) {
		if len(errs) < 10 {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	views := map[ViewID][]NodeRef{}
	seqs := map[ViewID]map[uint64]msgKey{}
	// transitions maps (view, next view) to the set each run that made it
	// delivered in view, for virtual synchrony.
	type transition struct{ from, to ViewID }
	delivered := map[transition]map[NodeRef][]msgKey{}

	for _, r := range h.order {
		evs := h.runs[r]
		var cur ViewID
		var inView []msgKey
		var lastSeq uint64
		seen := map[msgKey]bool{}
		fifo := map[NodeRef]uint64{}
		for i, ev := range evs {
			if v := ev.View; v != nil {
				if i == 0 && (len(v.Members) != 1 || v.Members[0] != r) {
					fail("%s: first view %s is not the node alone", r, v)
				}
				if !v.Has(r) {
					fail("%s installs %s without being a member", r, v)
				}
				if prev, ok := views[v.ID]; ok && !slices.Equal(prev, v.Members) {
					fail("view %s installed with different members: %v and %v (at %s)", v.ID, prev, v.Members, r)
				}
				views[v.ID] = v.Members
				if i > 0 {
					t := transition{cur, v.ID}
					if delivered[t] == nil {
						delivered[t] = map[NodeRef][]msgKey{}
					}
					delivered[t][r] = inView
				}
				cur, inView, lastSeq = v.ID, nil, 0
				continue
			}
			d := ev.Delivery
			k := msgKey{d.Sender, d.Counter}
			if d.View != cur {
				fail("%s delivers %v in view %s while in view %s", r, k, d.View, cur)
			}
			if d.Seq <= lastSeq {
				fail("%s delivers seq %d after seq %d in view %s", r, d.Seq, lastSeq, cur)
			}
			lastSeq = d.Seq
			data, ok := h.sends[k]
			if !ok || !bytes.Equal(data, d.Data) {
				fail("%s delivers %v (%q) that was never sent", r, k, d.Data)
			}
			if d.Duplicate != seen[k] {
				fail("%s delivers %v with Duplicate=%v, but delivered it before: %v", r, k, d.Duplicate, seen[k])
			}
			if !d.Duplicate {
				if d.Counter <= fifo[d.Sender] {
					fail("%s delivers %v after counter %d of the same sender (FIFO)", r, k, fifo[d.Sender])
				}
				fifo[d.Sender] = d.Counter
			}
			seen[k] = true
			if seqs[cur] == nil {
				seqs[cur] = map[uint64]msgKey{}
			}
			if other, ok := seqs[cur][d.Seq]; ok && other != k {
				fail("view %s seq %d is %v at %s but %v elsewhere (total order)", cur, d.Seq, k, r, other)
			}
			seqs[cur][d.Seq] = k
			inView = append(inView, k)
		}
	}
	for t, byRun := range delivered {
		var first NodeRef
		var want []msgKey
		for r, got := range byRun {
			if want == nil && first == (NodeRef{}) {
				first, want = r, got
				continue
			}
			if !slices.Equal(got, want) {
				fail("virtual synchrony: %s and %s both moved from %s to %s but delivered %d and %d messages in it: %v vs %v",
					first, r, t.from, t.to, len(want), len(got), short(want), short(got))
			}
		}
	}
	return errors.Join(errs...)
}

func short(ks []msgKey) []msgKey {
	if len(ks) > 6 {
		return ks[len(ks)-6:]
	}
	return ks
}
