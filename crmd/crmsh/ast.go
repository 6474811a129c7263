// Package crmsh is the crmsh `configure` language: a lexer and parser that
// turn crmsh lines into a typed syntax tree, a printer that prints the tree
// back in one canonical form, and the conversion between statements and a
// CIB configuration.
//
// The printed form of a parsed statement parses back to an equal statement
// (positions aside): that is what lets `show` output be loaded again.
package crmsh

import "fmt"

// Pos is a place in the input: 1-based line and column, the column counted
// in characters (runes) from the start of the physical line.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("line %d, column %d", p.Line, p.Col) }

// Statement is one crmsh configure command. Its concrete type is one of
// *Primitive, *Group, *Clone, *Location, *Colocation, *Order, *Property,
// *Node, *Delete, *ShowStmt, *Verify, *Commit or *Comment.
type Statement interface {
	// Pos is where the statement's keyword is.
	Pos() Pos
	stmt()
}

// NVPair is a name=value pair of an attribute list (params, meta,
// utilization, attributes, an op's attributes, properties).
type NVPair struct {
	Name, Value string
}

// Agent names a resource agent: Class, for ocf a Provider, and Type.
type Agent struct {
	Class, Provider, Type string
}

func (a Agent) String() string {
	if a.Provider != "" {
		return a.Class + ":" + a.Provider + ":" + a.Type
	}
	return a.Class + ":" + a.Type
}

// Op is one `op NAME k=v ...` clause of a primitive.
type Op struct {
	Name  string
	Attrs []NVPair
}

// Primitive is `primitive ID CLASS:[PROVIDER:]TYPE [description=..]
// [params ..] [meta ..] [utilization ..] [op NAME ..]...`. Several params
// (or meta, utilization) clauses are merged, in order.
type Primitive struct {
	At          Pos
	ID          string
	Agent       Agent
	Description string
	Params      []NVPair
	Meta        []NVPair
	Utilization []NVPair
	Ops         []Op
}

// Group is `group ID RSC... [description=..] [params ..] [meta ..]`.
type Group struct {
	At          Pos
	ID          string
	Resources   []string
	Description string
	Params      []NVPair
	Meta        []NVPair
}

// Clone is `clone ID RSC [description=..] [params ..] [meta ..]`, or with
// Promotable set `ms ID RSC ...` (crmsh's master/slave resource).
type Clone struct {
	At          Pos
	Promotable  bool
	ID          string
	Resource    string
	Description string
	Params      []NVPair
	Meta        []NVPair
}

// Score is a constraint or rule score: Value is an integer, "INFINITY" or
// "-INFINITY" (inf, +inf, mandatory and advisory are normalised at parse
// time); Attribute, when set instead, names a node attribute whose value is
// the score (a rule's score-attribute).
type Score struct {
	Value     string
	Attribute string
}

// Location is `location ID RSC [role=ROLE] [resource-discovery=..]
// SCORE: NODE` (Node set, Rules empty) or `location ID RSC [role=ROLE]
// rule ... [rule ...]` (Rules set, Node empty).
type Location struct {
	At                Pos
	ID                string
	Resource          string
	Role              string
	ResourceDiscovery string
	Score             Score
	Node              string
	Rules             []Rule
}

// Rule is one `rule [$id=ID] [$role=ROLE] [SCORE:] EXPR [and|or EXPR]...`
// clause. BoolOp is "and" or "or" when there is more than one expression;
// crmsh, like Pacemaker's rule element, does not mix them in one rule.
type Rule struct {
	ID     string
	Role   string
	Score  Score
	BoolOp string
	Exprs  []Expr
}

// ExprKind tells the forms of a rule expression apart.
type ExprKind int

// The forms of a rule expression.
const (
	// ExprCompare is `ATTR [TYPE:]OP VALUE`.
	ExprCompare ExprKind = iota
	// ExprDefined is `defined ATTR`.
	ExprDefined
	// ExprNotDefined is `not_defined ATTR`.
	ExprNotDefined
	// ExprDate is `date ...`.
	ExprDate
)

// Expr is one expression of a rule. For ExprCompare: Attr, Op (lt gt lte
// gte eq ne), Type ("" or string, integer, number, version) and Value. For
// ExprDefined and ExprNotDefined: Attr. For ExprDate: Date.
type Expr struct {
	Kind  ExprKind
	Attr  string
	Op    string
	Type  string
	Value string
	Date  *DateExpr
}

// DateExpr is `date lt END`, `date gt START`, `date in_range start=..
// (end=..|DURATION..)` or `date date_spec SPEC..`. Op is the Pacemaker
// operation name (lt, gt, in_range, date_spec); crmsh's short forms `in`
// and `spec` are accepted. Duration holds the in_range duration fields
// (years=1 ...), Spec the date_spec fields (hours=9-17 ...).
type DateExpr struct {
	Op       string
	Start    string
	End      string
	Duration []NVPair
	Spec     []NVPair
}

// ResourceSet is one set of a set constraint: its resources, whether they
// are sequential (false when written in parentheses or brackets), whether
// all are required (false when written in brackets) and the role
// (colocation) or action (order) all its members carry.
type ResourceSet struct {
	Resources  []string
	Sequential bool
	RequireAll bool
	Qualifier  string
}

// Colocation is `colocation ID SCORE: RSC[:ROLE] WITH-RSC[:ROLE]` (Sets
// nil: RSC is placed with WITH-RSC) or with more resources, parentheses or
// brackets a constraint of resource sets (Sets set). NodeAttribute is the
// trailing `node-attribute=..`.
type Colocation struct {
	At            Pos
	ID            string
	Score         Score
	Rsc           string
	RscRole       string
	WithRsc       string
	WithRole      string
	Sets          []ResourceSet
	NodeAttribute string
}

// Order is `order ID [KIND:|SCORE:] FIRST[:ACTION] THEN[:ACTION]
// [symmetrical=BOOL]` (Sets nil) or a constraint of resource sets. Kind is
// "" (Pacemaker's default, Mandatory), Mandatory, Optional or Serialize; a
// score is turned into a kind at parse time as crmsh does (0 is Optional,
// any other Mandatory). Symmetrical is "", "true" or "false".
type Order struct {
	At          Pos
	ID          string
	Kind        string
	First       string
	FirstAction string
	Then        string
	ThenAction  string
	Sets        []ResourceSet
	Symmetrical string
}

// Section names the attribute set a Property statement writes.
type Section string

// The sections a Property statement can write.
const (
	SectionProperty    Section = "property"
	SectionRscDefaults Section = "rsc_defaults"
	SectionOpDefaults  Section = "op_defaults"
)

// Property is `property [$id=ID|ID:] k=v...`, `rsc_defaults ..` or
// `op_defaults ..`: SetID is the id of the attribute set, "" for the
// default one (cib-bootstrap-options, rsc-options, op-options).
type Property struct {
	At      Pos
	Section Section
	SetID   string
	Attrs   []NVPair
}

// Node is `node [ID:|$id=ID] NAME[:TYPE] [description=..] [attributes
// k=v..] [utilization k=v..]`.
type Node struct {
	At          Pos
	ID          string
	Name        string
	Type        string
	Description string
	Attributes  []NVPair
	Utilization []NVPair
}

// Delete is `delete ID...`.
type Delete struct {
	At  Pos
	IDs []string
}

// ShowStmt is `show [ID...]` (named so beside the function Show).
type ShowStmt struct {
	At  Pos
	IDs []string
}

// Verify is `verify`.
type Verify struct{ At Pos }

// Commit is `commit`.
type Commit struct{ At Pos }

// Comment is a `#` line; Text is what follows the `#`.
type Comment struct {
	At   Pos
	Text string
}

func (s *Primitive) Pos() Pos  { return s.At }
func (s *Group) Pos() Pos      { return s.At }
func (s *Clone) Pos() Pos      { return s.At }
func (s *Location) Pos() Pos   { return s.At }
func (s *Colocation) Pos() Pos { return s.At }
func (s *Order) Pos() Pos      { return s.At }
func (s *Property) Pos() Pos   { return s.At }
func (s *Node) Pos() Pos       { return s.At }
func (s *Delete) Pos() Pos     { return s.At }
func (s *ShowStmt) Pos() Pos   { return s.At }
func (s *Verify) Pos() Pos     { return s.At }
func (s *Commit) Pos() Pos     { return s.At }
func (s *Comment) Pos() Pos    { return s.At }

func (*Primitive) stmt()  {}
func (*Group) stmt()      {}
func (*Clone) stmt()      {}
func (*Location) stmt()   {}
func (*Colocation) stmt() {}
func (*Order) stmt()      {}
func (*Property) stmt()   {}
func (*Node) stmt()       {}
func (*Delete) stmt()     {}
func (*ShowStmt) stmt()   {}
func (*Verify) stmt()     {}
func (*Commit) stmt()     {}
func (*Comment) stmt()    {}
