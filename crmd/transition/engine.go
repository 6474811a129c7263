// Package transition is the transition engine of vigil-crmd, as pure code:
// Engine walks a scheduler Graph (which actions may run now, given the
// orderings, the batch limit and what completed), and the functions of
// record.go turn operation results and membership into status section
// changes with Pacemaker's fields. The runtime (crmd's DC loop) sends the
// actions, feeds results back and writes the status; nothing here reads a
// clock, sends a message or blocks.
package transition

import (
	"github.com/vigil-ha/vigil/crmd/scheduler"
)

// State is where one action of a transition is.
type State int

// The states of an action.
const (
	Waiting State = iota
	InFlight
	Done
	Failed
)

// Engine executes one transition: the executed actions of a Graph
// (runnable and not optional) in an order its edges allow. It is not safe
// for concurrent use.
type Engine struct {
	actions []*scheduler.Action
	// preds[i] are the indexes of the executed actions i waits for.
	preds   [][]int
	index   map[*scheduler.Action]int
	state   []State
	limit   int
	flight  int
	aborted bool
	reason  string
}

// New returns the engine of g. batchLimit bounds the actions in flight at
// once (pseudo actions do not count); 0 or less means no bound.
func New(g *scheduler.Graph, batchLimit int) *Engine {
	e := &Engine{limit: batchLimit, index: map[*scheduler.Action]int{}}
	for _, a := range g.Executed() {
		e.index[a] = len(e.actions)
		e.actions = append(e.actions, a)
	}
	e.preds = make([][]int, len(e.actions))
	e.state = make([]State, len(e.actions))
	for _, ed := range g.Edges {
		f, ok1 := e.index[ed.First]
		t, ok2 := e.index[ed.Then]
		if !ok1 || !ok2 || f == t {
			continue
		}
		e.preds[t] = append(e.preds[t], f)
	}
	return e
}

// Actions are the actions the transition executes.
func (e *Engine) Actions() []*scheduler.Action { return e.actions }

// Len is the number of actions the transition executes.
func (e *Engine) Len() int { return len(e.actions) }

// Next returns the actions to send now and marks them in flight: those
// whose predecessors are all done, within the batch limit. Pseudo actions
// complete here at once and are never returned. After Abort it returns
// nothing.
func (e *Engine) Next() []*scheduler.Action {
	var out []*scheduler.Action
	for progress := true; progress && !e.aborted; {
		progress = false
		for i, a := range e.actions {
			if e.state[i] != Waiting || !e.ready(i) {
				continue
			}
			if a.Pseudo {
				e.state[i] = Done
				progress = true
				continue
			}
			if e.limit > 0 && e.flight >= e.limit {
				continue
			}
			e.state[i] = InFlight
			e.flight++
			out = append(out, a)
		}
	}
	if len(out) == 0 && e.flight == 0 && !e.aborted && !e.allDone() {
		// What is left waits for something that never completes (an
		// ordering loop): end the transition rather than hang.
		e.Abort("the remaining actions can never run")
	}
	return out
}

func (e *Engine) allDone() bool {
	for _, s := range e.state {
		if s != Done {
			return false
		}
	}
	return true
}

func (e *Engine) ready(i int) bool {
	for _, p := range e.preds[i] {
		if e.state[p] != Done {
			return false
		}
	}
	return true
}

// Complete records the outcome of an action in flight. An action that did
// not do what the graph expected aborts the transition: nothing more is
// sent, and the runtime reschedules once the actions in flight are back.
// It reports whether a was in flight.
func (e *Engine) Complete(a *scheduler.Action, ok bool) bool {
	i, known := e.index[a]
	if !known || e.state[i] != InFlight {
		return false
	}
	e.flight--
	if ok {
		e.state[i] = Done
		return true
	}
	e.state[i] = Failed
	e.Abort("action " + a.Key() + " failed")
	return true
}

// Abort stops the transition from sending more actions; the first reason
// given is kept.
func (e *Engine) Abort(reason string) {
	if !e.aborted {
		e.aborted, e.reason = true, reason
	}
}

// Aborted reports whether the transition was aborted, and why.
func (e *Engine) Aborted() (bool, string) { return e.aborted, e.reason }

// State returns the state of an action of the transition.
func (e *Engine) State(a *scheduler.Action) State {
	if i, ok := e.index[a]; ok {
		return e.state[i]
	}
	return Waiting
}

// InFlight returns the actions sent and not yet complete.
func (e *Engine) InFlight() []*scheduler.Action {
	var out []*scheduler.Action
	for i, a := range e.actions {
		if e.state[i] == InFlight {
			out = append(out, a)
		}
	}
	return out
}

// Finished reports whether the transition is over: nothing in flight, and
// every action done or the transition aborted. A transition whose
// remaining actions can never become ready (their predecessor failed)
// is aborted, so it finishes too.
func (e *Engine) Finished() bool {
	if e.flight > 0 {
		return false
	}
	return e.aborted || e.allDone()
}
