package cmap

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// This file is the one place that declares Vigil's cmap key space: every
// key the store may hold, its type, and which keys a client may change at
// runtime. A key not matched here cannot be stored, so a type shown by
// `vigil cmap` is always the one declared here. docs/cmap.md describes the
// keys for users.

// keySpec declares the keys matching one pattern. A pattern is a dotted key
// whose segments may hold path.Match wildcards; a segment matches exactly
// one segment of a key ("nodelist.node.*.ring*_addr").
type keySpec struct {
	pattern string
	typ     Type
	// changeable marks keys a client may Set; check, if not nil, validates
	// the new value against the rest of the store (locked by the caller).
	changeable bool
	check      func(s *Store, key string, v Value) error
}

// Key names used by the code; the schema below is authoritative.
const (
	keyToken            = "totem.token"
	keyTokenCoefficient = "totem.token_coefficient"
	keyConsensus        = "totem.consensus"
	keyJoin             = "totem.join"
	keyLoggingDebug     = "logging.debug"
	keyLocalNodePos     = "nodelist.local_node_pos"
	runtimeTotem        = "runtime.config.totem."
)

// minTimeout is corosync's MINIMUM_TIMEOUT (3 ticks of 10 ms), the shortest
// totem timeout it accepts; internal/config applies the same bound to the
// file.
const minTimeout = 30

var schema = slices.Concat(configAndRuntimeKeys, linkStatKeys())

var configAndRuntimeKeys = []keySpec{
	// totem: from vigil.conf; the timeouts can be changed at runtime.
	{pattern: "totem.version", typ: TypeU32},
	{pattern: "totem.cluster_name", typ: TypeString},
	{pattern: "totem.transport", typ: TypeString},
	{pattern: keyToken, typ: TypeU32, changeable: true, check: checkTimeouts},
	{pattern: keyTokenCoefficient, typ: TypeU32, changeable: true, check: checkTimeouts},
	{pattern: keyConsensus, typ: TypeU32, changeable: true, check: checkTimeouts},
	{pattern: keyJoin, typ: TypeU32, changeable: true, check: checkTimeouts},
	{pattern: "totem.interface.*.bindnetaddr", typ: TypeString},
	{pattern: "totem.interface.*.mcastaddr", typ: TypeString},
	{pattern: "totem.interface.*.mcastport", typ: TypeU16},
	{pattern: "totem.interface.*.knet_link_priority", typ: TypeU8},

	// nodelist: from vigil.conf, never changed at runtime (as in corosync).
	{pattern: keyLocalNodePos, typ: TypeU32},
	{pattern: "nodelist.node.*.nodeid", typ: TypeU32},
	{pattern: "nodelist.node.*.name", typ: TypeString},
	{pattern: "nodelist.node.*.ring*_addr", typ: TypeString},
	{pattern: "nodelist.node.*.quorum_votes", typ: TypeU32},

	// quorum: from vigil.conf; vigil-quorumd owns quorum policy, so changes
	// go through it, not through cmap.
	{pattern: "quorum.provider", typ: TypeString},
	{pattern: "quorum.expected_votes", typ: TypeU32},
	{pattern: "quorum.two_node", typ: TypeU8},
	{pattern: "quorum.wait_for_all", typ: TypeU8},
	{pattern: "quorum.last_man_standing", typ: TypeU8},
	{pattern: "quorum.last_man_standing_window", typ: TypeU32},
	{pattern: "quorum.auto_tie_breaker", typ: TypeU8},
	{pattern: "quorum.auto_tie_breaker_node", typ: TypeString},
	{pattern: "quorum.allow_downscale", typ: TypeU8},

	// logging: strings, as in corosync. Only the debug level can change at
	// runtime: the daemons' log outputs are opened once at start.
	{pattern: "logging.to_stderr", typ: TypeString},
	{pattern: "logging.to_logfile", typ: TypeString},
	{pattern: "logging.to_syslog", typ: TypeString},
	{pattern: "logging.logfile", typ: TypeString},
	{pattern: keyLoggingDebug, typ: TypeString, changeable: true, check: checkDebug},
	{pattern: "logging.timestamp", typ: TypeString},

	// runtime.config.totem: the timeouts in force, derived by the store.
	{pattern: runtimeTotem + "token", typ: TypeU32},
	{pattern: runtimeTotem + "token_retransmit", typ: TypeU32},
	{pattern: runtimeTotem + "hold", typ: TypeU32},
	{pattern: runtimeTotem + "token_retransmits_before_loss_const", typ: TypeU32},
	{pattern: runtimeTotem + "join", typ: TypeU32},
	{pattern: runtimeTotem + "consensus", typ: TypeU32},

	// runtime.members: written by vigil-messagingd (SetMember).
	{pattern: "runtime.members.*.ip", typ: TypeString},
	{pattern: "runtime.members.*.status", typ: TypeString},
	{pattern: "runtime.members.*.join_count", typ: TypeU32},
	{pattern: "runtime.members.*.config_version", typ: TypeU64},

	// stats.knet.node*.link*.*: link statistics written by
	// vigil-messagingd (SetLinkStats), declared by linkStatKeys.
}

func linkStatKeys() []keySpec {
	out := make([]keySpec, len(linkStatFields))
	for i, f := range linkStatFields {
		out[i] = keySpec{pattern: "stats.knet.node*.link*." + f.name, typ: f.typ}
	}
	return out
}

// lookup returns the declaration of key.
func lookup(key string) (keySpec, bool) {
	for _, s := range schema {
		if matchKey(s.pattern, key) {
			return s, true
		}
	}
	return keySpec{}, false
}

func matchKey(pattern, key string) bool {
	if strings.Count(pattern, ".") != strings.Count(key, ".") {
		return false
	}
	ps, ks := strings.Split(pattern, "."), strings.Split(key, ".")
	for i := range ps {
		if ok, err := path.Match(ps[i], ks[i]); !ok || err != nil || ks[i] == "" {
			return false
		}
	}
	return true
}

// KeyType returns the declared type of key, and false if key is not part
// of Vigil's cmap. Clients use it to show a value received over gRPC, whose
// wire form does not carry the integer width, with its exact type.
func KeyType(key string) (Type, bool) {
	s, ok := lookup(key)
	return s.typ, ok
}

// Changeable lists the keys a client may Set, in schema order.
func Changeable() []string {
	var out []string
	for _, s := range schema {
		if s.changeable {
			out = append(out, s.pattern)
		}
	}
	return out
}

// checkChangeable says why key may not be Set by a client, or returns its
// declaration.
func checkChangeable(key string) (keySpec, error) {
	s, ok := lookup(key)
	can := strings.Join(Changeable(), ", ")
	switch {
	case key == "":
		return keySpec{}, fmt.Errorf("%w: the key is empty", ErrInvalidKey)
	case !ok:
		return keySpec{}, fmt.Errorf("%w: %s is not a key of Vigil's cmap; the keys that can be set are %s", ErrNotChangeable, key, can)
	case strings.HasPrefix(key, "runtime.") || strings.HasPrefix(key, "stats."):
		return keySpec{}, fmt.Errorf("%w: %s is runtime state that only vigil-messagingd writes; the keys that can be set are %s", ErrNotChangeable, key, can)
	case strings.HasPrefix(key, "quorum."):
		return keySpec{}, fmt.Errorf("%w: %s cannot be changed at runtime through cmap: quorum settings belong to vigil-quorumd (`vigil quorum ...`), or edit vigil.conf on every node and restart; the keys that can be set are %s", ErrNotChangeable, key, can)
	case !s.changeable:
		return keySpec{}, fmt.Errorf("%w: %s is read from vigil.conf and cannot be changed at runtime: edit vigil.conf on every node and restart; the keys that can be set are %s", ErrNotChangeable, key, can)
	}
	return s, nil
}

// checkTimeouts validates a new totem timeout against corosync's minimum
// and against the other timeouts it must agree with (consensus may not be
// shorter than join), as internal/config does for the file.
func checkTimeouts(s *Store, key string, v Value) error {
	ms := v.Uint()
	switch key {
	case keyTokenCoefficient:
	case keyConsensus:
		if ms == 0 { // 0 means "derive from the token", as in corosync
			break
		}
		fallthrough
	default:
		if ms < minTimeout {
			return fmt.Errorf("%w: %s: %d ms is too short: the minimum is %d ms", ErrInvalidValue, key, ms, minTimeout)
		}
	}
	t := s.timeoutsLocked()
	switch key {
	case keyToken:
		t.token = uint32(ms)
	case keyTokenCoefficient:
		t.coefficient = uint32(ms)
	case keyConsensus:
		t.consensus = uint32(ms)
	case keyJoin:
		t.join = uint32(ms)
	}
	d := t.derive()
	if d.consensus < t.join {
		how := ""
		if t.consensus == 0 {
			how = fmt.Sprintf(", derived as 1.2 times the token timeout in force (%d ms),", d.token)
		}
		return fmt.Errorf("%w: %s: consensus (%d ms)%s may not be shorter than join (%d ms)", ErrInvalidValue, key, d.consensus, how, t.join)
	}
	return nil
}

func checkDebug(_ *Store, key string, v Value) error {
	switch v.Str() {
	case "off", "on", "trace":
		return nil
	}
	return fmt.Errorf("%w: %s: %q is not one of off, on or trace", ErrInvalidValue, key, v.Str())
}
