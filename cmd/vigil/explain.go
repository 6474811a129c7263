package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/scheduler"
)

// newExplainCommand answers why a resource runs where it does, or why it
// cannot run: the scheduler's placement of the CIB, node by node, with the
// constraints, stickiness, failures and utilization behind each score.
func newExplainCommand(g *globalFlags) *cobra.Command {
	var file, when string
	cmd := &cobra.Command{
		Use:   "explain RESOURCE",
		Short: "Explain where a resource runs and why (node by node)",
		Long: `Run the scheduler on a CIB and explain the placement of one resource:
where it will run (or why it cannot), and for every node its score with the
location constraints, resource-stickiness, failures (fail counts against
migration-threshold, failed starts, hard errors), colocations, node state and
utilization that produced it. -t sets the time rules are evaluated at.
Without --cib-file it reads the live CIB from vigil-crmd (--dir/--node or
--config).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cibFromFileOrLive(cmd.Context(), g, file)
			if err != nil {
				return err
			}
			return explain(cmd.OutOrStdout(), c, when, args[0])
		},
	}
	cmd.Flags().StringVarP(&file, "cib-file", "x", "", "read the CIB from FILE (default: the live CIB from vigil-crmd)")
	cmd.Flags().StringVarP(&when, "set-datetime", "t", "", "evaluate rules at this time (ISO 8601)")
	return cmd
}

func explain(out io.Writer, c *cib.CIB, when, id string) error {
	in := scheduler.InputFor(c, time.Now())
	if when != "" {
		t, ok := scheduler.ParseTime(when)
		if !ok {
			return fmt.Errorf("-t %q: not an ISO 8601 date and time", when)
		}
		in = scheduler.Input{CIB: c, Now: t}
	}
	ex, err := scheduler.Schedule(in).Explain(id)
	if err != nil {
		return fmt.Errorf("explain %s: %w", id, err)
	}
	_, err = io.WriteString(out, ex.Text())
	return err
}
