package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// ErrNoSuchResource is returned by Explain for an id the configuration
// does not have.
var ErrNoSuchResource = errors.New("scheduler: no such resource")

// Explanation says where a resource runs after a transition and why: the
// outcome and, node by node, the score the placement ended with and what
// made it.
type Explanation struct {
	Resource string
	// Outcome is one sentence: where the resource will run, or why it
	// will not.
	Outcome string
	Nodes   []NodeExplanation
}

// NodeExplanation is one node's score for a resource and its reasons, in
// words a person can act on.
type NodeExplanation struct {
	Node  string
	Score cib.Score
	// Allowed is false when the resource cannot run on the node at all.
	Allowed bool
	Reasons []string
}

// Explain explains the placement of resource id (a primitive, or a
// group, clone or clone instance: its first primitive) in a scheduled
// result.
func (res *Result) Explain(id string) (*Explanation, error) {
	cl, p := res.Cluster, res.p
	r := cl.byID[id]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchResource, id)
	}
	prims := r.primitives()
	if len(prims) == 0 {
		return &Explanation{Resource: id, Outcome: id + " has no primitives to place."}, nil
	}
	q := prims[0]
	ex := &Explanation{Resource: id, Outcome: outcome(r, q)}
	if cl.noFencingDevice {
		ex.Outcome = "Nothing is started or stopped: stonith-enabled=true but no stonith resource is configured (configure one, or set stonith-enabled=false). " + ex.Outcome
	}
	ancestors := []*Resource{}
	for a := q; a != nil; a = a.Parent {
		ancestors = append(ancestors, a)
	}
	for _, n := range cl.Nodes {
		ne := NodeExplanation{Node: n.Name}
		base, ok := q.Allowed[n.Name]
		s := base
		if fw := topOf(q).placedWith; fw != nil && q.cloneParent() == nil {
			s, ok = fw[n.Name]
		}
		ne.Score, ne.Allowed = s, ok && n.canRun() && s > -cib.Infinity
		if !ok {
			ne.Score = -cib.Infinity
		}
		if why := nodeState(n); why != "" {
			ne.Reasons = append(ne.Reasons, why)
		}
		if cl.Options.SymmetricCluster {
			ne.Reasons = append(ne.Reasons, "the cluster is symmetric: every node starts at 0")
		} else {
			ne.Reasons = append(ne.Reasons, "the cluster is opt-in (symmetric-cluster=false): only nodes a location constraint names can run it")
		}
		ne.Reasons = append(ne.Reasons, p.locationReasons(ancestors, n)...)
		if len(q.Running) == 1 && q.Running[0] == n && q.Stickiness != 0 {
			ne.Reasons = append(ne.Reasons, fmt.Sprintf("it runs here now: resource-stickiness adds %s", q.Stickiness))
		}
		ne.Reasons = append(ne.Reasons, p.failureReasons(q, n)...)
		ne.Reasons = append(ne.Reasons, p.colocationReasons(ancestors, n)...)
		if cl.Options.PlacementStrategy != "default" {
			if need := q.utilization(); len(need) > 0 {
				fits := "it fits if the resources placed before it leave room"
				for k, v := range need {
					if n.Utilization[k] < v {
						fits = "the node is too small for it"
						ne.Allowed = false
					}
				}
				ne.Reasons = append(ne.Reasons, fmt.Sprintf("placement-strategy=%s: it needs %s; the node offers %s: %s",
					cl.Options.PlacementStrategy, utilString(need), utilString(n.Utilization), fits))
			}
		}
		if ok && s != base {
			ne.Reasons = append(ne.Reasons, fmt.Sprintf("its own score here is %s; colocations (and the resources colocated with it) make it %s", base, s))
		}
		if q.Assigned == n {
			ne.Reasons = append(ne.Reasons, "chosen: the highest score among the nodes that can take it")
		}
		ex.Nodes = append(ex.Nodes, ne)
	}
	return ex, nil
}

func outcome(r, q *Resource) string {
	switch {
	case q.Assigned != nil && len(q.Running) == 1 && q.Running[0] == q.Assigned && !q.Failed:
		return fmt.Sprintf("%s stays on %s.", r.ID, q.Assigned.Name)
	case q.Assigned != nil && len(q.Running) == 1 && q.Running[0] == q.Assigned:
		return fmt.Sprintf("%s failed on %s and is recovered there.", r.ID, q.Assigned.Name)
	case q.Assigned != nil && len(q.Running) > 0:
		return fmt.Sprintf("%s moves from %s to %s.", r.ID, names(q.Running), q.Assigned.Name)
	case q.Assigned != nil:
		return fmt.Sprintf("%s starts on %s.", r.ID, q.Assigned.Name)
	case q.TargetRole == RoleStopped || inheritedStopped(q):
		return fmt.Sprintf("%s is stopped on purpose: target-role=Stopped.", r.ID)
	case !q.Managed:
		return fmt.Sprintf("%s is not managed (is-managed=false, maintenance or a blocked failure): the cluster leaves it alone.", r.ID)
	default:
		return fmt.Sprintf("%s cannot run anywhere: no node has a score of 0 or more and can run resources (see each node).", r.ID)
	}
}

func nodeState(n *Node) string {
	switch {
	case n.Unclean:
		return "the node is UNCLEAN: it runs nothing until it is fenced"
	case !n.Online:
		return "the node is offline"
	case n.Pending:
		return "the node is pending (not yet a member): it runs nothing"
	case n.Standby:
		return "the node is in standby: it runs nothing (vigil node online clears it)"
	case n.Maintenance:
		return "the node is in maintenance: nothing is started or stopped there"
	case n.Shutdown:
		return "the node is shutting down"
	}
	return ""
}

func (p *placement) locationReasons(ancestors []*Resource, n *Node) []string {
	var out []string
	for _, loc := range p.cl.CIB.Configuration.Locations() {
		for _, a := range ancestors {
			var sub []string
			switch {
			case loc.Rsc == a.Base || loc.Rsc == a.ID:
			case loc.RscPattern != "" && a.Parent == nil:
				if sub = matchPattern(loc.RscPattern, a.ID); sub == nil {
					continue
				}
			default:
				continue
			}
			// Evaluate the constraint alone on a scratch copy.
			tmp := *a
			tmp.Allowed = map[string]cib.Score{}
			saved := p.promoLoc
			p.promoLoc = map[*Resource]map[string]cib.Score{}
			p.applyLocation(loc, &tmp, sub)
			promo := p.promoLoc[&tmp]
			p.promoLoc = saved
			of := ""
			if a.ID != ancestors[0].ID {
				of = " (on " + a.ID + ")"
			}
			if s, ok := tmp.Allowed[n.Name]; ok {
				out = append(out, fmt.Sprintf("location constraint %s%s: %s", loc.ID, of, scoreWords(s)))
			} else if s, ok := promo[n.Name]; ok {
				out = append(out, fmt.Sprintf("location constraint %s%s for the Promoted role: %s to its promotion score", loc.ID, of, s))
			}
		}
	}
	return out
}

func scoreWords(s cib.Score) string {
	switch {
	case s >= cib.Infinity:
		return "+INFINITY (it must run here if it can)"
	case s <= -cib.Infinity:
		return "-INFINITY (it may never run here)"
	case s < 0:
		return fmt.Sprintf("%s (it avoids this node)", s)
	case s == 0:
		return "0 (no preference)"
	}
	return fmt.Sprintf("+%s (it prefers this node)", s)
}

func (p *placement) failureReasons(q *Resource, n *Node) []string {
	var out []string
	if h := q.history[n.Name]; h != nil {
		switch {
		case h.hardBan:
			out = append(out, "a hard error (not installed or not configured) bans it from this node until its failures are cleaned up")
		case h.failedStart && p.cl.Options.StartFailureIsFatal:
			out = append(out, "its start failed here and start-failure-is-fatal is true: banned until the failure is cleaned up")
		}
	}
	fc, expired := p.failCount(q, n)
	switch {
	case fc > 0 && expired:
		out = append(out, fmt.Sprintf("%d failures here have expired (failure-timeout): they no longer count", fc))
	case fc > 0 && q.MigrationThreshold > 0 && fc >= q.MigrationThreshold:
		out = append(out, fmt.Sprintf("%d failures here reached migration-threshold=%s: banned until they are cleaned up or expire", fc, cib.Score(q.MigrationThreshold)))
	case fc > 0:
		out = append(out, fmt.Sprintf("%d failures here, below migration-threshold=%s", fc, cib.Score(q.MigrationThreshold)))
	}
	return out
}

func (p *placement) colocationReasons(ancestors []*Resource, n *Node) []string {
	var out []string
	for _, c := range p.colocs {
		for _, a := range ancestors {
			if c.Dep != a {
				continue
			}
			where := c.Prim.assignedNode()
			state := "which runs nowhere"
			if where != nil {
				state = "which runs on " + where.Name
			}
			here := where != nil && where == n
			if c.Attr != "" && where != nil {
				here = n.Attrs[c.Attr] != "" && n.Attrs[c.Attr] == where.Attrs[c.Attr]
			}
			effect := "does not apply to this node"
			switch {
			case here && c.Score > 0:
				effect = "pulls it here"
			case here && c.Score < 0:
				effect = "pushes it away from here"
			case !here && c.Score >= cib.Infinity:
				effect = "rules this node out"
			}
			out = append(out, fmt.Sprintf("colocation %s: with %s (score %s), %s: %s", c.ID, c.Prim.ID, c.Score, state, effect))
		}
	}
	return out
}

func utilString(m map[string]int) string {
	if len(m) == 0 {
		return "nothing"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// Text renders an explanation for a terminal.
func (ex *Explanation) Text() string {
	var b strings.Builder
	b.WriteString(ex.Outcome + "\n")
	for _, ne := range ex.Nodes {
		verdict := "can run it"
		if !ne.Allowed {
			verdict = "cannot run it"
		}
		fmt.Fprintf(&b, "\n%s: score %s, %s\n", ne.Node, ne.Score, verdict)
		for _, r := range ne.Reasons {
			fmt.Fprintf(&b, "  - %s\n", r)
		}
	}
	return b.String()
}
