package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/crmsh"
)

// The interactive shell: `vigil` with no arguments, like `crm`. The top
// level takes `configure` (enter the configure level, or run one
// statement), `verify`, `help` and `quit`; the configure level takes crmsh
// statements, staged until commit, and `up`/`end` to go back. On a terminal
// lines are edited with history (kept across sessions) and Tab completes
// keywords and the ids of the staged configuration.

// lineSource reads one line after showing a prompt.
type lineSource interface {
	Line(prompt string) (string, error)
	Close() error
}

// scannedLines reads lines from a non-terminal input (a script, a test),
// echoing the prompt to out as crm does.
type scannedLines struct {
	sc  *bufio.Scanner
	out io.Writer
}

func (s *scannedLines) Line(prompt string) (string, error) {
	fmt.Fprint(s.out, prompt)
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return s.sc.Text(), nil
}

func (s *scannedLines) Close() error { return nil }

// editedLines reads from the terminal with line editing, history and
// completion.
type editedLines struct {
	st      *liner.State
	history string
}

func newEditedLines(complete func(line string) []string) *editedLines {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	st.SetCompleter(complete)
	e := &editedLines{st: st, history: historyFile()}
	if f, err := os.Open(e.history); err == nil {
		st.ReadHistory(f)
		f.Close()
	}
	return e
}

func (e *editedLines) Line(prompt string) (string, error) {
	line, err := e.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", nil // Ctrl-C drops the line, as in a shell
	}
	if err == nil && strings.TrimSpace(line) != "" {
		e.st.AppendHistory(line)
	}
	return line, err
}

func (e *editedLines) Close() error {
	if e.history != "" {
		if err := os.MkdirAll(filepath.Dir(e.history), 0o700); err == nil {
			if f, err := os.OpenFile(e.history, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
				e.st.WriteHistory(f)
				f.Close()
			}
		}
	}
	return e.st.Close()
}

// historyFile is where the shell keeps its history: the user's config
// directory, vigil/history (crmsh keeps ~/.config/crm/history).
func historyFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "vigil", "history")
}

// statementWords are what a configure line may start with.
var statementWords = []string{
	"primitive", "group", "clone", "ms", "location", "colocation", "order",
	"property", "rsc_defaults", "op_defaults", "node", "delete", "show",
	"verify", "commit", "up", "end", "quit", "help",
}

// clauseWords may follow a resource definition.
var clauseWords = []string{"params", "meta", "op", "utilization", "rule"}

// completions returns the candidate lines for line: the last word is
// completed from keywords at the start of the line, and from keywords and
// the staged configuration's ids after it.
func completions(line string, top bool, staged *cib.CIB) []string {
	start := strings.LastIndexAny(line, " \t") + 1
	head, word := line[:start], line[start:]
	var words []string
	switch {
	case top && strings.TrimSpace(head) == "":
		words = []string{"configure", "verify", "help", "quit"}
	case strings.TrimSpace(head) == "" || (top && strings.TrimSpace(head) == "configure"):
		words = statementWords
	default:
		words = append(slices.Clone(clauseWords), ids(staged)...)
	}
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, word) {
			out = append(out, head+w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ids lists the ids and node names of a configuration.
func ids(c *cib.CIB) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, r := range c.Configuration.AllResources() {
		out = append(out, r.ID)
	}
	for _, k := range c.Configuration.Constraints {
		out = append(out, k.ID())
	}
	for _, n := range c.Configuration.Nodes {
		out = append(out, n.Uname)
	}
	return out
}

// runInteractive runs the shell on in and out, starting at the configure
// level when configure is set. A terminal gets line editing; anything else
// is read line by line.
func runInteractive(cibFile string, configure bool, in io.Reader, out io.Writer) error {
	sess, err := openSession(context.Background(), nil, cibFile, out)
	if err != nil {
		return err
	}
	level := "top"
	if configure {
		level = "configure"
	}
	var lines lineSource
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		lines = newEditedLines(func(line string) []string { return completions(line, level == "top", sess.staged) })
	} else {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		lines = &scannedLines{sc: sc, out: out}
	}
	defer lines.Close()

	var pending strings.Builder
	warned := false
	for {
		prompt := "vigil# "
		if level == "configure" {
			prompt = "vigil(configure)# "
		}
		if pending.Len() > 0 {
			prompt = "> "
		}
		line, err := lines.Line(prompt)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(out)
			if sess.dirty {
				fmt.Fprintln(out, "changes not committed were dropped")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if strings.HasSuffix(line, `\`) {
			pending.WriteString(line + "\n")
			continue
		}
		pending.WriteString(line)
		text := strings.TrimSpace(pending.String())
		pending.Reset()
		word, rest, _ := strings.Cut(text, " ")
		switch {
		case text == "":
		case text == "help":
			printShellHelp(out, level)
		case word == "quit" || word == "exit" || word == "bye" || word == "up" || word == "end":
			if sess.dirty && !warned {
				fmt.Fprintln(out, "there are changes not committed: commit them, or repeat to drop them")
				warned = true
				continue
			}
			up := word == "up" || word == "end"
			if !up || level == "top" || configure {
				// quit, or up from where the shell started: leave.
				return nil
			}
			level, warned = "top", false
			if sess.dirty {
				// The staged changes are dropped: start again from
				// what is committed.
				if sess, err = openSession(context.Background(), nil, cibFile, out); err != nil {
					return err
				}
			}
		case level == "top" && word == "configure" && rest == "":
			level = "configure"
		case level == "top" && word == "configure":
			runStatements(sess, strings.TrimSpace(rest), out)
			if err := sess.commit(); err != nil {
				fmt.Fprintln(out, "error:", err)
			}
		case level == "top" && word == "verify":
			runStatements(sess, "verify", out)
		case level == "top":
			fmt.Fprintf(out, "error: unknown command %q at this level; try help\n", word)
		default:
			runStatements(sess, text, out)
		}
	}
}

// runStatements parses text and runs its statements in the session,
// printing errors; the first failing statement stops the rest.
func runStatements(sess *session, text string, out io.Writer) {
	stmts, err := crmsh.Parse(text)
	if err != nil {
		fmt.Fprintln(out, "error:", err)
		return
	}
	for _, st := range stmts {
		if err := sess.exec(st); err != nil {
			fmt.Fprintln(out, "error:", err)
			return
		}
	}
}

func printShellHelp(out io.Writer, level string) {
	if level == "top" {
		fmt.Fprint(out, `commands:
  configure              enter the configure level
  configure STATEMENT    run one configure statement and commit it
  verify                 check the configuration (like crm_verify)
  quit                   leave
`)
		return
	}
	fmt.Fprint(out, `configure statements (staged until commit):
  primitive ID CLASS:[PROVIDER:]TYPE [params k=v...] [meta k=v...] [op NAME k=v...]...
  group ID RSC... [meta k=v...]      clone ID RSC [meta ...]      ms ID RSC [meta ...]
  location ID RSC SCORE: NODE        location ID RSC rule SCORE: EXPRESSION
  colocation ID SCORE: RSC RSC...    order ID [KIND:] RSC[:ACTION] RSC[:ACTION]...
  property k=v...   rsc_defaults k=v...   op_defaults k=v...   delete ID...
  show [ID...]   verify   commit   up (back to the top level)   quit
Tab completes keywords and ids; a line ending in \ continues on the next.
`)
}
