package sandbox_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestSeedIsDeterministic(t *testing.T) {
	clk := newClock()
	a := start(t, sandbox.Config{Seed: 42, Now: clk.Now})
	b := start(t, sandbox.Config{Seed: 42, Now: clk.Now})
	c := start(t, sandbox.Config{Seed: 43, Now: clk.Now})
	assert.Equal(t, a.certs(""), b.certs(""))
	assert.Equal(t, a.sb.Clients(), b.sb.Clients())
	assert.NotEqual(t, a.certs("")[0].ID, c.certs("")[0].ID)
	id := a.certs("")[0].ID
	assert.Equal(t, a.items(id, ""), b.items(id, ""))

	// Dates are relative to the clock at start: some overdue, some soon.
	now := clk.Now()
	overdue, soon := 0, 0
	for _, cert := range a.certs("") {
		due, err := time.Parse(time.RFC3339, *cert.Due)
		require.NoError(t, err)
		switch {
		case due.Before(now):
			overdue++
		case due.Before(now.Add(3 * 24 * time.Hour)):
			soon++
		}
	}
	assert.Positive(t, overdue)
	assert.Positive(t, soon)
}

func TestSeedContents(t *testing.T) {
	tn := start(t, sandbox.Config{})
	clients := tn.sb.Clients()
	require.Len(t, clients, 4)
	assert.Equal(t, sandbox.Credential{ClientID: "sandbox-admin", ClientSecret: "sandbox-admin-secret", Role: "admin",
		IdentityID: clients[0].IdentityID, Name: "Sandbox Admin", Email: "sandbox.admin@acme.example"}, clients[0])
	for i, c := range clients[1:] {
		assert.Equal(t, "reviewer", c.Role)
		assert.Equal(t, "sandbox-reviewer-"+string(rune('1'+i)), c.ClientID)
		assert.Equal(t, c.ClientID+"-secret", c.ClientSecret)
	}
	reassigned, awaitingSignOff := 0, 0
	for _, c := range tn.certs("") {
		if c.Phase == "ACTIVE" && c.Completed {
			awaitingSignOff++
		}
		if c.Reassignment != nil {
			reassigned++
			assert.NotEqual(t, c.ID, c.Reassignment.From.ID)
		}
	}
	assert.Positive(t, reassigned, "some certifications were reassigned")
	assert.Positive(t, awaitingSignOff, "some are fully decided, awaiting sign-off")
}

func TestLargeSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 items")
	}
	tn := start(t, sandbox.Config{Certifications: sandbox.LargeCertifications, ItemsPerCertification: sandbox.LargeItemsPerCert})
	res := tn.admin("GET", "/v3/certifications?limit=1&count=true", nil)
	assert.Equal(t, "10000", res.Header.Get("X-Total-Count"))
	last := tn.certs("limit=1&offset=9999")
	require.Len(t, last, 1)
	assert.Equal(t, 10, last[0].DecisionsTotal)
}
