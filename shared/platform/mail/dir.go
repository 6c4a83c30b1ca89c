package mail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Dir keeps every message as an .eml file (RFC 5322) in a directory: the
// sender of make run, so a person opens what AWS would have sent. Each
// send logs one line naming its file (never its body).
type Dir struct {
	Path   string
	Logger *slog.Logger // nil: no log
	Now    func() time.Time
}

// Send writes m to a new file, named by time and message id; the answer is
// the file's name.
func (d Dir) Send(ctx context.Context, m Message) (string, error) {
	raw, err := Build(m)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return "", fmt.Errorf("mail: %w", err)
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	base := now().UTC().Format("20060102T150405.000000000Z") + "-" + safeName(m.ID)
	for n := 1; ; n++ {
		name := base + ".eml"
		if n > 1 {
			name = fmt.Sprintf("%s-%d.eml", base, n)
		}
		// O_EXCL: a second send of the same event is a second file, as a
		// second SES send would be a second email.
		f, err := os.OpenFile(filepath.Join(d.Path, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600) //nolint:gosec // G304: a name of time and a sanitized id, in the operator's MAIL_DIR
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("mail: %w", err)
		}
		_, werr := f.Write(raw)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("mail: write %s: %w", name, werr)
		}
		if d.Logger != nil {
			d.Logger.InfoContext(ctx, "email kept", "file", name, "dir", d.Path, "message_id", m.ID)
		}
		return name, nil
	}
}

// List names the .eml files of the directory, newest first.
func (d Dir) List() ([]string, error) {
	entries, err := os.ReadDir(d.Path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".eml") {
			names = append(names, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	return names, nil
}

// Read returns the bytes of file name of the directory; name must be one
// List answers (no path).
func (d Dir) Read(name string) ([]byte, error) {
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(filepath.Join(d.Path, name)) //nolint:gosec // G304: name is a bare .eml file name (checked above), in the operator's MAIL_DIR
}

func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return r
		}
		return '_'
	}, id)
}
