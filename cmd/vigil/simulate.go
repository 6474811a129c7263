package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/scheduler"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// newSimulateCommand is crm_simulate's counterpart: run the scheduler on a
// CIB file and show what it would do.
func newSimulateCommand(g *globalFlags) *cobra.Command {
	var file, graphFile, dotFile, when string
	var live, simulate, scores bool
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Run the scheduler on a CIB (like crm_simulate -x FILE -S)",
		Long: `Run the scheduler on a CIB and print what it decides, like crm_simulate:
-S prints the cluster status, the transition summary, the actions the
transition executes and the status after them; -s prints the allocation
scores; -G saves the transition graph (JSON: actions and edges) and -D a DOT
graph; -t sets the time rules are evaluated at (ISO 8601, "2005-020T12:30").
Without -x (or with -L) it reads the live CIB from vigil-crmd (--dir/--node
or --config): what the DC would do now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if live && file != "" {
				return usagef("-L and -x %s: give one CIB, the live one or a file", file)
			}
			c, err := cibFromFileOrLive(cmd.Context(), g, file)
			if err != nil {
				return err
			}
			now := time.Now()
			out := cmd.OutOrStdout()
			if when != "" {
				t, ok := scheduler.ParseTime(when)
				if !ok {
					return fmt.Errorf("-t %q: not an ISO 8601 date and time", when)
				}
				now = t
				fmt.Fprintf(out, "Setting effective cluster time: %s\n", t.Format("2006-01-02 15:04:05Z"))
			}
			in := scheduler.InputFor(c, now)
			if when != "" {
				in = scheduler.Input{CIB: c, Now: now}
			}
			res := scheduler.Schedule(in)
			for _, w := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			if scores {
				fmt.Fprintln(out, "Allocation scores:")
				for _, l := range res.ScoreLines() {
					fmt.Fprintln(out, l)
				}
			}
			if simulate || !scores {
				io.WriteString(out, res.Text())
			}
			if graphFile != "" {
				if err := writeFileAtomic(graphFile, graphJSON(res.Graph), 0o644); err != nil {
					return err
				}
			}
			if dotFile != "" {
				if err := writeFileAtomic(dotFile, []byte(graphDOT(res.Graph)), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "xml-file", "x", "", "read the CIB from FILE")
	f.BoolVarP(&live, "live-check", "L", false, "use the live CIB from vigil-crmd (the default without -x)")
	f.BoolVarP(&simulate, "simulate", "S", false, "simulate the transition and print the summary")
	f.BoolVarP(&scores, "show-scores", "s", false, "show allocation scores")
	f.StringVarP(&graphFile, "save-graph", "G", "", "save the transition graph (JSON) to FILE")
	f.StringVarP(&dotFile, "save-dotfile", "D", "", "save the transition graph (DOT) to FILE")
	f.StringVarP(&when, "set-datetime", "t", "", "evaluate rules at this time (ISO 8601)")
	// `vigil simulate explain RESOURCE` until the root command lists
	// `vigil explain` itself.
	cmd.AddCommand(newExplainCommand(g))
	return cmd
}

type graphAction struct {
	ID       int    `json:"id"`
	Key      string `json:"key"`
	Task     string `json:"task"`
	Resource string `json:"resource,omitempty"`
	Node     string `json:"node,omitempty"`
	Interval int    `json:"interval_ms,omitempty"`
	Pseudo   bool   `json:"pseudo,omitempty"`
}

// graphJSON is the saved graph: the executed actions and the orderings
// between them ({"actions": [...], "edges": [[first, then], ...]}).
func graphJSON(g *scheduler.Graph) []byte {
	exec := g.Executed()
	in := map[*scheduler.Action]bool{}
	var doc struct {
		Actions []graphAction `json:"actions"`
		Edges   [][2]int      `json:"edges"`
	}
	doc.Actions = []graphAction{}
	doc.Edges = [][2]int{}
	for _, a := range exec {
		in[a] = true
		ga := graphAction{ID: a.ID, Key: a.Key(), Task: a.Task, Interval: a.Interval, Pseudo: a.Pseudo}
		if a.Rsc != nil {
			ga.Resource = a.Name
		}
		if a.Node != nil {
			ga.Node = a.Node.Name
		}
		doc.Actions = append(doc.Actions, ga)
	}
	for _, e := range g.Edges {
		if in[e.First] && in[e.Then] {
			doc.Edges = append(doc.Edges, [2]int{e.First.ID, e.Then.ID})
		}
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n')
}

func dotName(a *scheduler.Action) string {
	s := a.Key()
	if a.Node != nil && !a.Pseudo {
		s += " " + a.Node.Name
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// graphDOT renders the executed part of the graph for graphviz.
func graphDOT(g *scheduler.Graph) string {
	var b strings.Builder
	b.WriteString(" digraph \"g\" {\n")
	in := map[*scheduler.Action]bool{}
	for _, a := range g.Executed() {
		in[a] = true
		style := "bold"
		if a.Pseudo {
			style = "dashed"
		}
		fmt.Fprintf(&b, "%s [ style=%s color=\"green\" fontcolor=\"black\"]\n", dotName(a), style)
	}
	for _, e := range g.Edges {
		if in[e.First] && in[e.Then] {
			fmt.Fprintf(&b, "%s -> %s [ style = bold]\n", dotName(e.First), dotName(e.Then))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// cibFromFileOrLive reads the CIB from file, or, without one, from the
// cluster's crmd, with a <node> for every node the DC knows (its nodes
// come from vigil.conf and live in the status section).
func cibFromFileOrLive(ctx context.Context, g *globalFlags, file string) (*cib.CIB, error) {
	if file != "" {
		return readCIBFile(file)
	}
	c, err := queryCIB(ctx, g)
	if err != nil {
		return nil, crmdError("reading the live CIB", err)
	}
	return transition.WithNodes(c), nil
}
