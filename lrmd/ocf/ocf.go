// Package ocf holds the OCF resource agent exit codes, what each means and
// how Pacemaker recovers from it, in one table; the mapping of LSB init
// script codes onto them; and the exit-reason convention of OCF agents.
// Every other package of vigil names these codes through this package.
package ocf

import (
	"fmt"
	"strings"
)

// ExitCode is an OCF resource agent exit code. Classes other than ocf (lsb,
// systemd, plugin) map their own codes onto these.
type ExitCode int

// The OCF exit codes (OCF Resource Agent API 1.1, plus Pacemaker's
// degraded codes).
const (
	Success          ExitCode = 0
	ErrGeneric       ExitCode = 1
	ErrArgs          ExitCode = 2
	ErrUnimplemented ExitCode = 3
	ErrPerm          ExitCode = 4
	ErrInstalled     ExitCode = 5
	ErrConfigured    ExitCode = 6
	NotRunning       ExitCode = 7
	RunningPromoted  ExitCode = 8
	FailedPromoted   ExitCode = 9
	Degraded         ExitCode = 190
	DegradedPromoted ExitCode = 191
)

// Recovery is the kind of recovery Pacemaker performs when an operation
// returns a code other than the one expected.
type Recovery int

// The recovery classes, from the mildest.
const (
	// RecoverySoft: a transient error; restart the resource here or move
	// it.
	RecoverySoft Recovery = iota + 1
	// RecoveryHard: an error specific to this node; move the resource and
	// do not retry it on this node.
	RecoveryHard
	// RecoveryFatal: an error common to all nodes (e.g. bad
	// configuration); stop the resource and start it nowhere.
	RecoveryFatal
)

func (r Recovery) String() string {
	switch r {
	case RecoverySoft:
		return "soft"
	case RecoveryHard:
		return "hard"
	case RecoveryFatal:
		return "fatal"
	}
	return "unknown"
}

type codeInfo struct {
	name     string
	recovery Recovery
	desc     string
}

// codes is the one table of OCF exit codes: the label agents use, the
// recovery Pacemaker performs when the code is not the expected one, and a
// short description.
var codes = map[ExitCode]codeInfo{
	Success:          {"OCF_SUCCESS", RecoverySoft, "success"},
	ErrGeneric:       {"OCF_ERR_GENERIC", RecoverySoft, "generic error"},
	ErrArgs:          {"OCF_ERR_ARGS", RecoveryHard, "invalid arguments"},
	ErrUnimplemented: {"OCF_ERR_UNIMPLEMENTED", RecoveryHard, "action not implemented"},
	ErrPerm:          {"OCF_ERR_PERM", RecoveryHard, "insufficient privileges"},
	ErrInstalled:     {"OCF_ERR_INSTALLED", RecoveryHard, "not installed"},
	ErrConfigured:    {"OCF_ERR_CONFIGURED", RecoveryFatal, "not configured"},
	NotRunning:       {"OCF_NOT_RUNNING", RecoverySoft, "not running"},
	RunningPromoted:  {"OCF_RUNNING_PROMOTED", RecoverySoft, "running promoted"},
	FailedPromoted:   {"OCF_FAILED_PROMOTED", RecoverySoft, "failed promoted"},
	Degraded:         {"OCF_DEGRADED", RecoverySoft, "degraded"},
	DegradedPromoted: {"OCF_DEGRADED_PROMOTED", RecoverySoft, "degraded promoted"},
}

// Known reports whether c is one of the codes the OCF API defines.
func (c ExitCode) Known() bool {
	_, ok := codes[c]
	return ok
}

// String returns the OCF label, e.g. OCF_NOT_RUNNING, or OCF_UNKNOWN(n)
// for a code the API does not define.
func (c ExitCode) String() string {
	if i, ok := codes[c]; ok {
		return i.name
	}
	return fmt.Sprintf("OCF_UNKNOWN(%d)", int(c))
}

// Description returns a short human description, e.g. "not running".
func (c ExitCode) Description() string {
	if i, ok := codes[c]; ok {
		return i.desc
	}
	return fmt.Sprintf("unknown exit code %d", int(c))
}

// Recovery returns the recovery Pacemaker performs when c was not the
// expected result. Codes the API does not define are soft, as Pacemaker
// treats them as generic failures.
func (c ExitCode) Recovery() Recovery {
	if i, ok := codes[c]; ok {
		return i.recovery
	}
	return RecoverySoft
}

// Codes returns every defined code in ascending order.
func Codes() []ExitCode {
	return []ExitCode{Success, ErrGeneric, ErrArgs, ErrUnimplemented, ErrPerm,
		ErrInstalled, ErrConfigured, NotRunning, RunningPromoted, FailedPromoted,
		Degraded, DegradedPromoted}
}

// The LSB status action's own codes (LSB 3.0 "status" plus the two codes
// Pacemaker reserves in the 150-199 application range).
const (
	LSBStatusOK               = 0
	LSBStatusDeadPidFile      = 1
	LSBStatusDeadLockFile     = 2
	LSBStatusNotRunning       = 3
	LSBStatusUnknown          = 4
	LSBStatusNotInstalled     = 150
	LSBStatusInsufficientPriv = 151
)

// FromLSB maps the exit code of an LSB init script's action onto an OCF
// code, as Pacemaker's lsb class does: for status (and monitor, which runs
// status), 0 is success, 1-3 not running, 150 not installed, 151
// insufficient privileges and anything else a generic error; for the other
// actions, 0-7 mean the same as in OCF and anything else is a generic
// error.
func FromLSB(action string, code int) ExitCode {
	if action == "status" || action == "monitor" {
		switch code {
		case LSBStatusOK:
			return Success
		case LSBStatusDeadPidFile, LSBStatusDeadLockFile, LSBStatusNotRunning:
			return NotRunning
		case LSBStatusNotInstalled:
			return ErrInstalled
		case LSBStatusInsufficientPriv:
			return ErrPerm
		}
		return ErrGeneric
	}
	if code < 0 || code > int(NotRunning) {
		return ErrGeneric
	}
	return ExitCode(code)
}

// ExitReasonPrefix starts the stderr line in which an OCF agent gives a
// short reason for its result; agents get it as OCF_EXIT_REASON_PREFIX.
const ExitReasonPrefix = "ocf-exit-reason:"

// MaxExitReason bounds the length of an extracted exit reason.
const MaxExitReason = 256

// ParseExitReason returns the agent's exit reason from its stderr: the text
// after ExitReasonPrefix on the last line that starts with it (as
// Pacemaker does, the last one wins), trimmed and bounded to MaxExitReason
// bytes; "" if there is none.
func ParseExitReason(stderr string) string {
	reason := ""
	for line := range strings.SplitSeq(stderr, "\n") {
		if r, ok := strings.CutPrefix(line, ExitReasonPrefix); ok {
			reason = strings.TrimSpace(r)
		}
	}
	if len(reason) > MaxExitReason {
		reason = reason[:MaxExitReason]
	}
	return reason
}
