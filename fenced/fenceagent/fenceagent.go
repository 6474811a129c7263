// Package fenceagent runs the standard fence agents (fence_ipmilan,
// fence_virsh, fence_dummy ...) of the fence-agents project the way
// Pacemaker's fencer does: one process per action, the parameters as
// key=value lines on its standard input with the action among them, the
// result in its exit code (and, for list, its standard output).
package fenceagent

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/internal/runner"
)

// DefaultDir is where Debian installs the fence agents.
const DefaultDir = "/usr/sbin"

// The actions of the fence agent API.
const (
	ActionOff      = "off"
	ActionOn       = "on"
	ActionReboot   = "reboot"
	ActionStatus   = "status"
	ActionList     = "list"
	ActionMonitor  = "monitor"
	ActionMetadata = "metadata"
)

var actions = []string{ActionOff, ActionOn, ActionReboot, ActionStatus, ActionList, ActionMonitor, ActionMetadata}

// Errors callers branch on.
var (
	ErrNotInstalled = errors.New("fence agent not installed")
	ErrBadAction    = errors.New("not a fence agent action")
	ErrBadName      = errors.New("not a fence agent name")
)

// Power is a target's state, as the status action reports it.
type Power int

// Power states; status exits 0 for on, 2 for off, anything else is an
// error (fence-agents' convention).
const (
	PowerUnknown Power = iota
	PowerOn
	PowerOff
)

// Result is the outcome of one action.
type Result struct {
	// OK is true when the action succeeded (for status: the state was
	// read, on or off).
	OK       bool
	TimedOut bool
	ExitCode int
	Power    Power // status only
	// Targets are the nodes a list action reported.
	Targets []string
	// Output is what the agent printed (stdout, then stderr), bounded.
	Output   string
	Duration time.Duration
}

// Agent is one fence agent program.
type Agent struct {
	Name string
	Path string
}

// Find returns the agent called name (fence_*) in dir (DefaultDir when
// empty).
func Find(dir, name string) (Agent, error) {
	if dir == "" {
		dir = DefaultDir
	}
	if !strings.HasPrefix(name, "fence_") || strings.ContainsAny(name, "/ \t") {
		return Agent{}, fmt.Errorf("fenceagent: %q: %w (want fence_NAME)", name, ErrBadName)
	}
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return Agent{}, fmt.Errorf("fenceagent: %s: %w (no executable %s; install Debian's fence-agents)", name, ErrNotInstalled, path)
	}
	return Agent{Name: name, Path: path}, nil
}

// Run runs one action with params (device parameters such as ip, login,
// plug; "action" is set by Run). The action's timeout is ctx's deadline;
// when it passes, the agent and everything it started are killed and the
// result says TimedOut, never OK.
func (a Agent) Run(ctx context.Context, action string, params map[string]string) (Result, error) {
	if !slices.Contains(actions, action) {
		return Result{}, fmt.Errorf("fenceagent: %q: %w (want one of %s)", action, ErrBadAction, strings.Join(actions, ", "))
	}
	var stdin strings.Builder
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "action" || strings.ContainsAny(k, "=\n") || strings.Contains(params[k], "\n") {
			continue // the action is ours; a newline would inject a parameter
		}
		fmt.Fprintf(&stdin, "%s=%s\n", k, params[k])
	}
	fmt.Fprintf(&stdin, "action=%s\n", action)
	o := runner.Run(ctx, runner.Command{
		Path:  a.Path,
		Env:   []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Stdin: []byte(stdin.String()),
	})
	r := Result{ExitCode: o.ExitCode, Duration: o.Duration, Output: strings.TrimSpace(o.Stdout + "\n" + o.Stderr)}
	switch {
	case errors.Is(o.Err, context.DeadlineExceeded):
		r.TimedOut = true
		r.Output = strings.TrimSpace(fmt.Sprintf("%s %s timed out; the agent and its process group were killed\n%s", a.Name, action, r.Output))
		return r, nil
	case o.Err != nil:
		return r, fmt.Errorf("fenceagent: run %s %s: %w", a.Name, action, o.Err)
	case o.Signal != 0:
		r.Output = strings.TrimSpace(fmt.Sprintf("%s %s was killed by signal %s\n%s", a.Name, action, o.Signal, r.Output))
		return r, nil
	}
	switch action {
	case ActionStatus:
		switch o.ExitCode {
		case 0:
			r.OK, r.Power = true, PowerOn
		case 2:
			r.OK, r.Power = true, PowerOff
		}
	case ActionList:
		r.OK = o.ExitCode == 0
		if r.OK {
			r.Targets = parseList(o.Stdout)
		}
	default:
		r.OK = o.ExitCode == 0
	}
	return r, nil
}

// parseList reads a list action's output: one target per line, "name" or
// "name,alias".
func parseList(out string) []string {
	var targets []string
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), ",")
		if name != "" {
			targets = append(targets, name)
		}
	}
	return targets
}

// Parameter is one parameter of an agent's metadata.
type Parameter struct {
	Name      string `xml:"name,attr"`
	Required  string `xml:"required,attr"`
	ShortDesc string `xml:"shortdesc"`
	Content   struct {
		Type    string `xml:"type,attr"`
		Default string `xml:"default,attr"`
	} `xml:"content"`
}

// Metadata is the part of an agent's metadata fencing uses.
type Metadata struct {
	Name       string      `xml:"name,attr"`
	ShortDesc  string      `xml:"shortdesc,attr"`
	Parameters []Parameter `xml:"parameters>parameter"`
	Actions    []struct {
		Name string `xml:"name,attr"`
	} `xml:"actions>action"`
}

// Metadata runs the metadata action and parses it.
func (a Agent) Metadata(ctx context.Context) (Metadata, []byte, error) {
	r, err := a.Run(ctx, ActionMetadata, nil)
	if err != nil {
		return Metadata{}, nil, err
	}
	if !r.OK {
		return Metadata{}, nil, fmt.Errorf("fenceagent: %s metadata failed (exit code %d): %s", a.Name, r.ExitCode, r.Output)
	}
	// Output joins stdout and stderr; the XML is stdout's.
	raw := []byte(r.Output)
	if i := strings.LastIndex(r.Output, "</resource-agent>"); i >= 0 {
		raw = raw[:i+len("</resource-agent>")]
	}
	var md Metadata
	if err := xml.Unmarshal(raw, &md); err != nil {
		return Metadata{}, raw, fmt.Errorf("fenceagent: %s metadata is not valid XML: %w", a.Name, err)
	}
	return md, raw, nil
}

// Supports reports whether the metadata lists an action.
func (m Metadata) Supports(action string) bool {
	return slices.ContainsFunc(m.Actions, func(a struct {
		Name string `xml:"name,attr"`
	}) bool {
		return a.Name == action
	})
}
