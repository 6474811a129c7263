// Command vigil is the administration tool of a Vigil cluster: the
// certificate authority (pki), the local cluster harness (cluster, demo) and,
// as later work lands, the crmsh-style shell and status commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries the exit status a command wants, e.g. 2 for "not
// quorate" as corosync-quorumtool does.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRootCommand().ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "vigil:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}

// globalFlags are accepted by every command.
type globalFlags struct {
	// dir is a local cluster directory made by `vigil cluster up`: commands
	// talk to that cluster with its admin certificate.
	dir string
	// node picks the node of a --dir cluster to talk to.
	node string
	// config is the cluster configuration to read without --dir.
	config string
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Administer a Vigil high-availability cluster",
		Long: `Administer a Vigil high-availability cluster.

Without a command, vigil is an interactive shell like crm: its configure
level stages crmsh statements until commit (with --cib-file, on a CIB file).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
	}
	var shellCIB string
	root.Flags().StringVarP(&shellCIB, "cib-file", "x", "", "the shell works on this CIB XML file instead of the live CIB")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		return runInteractive(shellCIB, false, cmd.InOrStdin(), cmd.OutOrStdout())
	}
	root.PersistentFlags().StringVar(&g.dir, "dir", "", "talk to the local cluster in this directory (made by `vigil cluster up`)")
	root.PersistentFlags().StringVar(&g.node, "node", "", "with --dir: the node to talk to (default: the first)")
	root.PersistentFlags().StringVar(&g.config, "config", "", "cluster configuration to read without --dir (default /etc/vigil/vigil.conf)")
	root.AddCommand(newPKICommand(g), newClusterCommand(g), newDemoCommand(g), newCmapCommand(g), newCfgCommand(g), newCPGCommand(g), newBenchCommand(g), newQuorumCommand(g), newRACommand(g), newLRMCommand(g))
	root.AddCommand(newStonithCommand(g))
	root.AddCommand(newVerifyCommand(g), newCIBCommand(g))
	root.AddCommand(newConfigureCommand(g))
	root.AddCommand(newSimulateCommand(g))
	root.AddCommand(newStatusCommand(g))
	root.AddCommand(newNodeCommand(g), newResourceCommand(g))
	root.AddCommand(newExplainCommand(g))
	return root
}
