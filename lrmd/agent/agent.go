// Package agent is the contract between vigil-lrmd's executor and the
// classes of resource agents it runs (ocf, lsb, systemd, plugin): what an
// operation is, what its result is, and the Class interface each class
// implements. The OCF exit codes and what they mean live in lrmd/ocf.
package agent

import (
	"context"
	"errors"
	"time"
)

// Operation is one action of one resource's agent.
type Operation struct {
	// ResourceID is the resource's id in the CIB (OCF_RESOURCE_INSTANCE).
	ResourceID string
	// Class, Provider and Type name the agent, e.g. ocf, heartbeat,
	// IPaddr2. Provider is empty for classes without providers.
	Class, Provider, Type string
	// Action is start, stop, monitor, promote, demote, notify, reload,
	// reload-agent, migrate_to, migrate_from, meta-data or validate-all.
	Action string
	// Interval is the period of a recurring operation; zero for one-shot.
	Interval time.Duration
	// Timeout bounds one run; the executor enforces it.
	Timeout time.Duration
	// Params are the instance attributes (OCF_RESKEY_<name>).
	Params map[string]string
	// Meta are the meta attributes (OCF_RESKEY_CRM_meta_<name>).
	Meta map[string]string
}

// Status says how an operation ended, whatever the class.
type Status int

// The statuses of an operation.
const (
	// StatusDone: the agent ran to completion; ExitCode says how.
	StatusDone Status = iota + 1
	// StatusCancelled: a recurring operation was cancelled.
	StatusCancelled
	// StatusTimedOut: the agent ran longer than its timeout and was killed
	// with everything it started.
	StatusTimedOut
	// StatusNotSupported: the agent does not implement the action.
	StatusNotSupported
	// StatusError: the executor could not run the agent (not a result of
	// the agent itself); Output says why.
	StatusError
	// StatusNotInstalled: no such class, provider or agent.
	StatusNotInstalled
	// StatusPending: still running (history of a running operation).
	StatusPending
)

func (s Status) String() string {
	switch s {
	case StatusDone:
		return "done"
	case StatusCancelled:
		return "cancelled"
	case StatusTimedOut:
		return "timed out"
	case StatusNotSupported:
		return "not supported"
	case StatusError:
		return "error"
	case StatusNotInstalled:
		return "not installed"
	case StatusPending:
		return "pending"
	}
	return "unknown"
}

// Result is the outcome of one run of an operation.
type Result struct {
	Status Status
	// ExitCode is the OCF exit code (lrmd/ocf), mapped from the class's
	// own codes (LSB, systemd, plugin).
	ExitCode int
	// ExitReason is the agent's own short explanation (the
	// "ocf-exit-reason:" line of its stderr), if any.
	ExitReason string
	// Output is the agent's stdout and stderr, bounded.
	Output   string
	Started  time.Time
	ExecTime time.Duration
}

// Class runs the agents of one class. Implementations must be safe for
// concurrent use: the executor runs operations of different resources at
// the same time.
type Class interface {
	// Name is the class name as the CIB writes it: ocf, lsb, systemd,
	// service or plugin.
	Name() string
	// Available reports whether the class can run on this machine, and if
	// not, why (e.g. systemd is not PID 1).
	Available() error
	// Providers lists the providers of the class; nil for classes
	// without providers.
	Providers() ([]string, error)
	// Agents lists the agent types of a provider (or of the class).
	Agents(provider string) ([]string, error)
	// Metadata returns the agent's OCF meta-data XML.
	Metadata(ctx context.Context, provider, typ string) ([]byte, error)
	// Exec runs one operation once. It returns when the agent finished or
	// ctx ended; on ctx's deadline the class kills what the agent started
	// and reports StatusTimedOut. It never panics on bad input: unknown
	// agents are StatusNotInstalled, other failures StatusError.
	Exec(ctx context.Context, op Operation) Result
}

// ErrNotInstalled is returned by Metadata and Agents for agents, providers
// or classes that do not exist.
var ErrNotInstalled = errors.New("agent not installed")
