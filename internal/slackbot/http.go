package slackbot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/certops/certops/internal/secret"
)

// SigningOverlap is how long, after the signing secret was rotated, requests
// signed with the previous one are still accepted: Slack's app settings
// and the mounted secret are not updated at the same instant.
const SigningOverlap = 5 * time.Minute

// previousSecret is a secret.Source that remembers the value a rotation
// replaced (*secret.File).
type previousSecret interface {
	Previous(within time.Duration) (string, bool)
}

// verified checks Slack's request signature (slack-go's SecretsVerifier:
// HMAC-SHA256 over the raw body, timestamps within five minutes, a
// constant-time compare) on a size-capped body, and answers 401 without
// detail when it fails. next sees the body that was verified.
func (b *Bot) verified(src secret.Source, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
			return
		}
		err = verifySignature(r.Header, body, src.Value())
		if err != nil {
			if p, ok := src.(previousSecret); ok {
				if prev, ok := p.Previous(SigningOverlap); ok && verifySignature(r.Header, body, prev) == nil {
					err = nil
				}
			}
		}
		if err != nil {
			b.log.Warn("slackbot: rejected an unverified request", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func verifySignature(h http.Header, body []byte, signingSecret string) error {
	sv, err := slack.NewSecretsVerifier(h, signingSecret)
	if err != nil {
		return err
	}
	_, _ = sv.Write(body)
	return sv.Ensure()
}

func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request) {
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("ssl_check") == "1" {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeAck(w, b.Command(r.Context(), sc).ack())
}

func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request) {
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	writeAck(w, b.Interaction(r.Context(), ic))
}

// writeAck answers 200 with payload as JSON, or an empty 200 for nil.
func writeAck(w http.ResponseWriter, payload any) {
	if payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if p, ok := payload.(*ackBody); ok && p == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(payload)
}
