package scheduler

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// opDigest is the op-digest the controller records for an operation of r:
// the MD5 of the parameters element as Pacemaker writes it (" <parameters
// a="1" b="2"/>" and a newline, the names sorted) holding the resource's
// instance attributes, the operation's own instance attributes and, for a
// recurring operation only, its timeout as CRM_meta_timeout (Pacemaker's
// calculate_main_digest and pcmk__filter_op_for_digest).
func (cl *Cluster) opDigest(r *Resource, task string, intervalMS int) string {
	return cl.paramsDigest(r, task, intervalMS, nil, intervalMS > 0)
}

// paramsDigest is opDigest without the parameters named in leave, and
// with the timeout only when asked.
func (cl *Cluster) paramsDigest(r *Resource, task string, intervalMS int, leave []string, timeout bool) string {
	params := map[string]string{}
	if r.Cfg != nil {
		cib.Effective(params, r.Cfg.InstanceAttributes, "", nil)
	}
	if o := opConfig(r.Cfg, task, intervalMS); o != nil {
		cib.Effective(params, o.InstanceAttributes, "", nil)
	}
	for name := range params {
		if strings.HasPrefix(name, "CRM_meta_") {
			delete(params, name)
		}
	}
	for _, name := range leave {
		delete(params, name)
	}
	if timeout {
		params["CRM_meta_timeout"] = strconv.Itoa(cl.opTimeoutMS(r, task, intervalMS))
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(" <parameters")
	for _, name := range names {
		b.WriteString(" " + name + `="` + xmlAttrEscape(params[name]) + `"`)
	}
	b.WriteString("/>\n")
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// opTimeoutMS is an operation's timeout: configured on the op, else in
// op_defaults, else Pacemaker's default of 20 seconds.
func (cl *Cluster) opTimeoutMS(r *Resource, task string, intervalMS int) int {
	if o := opConfig(r.Cfg, task, intervalMS); o != nil && o.Timeout != "" {
		if d, err := cib.ParseDuration(o.Timeout); err == nil {
			return int(d / time.Millisecond)
		}
	}
	if cl.CIB != nil {
		if v, ok := cib.Effective(nil, cl.CIB.Configuration.OpDefaults, "", nil)["timeout"]; ok {
			if d, err := cib.ParseDuration(v); err == nil {
				return int(d / time.Millisecond)
			}
		}
	}
	return 20000
}

func xmlAttrEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// definitionChanged reports whether the parameters r was started with on
// n differ from its configuration: the digest recorded with the last start
// (or with a later probe or promote) is not the one its parameters give
// now. Operations without a digest say nothing.
func (cl *Cluster) definitionChanged(r *Resource, n *Node) bool {
	h := r.history[n.Name]
	if h == nil || r.Cfg == nil {
		return false
	}
	last := -1
	for i, o := range h.ops {
		if o.task == "start" || o.task == "migrate_from" {
			last = i
		}
	}
	if last < 0 {
		return false
	}
	for _, o := range h.ops[last:] {
		if o.interval != 0 || o.op.OpDigest == "" {
			continue
		}
		switch o.task {
		case "start", "migrate_from", "promote", "monitor":
			if !cl.digestMatches(r, o, 0) {
				return true
			}
		}
	}
	return false
}

// monitorChanged reports whether the recurring monitor of interval ms that
// runs on n was started with other parameters than it has now: it is then
// scheduled again.
func (cl *Cluster) monitorChanged(r *Resource, n *Node, ms int) bool {
	h := r.history[n.Name]
	if h == nil {
		return false
	}
	for i := len(h.ops) - 1; i >= 0; i-- {
		o := h.ops[i]
		if o.task == "monitor" && o.interval == ms {
			return o.op.OpDigest != "" && !cl.digestMatches(r, o, ms)
		}
	}
	return false
}

// digestMatches compares a recorded operation's digest with r's
// parameters. Like crm_simulate on a sanitized CIB (passwords replaced),
// a mismatch that disappears once the parameters the agent declares
// secure (op-secure-params) are left out, compared with op-secure-digest,
// is a match: only private parameters differ (Pacemaker's
// calculate_secure_digest).
func (cl *Cluster) digestMatches(r *Resource, o opRec, ms int) bool {
	if o.op.OpDigest == cl.opDigest(r, o.task, ms) {
		return true
	}
	if o.op.OpSecureDigest == "" {
		return false
	}
	leave := strings.Fields(o.op.OpSecureParams)
	if r.IsStonith() && r.Cfg != nil {
		// The fencer consumes the pcmk_ parameters of a fencing device;
		// the controller does not hash them into the secure digest.
		for name := range cib.Effective(nil, r.Cfg.InstanceAttributes, "", nil) {
			if strings.HasPrefix(name, "pcmk_") {
				leave = append(leave, name)
			}
		}
	}
	// The secure digest holds no timeout, recurring operation or not.
	return o.op.OpSecureDigest == cl.paramsDigest(r, o.task, ms, leave, false)
}
