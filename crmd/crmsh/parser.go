package crmsh

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a problem at one place of the input.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ErrorList is every problem Parse found, in input order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Parse reads crmsh configure text: one statement per line, long ones
// continued with a backslash at the end of the line, comment lines starting
// with #. It returns the statements that parsed, in order, and when some did
// not an ErrorList naming each problem's line, column and what was
// expected there; a bad statement does not stop the ones after it.
func Parse(src string) ([]Statement, error) {
	var stmts []Statement
	var errs ErrorList
	for _, ln := range lex(src) {
		if ln.err != nil {
			errs = append(errs, ln.err)
			continue
		}
		if ln.comment != nil {
			stmts = append(stmts, ln.comment)
			continue
		}
		s, err := parseLine(ln)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stmts = append(stmts, s)
	}
	if errs != nil {
		return stmts, errs
	}
	return stmts, nil
}

// ParseArgs reads one statement given as command-line arguments, each
// argument one word as the shell split it (see argTokens).
func ParseArgs(args []string) (Statement, error) {
	if len(args) == 0 {
		return nil, &Error{Pos: Pos{Line: 1, Col: 1}, Msg: "expected a statement (primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults, node, delete, show, verify, commit), got nothing"}
	}
	s, err := parseLine(argTokens(args))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parser reads the words of one statement. Errors abort the statement by
// panicking with a *Error, recovered in parseLine.
type parser struct {
	toks []token
	i    int
	eol  Pos
}

func parseLine(ln line) (s Statement, err *Error) {
	p := &parser{toks: ln.toks, eol: ln.end}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			s, err = nil, e
		}
	}()
	return p.statement(), nil
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// got describes what is at the current position for an error message.
func (p *parser) got() string {
	if t := p.peek(); t != nil {
		return t.describe()
	}
	return "end of line"
}

// here is the current position: the next word, or just after the last.
func (p *parser) here() Pos {
	if t := p.peek(); t != nil {
		return t.pos
	}
	return p.eol
}

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) peekIs(kw string) bool {
	t := p.peek()
	return t != nil && t.is(kw)
}

// next takes the next word; at the end of the line it fails saying what
// was expected.
func (p *parser) next(expected string) *token {
	t := p.peek()
	if t == nil {
		p.fail(p.eol, "expected %s, got end of line", expected)
	}
	p.i++
	return t
}

// end fails unless the whole line has been read.
func (p *parser) end(after string) {
	if t := p.peek(); t != nil {
		p.fail(t.pos, "expected end of line after %s, got %s", after, t.describe())
	}
}

// isID reports whether s is a valid Pacemaker id (an XML ID: a letter or
// _ first, then letters, digits, ., - and _).
func isID(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '.' || r == '-' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

const idRule = "an id is a letter or _ followed by letters, digits, ., - or _"

// id reads an id of the thing named what.
func (p *parser) id(what string) string {
	t := p.next(what)
	return p.checkID(t, what)
}

func (p *parser) checkID(t *token, what string) string {
	if !isID(t.text) {
		p.fail(t.pos, "expected %s, got %s (%s)", what, t.describe(), idRule)
	}
	return t.text
}

// statementKeywords are the words a statement can begin with, and their
// canonical spelling.
var statementKeywords = map[string]string{
	"primitive": "primitive", "group": "group", "clone": "clone", "ms": "ms", "master": "ms",
	"location": "location", "colocation": "colocation", "collocation": "colocation", "order": "order",
	"property": "property", "rsc_defaults": "rsc_defaults", "op_defaults": "op_defaults",
	"node": "node", "delete": "delete", "show": "show", "verify": "verify", "commit": "commit",
}

func (p *parser) statement() Statement {
	t := p.next("a statement")
	kw := ""
	if !t.anyQuoted() {
		kw = statementKeywords[strings.ToLower(t.text)]
	}
	at := t.pos
	switch kw {
	case "primitive":
		return p.primitive(at)
	case "group":
		return p.group(at)
	case "clone", "ms":
		return p.clone(at, kw == "ms")
	case "location":
		return p.location(at)
	case "colocation":
		return p.colocation(at)
	case "order":
		return p.order(at)
	case "property", "rsc_defaults", "op_defaults":
		return p.property(at, Section(kw))
	case "node":
		return p.node(at)
	case "delete":
		s := &Delete{At: at}
		for p.peek() != nil {
			s.IDs = append(s.IDs, p.id("an id to delete"))
		}
		if s.IDs == nil {
			p.fail(p.eol, "expected an id to delete, got end of line")
		}
		return s
	case "show":
		s := &ShowStmt{At: at}
		for p.peek() != nil {
			s.IDs = append(s.IDs, p.next("an id").text)
		}
		return s
	case "verify":
		p.end("verify")
		return &Verify{At: at}
	case "commit":
		p.end("commit")
		return &Commit{At: at}
	}
	p.fail(t.pos, "expected a statement (primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults, node, delete, show, verify, commit), got %s", t.describe())
	return nil
}

// nvpairs reads name=value words into list until the end of the line or
// an unquoted word in stop. clause names the list in messages; min is how
// many pairs there must be.
func (p *parser) nvpairs(list *[]NVPair, clause string, stop []string, min int) {
	n := 0
	for {
		t := p.peek()
		if t == nil || isKeyword(t, stop) {
			break
		}
		p.i++
		*list = append(*list, p.nvpair(t, list, clause))
		n++
	}
	if n < min {
		p.fail(p.here(), "expected NAME=VALUE after %s, got %s", clause, p.got())
	}
}

// nvpair splits one name=value word, refusing a name already in list.
func (p *parser) nvpair(t *token, list *[]NVPair, clause string) NVPair {
	eq := t.index('=')
	if eq < 0 {
		after := "end of line"
		if n := p.peek(); n != nil {
			after = n.describe()
		}
		p.fail(t.end, "expected \"=\" after %s name %s, got %s", clauseNoun(clause), t.describe(), after)
	}
	if eq == 0 {
		p.fail(t.pos, "expected a %s name before \"=\" in %s", clauseNoun(clause), t.describe())
	}
	nv := NVPair{Name: t.text[:eq], Value: t.text[eq+1:]}
	p.checkDup(*list, nv.Name, t.pos, clauseNoun(clause))
	return nv
}

func (p *parser) checkDup(list []NVPair, name string, pos Pos, noun string) {
	for _, o := range list {
		if o.Name == name {
			p.fail(pos, "%s %q is given twice", noun, name)
		}
	}
}

func (p *parser) addPair(list *[]NVPair, nv NVPair, pos Pos, noun string) {
	p.checkDup(*list, nv.Name, pos, noun)
	*list = append(*list, nv)
}

func clauseNoun(clause string) string {
	switch clause {
	case "params", "op_params":
		return "parameter"
	case "meta":
		return "meta attribute"
	case "utilization":
		return "utilization attribute"
	case "attributes":
		return "node attribute"
	case "property":
		return "property"
	case "rsc_defaults", "op_defaults":
		return "default"
	case "op":
		return "operation attribute"
	}
	return "attribute"
}

func isKeyword(t *token, kws []string) bool {
	for _, k := range kws {
		if t.is(k) {
			return true
		}
	}
	return false
}

// description reads a `description=TEXT` word if one is next.
func (p *parser) description() string {
	t := p.peek()
	if t == nil {
		return ""
	}
	if eq := t.index('='); eq > 0 && strings.EqualFold(t.text[:eq], "description") {
		p.i++
		return t.text[eq+1:]
	}
	return ""
}

// clauses reads attribute-list clauses (and, with ops, `op` clauses) to the
// end of the line. The lists map clause keywords to where their pairs go;
// implicit, when set, takes name=value words that come before any keyword
// (crmsh's `primitive p Dummy state=1` for params).
func (p *parser) clauses(lists map[string]*[]NVPair, ops *[]Op, implicit *[]NVPair, implicitName string) {
	var kws []string
	for k := range lists {
		kws = append(kws, k)
	}
	if ops != nil {
		kws = append(kws, "op")
	}
	sortStrings(kws)
	first := true
	for t := p.peek(); t != nil; t = p.peek() {
		switch {
		case ops != nil && t.is("op"):
			p.i++
			*ops = append(*ops, p.op(kws))
		case isKeyword(t, kws):
			p.i++
			kw := strings.ToLower(t.text)
			p.nvpairs(lists[kw], kw, kws, 1)
		case first && implicit != nil && t.index('=') > 0:
			p.nvpairs(implicit, implicitName, kws, 1)
		default:
			p.fail(t.pos, "expected %s, got %s", orList(kws), t.describe())
		}
		first = false
	}
}

func orList(kws []string) string {
	if len(kws) == 1 {
		return kws[0]
	}
	return strings.Join(kws[:len(kws)-1], ", ") + " or " + kws[len(kws)-1]
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// op reads `NAME [k=v...]` after the op keyword.
func (p *parser) op(stop []string) Op {
	t := p.next("an operation name (monitor, start, stop ...) after op")
	if isKeyword(t, stop) || !isID(t.text) {
		p.fail(t.pos, "expected an operation name (monitor, start, stop ...) after op, got %s", t.describe())
	}
	o := Op{Name: t.text}
	p.nvpairs(&o.Attrs, "op", stop, 0)
	return o
}

// agent reads CLASS:[PROVIDER:]TYPE.
func (p *parser) agent() Agent {
	const want = "a resource agent CLASS:[PROVIDER:]TYPE (e.g. ocf:heartbeat:IPaddr2, lsb:httpd, systemd:nginx, stonith:fence_ipmilan)"
	t := p.next(want)
	if t.anyQuoted() || t.index('=') >= 0 {
		p.fail(t.pos, "expected %s, got %s", want, t.describe())
	}
	parts := strings.Split(t.text, ":")
	for _, s := range parts {
		if s == "" {
			p.fail(t.pos, "expected %s, got %s", want, t.describe())
		}
	}
	class := strings.ToLower(parts[0])
	switch {
	case len(parts) == 3 && class == "ocf":
		return Agent{Class: class, Provider: parts[1], Type: parts[2]}
	case len(parts) == 2 && class == "ocf":
		// crmsh's default provider for ocf.
		return Agent{Class: class, Provider: "heartbeat", Type: parts[1]}
	case len(parts) == 2:
		return Agent{Class: class, Type: parts[1]}
	case len(parts) == 3:
		p.fail(t.pos, "expected %s, got %s (only the ocf class has a provider)", want, t.describe())
	}
	p.fail(t.pos, "expected %s, got %s (the class is needed: Vigil does not guess it)", want, t.describe())
	return Agent{}
}

func (p *parser) primitive(at Pos) Statement {
	s := &Primitive{At: at}
	s.ID = p.id("a resource id after primitive")
	s.Agent = p.agent()
	s.Description = p.description()
	p.clauses(map[string]*[]NVPair{"params": &s.Params, "meta": &s.Meta, "utilization": &s.Utilization}, &s.Ops, &s.Params, "params")
	return s
}

func (p *parser) group(at Pos) Statement {
	s := &Group{At: at}
	s.ID = p.id("a group id after group")
	for t := p.peek(); t != nil && t.index('=') < 0 && !isKeyword(t, []string{"params", "meta"}); t = p.peek() {
		p.i++
		rsc := p.checkID(t, "a member resource id")
		for _, o := range s.Resources {
			if o == rsc {
				p.fail(t.pos, "resource %q is listed twice in group %s", rsc, s.ID)
			}
		}
		s.Resources = append(s.Resources, rsc)
	}
	if s.Resources == nil {
		p.fail(p.here(), "expected a member resource id of group %s, got %s", s.ID, p.got())
	}
	s.Description = p.description()
	p.clauses(map[string]*[]NVPair{"params": &s.Params, "meta": &s.Meta}, nil, &s.Params, "params")
	return s
}

func (p *parser) clone(at Pos, promotable bool) Statement {
	s := &Clone{At: at, Promotable: promotable}
	kw := "clone"
	if promotable {
		kw = "ms"
	}
	s.ID = p.id("a " + kw + " id after " + kw)
	s.Resource = p.id("the id of the resource to clone")
	s.Description = p.description()
	p.clauses(map[string]*[]NVPair{"params": &s.Params, "meta": &s.Meta}, nil, &s.Params, "params")
	return s
}

func (p *parser) node(at Pos) Statement {
	s := &Node{At: at}
	t := p.next("a node name after node")
	if eq := t.index('='); eq >= 0 && t.text[:eq] == "$id" && !t.quoted[0] {
		s.ID = t.text[eq+1:]
		t = p.next("a node name after $id=" + s.ID)
	} else if t.endsWith(':') && t.index(':') == len(t.text)-1 && len(t.text) > 1 {
		s.ID = t.text[:len(t.text)-1]
		t = p.next("a node name after " + t.text)
	}
	name := t.text
	if i := t.lastIndex(':'); i >= 0 {
		switch typ := strings.ToLower(name[i+1:]); typ {
		case "normal", "member", "ping", "remote":
			name, s.Type = name[:i], typ
		}
	}
	if name == "" || t.index('=') >= 0 {
		p.fail(t.pos, "expected a node name after node, got %s", t.describe())
	}
	s.Name = name
	s.Description = p.description()
	p.clauses(map[string]*[]NVPair{"attributes": &s.Attributes, "utilization": &s.Utilization}, nil, &s.Attributes, "attributes")
	return s
}

func (p *parser) property(at Pos, sec Section) Statement {
	s := &Property{At: at, Section: sec}
	if t := p.peek(); t != nil {
		if eq := t.index('='); eq >= 0 && t.text[:eq] == "$id" && !t.quoted[0] {
			p.i++
			s.SetID = p.checkID(&token{text: t.text[eq+1:], pos: t.pos}, "an attribute set id after $id=")
		} else if eq < 0 && t.endsWith(':') {
			p.i++
			s.SetID = p.checkID(&token{text: t.text[:len(t.text)-1], pos: t.pos}, "an attribute set id before \":\"")
		}
	}
	p.nvpairs(&s.Attrs, string(sec), nil, 1)
	return s
}

// score reads SCORE: (a number, inf, +inf, -inf, INFINITY, mandatory or
// advisory, then a colon); with attr a name that is none of those is a
// score-attribute.
func (p *parser) score(what string, attr bool) Score {
	t := p.next(what)
	s, ok := scoreOf(t, attr)
	if !ok {
		p.fail(t.pos, "expected %s, got %s", what, t.describe())
	}
	return s
}

const scoreWant = "a score (a number, inf, -inf, mandatory or advisory) followed by \":\""

func scoreOf(t *token, attr bool) (Score, bool) {
	if !t.endsWith(':') || len(t.text) < 2 {
		return Score{}, false
	}
	body := t.text[:len(t.text)-1]
	quoted := false
	for _, q := range t.quoted[:len(body)] {
		quoted = quoted || q
	}
	if !quoted {
		if v, ok := scoreValue(body); ok {
			return Score{Value: v}, true
		}
	}
	if attr && strings.IndexAny(body, "=") < 0 {
		return Score{Attribute: body}, true
	}
	return Score{}, false
}

// scoreValue normalises a literal score: the infinities to INFINITY and
// -INFINITY, mandatory to INFINITY, advisory to 0, integers to their
// decimal form.
func scoreValue(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity", "mandatory":
		return "INFINITY", true
	case "-inf", "-infinity":
		return "-INFINITY", true
	case "advisory":
		return "0", true
	}
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" {
		return "", false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(n, 10), true
}

var roles = []string{"Started", "Stopped", "Master", "Slave", "Promoted", "Unpromoted"}
var actions = []string{"start", "stop", "promote", "demote"}

// canonical returns the spelling in list of s, compared without case.
func canonical(s string, list []string) (string, bool) {
	for _, l := range list {
		if strings.EqualFold(s, l) {
			return l, true
		}
	}
	return "", false
}

func (p *parser) role(t *token, s string) string {
	r, ok := canonical(s, roles)
	if !ok {
		p.fail(t.pos, "expected a role (%s), got %q", strings.Join(roles, ", "), s)
	}
	return r
}

func (p *parser) location(at Pos) Statement {
	s := &Location{At: at}
	s.ID = p.id("a constraint id after location")
	s.Resource = p.id("a resource id")
	for t := p.peek(); t != nil && t.index('=') > 0; t = p.peek() {
		eq := t.index('=')
		name, val := strings.ToLower(t.text[:eq]), t.text[eq+1:]
		switch name {
		case "role", "$role":
			s.Role = p.role(t, val)
		case "resource-discovery":
			switch val {
			case "always", "never", "exclusive":
				s.ResourceDiscovery = val
			default:
				p.fail(t.pos, "expected resource-discovery=always, never or exclusive, got %s", t.describe())
			}
		default:
			p.fail(t.pos, "expected role=ROLE, resource-discovery=.., a score or rule, got %s", t.describe())
		}
		p.i++
	}
	if p.peekIs("rule") {
		for p.peekIs("rule") {
			p.i++
			s.Rules = append(s.Rules, p.rule())
		}
		p.end("the rule")
		return s
	}
	s.Score = p.score(scoreWant+" and a node, or rule", false)
	s.Node = p.next("a node name after the score").text
	if s.Node == "" {
		p.fail(p.toks[p.i-1].pos, "expected a node name after the score, got \"\"")
	}
	p.end("the node name")
	return s
}

// rule reads a rule after its keyword.
func (p *parser) rule() Rule {
	var r Rule
opts:
	for t := p.peek(); t != nil && t.index('=') > 0; t = p.peek() {
		eq := t.index('=')
		name, val := strings.ToLower(t.text[:eq]), t.text[eq+1:]
		switch name {
		case "$id", "id":
			r.ID = p.checkID(&token{text: val, pos: t.pos}, "a rule id after "+t.text[:eq+1])
		case "$role", "role":
			r.Role = p.role(t, val)
		default:
			// An attribute name with "=" in it: the expression reads it.
			break opts
		}
		p.i++
	}
	r.Score = Score{Value: "INFINITY"}
	if t := p.peek(); t != nil && t.endsWith(':') {
		r.Score = p.score(scoreWant, true)
	}
	r.Exprs = append(r.Exprs, p.expr())
	for t := p.peek(); t != nil && (t.is("and") || t.is("or")); t = p.peek() {
		op := strings.ToLower(t.text)
		if r.BoolOp != "" && r.BoolOp != op {
			p.fail(t.pos, "expected %q (a rule joins its expressions with one of and, or; write a second rule for the other), got %q", r.BoolOp, op)
		}
		r.BoolOp = op
		p.i++
		r.Exprs = append(r.Exprs, p.expr())
	}
	if t := p.peek(); t != nil && !t.is("rule") {
		p.fail(t.pos, "expected and, or, rule or end of line after the expression, got %s", t.describe())
	}
	return r
}

var compareOps = []string{"lt", "gt", "lte", "gte", "eq", "ne"}
var exprTypes = []string{"string", "integer", "number", "version"}

const exprWant = "an expression (ATTR OP VALUE, defined ATTR, not_defined ATTR or date ...)"

func (p *parser) expr() Expr {
	t := p.next(exprWant)
	switch {
	case t.is("date"):
		return Expr{Kind: ExprDate, Date: p.date()}
	case t.is("defined"), t.is("not_defined"):
		kind := ExprDefined
		if t.is("not_defined") {
			kind = ExprNotDefined
		}
		a := p.next("a node attribute name after " + strings.ToLower(t.text))
		if a.text == "" {
			p.fail(a.pos, "expected a node attribute name, got \"\"")
		}
		return Expr{Kind: kind, Attr: a.text}
	case t.is("and"), t.is("or"), t.is("rule"), t.text == "":
		p.fail(t.pos, "expected %s, got %s", exprWant, t.describe())
	}
	e := Expr{Kind: ExprCompare, Attr: t.text}
	opWant := fmt.Sprintf("a comparison (lt, gt, lte, gte, eq, ne; typed as string:eq, integer:, number:, version:) after %q", t.text)
	o := p.next(opWant)
	opText := o.text
	if i := o.index(':'); i >= 0 {
		typ, ok := canonical(o.text[:i], exprTypes)
		if !ok {
			p.fail(o.pos, "expected %s, got %s", opWant, o.describe())
		}
		e.Type, opText = typ, o.text[i+1:]
	}
	op, ok := canonical(opText, compareOps)
	if !ok || o.anyQuoted() {
		p.fail(o.pos, "expected %s, got %s", opWant, o.describe())
	}
	e.Op = op
	e.Value = p.next(fmt.Sprintf("a value after %q %s", e.Attr, o.text)).text
	return e
}

var inRangeKeys = []string{"start", "end"}
var dateSpecKeys = []string{"hours", "monthdays", "weekdays", "yeardays", "months", "weeks", "years", "weekyears", "moon"}

func (p *parser) date() *DateExpr {
	const want = "a date operation (lt, gt, in_range or date_spec)"
	t := p.next(want + " after date")
	d := &DateExpr{}
	switch {
	case t.is("lt"):
		d.Op = "lt"
		d.End = p.next("an end date (ISO 8601) after date lt").text
	case t.is("gt"):
		d.Op = "gt"
		d.Start = p.next("a start date (ISO 8601) after date gt").text
	case t.is("in_range"), t.is("in"):
		d.Op = "in_range"
		for u := p.peek(); u != nil && u.index('=') > 0; u = p.peek() {
			eq := u.index('=')
			name, val := strings.ToLower(u.text[:eq]), u.text[eq+1:]
			switch {
			case name == "start" && d.Start == "":
				d.Start = val
			case name == "end" && d.End == "":
				d.End = val
			case contains(dateSpecKeys, name):
				p.addPair(&d.Duration, NVPair{Name: name, Value: val}, u.pos, "duration field")
			default:
				p.fail(u.pos, "expected start=, end= or a duration (%s=) in date in_range, got %s", strings.Join(dateSpecKeys, "=, "), u.describe())
			}
			p.i++
		}
		if d.Start == "" && d.End == "" {
			p.fail(p.here(), "expected start=DATE or end=DATE after date in_range, got %s", p.got())
		}
		if d.End != "" && d.Duration != nil {
			p.fail(t.pos, "date in_range takes end= or a duration, not both")
		}
		if d.Duration != nil && d.Start == "" {
			p.fail(t.pos, "date in_range with a duration needs start=")
		}
	case t.is("date_spec"), t.is("spec"):
		d.Op = "date_spec"
		for u := p.peek(); u != nil && u.index('=') > 0; u = p.peek() {
			eq := u.index('=')
			name := strings.ToLower(u.text[:eq])
			if !contains(dateSpecKeys, name) {
				p.fail(u.pos, "expected a date_spec field (%s=), got %s", strings.Join(dateSpecKeys, "=, "), u.describe())
			}
			p.addPair(&d.Spec, NVPair{Name: name, Value: u.text[eq+1:]}, u.pos, "date_spec field")
			p.i++
		}
		if d.Spec == nil {
			p.fail(p.here(), "expected a date_spec field (%s=) after date date_spec, got %s", strings.Join(dateSpecKeys, "=, "), p.got())
		}
	default:
		p.fail(t.pos, "expected %s after date, got %s", want, t.describe())
	}
	return d
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// tail takes a trailing `name=value` word (colocation's node-attribute,
// order's symmetrical) off the end of the line.
func (p *parser) tail(name string) (*token, string) {
	if len(p.toks) <= p.i {
		return nil, ""
	}
	t := &p.toks[len(p.toks)-1]
	eq := t.index('=')
	if eq < 0 || !strings.EqualFold(t.text[:eq], name) {
		return nil, ""
	}
	p.toks = p.toks[:len(p.toks)-1]
	return t, t.text[eq+1:]
}

func (p *parser) colocation(at Pos) Statement {
	s := &Colocation{At: at}
	s.ID = p.id("a constraint id after colocation")
	s.Score = p.score(scoreWant, false)
	if t, v := p.tail("node-attribute"); t != nil {
		if v == "" {
			p.fail(t.pos, "expected node-attribute=NAME, got %s", t.describe())
		}
		s.NodeAttribute = v
	}
	if simpleRefs(p.toks[p.i:]) {
		s.Rsc, s.RscRole = p.ref(p.next(""), "role")
		s.WithRsc, s.WithRole = p.ref(p.next(""), "role")
		return s
	}
	s.Sets = p.sets("role")
	return s
}

func (p *parser) order(at Pos) Statement {
	s := &Order{At: at}
	s.ID = p.id("a constraint id after order")
	if t := p.peek(); t != nil && t.endsWith(':') && t.index(':') == len(t.text)-1 {
		if k, ok := canonical(t.text[:len(t.text)-1], []string{"Mandatory", "Optional", "Serialize"}); ok && !t.anyQuoted() {
			s.Kind = k
		} else if sc, ok := scoreOf(t, false); ok {
			// crmsh turns a score into a kind: 0 is Optional, any other Mandatory.
			s.Kind = "Mandatory"
			if sc.Value == "0" {
				s.Kind = "Optional"
			}
		} else {
			p.fail(t.pos, "expected a kind (Mandatory:, Optional:, Serialize:) or a score, got %s", t.describe())
		}
		p.i++
	}
	if t, v := p.tail("symmetrical"); t != nil {
		switch strings.ToLower(v) {
		case "true", "yes", "on", "1":
			s.Symmetrical = "true"
		case "false", "no", "off", "0":
			s.Symmetrical = "false"
		default:
			p.fail(t.pos, "expected symmetrical=true or false, got %s", t.describe())
		}
	}
	if simpleRefs(p.toks[p.i:]) {
		s.First, s.FirstAction = p.ref(p.next(""), "action")
		s.Then, s.ThenAction = p.ref(p.next(""), "action")
		return s
	}
	s.Sets = p.sets("action")
	return s
}

// simpleRefs reports whether the rest of a colocation or order is the
// simple two-resource form rather than resource sets.
func simpleRefs(rest []token) bool {
	if len(rest) != 2 {
		return false
	}
	for i := range rest {
		t := &rest[i]
		if t.is(setSeparator) || strings.ContainsAny(t.text, "()[]") {
			return false
		}
	}
	return true
}

// setSeparator is crmsh's placeholder word in a resource set list. crmsh
// ignores it; Vigil also ends the current set there, so that two adjacent
// sequential sets with the same role can be written (see docs/crmsh.md).
const setSeparator = "_rsc_set_"

// ref reads RSC[:QUALIFIER], the qualifier a role or an action.
func (p *parser) ref(t *token, kind string) (string, string) {
	name, q := t.text, ""
	if i := t.index(':'); i >= 0 {
		name, q = t.text[:i], t.text[i+1:]
		switch kind {
		case "role":
			q = p.role(t, q)
		default:
			a, ok := canonical(q, actions)
			if !ok {
				p.fail(t.pos, "expected an action (%s) after %s:, got %q", strings.Join(actions, ", "), name, q)
			}
			q = a
		}
	}
	if !isID(name) {
		p.fail(t.pos, "expected a resource id (RSC or RSC:%s), got %s (%s)", strings.ToUpper(kind), t.describe(), idRule)
	}
	return name, q
}

// sets reads resource sets to the end of the line: plain resources are a
// sequential set, ( ... ) a non-sequential one, [ ... ] a non-sequential
// one that does not require all; a change of role or action starts a new
// set.
func (p *parser) sets(kind string) []ResourceSet {
	var words []token
	for _, t := range p.toks[p.i:] {
		words = append(words, splitBrackets(t)...)
	}
	p.i = len(p.toks)
	var out []ResourceSet
	cur := ResourceSet{Sequential: true, RequireAll: true}
	var opened *token
	save := func() {
		if len(cur.Resources) > 0 {
			out = append(out, cur)
		}
		cur = ResourceSet{Sequential: cur.Sequential, RequireAll: cur.RequireAll}
	}
	for i := range words {
		t := &words[i]
		switch {
		case t.is(setSeparator):
			save()
		case t.is("(") || t.is("["):
			if opened != nil {
				p.fail(t.pos, "expected a resource or %s to close the set opened at %s, got %q (sets do not nest)", closing(opened.text), opened.pos, t.text)
			}
			save()
			opened = t
			cur.Sequential, cur.RequireAll = false, t.text == "("
		case t.is(")") || t.is("]"):
			if opened == nil {
				p.fail(t.pos, "expected a resource, got %q with no set open", t.text)
			}
			if t.text != closing(opened.text) {
				p.fail(t.pos, "expected %s to close the set opened at %s, got %q", closing(opened.text), opened.pos, t.text)
			}
			if len(cur.Resources) == 0 {
				p.fail(t.pos, "expected a resource in the set opened at %s, got %q (empty sets are not allowed)", opened.pos, t.text)
			}
			save()
			opened = nil
			cur.Sequential, cur.RequireAll = true, true
		case t.index('=') >= 0:
			p.fail(t.pos, "expected a resource, got %s (set attributes are written with brackets: ( ) for sequential=false, [ ] for require-all=false)", t.describe())
		default:
			rsc, q := p.ref(t, kind)
			if q != cur.Qualifier {
				save()
				cur.Qualifier = q
			}
			cur.Resources = append(cur.Resources, rsc)
		}
	}
	if opened != nil {
		p.fail(p.eol, "expected %s to close the set opened at %s, got end of line", closing(opened.text), opened.pos)
	}
	save()
	if out == nil {
		p.fail(p.eol, "expected resources (RSC[:%s] RSC[:%s] or resource sets), got end of line", strings.ToUpper(kind), strings.ToUpper(kind))
	}
	return out
}

func closing(open string) string {
	if open == "[" {
		return "]"
	}
	return ")"
}

// splitBrackets splits unquoted brackets off the front and back of a word,
// as crmsh does: "(A" is "(" and "A".
func splitBrackets(t token) []token {
	var front, back []token
	for len(t.text) > 1 && strings.IndexByte("([", t.text[0]) >= 0 && !t.quoted[0] {
		front = append(front, t.slice(0, 1))
		t = t.slice(1, len(t.text))
	}
	for len(t.text) > 1 && strings.IndexByte(")]", t.text[len(t.text)-1]) >= 0 && !t.quoted[len(t.text)-1] {
		back = append([]token{t.slice(len(t.text)-1, len(t.text))}, back...)
		t = t.slice(0, len(t.text)-1)
	}
	return append(append(front, t), back...)
}
