package cibsvc

import "errors"

// Sentinel errors, wrapped with detail; server.go maps them to gRPC codes.
var (
	// ErrVersionMismatch refuses a conditional change: the CIB is not at
	// the version the client expected (someone else changed it first).
	ErrVersionMismatch = errors.New("cib: version mismatch")
	// ErrOlder refuses replacing the CIB with an older one without force.
	ErrOlder = errors.New("cib: older than the cluster's CIB")
	// ErrInvalid refuses a change whose result does not decode or adds
	// Verify errors.
	ErrInvalid = errors.New("cib: invalid")
	// ErrBadPatch is a patch operation that cannot be applied as written.
	ErrBadPatch = errors.New("cib: bad patch")
	// ErrBadPath is a path that cannot be parsed.
	ErrBadPath = errors.New("cib: bad path")
	// ErrNotFound is an element, id or path that names nothing.
	ErrNotFound = errors.New("cib: not found")
	// ErrExists is an element created with an id that is taken.
	ErrExists = errors.New("cib: id exists")
	// ErrSyncing refuses a change delivered while the members of a new
	// view were still agreeing on the newest CIB; it is safe to retry.
	ErrSyncing = errors.New("cib: members are synchronising the CIB")
	// ErrNotMember refuses a change while this crmd is not a member of
	// the crm group (its messaging daemon is down or it is reconnecting).
	ErrNotMember = errors.New("cib: not a member of the crm group")
)
