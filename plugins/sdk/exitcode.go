package sdk

import "strconv"

// ExitCode is the OCF exit code of an action. The values are those of the
// OCF resource agent API, so they mean the same to the cluster whether an
// agent is a shell script or a plugin.
type ExitCode int

// The OCF exit codes.
const (
	// Success: the action succeeded; for monitor, the resource runs.
	Success ExitCode = 0
	// ErrGeneric: a soft error; the cluster tries to recover in place.
	ErrGeneric ExitCode = 1
	// ErrArgs: the parameters are wrong for this action.
	ErrArgs ExitCode = 2
	// ErrUnimplemented: the agent does not implement the action.
	ErrUnimplemented ExitCode = 3
	// ErrPerm: the agent lacks a permission.
	ErrPerm ExitCode = 4
	// ErrInstalled: something the agent needs is not installed on this
	// node; a hard error, the resource is moved elsewhere.
	ErrInstalled ExitCode = 5
	// ErrConfigured: the configuration is wrong everywhere; a fatal error,
	// the resource is not started anywhere.
	ErrConfigured ExitCode = 6
	// NotRunning: the resource is cleanly stopped (monitor), or stop found
	// nothing to stop.
	NotRunning ExitCode = 7
	// RunningPromoted: the resource runs in the promoted role (monitor).
	RunningPromoted ExitCode = 8
	// FailedPromoted: the resource failed in the promoted role.
	FailedPromoted ExitCode = 9
	// Degraded: the resource runs but not at full health.
	Degraded ExitCode = 190
	// DegradedPromoted: as Degraded, in the promoted role.
	DegradedPromoted ExitCode = 191
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
