package cib

// field binds one XML attribute to the model's string field. Each type's
// table lists its known attributes in the order encoding writes them
// (Pacemaker's usual order); decoding puts every other attribute in Extra.
type field struct {
	name string
	p    *string
}

func (c *CIB) fields() []field {
	return []field{
		{"crm_feature_set", &c.CRMFeatureSet}, {"validate-with", &c.ValidateWith},
		{"have-quorum", &c.HaveQuorum}, {"dc-uuid", &c.DCUUID},
		{"cib-last-written", &c.CIBLastWritten}, {"update-origin", &c.UpdateOrigin},
		{"update-client", &c.UpdateClient}, {"update-user", &c.UpdateUser},
		{"no-quorum-panic", &c.NoQuorumPanic}, {"execution-date", &c.ExecutionDate},
	}
}

func (s *NVSet) fields() []field {
	return []field{{"id", &s.ID}, {"id-ref", &s.IDRef}, {"score", &s.Score}}
}

func (p *NVPair) fields() []field {
	return []field{{"id", &p.ID}, {"id-ref", &p.IDRef}, {"name", &p.Name}, {"value", &p.Value}}
}

func (n *Node) fields() []field {
	return []field{{"id", &n.ID}, {"uname", &n.Uname}, {"type", &n.Type}, {"description", &n.Description}, {"score", &n.Score}}
}

func (r *Resource) fields() []field {
	return []field{
		{"id", &r.ID}, {"description", &r.Description}, {"class", &r.Class},
		{"provider", &r.Provider}, {"type", &r.Type}, {"template", &r.Template},
	}
}

func (o *Op) fields() []field {
	return []field{
		{"id", &o.ID}, {"name", &o.Name}, {"interval", &o.Interval}, {"timeout", &o.Timeout},
		{"role", &o.Role}, {"on-fail", &o.OnFail}, {"enabled", &o.Enabled},
		{"record-pending", &o.RecordPending}, {"start-delay", &o.StartDelay},
		{"interval-origin", &o.IntervalOrigin}, {"requires", &o.Requires},
		{"description", &o.Description},
	}
}

func (l *Location) fields() []field {
	return []field{
		{"id", &l.ID}, {"rsc", &l.Rsc}, {"rsc-pattern", &l.RscPattern}, {"role", &l.Role},
		{"score", &l.Score}, {"node", &l.Node}, {"resource-discovery", &l.ResourceDiscovery},
	}
}

func (c *Colocation) fields() []field {
	return []field{
		{"id", &c.ID}, {"score", &c.Score}, {"rsc", &c.Rsc}, {"with-rsc", &c.WithRsc},
		{"rsc-role", &c.RscRole}, {"with-rsc-role", &c.WithRscRole},
		{"node-attribute", &c.NodeAttribute}, {"influence", &c.Influence},
	}
}

func (o *Order) fields() []field {
	return []field{
		{"id", &o.ID}, {"kind", &o.Kind}, {"score", &o.Score}, {"first", &o.First},
		{"then", &o.Then}, {"first-action", &o.FirstAction}, {"then-action", &o.ThenAction},
		{"symmetrical", &o.Symmetrical}, {"require-all", &o.RequireAll},
	}
}

func (s *ResourceSet) fields() []field {
	return []field{
		{"id", &s.ID}, {"id-ref", &s.IDRef}, {"sequential", &s.Sequential},
		{"require-all", &s.RequireAll}, {"ordering", &s.Ordering}, {"action", &s.Action},
		{"role", &s.Role}, {"score", &s.Score}, {"kind", &s.Kind},
	}
}

func (r *Rule) fields() []field {
	return []field{
		{"id", &r.ID}, {"id-ref", &r.IDRef}, {"score", &r.Score},
		{"score-attribute", &r.ScoreAttribute}, {"boolean-op", &r.BooleanOp}, {"role", &r.Role},
	}
}

func (e *Expression) fields() []field {
	return []field{
		{"id", &e.ID}, {"attribute", &e.Attribute}, {"operation", &e.Operation},
		{"value", &e.Value}, {"type", &e.Type}, {"value-source", &e.ValueSource},
	}
}

func (e *DateExpression) fields() []field {
	return []field{{"id", &e.ID}, {"operation", &e.Operation}, {"start", &e.Start}, {"end", &e.End}}
}

func (e *RscExpression) fields() []field {
	return []field{{"id", &e.ID}, {"class", &e.Class}, {"provider", &e.Provider}, {"type", &e.Type}}
}

func (e *OpExpression) fields() []field {
	return []field{{"id", &e.ID}, {"name", &e.Name}, {"interval", &e.Interval}}
}

func (l *FencingLevel) fields() []field {
	return []field{
		{"id", &l.ID}, {"target", &l.Target}, {"target-pattern", &l.TargetPattern},
		{"target-attribute", &l.TargetAttribute}, {"target-value", &l.TargetValue},
		{"index", &l.Index}, {"devices", &l.Devices},
	}
}

func (n *NodeState) fields() []field {
	return []field{
		{"id", &n.ID}, {"uname", &n.Uname}, {"ha", &n.HA}, {"in_ccm", &n.InCCM},
		{"crmd", &n.Crmd}, {"join", &n.Join}, {"expected", &n.Expected},
		{"crm-debug-origin", &n.CrmDebugOrigin}, {"shutdown", &n.Shutdown},
	}
}

func (t *TransientAttributes) fields() []field { return []field{{"id", &t.ID}} }

func (l *LRM) fields() []field { return []field{{"id", &l.ID}} }

func (r *LRMResource) fields() []field {
	return []field{
		{"id", &r.ID}, {"type", &r.Type}, {"class", &r.Class}, {"provider", &r.Provider},
		{"container", &r.Container},
	}
}

func (o *LRMRscOp) fields() []field {
	return []field{
		{"id", &o.ID}, {"operation_key", &o.OperationKey}, {"operation", &o.Operation},
		{"crm-debug-origin", &o.CrmDebugOrigin}, {"crm_feature_set", &o.CrmFeatureSet},
		{"transition-key", &o.TransitionKey}, {"transition-magic", &o.TransitionMagic},
		{"exit-reason", &o.ExitReason}, {"on_node", &o.OnNode}, {"call-id", &o.CallID},
		{"rc-code", &o.RCCode}, {"op-status", &o.OpStatus}, {"interval", &o.Interval},
		{"last-run", &o.LastRun}, {"last-rc-change", &o.LastRCChange},
		{"exec-time", &o.ExecTime}, {"queue-time", &o.QueueTime}, {"op-digest", &o.OpDigest},
		{"op-force-restart", &o.OpForceRestart}, {"op-restart-digest", &o.OpRestartDigest},
		{"op-secure-params", &o.OpSecureParams}, {"op-secure-digest", &o.OpSecureDigest},
	}
}
