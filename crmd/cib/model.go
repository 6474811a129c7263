package cib

// CIB is a whole Cluster Information Base: the attributes of the <cib> root,
// the configuration and the status. Its zero value is an empty CIB at
// version 0:0:0.
type CIB struct {
	// Version is (admin_epoch, epoch, num_updates).
	Version Version
	// ValidateWith names the schema, e.g. "pacemaker-3.7".
	ValidateWith  string
	CRMFeatureSet string
	// HaveQuorum is the DC's view of quorum ("true", "false", "1", "0"); see
	// HasQuorum.
	HaveQuorum     string
	DCUUID         string
	CIBLastWritten string
	UpdateOrigin   string
	UpdateClient   string
	UpdateUser     string
	NoQuorumPanic  string
	ExecutionDate  string
	// Extra holds root attributes the model does not know, in input order.
	Extra []Attr

	Configuration Configuration
	Status        Status

	// Unknown holds child elements of <cib> other than configuration and
	// status.
	Unknown []*Element
}

// Attr is one XML attribute. Name carries a namespace prefix as written
// ("xsi:type").
type Attr struct {
	Name  string
	Value string
}

// Element is an XML element the model keeps as it is: a bundle, an ACL
// section, a constraint kind it does not model, an unknown child. Encoding
// writes it back unchanged (comments and whitespace-only text excepted).
type Element struct {
	Name     string
	Attrs    []Attr
	Children []*Element
	// Text is the element's character data when it has any besides
	// whitespace.
	Text string
}

// Attr returns the value of the attribute name and whether it is present.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Configuration is the <configuration> section. Slices keep the order of the
// XML, which matters to Pacemaker (resources are placed in this order when
// their scores tie).
type Configuration struct {
	// CRMConfig holds the cluster_property_set blocks of crm_config.
	CRMConfig   []*NVSet
	Nodes       []*Node
	Resources   []*Resource
	Constraints []*Constraint
	// RscDefaults and OpDefaults hold meta_attributes sets.
	RscDefaults []*NVSet
	OpDefaults  []*NVSet
	// FencingTopology holds the fencing levels, in input order.
	FencingTopology []*FencingLevel
	// Alerts, ACLs and Tags are kept opaque; nil when absent.
	Alerts *Element
	ACLs   *Element
	Tags   *Element
	// Unknown holds other children of <configuration>.
	Unknown []*Element
	// SectionAttrs holds attributes written on <configuration> itself
	// (key "configuration") or on a section element ("crm_config",
	// "resources", ...), which Pacemaker does not use; nil when none.
	SectionAttrs map[string][]Attr
}

// NVSet is a block of name/value pairs: cluster_property_set,
// instance_attributes, meta_attributes, utilization. When IDRef is set the
// block was written as a reference; decoding copies the referenced block's
// Score, Rules and Pairs here so a reader need not follow it, and encoding
// writes the reference only.
type NVSet struct {
	ID    string
	IDRef string
	// Score orders several blocks of the same kind: the higher score is
	// applied first and wins.
	Score string
	// Rules, when present, must all hold (Pacemaker evaluates a block's rules
	// as "and") for the block to apply.
	Rules   []*Rule
	Pairs   []*NVPair
	Extra   []Attr
	Unknown []*Element
}

// NVPair is one name/value pair. With IDRef set, decoding copies Name and
// Value from the referenced nvpair.
type NVPair struct {
	ID    string
	IDRef string
	Name  string
	Value string
	Extra []Attr
}

// Get returns the value of name in the block and whether it is set.
func (s *NVSet) Get(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	for _, p := range s.Pairs {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Node is a cluster node of the <nodes> section.
type Node struct {
	ID    string
	Uname string
	// Type is "member" (the default), "remote" or "ping".
	Type               string
	Description        string
	Score              string
	InstanceAttributes []*NVSet
	Utilization        []*NVSet
	Extra              []Attr
	Unknown            []*Element
}

// ResourceKind says what a Resource is. Its values are the XML element
// names.
type ResourceKind string

// The kinds of resources.
const (
	KindPrimitive ResourceKind = "primitive"
	KindGroup     ResourceKind = "group"
	KindClone     ResourceKind = "clone"
	// KindMaster is the old <master> element: a promotable clone.
	KindMaster ResourceKind = "master"
	// KindTemplate is a resource template that primitives refer to with
	// Template.
	KindTemplate ResourceKind = "template"
	// KindBundle is kept opaque in Raw; only its ID is read.
	KindBundle ResourceKind = "bundle"
)

// Resource is one entry of <resources>, or a child of a group or clone. One
// struct serves every kind; the fields that do not apply to a kind are empty.
type Resource struct {
	Kind        ResourceKind
	ID          string
	Description string
	// Class, Provider and Type name the agent of a primitive or template
	// ("ocf", "heartbeat", "IPaddr2"; "stonith", "", "fence_ipmilan").
	Class    string
	Provider string
	Type     string
	// Template is the id of the template a primitive takes its agent,
	// attributes and operations from.
	Template           string
	InstanceAttributes []*NVSet
	MetaAttributes     []*NVSet
	Utilization        []*NVSet
	// Ops are the operations; OpsAttrs the attributes of the <operations>
	// element itself (id, id-ref), which Pacemaker rarely writes.
	Ops      []*Op
	OpsAttrs []Attr
	// Children are a group's members in order, or a clone's single child.
	Children []*Resource
	// Raw is the whole element of a KindBundle.
	Raw     *Element
	Extra   []Attr
	Unknown []*Element
}

// Op is an <op> of a resource.
type Op struct {
	ID   string
	Name string
	// Interval and Timeout are durations in Pacemaker's syntax ("10s",
	// "1m", "PT10S", "30" for seconds); see ParseDuration.
	Interval       string
	Timeout        string
	Role           string
	OnFail         string
	Enabled        string
	RecordPending  string
	StartDelay     string
	IntervalOrigin string
	Requires       string
	Description    string
	// InstanceAttributes and MetaAttributes are the op's own blocks
	// (OCF_CHECK_LEVEL, for instance).
	InstanceAttributes []*NVSet
	MetaAttributes     []*NVSet
	Extra              []Attr
	Unknown            []*Element
}

// Constraint is one entry of <constraints>: exactly one of the fields is set.
type Constraint struct {
	Location   *Location
	Colocation *Colocation
	Order      *Order
	// Raw is a constraint kept opaque: rsc_ticket, or an element the model
	// does not know.
	Raw *Element
}

// ID returns the constraint's id whatever its kind.
func (c *Constraint) ID() string {
	switch {
	case c.Location != nil:
		return c.Location.ID
	case c.Colocation != nil:
		return c.Colocation.ID
	case c.Order != nil:
		return c.Order.ID
	case c.Raw != nil:
		id, _ := c.Raw.Attr("id")
		return id
	}
	return ""
}

// Location is rsc_location: either Score with Node, or Rules.
type Location struct {
	ID         string
	Rsc        string
	RscPattern string
	Score      string
	Node       string
	Role       string
	// ResourceDiscovery is "always", "never" or "exclusive".
	ResourceDiscovery string
	Rules             []*Rule
	Sets              []*ResourceSet
	Extra             []Attr
	Unknown           []*Element
}

// Colocation is rsc_colocation: Rsc is placed relative to WithRsc, or Sets.
type Colocation struct {
	ID            string
	Score         string
	Rsc           string
	WithRsc       string
	RscRole       string
	WithRscRole   string
	NodeAttribute string
	Influence     string
	Sets          []*ResourceSet
	Extra         []Attr
	Unknown       []*Element
}

// Order is rsc_order: First before Then, or Sets.
type Order struct {
	ID string
	// Kind is "Mandatory" (default), "Optional" or "Serialize".
	Kind        string
	Score       string
	First       string
	Then        string
	FirstAction string
	ThenAction  string
	Symmetrical string
	RequireAll  string
	Sets        []*ResourceSet
	Extra       []Attr
	Unknown     []*Element
}

// ResourceSet is a resource_set of a constraint; Refs are the ids of its
// resource_ref children in order.
type ResourceSet struct {
	ID         string
	IDRef      string
	Sequential string
	RequireAll string
	Ordering   string
	Action     string
	Role       string
	Score      string
	Kind       string
	Refs       []string
	Extra      []Attr
	Unknown    []*Element
}

// Rule is a Pacemaker rule: its conditions combined by BooleanOp ("and" by
// default, or "or"). In a location constraint Score or ScoreAttribute is what
// the rule adds to the nodes where it holds. With IDRef set, decoding copies
// the referenced rule's content here.
type Rule struct {
	ID             string
	IDRef          string
	Score          string
	ScoreAttribute string
	BooleanOp      string
	Role           string
	Conditions     []*Condition
	Extra          []Attr
	Unknown        []*Element
}

// Condition is one child of a rule: exactly one field is set.
type Condition struct {
	Expression *Expression
	Date       *DateExpression
	Rule       *Rule
	Resource   *RscExpression
	Op         *OpExpression
}

// Expression compares a node attribute: Attribute ("#uname", "#id",
// "#kind", "#is_dc", "#cluster-name", "#site-name" or a node attribute),
// Operation (lt gt lte gte eq ne defined not_defined), Value, Type (string,
// integer, number, version) and ValueSource (literal, param, meta).
type Expression struct {
	ID          string
	Attribute   string
	Operation   string
	Value       string
	Type        string
	ValueSource string
	Extra       []Attr
}

// DateExpression is date_expression: Operation is in_range, gt, lt or
// date_spec.
type DateExpression struct {
	ID        string
	Operation string
	Start     string
	End       string
	DateSpec  *DateSpec
	Duration  *DateSpec
	Extra     []Attr
}

// DateSpec is a date_spec or duration: its id and its fields (hours="9-16",
// weekdays="1-5", years="1" ...) in input order.
type DateSpec struct {
	ID     string
	Fields []Attr
}

// RscExpression is rsc_expression (rules of rsc_defaults).
type RscExpression struct {
	ID       string
	Class    string
	Provider string
	Type     string
	Extra    []Attr
}

// OpExpression is op_expression (rules of op_defaults).
type OpExpression struct {
	ID       string
	Name     string
	Interval string
	Extra    []Attr
}

// FencingLevel is a fencing-level of fencing-topology: the Devices
// (comma-separated stonith resource ids) tried together at level Index for
// the nodes matched by Target, TargetPattern or TargetAttribute=TargetValue.
type FencingLevel struct {
	ID              string
	Index           string
	Target          string
	TargetPattern   string
	TargetAttribute string
	TargetValue     string
	Devices         string
	Extra           []Attr
}

// Status is the <status> section.
type Status struct {
	NodeStates []*NodeState
	Unknown    []*Element
	// Extra holds attributes of the <status> element, which Pacemaker does
	// not use.
	Extra []Attr
}

// NodeState is a node_state: what the cluster knows of a node now.
type NodeState struct {
	ID             string
	Uname          string
	InCCM          string
	Crmd           string
	Join           string
	Expected       string
	HA             string
	Shutdown       string
	CrmDebugOrigin string
	// TransientAttributes and LRM are nil when the node_state has none.
	TransientAttributes *TransientAttributes
	LRM                 *LRM
	Extra               []Attr
	Unknown             []*Element
}

// TransientAttributes are a node's transient attributes (fail counts,
// last-failure, master scores, shutdown ...).
type TransientAttributes struct {
	ID      string
	Sets    []*NVSet
	Extra   []Attr
	Unknown []*Element
}

// LRM is a node's operation history.
type LRM struct {
	ID        string
	Resources []*LRMResource
	Extra     []Attr
	Unknown   []*Element
	// ResourcesAttrs holds attributes of the <lrm_resources> element (old
	// CIBs give it an id).
	ResourcesAttrs []Attr
}

// LRMResource is the operation history of one resource on one node.
type LRMResource struct {
	ID        string
	Class     string
	Provider  string
	Type      string
	Container string
	Ops       []*LRMRscOp
	Extra     []Attr
	Unknown   []*Element
}

// LRMRscOp is one recorded operation result. Numbers are kept as written;
// the accessor methods parse them.
type LRMRscOp struct {
	ID              string
	OperationKey    string
	Operation       string
	CrmDebugOrigin  string
	CrmFeatureSet   string
	TransitionKey   string
	TransitionMagic string
	ExitReason      string
	OnNode          string
	CallID          string
	RCCode          string
	OpStatus        string
	Interval        string
	LastRun         string
	LastRCChange    string
	ExecTime        string
	QueueTime       string
	OpDigest        string
	OpForceRestart  string
	OpRestartDigest string
	OpSecureParams  string
	OpSecureDigest  string
	Extra           []Attr
}
