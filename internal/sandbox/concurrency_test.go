package sandbox_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// Several clients read and reassign at once: no item is lost or
// duplicated, and every answer is one the spec allows (checked by the
// contract wrapper).
func TestConcurrentClients(t *testing.T) {
	tn := start(t, sandbox.Config{Certifications: 30, RateLimit: -1, TaskQueuedFor: 1, TaskRunningFor: 1})
	before := tn.certs("")
	total := 0
	for _, c := range before {
		total += c.DecisionsTotal
	}
	var active []certDto
	for _, c := range before {
		if c.Phase == "ACTIVE" {
			active = append(active, c)
		}
	}
	require.GreaterOrEqual(t, len(active), 8)
	// Prepare each worker's moves first (the helpers are not goroutine-safe
	// for failures), then run them all at once.
	type move struct {
		path string
		body reassignBody
	}
	var moves [][]move
	for w := 0; w < 4; w++ {
		var ms []move
		for _, c := range active[w*2 : w*2+2] {
			items := tn.items(c.ID, "")
			to := newReviewer(t, tn, c, items)
			for i, it := range items {
				path := "/v3/certifications/" + c.ID + "/reassign"
				if i%2 == 1 {
					path += "-async"
				}
				ms = append(ms, move{path, reassignBody{itemRefs([]itemDto{it}), to.ID, fmt.Sprintf("worker %d", w)}})
			}
		}
		moves = append(moves, ms)
	}
	tok := tn.token(sandbox.AdminClientID)
	var wg sync.WaitGroup
	statuses := make(chan int, 1000)
	for _, ms := range moves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range ms {
				statuses <- tn.do(tok, "POST", m.path, m.body).Status
				statuses <- tn.do(tok, "GET", "/v3/certifications?count=true&sorters=-due", nil).Status
				statuses <- tn.do(tok, "GET", "/v3/certification-tasks", nil).Status
			}
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		assert.Equal(t, http.StatusOK, s)
	}

	after := tn.certs("")
	sum := 0
	seen := map[string]bool{}
	for _, c := range after {
		sum += c.DecisionsTotal
		for _, it := range tn.items(c.ID, "") {
			assert.False(t, seen[it.ID], "item %s in two certifications", it.ID)
			seen[it.ID] = true
		}
	}
	assert.Equal(t, total, sum, "no item lost or duplicated")
	assert.Len(t, seen, total)
	assert.Greater(t, len(after), len(before), "new reviewers got certifications")
}

// Twenty clicks at once: each decide call is applied (deciding an item
// again is allowed until sign-off), and exactly one of twenty sign-offs
// signs; the rest are refused as already signed.
func TestConcurrentDecideAndSignOff(t *testing.T) {
	tn := start(t, sandbox.Config{RateLimit: -1})
	var cert certDto
	for _, c := range tn.certs("filters=" + q(`phase eq "ACTIVE" and completed eq true`)) {
		if c.DecisionsTotal > 0 {
			cert = c
			break
		}
	}
	require.NotEmpty(t, cert.ID, "a certification awaiting sign-off")
	item := tn.items(cert.ID, "")[0]
	tok := tn.token(sandbox.AdminClientID)
	const clicks = 20
	run := func(path string, body any) map[int]int {
		var wg sync.WaitGroup
		statuses := make(chan int, clicks)
		for range clicks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- tn.do(tok, "POST", path, body).Status
			}()
		}
		wg.Wait()
		close(statuses)
		out := map[int]int{}
		for s := range statuses {
			out[s]++
		}
		return out
	}
	decided := run("/v3/certifications/"+cert.ID+"/decide", []decision{{ID: item.ID, Decision: "REVOKE", Bulk: false, Comments: "Duplicate click."}})
	assert.Equal(t, map[int]int{http.StatusOK: clicks}, decided)
	assert.Len(t, tn.sb.Decisions(cert.ID), clicks, "every call applied its decision")
	got := tn.items(cert.ID, "filters="+q(`id eq "`+item.ID+`"`))
	require.Len(t, got, 1)
	assert.Equal(t, "REVOKE", got[0].Decision)

	signed := run("/certifications/v1/"+cert.ID+"/sign-off", nil)
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusBadRequest: clicks - 1}, signed)
	assert.Equal(t, "SIGNED", tn.cert(cert.ID).Phase)
	st := tn.sb.Stats()
	assert.Equal(t, clicks, st.Calls("makeIdentityDecision"))
	assert.Equal(t, clicks, st.Calls("signOffIdentityCertification"))
}
