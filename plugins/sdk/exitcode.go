package sdk

import (
	"strconv"

	"github.com/vigil-ha/vigil/lrmd/ocf"
)

// ExitCode is the OCF exit code of an action. The values are those of the
// OCF resource agent API, so they mean the same to the cluster whether an
// agent is a shell script or a plugin.
type ExitCode int

// The OCF exit codes. Their values come from lrmd/ocf, the one table of
// OCF codes in Vigil, so an agent and the executor cannot disagree.
const (
	// Success: the action succeeded; for monitor, the resource runs.
	Success ExitCode = ExitCode(ocf.Success)
	// ErrGeneric: a soft error; the cluster tries to recover in place.
	ErrGeneric ExitCode = ExitCode(ocf.ErrGeneric)
	// ErrArgs: the parameters are wrong for this action.
	ErrArgs ExitCode = ExitCode(ocf.ErrArgs)
	// ErrUnimplemented: the agent does not implement the action.
	ErrUnimplemented ExitCode = ExitCode(ocf.ErrUnimplemented)
	// ErrPerm: the agent lacks a permission.
	ErrPerm ExitCode = ExitCode(ocf.ErrPerm)
	// ErrInstalled: something the agent needs is not installed on this
	// node; a hard error, the resource is moved elsewhere.
	ErrInstalled ExitCode = ExitCode(ocf.ErrInstalled)
	// ErrConfigured: the configuration is wrong everywhere; a fatal error,
	// the resource is not started anywhere.
	ErrConfigured ExitCode = ExitCode(ocf.ErrConfigured)
	// NotRunning: the resource is cleanly stopped (monitor), or stop found
	// nothing to stop.
	NotRunning ExitCode = ExitCode(ocf.NotRunning)
	// RunningPromoted: the resource runs in the promoted role (monitor).
	RunningPromoted ExitCode = ExitCode(ocf.RunningPromoted)
	// FailedPromoted: the resource failed in the promoted role.
	FailedPromoted ExitCode = ExitCode(ocf.FailedPromoted)
	// Degraded: the resource runs but not at full health.
	Degraded ExitCode = ExitCode(ocf.Degraded)
	// DegradedPromoted: as Degraded, in the promoted role.
	DegradedPromoted ExitCode = ExitCode(ocf.DegradedPromoted)
)

var exitCodeNames = map[ExitCode]string{
	Success:          "ok",
	ErrGeneric:       "error",
	ErrArgs:          "invalid parameter",
	ErrUnimplemented: "unimplemented feature",
	ErrPerm:          "insufficient privileges",
	ErrInstalled:     "not installed",
	ErrConfigured:    "not configured",
	NotRunning:       "not running",
	RunningPromoted:  "promoted",
	FailedPromoted:   "promoted (failed)",
	Degraded:         "degraded",
	DegradedPromoted: "promoted (degraded)",
}

// String is the name crm_mon shows for the code.
func (c ExitCode) String() string {
	if s, ok := exitCodeNames[c]; ok {
		return s
	}
	return "exit code " + strconv.Itoa(int(c))
}

// Valid reports whether c is one of the OCF exit codes.
func (c ExitCode) Valid() bool {
	_, ok := exitCodeNames[c]
	return ok
}
