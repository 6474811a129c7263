package main

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/scheduler"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// StatusJSON is `vigil status -o json`: what crm_mon -1 shows, as data.
// Field names are stable; new fields may be added.
type StatusJSON struct {
	// LastUpdated is empty when the time is left out (vigil status
	// --watch -o json compares states without it).
	LastUpdated   string               `json:"last_updated,omitempty"`
	DC            string               `json:"dc"`
	Quorate       bool                 `json:"quorate"`
	Local         string               `json:"local,omitempty"`
	CIBVersion    string               `json:"cib_version"`
	Nodes         []StatusNodeJSON     `json:"nodes"`
	Resources     []StatusResourceJSON `json:"resources"`
	FailedActions []FailedActionJSON   `json:"failed_actions"`
}

// StatusNodeJSON is one node.
type StatusNodeJSON struct {
	Name        string `json:"name"`
	ID          string `json:"id"`
	Online      bool   `json:"online"`
	Standby     bool   `json:"standby"`
	Maintenance bool   `json:"maintenance"`
	Shutdown    bool   `json:"shutdown"`
	Unclean     bool   `json:"unclean"`
}

// StatusResourceJSON is one primitive (or clone instance).
type StatusResourceJSON struct {
	ID         string         `json:"id"`
	Agent      string         `json:"agent"`
	Role       string         `json:"role"`
	Nodes      []string       `json:"nodes"`
	TargetRole string         `json:"target_role,omitempty"`
	Failed     bool           `json:"failed"`
	Managed    bool           `json:"managed"`
	FailCounts map[string]int `json:"fail_counts,omitempty"`
}

// FailedActionJSON is one recorded failure (RSC_last_failure_0).
type FailedActionJSON struct {
	Operation  string `json:"operation"`
	Node       string `json:"node"`
	RC         int    `json:"rc"`
	RCText     string `json:"rc_text"`
	Status     string `json:"status"`
	ExitReason string `json:"exit_reason,omitempty"`
	LastChange string `json:"last_rc_change,omitempty"`
}

// statusJSON builds the JSON status; a zero now leaves the time out.
func statusJSON(c *cib.CIB, st cibclient.Status, local string, now time.Time) StatusJSON {
	evalAt := now
	if evalAt.IsZero() {
		evalAt = time.Now()
	}
	cl := scheduler.Unpack(transition.WithNodes(c), evalAt)
	out := StatusJSON{DC: st.DC, Quorate: st.Quorate, Local: local, CIBVersion: c.Version.String(),
		Nodes: []StatusNodeJSON{}, Resources: []StatusResourceJSON{}, FailedActions: []FailedActionJSON{}}
	if !now.IsZero() {
		out.LastUpdated = now.UTC().Format(time.RFC3339)
	}
	for _, n := range cl.Nodes {
		out.Nodes = append(out.Nodes, StatusNodeJSON{Name: n.Name, ID: n.ID, Online: n.Online, Standby: n.Standby,
			Maintenance: n.Maintenance, Shutdown: n.Shutdown, Unclean: n.Unclean})
	}
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].Name < out.Nodes[j].Name })
	for _, r := range cl.Primitives() {
		j := StatusResourceJSON{ID: r.ID, Role: r.Role, Nodes: []string{}, TargetRole: r.TargetRole, Failed: r.Failed, Managed: r.Managed}
		if r.Cfg != nil {
			j.Agent = r.Cfg.Agent()
		}
		for _, n := range r.Running {
			j.Nodes = append(j.Nodes, n.Name)
		}
		sort.Strings(j.Nodes)
		if len(j.Nodes) == 0 {
			j.Role = "Stopped"
		}
		if fc := failCounts(c, r.Base); len(fc) > 0 {
			j.FailCounts = fc
		}
		out.Resources = append(out.Resources, j)
	}
	for _, ns := range c.Status.NodeStates {
		if ns.LRM == nil {
			continue
		}
		for _, lr := range ns.LRM.Resources {
			for _, o := range lr.Ops {
				if !strings.HasSuffix(o.ID, "_last_failure_0") {
					continue
				}
				rc, _ := o.RC()
				stc, _ := o.Status()
				f := FailedActionJSON{Operation: o.OperationKey, Node: ns.Uname, RC: rc, RCText: ocfExitNames[rc],
					Status: opStatusNames[stc], ExitReason: o.ExitReason}
				if sec, err := strconv.ParseInt(o.LastRCChange, 10, 64); err == nil {
					f.LastChange = time.Unix(sec, 0).UTC().Format(time.RFC3339)
				}
				out.FailedActions = append(out.FailedActions, f)
			}
		}
	}
	sort.Slice(out.FailedActions, func(i, j int) bool {
		a, b := out.FailedActions[i], out.FailedActions[j]
		return a.Operation+"@"+a.Node < b.Operation+"@"+b.Node
	})
	return out
}
