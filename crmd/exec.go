package crmd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-ha/vigil/crmd/transition"
	lrmv1 "github.com/vigil-ha/vigil/proto/vigil/lrm/v1"
)

// frameExec marks the crm group messages of the transition engine (the
// replica's own frames are 'M' and 'C'): JSON of execEnvelope.
const frameExec = 'X'

// execEnvelope is one transition message: an action the DC asks a node to
// run, or a node's result.
type execEnvelope struct {
	Exec   *execMsg   `json:"exec,omitempty"`
	Result *resultMsg `json:"result,omitempty"`
}

// execMsg asks node To to run one resource action through its lrmd.
type execMsg struct {
	To            uint32            `json:"to"`
	TransitionKey string            `json:"key"`
	Rsc           string            `json:"rsc"`
	Class         string            `json:"class"`
	Provider      string            `json:"provider,omitempty"`
	Type          string            `json:"type"`
	Task          string            `json:"task"`
	IntervalMS    int               `json:"interval_ms,omitempty"`
	TimeoutMS     int               `json:"timeout_ms"`
	Params        map[string]string `json:"params,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"`
}

// resultMsg is the result of an action (or, Unsolicited, a change of a
// recurring monitor's result) sent by the node that ran it.
type resultMsg struct {
	From          uint32 `json:"from"`
	TransitionKey string `json:"key"`
	Rsc           string `json:"rsc"`
	Class         string `json:"class"`
	Provider      string `json:"provider,omitempty"`
	Type          string `json:"type"`
	Task          string `json:"task"`
	IntervalMS    int    `json:"interval_ms,omitempty"`
	RC            int    `json:"rc"`
	OpStatus      int    `json:"op_status"`
	ExitReason    string `json:"exit_reason,omitempty"`
	ExecMS        int    `json:"exec_ms"`
	QueueMS       int    `json:"queue_ms"`
	Unsolicited   bool   `json:"unsolicited,omitempty"`
	// replayed marks a result a new DC took from what this crmd heard
	// while another node was DC (Server.heard).
	replayed bool
}

// heardResult is a result this crmd heard while it was not the DC.
type heardResult struct {
	at time.Time
	r  resultMsg
}

// Results heard while another node is DC are kept this long (and at most
// this many), for this crmd to record if it becomes the DC: a DC that dies
// between an action's completion and its recording would otherwise lose
// the result, and the new DC would start the resource again elsewhere.
const (
	heardResultsFor = 5 * time.Minute
	heardResultsMax = 4096
)

// sendExecLocked multicasts a transition message; s.mu is held.
func (s *Server) sendExecLocked(env execEnvelope) {
	body, err := json.Marshal(env)
	if err != nil {
		panic("crmd: encoding a transition message: " + err.Error()) // plain data only
	}
	s.enqueueLocked([][]byte{append([]byte{frameExec}, body...)})
}

// deliverExecLocked handles a transition message delivered by the group;
// s.mu is held.
func (s *Server) deliverExecLocked(from uint32, body []byte) {
	var env execEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		s.log.Warn("malformed transition message", "from", from, "err", err)
		return
	}
	switch {
	case env.Exec != nil && env.Exec.To == s.node.ID:
		if s.lrm == nil {
			return
		}
		m := *env.Exec
		go s.runOp(s.ctx, m)
	case env.Result != nil && s.dc != nil:
		env.Result.From = from
		s.dc.addResult(*env.Result)
	case env.Result != nil:
		env.Result.From = from
		now := time.Now()
		kept := s.heard[:0]
		for _, h := range s.heard {
			if now.Sub(h.at) < heardResultsFor {
				kept = append(kept, h)
			}
		}
		s.heard = append(kept, heardResult{at: now, r: *env.Result})
		if len(s.heard) > heardResultsMax {
			s.heard = s.heard[len(s.heard)-heardResultsMax:]
		}
	}
}

// opStatusOf maps lrmd's statuses to Pacemaker's op-status.
var opStatusOf = map[lrmv1.Status]int{
	lrmv1.Status_STATUS_DONE:          transition.OpStatusDone,
	lrmv1.Status_STATUS_CANCELLED:     transition.OpStatusCancelled,
	lrmv1.Status_STATUS_TIMED_OUT:     transition.OpStatusTimedOut,
	lrmv1.Status_STATUS_NOT_SUPPORTED: transition.OpStatusNotSupported,
	lrmv1.Status_STATUS_ERROR:         transition.OpStatusError,
	lrmv1.Status_STATUS_NOT_INSTALLED: transition.OpStatusNotInstalled,
	lrmv1.Status_STATUS_PENDING:       transition.OpStatusPending,
}

// recurringKey names a recurring operation on this node.
type recurringKey struct {
	rsc, task  string
	intervalMS int
}

// recurringOp is what this node remembers of a recurring operation it
// armed for the DC: the transition key to report its changes with, and
// the last result reported.
type recurringOp struct {
	msg      execMsg
	targetRC int
	lastRC   int
	lastSt   int
}

// runOp runs one action on the local lrmd and sends its result to the
// group.
func (s *Server) runOp(ctx context.Context, m execMsg) {
	res := resultMsg{TransitionKey: m.TransitionKey, Rsc: m.Rsc, Class: m.Class, Provider: m.Provider, Type: m.Type,
		Task: m.Task, IntervalMS: m.IntervalMS, OpStatus: transition.OpStatusDone}
	start := time.Now()
	switch {
	case m.Class == "stonith":
		res = s.stonithOp(m)
	case m.Task == "cancel":
		// Calls wait for the lrmd's connection: bound the wait.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := s.lrm.Cancel(cctx, &lrmv1.CancelRequest{ResourceId: m.Rsc, Action: "monitor", Interval: durationpb.New(time.Duration(m.IntervalMS) * time.Millisecond)})
		cancel()
		if err != nil && status.Code(err) != codes.NotFound {
			res.OpStatus, res.RC, res.ExitReason = transition.OpStatusError, 1, err.Error()
		}
		s.mu.Lock()
		delete(s.recurring, recurringKey{m.Rsc, "monitor", m.IntervalMS})
		s.mu.Unlock()
	default:
		timeout := time.Duration(m.TimeoutMS) * time.Millisecond
		// The lrmd enforces the timeout and reports it; the call's own
		// deadline only guards against an lrmd that never answers.
		cctx, cancel := context.WithTimeout(ctx, timeout+10*time.Second)
		meta := map[string]string{}
		for k, v := range m.Meta {
			meta[k] = v
		}
		meta["timeout"] = fmt.Sprint(m.TimeoutMS)
		if m.IntervalMS > 0 {
			meta["interval"] = fmt.Sprint(m.IntervalMS)
		}
		resp, err := s.lrm.Exec(cctx, &lrmv1.ExecRequest{Operation: &lrmv1.Operation{
			ResourceId: m.Rsc, Agent: &lrmv1.Agent{Class: m.Class, Provider: m.Provider, Type: m.Type},
			Action: m.Task, Interval: durationpb.New(time.Duration(m.IntervalMS) * time.Millisecond),
			Timeout: durationpb.New(timeout), Parameters: m.Params, Meta: meta,
		}})
		cancel()
		if err != nil {
			res.OpStatus, res.RC, res.ExitReason = transition.OpStatusNotConnected, 1, "vigil-lrmd: "+err.Error()
			if status.Code(err) == codes.NotFound || status.Code(err) == codes.InvalidArgument {
				res.OpStatus = transition.OpStatusNotInstalled
				res.RC = 5
			}
		} else {
			r := resp.GetResult()
			res.RC, res.OpStatus, res.ExitReason = int(r.GetExitCode()), opStatusOf[r.GetStatus()], r.GetExitReason()
			res.ExecMS, res.QueueMS = int(r.GetExecTime().AsDuration().Milliseconds()), int(r.GetQueueTime().AsDuration().Milliseconds())
		}
		if res.ExecMS == 0 {
			res.ExecMS = int(time.Since(start).Milliseconds())
		}
		if m.Task == "stop" {
			s.mu.Lock()
			for k := range s.recurring {
				if k.rsc == m.Rsc {
					delete(s.recurring, k)
				}
			}
			s.mu.Unlock()
		}
		if m.IntervalMS > 0 {
			_, _, target, _, _ := transition.ParseTransitionKey(m.TransitionKey)
			s.mu.Lock()
			s.recurring[recurringKey{m.Rsc, m.Task, m.IntervalMS}] = &recurringOp{msg: m, targetRC: target, lastRC: res.RC, lastSt: res.OpStatus}
			s.mu.Unlock()
		}
	}
	s.log.Info("operation done", "rsc", m.Rsc, "task", m.Task, "interval_ms", m.IntervalMS, "rc", res.RC, "op_status", res.OpStatus, "key", m.TransitionKey)
	s.mu.Lock()
	s.sendExecLocked(execEnvelope{Result: &res})
	s.mu.Unlock()
}

// watchRecurring follows the local lrmd's results and reports to the DC
// every change of a recurring operation this node armed for it (a monitor
// that finds the resource failed).
func (s *Server) watchRecurring(ctx context.Context) {
	for ctx.Err() == nil {
		stream, err := s.lrm.WatchResults(ctx, &lrmv1.WatchResultsRequest{})
		if err == nil {
			for {
				ev, err := stream.Recv()
				if err != nil {
					break
				}
				s.recurringResult(ev.GetResult())
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Server) recurringResult(r *lrmv1.Result) {
	iv := int(r.GetInterval().AsDuration().Milliseconds())
	if iv == 0 || r.GetStatus() == lrmv1.Status_STATUS_CANCELLED || r.GetStatus() == lrmv1.Status_STATUS_PENDING {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.recurring[recurringKey{r.GetResourceId(), r.GetAction(), iv}]
	if !ok {
		return
	}
	rc, st := int(r.GetExitCode()), opStatusOf[r.GetStatus()]
	if rc == op.lastRC && st == op.lastSt {
		return
	}
	op.lastRC, op.lastSt = rc, st
	m := op.msg
	s.log.Warn("recurring operation changed its result", "rsc", m.Rsc, "task", m.Task, "interval_ms", iv, "rc", rc, "op_status", st)
	s.sendExecLocked(execEnvelope{Result: &resultMsg{TransitionKey: m.TransitionKey, Rsc: m.Rsc, Class: m.Class, Provider: m.Provider,
		Type: m.Type, Task: m.Task, IntervalMS: iv, RC: rc, OpStatus: st, ExitReason: r.GetExitReason(),
		ExecMS: int(r.GetExecTime().AsDuration().Milliseconds()), Unsolicited: true}})
}
