package scheduler

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// expGraph is the part of Pacemaker's transition graph (.exp) the edge
// test reads: each synapse's action and the actions it waits for.
type expGraph struct {
	Synapses []struct {
		Action struct {
			A expAction `xml:",any"`
		} `xml:"action_set"`
		Inputs []struct {
			A expAction `xml:",any"`
		} `xml:"inputs>trigger"`
	} `xml:"synapse"`
}

type expAction struct {
	XMLName xml.Name
	Op      string `xml:"operation,attr"`
	Key     string `xml:"operation_key,attr"`
	Node    string `xml:"on_node,attr"`
}

// edgeKey names an action the same way for both graphs: the operation, its
// key (a cancel by the key of the monitor it cancels) and the node of a
// resource operation; a pseudo action by its key alone (Pacemaker names the
// operation of a notification milestone "notified" or "notify").
func (a expAction) edgeKey() string {
	if a.XMLName.Local == "pseudo_event" {
		return "pseudo " + a.Key
	}
	if a.XMLName.Local != "rsc_op" {
		return a.Op + " " + a.Key
	}
	return a.Op + " " + a.Key + " " + a.Node
}

func vigilEdgeKey(a *Action) string {
	key := a.Key()
	if a.Task == "cancel" {
		key = a.Name + "_monitor_" + strconv.Itoa(a.Interval)
	}
	if a.Pseudo {
		return "pseudo " + key
	}
	if a.Node == nil {
		return a.Task + " " + key
	}
	return a.Task + " " + key + " " + a.Node.Name
}

// recurringOrCancel reports whether an edge key names a recurring monitor
// or a cancel.
func recurringOrCancel(k string) bool {
	f := strings.Fields(k)
	return f[0] == "cancel" || (f[0] == "monitor" && !strings.HasSuffix(f[1], "_0"))
}

// TestGraphMonitorEdges checks the orderings of recurring monitors and
// cancels against Pacemaker's graphs of the conformance cases: every edge
// of the .exp that touches one, between two actions Vigil executes, is an
// edge of Vigil's Graph, and Vigil has no such edge Pacemaker lacks.
func TestGraphMonitorEdges(t *testing.T) {
	dir := caseDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "exp", "*.exp"))
	if len(files) == 0 {
		t.Skipf("no graphs at %s", dir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".exp")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g expGraph
		if err := xml.Unmarshal(data, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "xml", name+".xml"))
		if err != nil {
			continue
		}
		c, err := cib.Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in := Input{CIB: c, Now: time.Now()}
		if t, ok := ExecutionDate(c); ok {
			in.Now = t
		}
		res := Schedule(in)
		exec := map[string]bool{}
		for _, a := range res.Graph.Executed() {
			exec[vigilEdgeKey(a)] = true
		}
		have := map[string]bool{}
		for _, e := range res.Graph.Edges {
			f, th := vigilEdgeKey(e.First), vigilEdgeKey(e.Then)
			if exec[f] && exec[th] && (recurringOrCancel(f) || recurringOrCancel(th)) {
				have[f+" -> "+th] = true
			}
		}
		want := map[string]bool{}
		for _, s := range g.Synapses {
			th := s.Action.A.edgeKey()
			for _, in := range s.Inputs {
				f := in.A.edgeKey()
				if recurringOrCancel(f) || recurringOrCancel(th) {
					want[f+" -> "+th] = true
				}
			}
		}
		for e := range want {
			parts := strings.Split(e, " -> ")
			if exec[parts[0]] && exec[parts[1]] && !have[e] {
				t.Errorf("%s: Pacemaker orders %s; Vigil's graph does not", name, e)
			}
		}
		for e := range have {
			if !want[e] {
				t.Errorf("%s: Vigil orders %s; Pacemaker's graph does not", name, e)
			}
		}
	}
}
