// Package runner runs one agent process (resource agents for vigil-lrmd,
// fence agents for vigil-fenced): in its own process group, with a bounded
// capture of its output, and, when its context ends, with the whole group
// killed so that nothing it started survives.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Defaults of Command's bounds.
const (
	DefaultMaxOutput = 64 << 10
	DefaultGrace     = 2 * time.Second
	DefaultWaitDelay = 500 * time.Millisecond
)

// Command is one process to run.
type Command struct {
	// Path is the executable; Args its arguments (without argv[0]).
	Path string
	Args []string
	// Env is the whole environment of the process.
	Env []string
	// Dir is the working directory; "" means "/".
	Dir string
	// Wrapper, if set, is run instead with Path and Args appended, e.g.
	// ["ip", "netns", "exec", "ns1"]. Its exit code is taken as the
	// agent's.
	Wrapper []string
	// MaxOutput bounds what is kept of stdout and of stderr (each, the last
	// bytes); DefaultMaxOutput when zero.
	MaxOutput int
	// Grace is how long the group has between SIGTERM and SIGKILL when the
	// context ends; DefaultGrace when zero.
	Grace time.Duration
	// WaitDelay bounds how long to keep reading output after the process
	// exited while something it left behind (a daemon that did not close
	// its stdout) still holds the pipes; DefaultWaitDelay when zero.
	WaitDelay time.Duration
	// Stdin is the process's standard input (fence agents read their
	// parameters there); nil means none.
	Stdin []byte
}

// Outcome is how a Command ended.
type Outcome struct {
	// ExitCode is the process's exit status; -1 if it did not exit
	// normally (killed by a signal, or never started).
	ExitCode int
	// Signal is the signal that ended the process, if one did.
	Signal syscall.Signal
	// Killed is set when the context ended and the group was killed:
	// Err is then the context's error.
	Killed bool
	// Err says why the process could not be started or waited for, or is
	// the context's error when Killed.
	Err error
	// Stdout and Stderr are the last MaxOutput bytes of each.
	Stdout, Stderr string
	// StdoutTruncated and StderrTruncated say that earlier bytes were
	// dropped.
	StdoutTruncated, StderrTruncated bool
	// PID is the process's id, also its process group id; 0 if it never
	// started.
	PID      int
	Started  time.Time
	Duration time.Duration
}

// Run starts c, waits for it and returns how it ended. When ctx ends first
// the process group gets SIGTERM, then SIGKILL after c.Grace, and Run
// returns once the group is empty (or after c.Grace more if a process
// ignores even SIGKILL, e.g. one stuck in the kernel).
func Run(ctx context.Context, c Command) Outcome {
	maxOut := c.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	grace := c.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	waitDelay := c.WaitDelay
	if waitDelay <= 0 {
		waitDelay = DefaultWaitDelay
	}
	argv := append(append(append([]string{}, c.Wrapper...), c.Path), c.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	if cmd.Dir == "" {
		cmd.Dir = "/"
	}
	stdout, stderr := &tailBuffer{max: maxOut}, &tailBuffer{max: maxOut}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = waitDelay

	out := Outcome{ExitCode: -1, Started: time.Now()}
	if err := ctx.Err(); err != nil {
		out.Err = err
		return out
	}
	if err := cmd.Start(); err != nil {
		out.Err = fmt.Errorf("runner: start %s: %w", argv[0], err)
		return out
	}
	pgid := cmd.Process.Pid
	out.PID = pgid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		out.Killed = true
		killGroup(pgid, grace, done, &waitErr)
	}
	out.Duration = time.Since(out.Started)
	out.Stdout, out.StdoutTruncated = stdout.String()
	out.Stderr, out.StderrTruncated = stderr.String()
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			out.Signal = ws.Signal()
		} else {
			out.ExitCode = ps.ExitCode()
		}
	}
	switch {
	case out.Killed:
		out.Err = ctx.Err()
	case waitErr != nil && !errors.As(waitErr, new(*exec.ExitError)) && !errors.Is(waitErr, exec.ErrWaitDelay):
		out.Err = fmt.Errorf("runner: wait %s: %w", argv[0], waitErr)
	}
	return out
}

// killGroup terminates the process group pgid: SIGTERM, then SIGKILL once
// grace has passed or the leader has exited (its descendants may ignore
// SIGTERM; a SIGKILL is the only way to be sure none survives). It returns
// when the leader has been reaped and no process is left in the group.
func killGroup(pgid int, grace time.Duration, done <-chan error, waitErr *error) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	reaped := false
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); {
		if reaped && groupGone(pgid) {
			return
		}
		select {
		case *waitErr = <-done:
			reaped = true
		case <-tick.C:
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if !reaped {
		*waitErr = <-done
	}
	for deadline := time.Now().Add(grace); !groupGone(pgid) && time.Now().Before(deadline); {
		<-tick.C
	}
}

// groupGone reports whether no live process is left in the process group.
// Zombies still count for kill(2); they are dead, but their parent (init,
// after the leader died) may not have reaped them yet, so they are
// recognised through /proc.
func groupGone(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	return !LiveInGroup(pgid)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.truncated = true
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return n, nil
}

func (b *tailBuffer) String() (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf), b.truncated
}
