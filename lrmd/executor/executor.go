// Package executor is the core of vigil-lrmd (Pacemaker's
// pacemaker-execd): it runs operations of resource agents through their
// classes, one at a time per resource and in the order they were asked for,
// different resources in parallel; runs recurring monitors itself; keeps
// the last result of each operation of each resource; and publishes
// results to subscribers.
package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// Errors callers branch on.
var (
	// ErrClosed: the executor was closed.
	ErrClosed = errors.New("executor: closed")
	// ErrNotFound: no such recurring operation.
	ErrNotFound = errors.New("executor: no such recurring operation")
	// ErrNoInterval: a recurring operation needs a positive interval.
	ErrNoInterval = errors.New("executor: recurring operation without interval")
	// ErrUnknownClass: no class of that name is registered.
	ErrUnknownClass = errors.New("executor: unknown class")
)

// Defaults of Options.
const (
	DefaultTimeout     = 20 * time.Second
	DefaultEventBuffer = 256
)

// Options tunes an Executor; the zero value is usable.
type Options struct {
	// Logger receives the executor's log; slog.Default() when nil.
	Logger *slog.Logger
	// DefaultTimeout applies to operations whose Timeout is zero;
	// DefaultTimeout when zero.
	DefaultTimeout time.Duration
	// EventBuffer is the capacity of each subscriber's channel;
	// DefaultEventBuffer when zero.
	EventBuffer int
	// Context, when set, ends the executor's work as Close does (running
	// agents are killed, recurring operations stop); Close must still be
	// called to wait for it.
	Context context.Context
}

// Event is a result published to subscribers: every result of a one-shot
// operation, and the results of a recurring operation that differ from its
// previous one (status, exit code or exit reason), including its
// cancellation.
type Event struct {
	CallID    int64
	Op        agent.Operation
	Result    agent.Result
	QueueTime time.Duration
}

// HistoryEntry is the last result of one operation (action and interval)
// of a resource.
type HistoryEntry struct {
	CallID int64
	Op     agent.Operation
	// Result.Status is StatusPending while the operation runs.
	Result agent.Result
	// QueueTime is how long the operation waited behind the resource's
	// other operations; Result.ExecTime how long the agent ran.
	QueueTime time.Duration
}

type opKey struct {
	resource, action string
	interval         time.Duration
}

type histKey struct {
	action   string
	interval time.Duration
}

// Executor runs operations. Its methods are safe for concurrent use.
type Executor struct {
	log            *slog.Logger
	defaultTimeout time.Duration
	eventBuffer    int
	classes        map[string]agent.Class

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	nextCall  int64
	queues    map[string]*queue
	recurring map[opKey]*recurring
	history   map[string]map[histKey]HistoryEntry
	subs      map[*subscriber]struct{}
}

type queue struct {
	jobs    []*job
	running bool
}

type job struct {
	callID   int64
	op       agent.Operation
	ctx      context.Context // skipped when done before it starts
	kill     bool            // ctx ending also kills the running agent
	enqueued time.Time
	done     chan Event // buffered: the worker never blocks
}

type recurring struct {
	op     agent.Operation
	callID int64
	cancel context.CancelFunc
}

type subscriber struct {
	ch      chan Event
	dropped int
}

// New returns an executor running the given classes with default Options.
func New(classes ...agent.Class) *Executor {
	return NewWithOptions(Options{}, classes...)
}

// NewWithOptions returns an executor running the given classes. Close it
// to stop everything it runs.
func NewWithOptions(opts Options, classes ...agent.Class) *Executor {
	e := &Executor{
		log:            opts.Logger,
		defaultTimeout: opts.DefaultTimeout,
		eventBuffer:    opts.EventBuffer,
		classes:        map[string]agent.Class{},
		queues:         map[string]*queue{},
		recurring:      map[opKey]*recurring{},
		history:        map[string]map[histKey]HistoryEntry{},
		subs:           map[*subscriber]struct{}{},
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.defaultTimeout <= 0 {
		e.defaultTimeout = DefaultTimeout
	}
	if e.eventBuffer <= 0 {
		e.eventBuffer = DefaultEventBuffer
	}
	for _, c := range classes {
		e.classes[c.Name()] = c
	}
	parent := opts.Context
	if parent == nil {
		parent = context.Background()
	}
	e.ctx, e.cancel = context.WithCancel(parent)
	return e
}

// Classes returns the names of the registered classes, sorted.
func (e *Executor) Classes() []string {
	names := make([]string, 0, len(e.classes))
	for n := range e.classes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Class returns the registered class of that name, or ErrUnknownClass.
func (e *Executor) Class(name string) (agent.Class, error) {
	c, ok := e.classes[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownClass, name)
	}
	return c, nil
}

// Exec runs op once and returns its result, after the operations of the
// same resource asked for before it. op.Timeout (DefaultTimeout when zero)
// bounds the run; when ctx ends first, the agent is killed and the result
// is StatusCancelled. A stop first cancels every recurring operation of
// the resource. An unknown class is StatusNotInstalled; a closed executor
// StatusError.
func (e *Executor) Exec(ctx context.Context, op agent.Operation) agent.Result {
	if op.Timeout <= 0 {
		op.Timeout = e.defaultTimeout
	}
	if op.Action == "stop" {
		e.cancelResource(op.ResourceID)
	}
	j, err := e.enqueue(ctx, op, 0, true)
	if err != nil {
		return agent.Result{Status: agent.StatusError, ExitCode: int(ocf.ErrGeneric), Output: err.Error(), Started: time.Now()}
	}
	select {
	case ev := <-j.done:
		return ev.Result
	case <-ctx.Done():
		return agent.Result{Status: agent.StatusCancelled, ExitCode: int(ocf.ErrGeneric),
			Output: "cancelled by the caller: " + ctx.Err().Error(), Started: time.Now()}
	}
}

// enqueue queues op on its resource's queue with a new call id unless
// callID is given, and starts the resource's worker if idle.
func (e *Executor) enqueue(ctx context.Context, op agent.Operation, callID int64, kill bool) (*job, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if callID == 0 {
		e.nextCall++
		callID = e.nextCall
	}
	j := &job{callID: callID, op: op, ctx: ctx, kill: kill, enqueued: time.Now(), done: make(chan Event, 1)}
	q := e.queues[op.ResourceID]
	if q == nil {
		q = &queue{}
		e.queues[op.ResourceID] = q
	}
	q.jobs = append(q.jobs, j)
	if !q.running {
		q.running = true
		e.wg.Add(1)
		go e.work(op.ResourceID, q)
	}
	return j, nil
}

// work runs the jobs of one resource's queue in order until it is empty.
func (e *Executor) work(resource string, q *queue) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			delete(e.queues, resource)
			e.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs = q.jobs[1:]
		e.mu.Unlock()
		ev := e.run(j)
		j.done <- ev
	}
}

// run runs one job and records its result.
func (e *Executor) run(j *job) Event {
	ev := Event{CallID: j.callID, Op: j.op, QueueTime: time.Since(j.enqueued)}
	if err := j.ctx.Err(); err != nil || e.ctx.Err() != nil {
		ev.Result = agent.Result{Status: agent.StatusCancelled, ExitCode: int(ocf.ErrGeneric), Output: "cancelled before it ran", Started: time.Now()}
		return ev
	}
	c, ok := e.classes[j.op.Class]
	if !ok {
		ev.Result = agent.Result{Status: agent.StatusNotInstalled, ExitCode: int(ocf.ErrInstalled),
			Output: fmt.Sprintf("no class %q (classes: %v)", j.op.Class, e.Classes()), Started: time.Now()}
		e.record(ev)
		return ev
	}
	e.record(Event{CallID: j.callID, Op: j.op, QueueTime: ev.QueueTime,
		Result: agent.Result{Status: agent.StatusPending, Started: time.Now()}})
	ctx, cancel := context.WithTimeout(e.ctx, j.op.Timeout)
	defer cancel()
	if j.kill {
		stop := context.AfterFunc(j.ctx, cancel)
		defer stop()
	}
	ev.Result = c.Exec(ctx, j.op)
	if ev.Result.Status == agent.StatusTimedOut {
		e.log.Warn("operation timed out", "resource", j.op.ResourceID, "action", j.op.Action,
			"interval", j.op.Interval, "timeout", j.op.Timeout, "call", j.callID)
	}
	e.record(ev)
	if j.op.Interval == 0 {
		e.publish(ev)
	}
	return ev
}

func (e *Executor) record(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.history[ev.Op.ResourceID]
	if h == nil {
		h = map[histKey]HistoryEntry{}
		e.history[ev.Op.ResourceID] = h
	}
	h[histKey{ev.Op.Action, ev.Op.Interval}] = HistoryEntry(ev)
}

// History returns the last result of each operation of the resource,
// sorted by action and interval; nil if it never ran anything.
func (e *Executor) History(resourceID string) []HistoryEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []HistoryEntry
	for _, h := range e.history[resourceID] {
		out = append(out, h)
	}
	sort.Slice(out, func(i, k int) bool {
		if out[i].Op.Action != out[k].Op.Action {
			return out[i].Op.Action < out[k].Op.Action
		}
		return out[i].Op.Interval < out[k].Op.Interval
	})
	return out
}

// Resources returns the ids of the resources with a history, sorted.
func (e *Executor) Resources() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]string, 0, len(e.history))
	for id := range e.history {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ForgetResource drops the resource's history (after it was deleted from
// the configuration). Its recurring operations are cancelled.
func (e *Executor) ForgetResource(resourceID string) {
	e.cancelResource(resourceID)
	e.mu.Lock()
	delete(e.history, resourceID)
	e.mu.Unlock()
}

// StartRecurring registers a recurring operation: it runs now, then again
// one op.Interval after each run completed, until cancelled (by Cancel, a
// stop of the resource, or Close). Its results go to History and, when
// they change, to subscribers. A duplicate (same resource, action and
// interval as a registered one) is merged into it: the registered one
// stays and its call id is returned.
func (e *Executor) StartRecurring(op agent.Operation) (int64, error) {
	if op.Interval <= 0 {
		return 0, ErrNoInterval
	}
	if op.Timeout <= 0 {
		op.Timeout = e.defaultTimeout
	}
	k := opKey{op.ResourceID, op.Action, op.Interval}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	if r, ok := e.recurring[k]; ok {
		return r.callID, nil
	}
	e.nextCall++
	ctx, cancel := context.WithCancel(e.ctx)
	r := &recurring{op: op, callID: e.nextCall, cancel: cancel}
	e.recurring[k] = r
	e.wg.Add(1)
	go e.loop(ctx, r)
	return r.callID, nil
}

func (e *Executor) loop(ctx context.Context, r *recurring) {
	defer e.wg.Done()
	var last *agent.Result
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		j, err := e.enqueue(ctx, r.op, r.callID, false)
		if err != nil {
			return
		}
		ev := <-j.done
		if ctx.Err() != nil {
			return
		}
		if last == nil || changed(*last, ev.Result) {
			e.publish(ev)
		}
		last = &ev.Result
		timer.Reset(r.op.Interval)
	}
}

func changed(a, b agent.Result) bool {
	return a.Status != b.Status || a.ExitCode != b.ExitCode || a.ExitReason != b.ExitReason
}

// Cancel cancels a recurring operation: it is not run again, a run
// waiting in the queue is dropped, a running one finishes but its result
// is not published. Subscribers get a StatusCancelled event. ErrNotFound
// if no such operation is registered.
func (e *Executor) Cancel(resourceID, action string, interval time.Duration) error {
	e.mu.Lock()
	k := opKey{resourceID, action, interval}
	r, ok := e.recurring[k]
	if ok {
		delete(e.recurring, k)
	}
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s %s every %s", ErrNotFound, resourceID, action, interval)
	}
	e.cancelled(r)
	return nil
}

func (e *Executor) cancelResource(resourceID string) {
	e.mu.Lock()
	var rs []*recurring
	for k, r := range e.recurring {
		if k.resource == resourceID {
			rs = append(rs, r)
			delete(e.recurring, k)
		}
	}
	e.mu.Unlock()
	for _, r := range rs {
		e.cancelled(r)
	}
}

func (e *Executor) cancelled(r *recurring) {
	r.cancel()
	ev := Event{CallID: r.callID, Op: r.op, Result: agent.Result{Status: agent.StatusCancelled, Started: time.Now()}}
	e.mu.Lock()
	if h := e.history[r.op.ResourceID]; h != nil {
		hk := histKey{r.op.Action, r.op.Interval}
		if old, ok := h[hk]; ok && old.CallID == r.callID {
			old.Result.Status = agent.StatusCancelled
			h[hk] = old
		}
	}
	e.mu.Unlock()
	e.publish(ev)
}

// Recurring returns the registered recurring operations of the resource,
// or of every resource when resourceID is "".
func (e *Executor) Recurring(resourceID string) []agent.Operation {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ops []agent.Operation
	for k, r := range e.recurring {
		if resourceID == "" || k.resource == resourceID {
			ops = append(ops, r.op)
		}
	}
	sort.Slice(ops, func(i, k int) bool {
		a, b := ops[i], ops[k]
		if a.ResourceID != b.ResourceID {
			return a.ResourceID < b.ResourceID
		}
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Interval < b.Interval
	})
	return ops
}

// Subscribe returns a channel of published results and a function that
// ends the subscription and closes the channel. The channel is buffered
// (Options.EventBuffer); a subscriber that does not keep up loses events,
// never blocking the executor. Close closes every subscriber's channel.
func (e *Executor) Subscribe() (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, e.eventBuffer)}
	e.mu.Lock()
	if e.closed {
		close(s.ch)
	} else {
		e.subs[s] = struct{}{}
	}
	e.mu.Unlock()
	return s.ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if _, ok := e.subs[s]; ok {
			delete(e.subs, s)
			close(s.ch)
		}
	}
}

func (e *Executor) publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.subs {
		select {
		case s.ch <- ev:
		default:
			s.dropped++
			e.log.Warn("subscriber too slow, event dropped", "resource", ev.Op.ResourceID,
				"action", ev.Op.Action, "call", ev.CallID, "dropped", s.dropped)
		}
	}
}

// Close cancels every recurring operation, kills the running agents
// (their results are StatusTimedOut or StatusCancelled), waits for every
// goroutine of the executor and closes the subscribers' channels. Later
// operations fail with ErrClosed.
func (e *Executor) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.recurring = map[opKey]*recurring{}
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.mu.Lock()
	for s := range e.subs {
		close(s.ch)
	}
	e.subs = map[*subscriber]struct{}{}
	e.mu.Unlock()
}
