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
