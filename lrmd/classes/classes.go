// Package classes implements the script-based agent classes of vigil-lrmd:
// ocf (agents under $OCF_ROOT/resource.d/PROVIDER/TYPE) and lsb (init
// scripts under /etc/init.d). Both run their agents through internal/runner
// and report OCF exit codes (lrmd/ocf).
package classes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-ha/vigil/internal/runner"
	"github.com/vigil-ha/vigil/lrmd/agent"
	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// DefaultPath is the PATH agents run with unless the configuration gives
// another environment.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// RunConfig is what the script classes share about running an agent.
type RunConfig struct {
	// Env is the base environment of every agent, before the class's own
	// variables; nil means just PATH=DefaultPath.
	Env []string
	// Wrapper, if set, prefixes every agent's command line, e.g.
	// ["ip", "netns", "exec", "ns1"] (tests run agents in a network
	// namespace this way).
	Wrapper []string
	// MaxOutput bounds what is kept of stdout and of stderr, each;
	// runner.DefaultMaxOutput when zero.
	MaxOutput int
	// Grace is the time between SIGTERM and SIGKILL of a timed-out
	// agent's process group; runner.DefaultGrace when zero.
	Grace time.Duration
}

func (c RunConfig) baseEnv() []string {
	if c.Env == nil {
		return []string{"PATH=" + DefaultPath}
	}
	return append([]string{}, c.Env...)
}

// run runs path with one action argument and turns the outcome into a
// Result whose ExitCode is mapped by mapCode.
func (c RunConfig) run(ctx context.Context, path, action string, env []string, mapCode func(int) int) agent.Result {
	res, _ := c.runStdout(ctx, path, action, env, mapCode)
	return res
}

// runStdout is run that also returns the agent's stdout alone.
func (c RunConfig) runStdout(ctx context.Context, path, action string, env []string, mapCode func(int) int) (agent.Result, string) {
	return c.runArgs(ctx, path, []string{action}, env, mapCode)
}

// runArgs is runStdout with any arguments.
func (c RunConfig) runArgs(ctx context.Context, path string, args []string, env []string, mapCode func(int) int) (agent.Result, string) {
	o := runner.Run(ctx, runner.Command{
		Path: path, Args: args, Env: env, Dir: "/",
		Wrapper: c.Wrapper, MaxOutput: c.MaxOutput, Grace: c.Grace,
	})
	res := agent.Result{
		Output:   output(o),
		Started:  o.Started,
		ExecTime: o.Duration,
	}
	res.ExitReason = ocf.ParseExitReason(o.Stderr)
	// The context may end before the agent started as well as while it
	// ran (then it was killed): either way its error says why.
	switch {
	case errors.Is(o.Err, context.DeadlineExceeded):
		res.Status = agent.StatusTimedOut
		res.ExitCode = int(ocf.ErrGeneric)
	case o.Killed || errors.Is(o.Err, context.Canceled):
		res.Status = agent.StatusCancelled
		res.ExitCode = int(ocf.ErrGeneric)
	case o.Err != nil:
		res.Status = agent.StatusError
		res.ExitCode = int(ocf.ErrGeneric)
		res.Output = joinOutput(res.Output, o.Err.Error())
	case o.Signal != 0:
		res.Status = agent.StatusError
		res.ExitCode = int(ocf.ErrGeneric)
		res.Output = joinOutput(res.Output, fmt.Sprintf("agent killed by signal %d (%s)", int(o.Signal), o.Signal))
	default:
		res.Status = agent.StatusDone
		res.ExitCode = mapCode(o.ExitCode)
	}
	return res, o.Stdout
}

func output(o runner.Outcome) string {
	var b strings.Builder
	if o.StdoutTruncated {
		fmt.Fprintf(&b, "[stdout truncated to its last %d bytes]\n", len(o.Stdout))
	}
	b.WriteString(o.Stdout)
	if o.Stderr != "" || o.StderrTruncated {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		if o.StderrTruncated {
			fmt.Fprintf(&b, "[stderr truncated to its last %d bytes]\n", len(o.Stderr))
		}
		b.WriteString(o.Stderr)
	}
	return b.String()
}

func joinOutput(out, msg string) string {
	if out == "" {
		return msg
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out + msg
}

func notInstalled(format string, args ...any) agent.Result {
	return agent.Result{
		Status:   agent.StatusNotInstalled,
		ExitCode: int(ocf.ErrInstalled),
		Output:   fmt.Sprintf(format, args...),
		Started:  time.Now(),
	}
}

// validName reports whether s can name a provider, type or script: no
// path separators, not empty, not "." or "..", not hidden.
func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\x00") && !strings.HasPrefix(s, ".")
}

// executable reports whether path is a regular file (after symlinks) that
// someone may execute.
func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// listDir lists the visible entries of dir for which keep holds, sorted.
func listDir(dir string, keep func(path string) bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, agent.ErrNotInstalled)
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if validName(e.Name()) && keep(filepath.Join(dir, e.Name())) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// accessible reports whether dir can be read.
func accessible(dir string) error {
	if err := syscall.Access(dir, 0x4|0x1); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}
