package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/crmsh"
)

// newConfigureCommand is `crm configure`: crmsh configure statements
// against a CIB file.
func newConfigureCommand(_ *globalFlags) *cobra.Command {
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
atomically with the CIB epoch bumped.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return runShell(cibFile, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			s, err := crmsh.ParseArgs(args)
			if err != nil {
				return err
			}
			sess, err := openSession(cibFile, cmd.OutOrStdout())
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
			sess, err := openSession(cibFile, cmd.OutOrStdout())
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
			sess, err := openSession(cibFile, cmd.OutOrStdout())
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
}

func openSession(file string, out io.Writer) (*session, error) {
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
	s.staged.Version.Epoch++
	s.staged.Version.NumUpdates = 0
	if err := writeFileAtomic(s.file, cib.Marshal(s.staged), 0o600); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.dirty = false
	return nil
}

// runShell is `vigil configure` with no statement: the shell, already in
// its configure level.
func runShell(cibFile string, in io.Reader, out io.Writer) error {
	return runInteractive(cibFile, true, in, out)
}
