package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// textHandler writes a record as one line for a person:
// "15:04:05 WARN  message key=value ...", the attributes as
// slog.TextHandler writes them.
type textHandler struct {
	mu    *sync.Mutex   // one line at a time, across WithAttrs and WithGroup
	buf   *bytes.Buffer // the attributes of the line being written, under mu
	w     io.Writer
	attrs slog.Handler // writes the attributes only (time, level and message dropped) to buf
}

func newTextHandler(w io.Writer, level slog.Leveler) *textHandler {
	buf := &bytes.Buffer{}
	attrs := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		// _aws: a metric line's EMF metadata, for CloudWatch; its figures
		// stay on the line (LOG_FORMAT=json writes the lines as deployed).
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey || a.Key == "_aws") {
			return slog.Attr{}
		}
		return a
	}})
	return &textHandler{mu: &sync.Mutex{}, buf: buf, w: w, attrs: attrs}
}

func (h *textHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.attrs.Enabled(ctx, l)
}

func (h *textHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.attrs.Handle(ctx, r); err != nil {
		return err
	}
	attrs := bytes.TrimSpace(h.buf.Bytes())
	sep := " "
	if len(attrs) == 0 {
		sep = ""
	}
	_, err := fmt.Fprintf(h.w, "%s %-5s %s%s%s\n", r.Time.Format("15:04:05"), r.Level, r.Message, sep, attrs)
	return err
}

func (h *textHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &textHandler{mu: h.mu, buf: h.buf, w: h.w, attrs: h.attrs.WithAttrs(as)}
}

func (h *textHandler) WithGroup(name string) slog.Handler {
	return &textHandler{mu: h.mu, buf: h.buf, w: h.w, attrs: h.attrs.WithGroup(name)}
}
