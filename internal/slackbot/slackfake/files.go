package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// Slack's file upload flow (docs.slack.dev, "Uploading files"), as slack-go's
// UploadFileContext drives it:
//
//  1. files.getUploadURLExternal (filename, length) answers an upload_url
//     and a file_id;
//  2. the file is POSTed to upload_url, as raw bytes or as multipart form
//     data, which answers 200 "OK - <length>";
//  3. files.completeUploadExternal (files: [{"id","title"}], channel_id,
//     initial_comment, thread_ts) shares it and answers the files.
//
// The fake's upload_url is on its own host, which slack-go accepts to send
// the token to, as it does for Slack's files.slack.com.

// File is a file uploaded to the fake, and where it was shared.
type File struct {
	ID     string
	Name   string // filename given to files.getUploadURLExternal
	Length int    // the length it declared
	// Content is what was POSTed to the upload URL (nil until then).
	Content []byte
	// Title, Channel (channel_id), Channels (channels: channel or user
	// ids), Comment (initial_comment) and ThreadTS are
	// files.completeUploadExternal's; Completed tells whether it was called.
	Title, Channel, Comment, ThreadTS string
	Channels                          []string
	Completed                         bool
}

// Files returns the files uploaded so far, in order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, len(s.fileOrder))
	for i, id := range s.fileOrder {
		f := *s.files[id]
		f.Content = append([]byte(nil), f.Content...)
		out[i] = f
	}
	return out
}

// uploadPath is where the fake receives uploads (upload_url's path).
const uploadPath = "/upload/v1/"

// getUploadURL answers files.getUploadURLExternal.
func (s *Server) getUploadURL(w http.ResponseWriter, call Call) {
	name, length := call.Form.Get("filename"), call.Form.Get("length")
	n, err := strconv.Atoi(length)
	if name == "" || err != nil || n <= 0 {
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
		return
	}
	s.mu.Lock()
	if s.files == nil {
		s.files = map[string]*File{}
	}
	id := fmt.Sprintf("F%08d", len(s.fileOrder)+1)
	s.files[id] = &File{ID: id, Name: name, Length: n}
	s.fileOrder = append(s.fileOrder, id)
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"ok": true, "upload_url": s.GetAPIURL() + strings.TrimPrefix(uploadPath, "/") + id, "file_id": id})
	_, _ = w.Write(b)
}

// upload receives a file's bytes at its upload_url.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, uploadPath)
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var content []byte
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				content, _ = io.ReadAll(p)
			}
		}
	} else {
		content, _ = io.ReadAll(r.Body)
	}
	s.mu.Lock()
	f, ok := s.files[id]
	if ok {
		f.Content = content
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "OK - %d", len(content))
}

// completeUpload answers files.completeUploadExternal.
func (s *Server) completeUpload(w http.ResponseWriter, call Call) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(call.Form.Get("files")), &files); err != nil || len(files) == 0 {
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]string, 0, len(files))
	for _, fl := range files {
		f, ok := s.files[fl.ID]
		if !ok || f.Content == nil {
			_, _ = io.WriteString(w, `{"ok":false,"error":"file_not_found"}`)
			return
		}
		f.Title, f.Channel, f.Comment, f.ThreadTS, f.Completed = fl.Title, call.Form.Get("channel_id"), call.Form.Get("initial_comment"), call.Form.Get("thread_ts"), true
		f.Channels = nil
		if chs := call.Form.Get("channels"); chs != "" {
			f.Channels = strings.Split(chs, ",")
		}
		title := fl.Title
		if title == "" {
			title = f.Name
		}
		out = append(out, map[string]string{"id": f.ID, "title": title})
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "files": out})
	_, _ = w.Write(b)
}
