package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Conversations: the fake keeps every message chat.postMessage posted, by
// conversation, so that conversations.history answers as Slack does (the
// reminder sweep reads it after a crash to learn whether a message went
// out). A message posted to a user id (U…, W…) goes to the app's DM with
// them, whose id conversations.open answers: "D" + the user id. (Like
// before, chat.postMessage answers with the channel it was given.)
//
// conversations.history, per Slack's docs: newest first; oldest and latest
// bound the ts (exclusive unless inclusive=1); limit (default 100, at most
// 999) with has_more and response_metadata.next_cursor; a message's
// metadata is included only with include_all_metadata=1 (Slack also shows
// it to the app that posted it; the fake's one app always asks).
// channel_not_found for a conversation nobody posted to or opened.

type posted struct {
	TS       string          `json:"ts"`
	Type     string          `json:"type"`
	User     string          `json:"user,omitempty"`
	BotID    string          `json:"bot_id"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Message is a message the fake holds (for tests' assertions).
type Message struct {
	Channel  string
	TS       string
	Text     string
	Blocks   string
	Metadata string
}

// conversationOf is where a message to channel goes.
func conversationOf(channel string) string {
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		return "D" + channel
	}
	return channel
}

// record keeps a posted message; called with s.mu held.
func (s *Server) record(call Call, ts string) {
	if s.convs == nil {
		s.convs = map[string][]posted{}
	}
	ch := conversationOf(call.Form.Get("channel"))
	m := posted{TS: ts, Type: "message", BotID: "BFAKE", Text: call.Form.Get("text")}
	if b := call.Form.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if md := call.Form.Get("metadata"); md != "" {
		m.Metadata = json.RawMessage(md)
	}
	s.convs[ch] = append(s.convs[ch], m)
}

// Messages returns the messages held for a conversation (a channel id, or
// a user id for the app's DM with them), oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.convs[conversationOf(channel)] {
		out = append(out, Message{Channel: conversationOf(channel), TS: m.TS, Text: m.Text, Blocks: string(m.Blocks), Metadata: string(m.Metadata)})
	}
	return out
}

func (s *Server) conversationsOpen(w http.ResponseWriter, call Call) {
	users := call.Form.Get("users")
	if users == "" || strings.Contains(users, ",") {
		_, _ = io.WriteString(w, `{"ok":false,"error":"users_list_not_supplied"}`)
		return
	}
	ch := conversationOf(users)
	s.mu.Lock()
	if s.convs == nil {
		s.convs = map[string][]posted{}
	}
	if _, ok := s.convs[ch]; !ok {
		s.convs[ch] = nil
	}
	s.mu.Unlock()
	fmt.Fprintf(w, `{"ok":true,"channel":{"id":%q}}`, ch)
}

func (s *Server) conversationsHistory(w http.ResponseWriter, call Call) {
	ch := call.Form.Get("channel")
	s.mu.Lock()
	msgs, ok := s.convs[ch]
	msgs = append([]posted(nil), msgs...)
	s.mu.Unlock()
	if !ok {
		_, _ = io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
		return
	}
	tsNum := func(ts string) float64 { f, _ := strconv.ParseFloat(ts, 64); return f }
	inclusive := call.Form.Get("inclusive") == "1" || call.Form.Get("inclusive") == "true"
	oldest, latest := call.Form.Get("oldest"), call.Form.Get("latest")
	var sel []posted
	for _, m := range msgs {
		t := tsNum(m.TS)
		if oldest != "" && (t < tsNum(oldest) || (!inclusive && t == tsNum(oldest))) {
			continue
		}
		if latest != "" && (t > tsNum(latest) || (!inclusive && t == tsNum(latest))) {
			continue
		}
		if call.Form.Get("include_all_metadata") != "1" && call.Form.Get("include_all_metadata") != "true" {
			m.Metadata = nil
		}
		sel = append(sel, m)
	}
	sort.SliceStable(sel, func(i, j int) bool { return tsNum(sel[i].TS) > tsNum(sel[j].TS) })
	limit := 100
	if l, err := strconv.Atoi(call.Form.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	start := 0
	if c := call.Form.Get("cursor"); c != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(c, "next:"))
	}
	start = min(start, len(sel))
	end := min(start+limit, len(sel))
	resp := map[string]any{"ok": true, "messages": sel[start:end], "has_more": end < len(sel), "pin_count": 0}
	if end < len(sel) {
		resp["response_metadata"] = map[string]any{"next_cursor": "next:" + strconv.Itoa(end)}
	}
	b, _ := json.Marshal(resp)
	_, _ = w.Write(b)
}

// usersLookupByEmail answers as users.info does, for the user with email.
func (s *Server) usersLookupByEmail(w http.ResponseWriter, call Call) {
	email := strings.ToLower(call.Form.Get("email"))
	s.mu.Lock()
	id, u, found := "", User{}, false
	for k, v := range s.users {
		if strings.ToLower(v.Email) == email && email != "" {
			id, u, found = k, v, true
			break
		}
	}
	s.mu.Unlock()
	if !found {
		_, _ = io.WriteString(w, `{"ok":false,"error":"users_not_found"}`)
		return
	}
	_, _ = w.Write(s.userInfo(id, u))
}

// Views returns the views.publish calls' views per user, last first.
func (s *Server) PublishedViews(user string) []json.RawMessage {
	var out []json.RawMessage
	for _, c := range s.Calls("views.publish") {
		var body struct {
			UserID string          `json:"user_id"`
			View   json.RawMessage `json:"view"`
		}
		if json.Unmarshal(c.JSON, &body) == nil && body.UserID == user {
			out = append([]json.RawMessage{body.View}, out...)
		}
	}
	return out
}
