package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/crmsh"
)

// newConfigureCommand is `crm configure`: crmsh configure statements
// against a CIB file.
func newConfigureCommand(g *globalFlags) *cobra.Command {
	var cibFile string
	cmd := &cobra.Command{
		Use:   "configure [--cib-file F] STATEMENT...",
		Short: "Change the configuration with crmsh configure statements (like crm configure)",
		Long: `Change the configuration with one crmsh configure statement given as
arguments, e.g.

  vigil configure --cib-file cib.xml primitive webip ocf:heartbeat:IPaddr params ip=192.168.1.100
  vigil configure --cib-file cib.xml location l1 webip -inf: node2

Without a statement it is a shell, like crm's configure level: statements
are staged until commit.

Flags come before the statement (a score like -inf: is not a flag). With
--cib-file a missing file starts an empty CIB; each change is written
atomically with the CIB epoch bumped. Without it the statement changes the
cluster's live CIB through vigil-crmd (--dir/--node or this node's
configuration): the configuration is read, changed and committed
conditionally on the version read, so a concurrent change of the
configuration makes the commit fail (changes of the status alone do not).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return runShell(cibFile, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			s, err := crmsh.ParseArgs(args)
			if err != nil {
				return err
			}
			sess, err := openSession(cmd.Context(), g, cibFile, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if err := sess.exec(s); err != nil {
				return err
			}
			return sess.commit()
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.PersistentFlags().StringVarP(&cibFile, "cib-file", "x", "", "work on this CIB XML file instead of the live CIB (a missing file starts an empty CIB)")
	load := &cobra.Command{
		Use:   "load FILE",
		Short: "Apply a file of crmsh configure statements (- reads standard input) in one commit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var src []byte
			var err error
			if args[0] == "-" {
				src, err = io.ReadAll(cmd.InOrStdin())
			} else {
				src, err = os.ReadFile(args[0])
			}
			if err != nil {
				return fmt.Errorf("configure load: %w", err)
			}
			stmts, err := crmsh.Parse(string(src))
			if err != nil {
				return fmt.Errorf("configure load %s: nothing changed:\n%w", args[0], err)
			}
			sess, err := openSession(cmd.Context(), g, cibFile, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			for _, s := range stmts {
				if err := sess.exec(s); err != nil {
					return fmt.Errorf("configure load %s: nothing changed: %w", args[0], err)
				}
			}
			return sess.commit()
		},
	}
	show := &cobra.Command{
		Use:   "show [ID...]",
		Short: "Print the configuration (or the objects with these ids) as crmsh statements",
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := openSession(cmd.Context(), g, cibFile, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			return sess.exec(&crmsh.ShowStmt{IDs: args})
		},
	}
	cmd.AddCommand(load, show)
	return cmd
}

// session is a configure session: the CIB as loaded, the staged copy that
// statements change, and where commit writes it.
type session struct {
	file   string
	out    io.Writer
	staged *cib.CIB
	dirty  bool
	// live is set when the session works on the cluster's CIB.
	live *liveSession
}

// liveSession is where a live session commits: the cluster's crmd, and
// the version the configuration was read at.
type liveSession struct {
	ctx  context.Context
	g    *globalFlags
	read cib.Version
}

// openSession opens file, or the live CIB when file is empty and g is
// given.
func openSession(ctx context.Context, g *globalFlags, file string, out io.Writer) (*session, error) {
	if file == "" && g != nil {
		var c *cib.CIB
		err := withCIB(ctx, g, func(ctx context.Context, cl *cibclient.Client) error {
			var err error
			c, err = cl.Query(ctx)
			return err
		})
		if err != nil {
			return nil, crmdError("read the cluster's CIB", err)
		}
		return &session{out: out, staged: c, live: &liveSession{ctx: ctx, g: g, read: c.Version}}, nil
	}
	if file == "" {
		return nil, errLiveCIB
	}
	c, err := loadCIBFile(file)
	if err != nil {
		return nil, err
	}
	return &session{file: file, out: out, staged: c}, nil
}

// loadCIBFile reads a CIB XML file; a missing file is an empty CIB.
func loadCIBFile(file string) (*cib.CIB, error) {
	c, err := readCIBFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return crmsh.NewCIB(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read CIB: %w", err)
	}
	return c, nil
}

// exec runs one statement: definitions change the staged CIB, show and
// verify look at it, commit writes it.
func (s *session) exec(st crmsh.Statement) error {
	switch st := st.(type) {
	case *crmsh.Comment:
		return nil
	case *crmsh.ShowStmt:
		stmts, err := crmsh.Show(s.staged, st.IDs...)
		if err != nil {
			return err
		}
		return crmsh.Print(s.out, stmts)
	case *crmsh.Verify:
		ps := cib.Verify(s.staged)
		for _, p := range ps {
			fmt.Fprintln(s.out, p)
		}
		if cib.HasErrors(ps) {
			return fmt.Errorf("verify: the configuration has errors (see above)")
		}
		return nil
	case *crmsh.Commit:
		return s.commit()
	}
	next, err := crmsh.CopyCIB(s.staged)
	if err != nil {
		return err
	}
	if err := crmsh.Apply(next, []crmsh.Statement{st}); err != nil {
		return err
	}
	s.staged, s.dirty = next, true
	return nil
}

// commit writes the staged CIB, with its epoch bumped, if it changed.
func (s *session) commit() error {
	if !s.dirty {
		return nil
	}
	if s.live != nil {
		return s.commitLive()
	}
	s.staged.Version.Epoch++
	s.staged.Version.NumUpdates = 0
	if err := writeFileAtomic(s.file, cib.Marshal(s.staged), 0o600); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.dirty = false
	return nil
}

// commitLive replaces the cluster's configuration section with the staged
// one, conditional on the version read. The DC writes the status all the
// time: when only the status moved on (admin_epoch and epoch as read), the
// commit is retried at the newer version; a changed configuration fails
// it.
func (s *session) commitLive() error {
	var conf []byte
	for _, e := range s.staged.Tree().Children {
		if e.Name == "configuration" {
			conf = cib.MarshalElement(e)
		}
	}
	read := s.live.read
	err := withCIB(s.live.ctx, s.live.g, func(ctx context.Context, cl *cibclient.Client) error {
		expected := read
		for {
			v, err := cl.ReplaceConfiguration(ctx, conf, &expected)
			if err == nil {
				s.live.read = v
				return nil
			}
			if !cibclient.IsVersionMismatch(err) {
				return err
			}
			st, qerr := cl.Status(ctx)
			if qerr != nil {
				return err
			}
			if st.Version.AdminEpoch != read.AdminEpoch || st.Version.Epoch != read.Epoch {
				return err
			}
			expected = st.Version
		}
	})
	if cibclient.IsVersionMismatch(err) {
		return &exitError{code: 1, err: crmdError("commit: the configuration changed since it was read at "+read.String()+"; nothing committed, run the command again", err)}
	}
	if err != nil {
		return crmdError("commit", err)
	}
	s.dirty = false
	return nil
}

// runShell is `vigil configure` with no statement: the shell, already in
// its configure level.
func runShell(cibFile string, in io.Reader, out io.Writer) error {
	return runInteractive(cibFile, true, in, out)
}
