package crmsh

import (
	"fmt"
	"io"
	"strings"
)

// Format prints one statement in Vigil's canonical crmsh form, on one line
// without a newline: keywords lower case, clauses in a fixed order
// (description, params, meta, utilization, ops), scores as inf, -inf or a
// number, words quoted only where they must be. The result parses back to
// a statement equal to s (positions aside).
func Format(s Statement) string {
	var w words
	switch s := s.(type) {
	case *Primitive:
		w.add("primitive", name(s.ID), agentWord(s.Agent))
		w.description(s.Description)
		w.clause("params", s.Params)
		w.clause("meta", s.Meta)
		w.clause("utilization", s.Utilization)
		for _, o := range s.Ops {
			w.add("op", name(o.Name))
			w.pairs(o.Attrs)
		}
	case *Group:
		w.add("group", name(s.ID))
		for _, r := range s.Resources {
			w.add(name(r))
		}
		w.description(s.Description)
		w.clause("params", s.Params)
		w.clause("meta", s.Meta)
	case *Clone:
		kw := "clone"
		if s.Promotable {
			kw = "ms"
		}
		w.add(kw, name(s.ID), name(s.Resource))
		w.description(s.Description)
		w.clause("params", s.Params)
		w.clause("meta", s.Meta)
	case *Location:
		w.add("location", name(s.ID), name(s.Resource))
		if s.Role != "" {
			w.add("role=" + value(s.Role))
		}
		if s.ResourceDiscovery != "" {
			w.add("resource-discovery=" + value(s.ResourceDiscovery))
		}
		if len(s.Rules) == 0 {
			w.add(scoreWord(s.Score), value(s.Node))
		}
		for _, r := range s.Rules {
			w.rule(r)
		}
	case *Colocation:
		w.add("colocation", name(s.ID), scoreWord(s.Score))
		if s.Sets == nil {
			w.add(ref(s.Rsc, s.RscRole), ref(s.WithRsc, s.WithRole))
		} else {
			w.sets(s.Sets)
		}
		if s.NodeAttribute != "" {
			w.add("node-attribute=" + value(s.NodeAttribute))
		}
	case *Order:
		w.add("order", name(s.ID))
		if s.Kind != "" {
			w.add(s.Kind + ":")
		}
		if s.Sets == nil {
			w.add(ref(s.First, s.FirstAction), ref(s.Then, s.ThenAction))
		} else {
			w.sets(s.Sets)
		}
		if s.Symmetrical != "" {
			w.add("symmetrical=" + s.Symmetrical)
		}
	case *Property:
		w.add(string(s.Section))
		if s.SetID != "" {
			w.add("$id=" + value(s.SetID))
		}
		w.pairs(s.Attrs)
	case *Node:
		w.add("node")
		if s.ID != "" {
			w.add("$id=" + value(s.ID))
		}
		n := s.Name
		if needsQuote(n) || strings.Contains(n, "=") || (s.Type == "" && strings.Contains(n, ":")) {
			n = quote(n)
		}
		if s.Type != "" {
			n += ":" + s.Type
		}
		w.add(n)
		w.description(s.Description)
		w.clause("attributes", s.Attributes)
		w.clause("utilization", s.Utilization)
	case *Delete:
		w.add("delete")
		for _, id := range s.IDs {
			w.add(name(id))
		}
	case *ShowStmt:
		w.add("show")
		for _, id := range s.IDs {
			w.add(value(id))
		}
	case *Verify:
		w.add("verify")
	case *Commit:
		w.add("commit")
	case *Comment:
		return "#" + s.Text
	default:
		panic(fmt.Sprintf("crmsh: Format of %T", s))
	}
	return strings.Join(w, " ")
}

// Print writes statements with Format, one per line.
func Print(w io.Writer, stmts []Statement) error {
	for _, s := range stmts {
		if _, err := io.WriteString(w, Format(s)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

type words []string

func (w *words) add(s ...string) { *w = append(*w, s...) }

func (w *words) description(d string) {
	if d != "" {
		w.add("description=" + value(d))
	}
}

func (w *words) clause(kw string, pairs []NVPair) {
	if len(pairs) > 0 {
		w.add(kw)
		w.pairs(pairs)
	}
}

func (w *words) pairs(pairs []NVPair) {
	for _, nv := range pairs {
		w.add(pairName(nv.Name) + "=" + value(nv.Value))
	}
}

func (w *words) rule(r Rule) {
	w.add("rule")
	if r.ID != "" {
		w.add("$id=" + value(r.ID))
	}
	if r.Role != "" {
		w.add("$role=" + r.Role)
	}
	w.add(scoreWord(r.Score))
	for i, e := range r.Exprs {
		if i > 0 {
			op := r.BoolOp
			if op == "" {
				op = "and"
			}
			w.add(op)
		}
		w.expr(e)
	}
}

func (w *words) expr(e Expr) {
	switch e.Kind {
	case ExprDefined:
		w.add("defined", name(e.Attr))
	case ExprNotDefined:
		w.add("not_defined", name(e.Attr))
	case ExprDate:
		d := e.Date
		if d == nil {
			d = &DateExpr{}
		}
		w.add("date", d.Op)
		switch d.Op {
		case "lt":
			w.add(value(d.End))
		case "gt":
			w.add(value(d.Start))
		case "in_range":
			if d.Start != "" {
				w.add("start=" + value(d.Start))
			}
			if d.End != "" {
				w.add("end=" + value(d.End))
			}
			w.pairs(d.Duration)
		case "date_spec":
			w.pairs(d.Spec)
		}
	default:
		op := e.Op
		if e.Type != "" {
			op = e.Type + ":" + op
		}
		w.add(name(e.Attr), op, value(e.Value))
	}
}

// sets prints resource sets so that they parse back the same: brackets for
// non-sequential sets, the separator between two sequential sets (which
// would otherwise run together) and before a list that would otherwise
// read as the simple two-resource form.
func (w *words) sets(sets []ResourceSet) {
	var out []string
	prevSeq := false
	for _, s := range sets {
		var members []string
		for _, r := range s.Resources {
			members = append(members, ref(r, s.Qualifier))
		}
		switch {
		case !s.Sequential && s.RequireAll:
			out = append(out, "(")
			out = append(out, members...)
			out = append(out, ")")
		case !s.Sequential:
			out = append(out, "[")
			out = append(out, members...)
			out = append(out, "]")
		default:
			if prevSeq {
				out = append(out, setSeparator)
			}
			out = append(out, members...)
		}
		prevSeq = s.Sequential
	}
	if len(out) == 2 && len(sets) == 1 && sets[0].Sequential {
		out = append([]string{setSeparator}, out...)
	}
	w.add(out...)
}

func ref(rsc, q string) string {
	if q == "" {
		return name(rsc)
	}
	return name(rsc) + ":" + q
}

func agentWord(a Agent) string {
	if a.Provider != "" {
		return a.Class + ":" + a.Provider + ":" + a.Type
	}
	return a.Class + ":" + a.Type
}

func scoreWord(s Score) string {
	if s.Attribute != "" {
		n := name(s.Attribute)
		if _, ok := scoreValue(s.Attribute); ok && n == s.Attribute {
			n = quote(s.Attribute)
		}
		return n + ":"
	}
	switch s.Value {
	case "INFINITY", "":
		return "inf:"
	case "-INFINITY":
		return "-inf:"
	}
	return s.Value + ":"
}

// reserved are the words that are syntax somewhere in a statement; as a
// name they are quoted so that they read as text.
var reserved = map[string]bool{
	"params": true, "meta": true, "utilization": true, "op": true, "attributes": true,
	"rule": true, "and": true, "or": true, "date": true, "defined": true, "not_defined": true,
	setSeparator: true, "(": true, ")": true, "[": true, "]": true,
}

// needsQuote reports whether a word made of s would not read back as s.
func needsQuote(s string) bool {
	return s == "" || strings.ContainsAny(s, " \t\r\n\f\v\"'\\")
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// value quotes a word that is read whole by its place (a value, a node
// name): only blanks, quotes, backslashes and emptiness matter.
func value(s string) string {
	if needsQuote(s) {
		return quote(s)
	}
	return s
}

// pairName quotes the name of a name=value word: it must also not hold an
// "=", begin with $ nor be empty.
func pairName(s string) string {
	if needsQuote(s) || strings.ContainsAny(s, "=$") {
		return quote(s)
	}
	return s
}

// name quotes a word that stands for itself among syntax: an id, an
// attribute, an operation name.
func name(s string) string {
	if needsQuote(s) || strings.ContainsAny(s, "=:()[]") || reserved[strings.ToLower(s)] ||
		strings.HasSuffix(s, ":") {
		return quote(s)
	}
	return s
}
