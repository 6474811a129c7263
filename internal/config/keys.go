package config

import (
	"fmt"
	"time"
)

// This file is the one place that lists every section and key Decode knows:
// what Vigil reads, and what corosync defines but Vigil ignores, with why.
// Anything not listed is reported in Config.Ignored as unknown.

// rule says what Decode does with one dotted key.
type rule struct {
	// set stores the entry's value; nil means Vigil does not read the key
	// and reports it in Config.Ignored with why.
	set func(d *decoder, key string, e Entry)
	why string
}

// sectionRule says what Decode does with one dotted section path.
type sectionRule struct {
	// read says the section's contents are decoded; otherwise the section
	// is reported in Config.Ignored as a whole, with why.
	read bool
	why  string
	// enter is called before the section's contents are decoded and leave
	// after; either may be nil.
	enter, leave func(d *decoder, s *Section)
}

// Reasons reported in IgnoredKey.Why.
const (
	whyUnknownKey     = "unknown key"
	whyUnknownSection = "unknown section"
	whyCrypto         = "Vigil authenticates and encrypts peer traffic with mutual TLS (tls section)"
	whyTotemTuning    = "totem tuning knob with no counterpart in Vigil's messaging"
	whyKnet           = "knet setting with no counterpart in Vigil's peer streams"
	whyMulticast      = "Vigil does not use multicast or broadcast"
	whyLinkMode       = "Vigil uses every link and fails over between them on its own"
	whyLegacy         = "corosync 1.x/openais setting with no effect in corosync 2+ or Vigil"
	whyNodeID         = "node IDs come from nodelist.node.nodeid"
	whyConfigVersion  = "Vigil does not compare configuration versions between nodes"
	whyQuorumVotes    = "a node's votes come from nodelist.node.quorum_votes"
	whyEVTracking     = "expected-votes tracking is not implemented; allow_downscale is read but not enforced"
	whyLeavingTimeout = "votequorum tuning knob with no counterpart in Vigil"
	whyQdevice        = "Vigil has no quorum device support: the device's votes are not counted"
	whyLogFormat      = "Vigil's log line format is fixed"
	whyLogPriority    = "log priority and syslog facility are not configurable; debug sets the level"
	whyBlackbox       = "Vigil has no blackbox recorder; use its tracing"
	whySubsys         = "per-subsystem logging is not supported; the top-level logging keys apply to every daemon"
	whyMembers        = "udpu member lists are replaced by the nodelist"
	whyService        = "the Pacemaker service is built into Vigil"
	whyProcess        = "corosync process setting with no counterpart in Vigil"
)

// sectionRules lists every section path Decode knows.
func sectionRules() map[string]sectionRule {
	ignore := func(why string) sectionRule { return sectionRule{why: why} }
	return map[string]sectionRule{
		"totem":           {read: true},
		"totem.interface": {read: true, enter: (*decoder).enterInterface, leave: (*decoder).leaveInterface},
		"nodelist":        {read: true},
		"nodelist.node":   {read: true, enter: (*decoder).enterNode, leave: (*decoder).leaveNode},
		"quorum":          {read: true, enter: (*decoder).enterQuorum},
		"logging":         {read: true},
		"tls":             {read: true},
		"vigil":           {read: true},

		"totem.interface.member": ignore(whyMembers),
		"quorum.device":          ignore(whyQdevice),
		"logging.logger_subsys":  ignore(whySubsys),
		"logging.logging_daemon": ignore(whySubsys),
		"amf":                    ignore(whyLegacy),
		"aisexec":                ignore(whyLegacy),
		"event":                  ignore(whyLegacy),
		"service":                ignore(whyService),
		"pload":                  ignore(whyProcess),
		"qb":                     ignore(whyProcess),
		"system":                 ignore(whyProcess),
		"resources":              ignore(whyProcess),
		"uidgid":                 ignore(whyProcess),
		"nozzle":                 ignore(whyProcess),
	}
}

// keyRules lists every dotted key Decode knows. nodelist.node.ringN_addr is
// handled by decoder.entry, since N is a number.
func keyRules() map[string]rule {
	ignore := func(why string) rule { return rule{why: why} }
	return map[string]rule{
		"compatibility": ignore(whyLegacy),

		// totem
		"totem.version":      integer(func(d *decoder) *int { return &d.c.Totem.Version }, 1<<32-1),
		"totem.cluster_name": text(func(d *decoder) *string { return &d.c.Totem.ClusterName }),
		"totem.transport":    text(func(d *decoder) *string { return &d.c.Totem.Transport }),
		"totem.token":        millis(func(d *decoder) *time.Duration { return &d.c.Totem.Token }, false),
		"totem.token_coefficient": millis(func(d *decoder) *time.Duration {
			return &d.c.Totem.TokenCoefficient
		}, true),
		"totem.consensus": {set: (*decoder).setConsensus},
		"totem.join":      millis(func(d *decoder) *time.Duration { return &d.c.Totem.Join }, false),
		"totem.clear_node_high_bit": boolean(func(d *decoder) *bool {
			return &d.clearNodeHighBit
		}),

		"totem.secauth":        ignore(whyCrypto),
		"totem.crypto_cipher":  ignore(whyCrypto),
		"totem.crypto_hash":    ignore(whyCrypto),
		"totem.crypto_model":   ignore(whyCrypto),
		"totem.crypto_compat":  ignore(whyCrypto),
		"totem.crypto_type":    ignore(whyCrypto),
		"totem.keyfile":        ignore(whyCrypto),
		"totem.key":            ignore(whyCrypto),
		"totem.threads":        ignore(whyCrypto),
		"totem.rrp_mode":       ignore(whyLinkMode),
		"totem.link_mode":      ignore(whyLinkMode),
		"totem.vsftype":        ignore(whyLegacy),
		"totem.nodeid":         ignore(whyNodeID),
		"totem.config_version": ignore(whyConfigVersion),

		"totem.netmtu":                              ignore(whyKnet),
		"totem.ip_version":                          ignore(whyKnet),
		"totem.knet_mtu":                            ignore(whyKnet),
		"totem.knet_pmtud_interval":                 ignore(whyKnet),
		"totem.knet_compression_model":              ignore(whyKnet),
		"totem.knet_compression_threshold":          ignore(whyKnet),
		"totem.knet_compression_level":              ignore(whyKnet),
		"totem.block_unlisted_ips":                  ignore(whyKnet),
		"totem.token_retransmit":                    ignore(whyTotemTuning),
		"totem.token_warning":                       ignore(whyTotemTuning),
		"totem.hold":                                ignore(whyTotemTuning),
		"totem.token_retransmits_before_loss_const": ignore(whyTotemTuning),
		"totem.send_join":                           ignore(whyTotemTuning),
		"totem.merge":                               ignore(whyTotemTuning),
		"totem.downcheck":                           ignore(whyTotemTuning),
		"totem.fail_recv_const":                     ignore(whyTotemTuning),
		"totem.seqno_unchanged_const":               ignore(whyTotemTuning),
		"totem.heartbeat_failures_allowed":          ignore(whyTotemTuning),
		"totem.max_network_delay":                   ignore(whyTotemTuning),
		"totem.window_size":                         ignore(whyTotemTuning),
		"totem.max_messages":                        ignore(whyTotemTuning),
		"totem.miss_count_const":                    ignore(whyTotemTuning),
		"totem.cancel_token_hold_on_retransmit":     ignore(whyTotemTuning),
		"totem.rrp_token_expired_timeout":           ignore(whyLinkMode),
		"totem.rrp_problem_count_timeout":           ignore(whyLinkMode),
		"totem.rrp_problem_count_threshold":         ignore(whyLinkMode),
		"totem.rrp_problem_count_mcast_threshold":   ignore(whyLinkMode),
		"totem.rrp_autorecovery_check_timeout":      ignore(whyLinkMode),

		// totem.interface
		"totem.interface.linknumber":  {set: (*decoder).setLinkNumber},
		"totem.interface.ringnumber":  {set: (*decoder).setLinkNumber},
		"totem.interface.bindnetaddr": text(func(d *decoder) *string { return &d.iface.BindNetAddr }),
		"totem.interface.mcastaddr":   text(func(d *decoder) *string { return &d.iface.McastAddr }),
		"totem.interface.mcastport":   {set: (*decoder).setMcastPort},
		"totem.interface.knet_link_priority": integer(func(d *decoder) *int {
			return &d.iface.Priority
		}, 255),
		"totem.interface.ttl":                 ignore(whyMulticast),
		"totem.interface.broadcast":           ignore(whyMulticast),
		"totem.interface.knet_ping_interval":  ignore(whyKnet),
		"totem.interface.knet_ping_timeout":   ignore(whyKnet),
		"totem.interface.knet_ping_precision": ignore(whyKnet),
		"totem.interface.knet_pong_count":     ignore(whyKnet),
		"totem.interface.knet_transport":      ignore(whyKnet),

		// nodelist.node
		"nodelist.node.nodeid":       {set: (*decoder).setNodeID},
		"nodelist.node.name":         text(func(d *decoder) *string { return &d.node.Name }),
		"nodelist.node.quorum_votes": integer(func(d *decoder) *int { return &d.node.QuorumVotes }, 1<<32-1),

		// quorum (votequorum(5))
		"quorum.provider":       text(func(d *decoder) *string { return &d.c.Quorum.Provider }),
		"quorum.expected_votes": integer(func(d *decoder) *int { return &d.c.Quorum.ExpectedVotes }, 1<<32-1),
		"quorum.two_node":       boolean(func(d *decoder) *bool { return &d.c.Quorum.TwoNode }),
		"quorum.wait_for_all":   {set: (*decoder).setWaitForAll},
		"quorum.last_man_standing": boolean(func(d *decoder) *bool {
			return &d.c.Quorum.LastManStanding
		}),
		"quorum.last_man_standing_window": millis(func(d *decoder) *time.Duration {
			return &d.c.Quorum.LastManStandingWindow
		}, true),
		"quorum.auto_tie_breaker": boolean(func(d *decoder) *bool { return &d.c.Quorum.AutoTieBreaker }),
		"quorum.auto_tie_breaker_node": text(func(d *decoder) *string {
			return &d.c.Quorum.AutoTieBreakerNode
		}),
		"quorum.allow_downscale":         boolean(func(d *decoder) *bool { return &d.c.Quorum.AllowDownscale }),
		"quorum.votes":                   ignore(whyQuorumVotes),
		"quorum.expected_votes_tracking": ignore(whyEVTracking),
		"quorum.leaving_timeout":         ignore(whyLeavingTimeout),

		// logging
		"logging.to_stderr":        boolean(func(d *decoder) *bool { return &d.c.Logging.ToStderr }),
		"logging.to_logfile":       boolean(func(d *decoder) *bool { return &d.c.Logging.ToLogfile }),
		"logging.to_file":          boolean(func(d *decoder) *bool { return &d.c.Logging.ToLogfile }), // corosync's deprecated spelling
		"logging.to_syslog":        boolean(func(d *decoder) *bool { return &d.c.Logging.ToSyslog }),
		"logging.logfile":          text(func(d *decoder) *string { return &d.c.Logging.Logfile }),
		"logging.debug":            text(func(d *decoder) *string { return &d.c.Logging.Debug }),
		"logging.timestamp":        {set: (*decoder).setTimestamp},
		"logging.fileline":         ignore(whyLogFormat),
		"logging.function_name":    ignore(whyLogFormat),
		"logging.syslog_facility":  ignore(whyLogPriority),
		"logging.syslog_priority":  ignore(whyLogPriority),
		"logging.syslog_level":     ignore(whyLogPriority),
		"logging.logfile_priority": ignore(whyLogPriority),
		"logging.blackbox":         ignore(whyBlackbox),

		// tls (Vigil)
		"tls.ca":   text(func(d *decoder) *string { return &d.c.TLS.CA }),
		"tls.cert": text(func(d *decoder) *string { return &d.c.TLS.Cert }),
		"tls.key":  text(func(d *decoder) *string { return &d.c.TLS.Key }),

		// vigil (Vigil)
		"vigil.local_node":       text(func(d *decoder) *string { return &d.c.Vigil.LocalNode }),
		"vigil.state_dir":        text(func(d *decoder) *string { return &d.c.Vigil.StateDir }),
		"vigil.plugin_dir":       text(func(d *decoder) *string { return &d.c.Vigil.PluginDir }),
		"vigil.plugin_checksums": text(func(d *decoder) *string { return &d.c.Vigil.PluginChecksums }),
		"vigil.messaging_listen": text(func(d *decoder) *string { return &d.c.Vigil.MessagingListen }),
		"vigil.quorum_listen":    text(func(d *decoder) *string { return &d.c.Vigil.QuorumListen }),
		"vigil.crm_listen":       text(func(d *decoder) *string { return &d.c.Vigil.CRMListen }),
		"vigil.lrm_listen":       text(func(d *decoder) *string { return &d.c.Vigil.LRMListen }),
		"vigil.fence_listen":     text(func(d *decoder) *string { return &d.c.Vigil.FenceListen }),
		"vigil.peer_port":        integer(func(d *decoder) *int { return &d.c.Vigil.PeerPort }, 65535),
	}
}

// ringAddrKey reports whether key is nodelist.node's ringN_addr, and N.
// N may have any number of digits, so that ring8_addr is reported as out of
// range rather than as unknown.
func ringAddrKey(key string) (int, bool) {
	const prefix, suffix = "ring", "_addr"
	if len(key) <= len(prefix)+len(suffix) || key[:len(prefix)] != prefix || key[len(key)-len(suffix):] != suffix {
		return 0, false
	}
	digits := key[len(prefix) : len(key)-len(suffix)]
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= MaxLinks { // saturate: only "in range or not" matters
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}

// text stores the value verbatim.
func text(field func(*decoder) *string) rule {
	return rule{set: func(d *decoder, key string, e Entry) {
		*field(d) = e.Value
		d.mark(key, e.Line)
	}}
}

// boolean stores a yes/no value; see parseBool.
func boolean(field func(*decoder) *bool) rule {
	return rule{set: func(d *decoder, key string, e Entry) {
		d.mark(key, e.Line)
		v, ok := parseBool(e.Value)
		if !ok {
			d.fail(key, e, "%q is not a boolean (use yes/no, on/off, true/false or 1/0)", e.Value)
			return
		}
		*field(d) = v
	}}
}

// integer stores a non-negative decimal integer no larger than max.
func integer(field func(*decoder) *int, max uint64) rule {
	return rule{set: func(d *decoder, key string, e Entry) {
		d.mark(key, e.Line)
		v, ok := d.uint(key, e, max)
		if ok {
			*field(d) = int(v)
		}
	}}
}

// millis stores a whole number of milliseconds. Unless zeroOK, 0 keeps the
// default, as corosync does for its timeouts.
func millis(field func(*decoder) *time.Duration, zeroOK bool) rule {
	return rule{set: func(d *decoder, key string, e Entry) {
		d.mark(key, e.Line)
		v, ok := d.millis(key, e)
		if ok && (v != 0 || zeroOK) {
			*field(d) = v
		}
	}}
}

// unknownWhy is the reason given for a key or section nobody knows, with a
// suggestion when a known name of the same section is one typo away.
func unknownWhy(base, path string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if len(k) > len(path)+2 || len(path) > len(k)+2 {
			continue // too far apart; also keeps long fuzzed keys cheap
		}
		if dist := editDistance(path, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return base
	}
	return fmt.Sprintf("%s (did you mean %s?)", base, best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
