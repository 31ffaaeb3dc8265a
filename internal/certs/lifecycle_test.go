package certs

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// LifecycleMove names the transition of lifecycle.go's table that lets a
// request go from one state to another writing the given audit actions
// (from is "" for a new request), by the rule move applies: the
// transition's own events, and those that record a call's answer or a
// task's progress. ok is false when the table has none. For the tests of
// package certs_test.
func LifecycleMove(from, to RequestState, actions []Action) (name string, ok bool) {
	for _, t := range transitions {
		if t.to != to || (from == "" && t.from != nil) || (from != "" && !slices.Contains(t.from, from)) {
			continue
		}
		all := true
		for _, a := range actions {
			all = all && (containsAction(t.events, a) || containsAction(tRecord.events, a) || containsAction(tProgress.events, a))
		}
		if all {
			return t.name, true
		}
	}
	return "", false
}

// LifecyclePairs lists every (from, to) the table allows ("" for a new
// request), with its transition's name.
func LifecyclePairs() map[[2]RequestState]string {
	out := map[[2]RequestState]string{}
	for _, t := range transitions {
		if t.from == nil {
			out[[2]RequestState{"", t.to}] = t.name
		}
		for _, f := range t.from {
			out[[2]RequestState{f, t.to}] = t.name
		}
	}
	return out
}

func TestTransitions_tableIsConsistent(t *testing.T) {
	names := map[string]bool{}
	for _, tr := range transitions {
		assert.False(t, names[tr.name], "transition %q twice", tr.name)
		names[tr.name] = true
		assert.Contains(t, AllStates, tr.to, tr.name)
		assert.NotEmpty(t, tr.events, "%s writes no event", tr.name)
		for _, f := range tr.from {
			assert.Contains(t, AllStates, f, tr.name)
			assert.False(t, f.Final(), "%s leaves the final state %s", tr.name, f)
		}
	}
	assert.Nil(t, tFile.from, "only filing makes a request")
	for _, s := range AllStates {
		if s == StatePending {
			continue
		}
		_, ok := LifecycleMove("", s, nil)
		assert.False(t, ok, "a request is never made in %s", s)
	}
}
