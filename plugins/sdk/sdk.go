// Package sdk is the public Go API for writing Vigil resource agents as
// plugins. An agent implements Agent with plain Go types and calls Serve
// from its main function; vigil-lrmd starts the binary as a
// hashicorp/go-plugin subprocess (gRPC, mutual TLS) whenever it runs an
// operation of the agent. The wire contract is
// proto/vigil/plugin/agent/v1; it never appears in this package's API, so
// the SDK can follow future protocol versions without breaking agents.
//
// See docs/writing-agents.md for a walk-through and plugins/examples/hello
// for a complete agent.
package sdk

import (
	"context"
	"fmt"
	"time"
)

// Agent is a resource agent. Implementations must be safe for concurrent
// use: vigil-lrmd may run operations of several resources through the same
// plugin process.
type Agent interface {
	// Info describes the agent. It must be cheap and must not depend on
	// the machine's state: vigil-lrmd turns it into OCF meta-data.
	Info() Info
	// Execute runs one action to completion. ctx carries the operation's
	// deadline (also in Request.Timeout): an agent should give up when it
	// ends, although vigil-lrmd kills the plugin process anyway once the
	// timeout has passed. Failures are reported in Response.Code, never by
	// panicking.
	Execute(ctx context.Context, req Request) Response
}

// Info describes an agent as OCF meta-data does.
type Info struct {
	// Name is the agent type, normally the plugin binary's name.
	Name string
	// Version is the agent's own version, e.g. "1.0.0".
	Version string
	// ShortDescription is one line; Description may be longer.
	ShortDescription string
	Description      string
	Parameters       []Parameter
	// Actions are the actions the agent supports. When empty, the agent
	// supports DefaultActions. Actions not listed are answered with
	// ErrUnimplemented without calling Execute.
	Actions []Action
}

// Parameter is one instance attribute (OCF_RESKEY_<name>) of the agent.
type Parameter struct {
	Name        string
	Description string
	// Type is TypeString, TypeInteger or TypeBoolean; empty means string.
	Type    string
	Default string
	// Required parameters must be set; validate-all checks this when the
	// agent does not implement validate-all itself.
	Required bool
	// Unique parameters must differ between resources of this agent.
	Unique bool
}

// The types of a Parameter.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
)

// Action is one action the agent supports, with the defaults the cluster
// uses when the configuration sets none.
type Action struct {
	Name string
	// Timeout is the default timeout of the action; zero means 20 s.
	Timeout time.Duration
	// Interval is the default interval of a recurring action (monitor);
	// zero for one-shot actions.
	Interval time.Duration
}

// The action names vigil-lrmd sends.
const (
	ActionStart       = "start"
	ActionStop        = "stop"
	ActionMonitor     = "monitor"
	ActionPromote     = "promote"
	ActionDemote      = "demote"
	ActionNotify      = "notify"
	ActionReload      = "reload"
	ActionReloadAgent = "reload-agent"
	ActionMigrateTo   = "migrate_to"
	ActionMigrateFrom = "migrate_from"
	ActionValidateAll = "validate-all"
)

// DefaultActions are the actions of an agent whose Info lists none.
func DefaultActions() []Action {
	return []Action{
		{Name: ActionStart, Timeout: 20 * time.Second},
		{Name: ActionStop, Timeout: 20 * time.Second},
		{Name: ActionMonitor, Timeout: 20 * time.Second, Interval: 10 * time.Second},
		{Name: ActionValidateAll, Timeout: 20 * time.Second},
	}
}

// Request is one operation on one resource.
type Request struct {
	// Action is one of the Action* names.
	Action string
	// ResourceID is the resource's id in the cluster configuration
	// (OCF_RESOURCE_INSTANCE).
	ResourceID string
	// Params are the resource's instance attributes, defaults filled in
	// from Info for parameters the configuration does not set.
	Params map[string]string
	// Meta are the meta attributes (OCF_RESKEY_CRM_meta_<name>).
	Meta map[string]string
	// Timeout is the operation's timeout; Interval is non-zero for a
	// recurring monitor.
	Timeout, Interval time.Duration
}

// Response is the result of one operation.
type Response struct {
	Code ExitCode
	// Reason is a short message for the administrator, shown by
	// `vigil status` on failures (the OCF exit reason).
	Reason string
	// Output is free text kept with the operation's history, bounded.
	Output string
}

// OK returns a successful Response.
func OK() Response { return Response{Code: Success} }

// Fail returns a failed Response whose Reason is formatted as by
// fmt.Sprintf.
func Fail(code ExitCode, format string, args ...any) Response {
	return Response{Code: code, Reason: fmt.Sprintf(format, args...)}
}
