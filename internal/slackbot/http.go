package slackbot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/slack-go/slack"
)

// Handler returns the HTTP transport: Slack's slash command and
// interactivity request URLs. Every request is verified with the signing
// secret before anything in it is parsed.
//
//	POST /slack/commands      slash commands
//	POST /slack/interactions  buttons and the deny modal
func (b *Bot) Handler(signingSecret string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /slack/commands", b.verified(signingSecret, http.HandlerFunc(b.serveCommand)))
	mux.Handle("POST /slack/interactions", b.verified(signingSecret, http.HandlerFunc(b.serveInteraction)))
	return mux
}

// verified checks Slack's request signature (slack-go's SecretsVerifier:
// HMAC-SHA256 over the raw body, timestamps within five minutes, a
// constant-time compare) on a size-capped body, and answers 401 without
// detail when it fails. next sees the body that was verified.
func (b *Bot) verified(secret string, next http.Handler) http.Handler {
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
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
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
