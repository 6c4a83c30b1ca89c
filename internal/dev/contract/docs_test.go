package contract

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// readmeMaxLines keeps the README a page a newcomer reads in ten minutes;
// the rest belongs under docs/.
const readmeMaxLines = 260

func TestREADMEIsShort(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n >= readmeMaxLines {
		t.Errorf("README.md has %d lines, want fewer than %d: move the detail to a page under docs/", n, readmeMaxLines)
	}
}

// linkRE finds Markdown links and images: [text](target) and ![alt](target).
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Every relative link of the README and of docs/*.md names an existing file
// or folder and, when it has a #fragment into a Markdown file, a heading of
// that file.
func TestDocLinksResolve(t *testing.T) {
	anchors := map[string]map[string]bool{} // by file relative to the root
	checked := 0
	for _, file := range docFiles(t) {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range proseLines(string(data)) {
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				at := fmt.Sprintf("%s:%d", file, i+1)
				name, fragment, _ := strings.Cut(target, "#")
				rel := file
				if name != "" {
					rel = path.Join(path.Dir(file), name)
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
					t.Errorf("%s: link %s: no file %s", at, target, rel)
					continue
				}
				if fragment == "" || !strings.HasSuffix(rel, ".md") {
					continue
				}
				if anchors[rel] == nil {
					doc, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
					if err != nil {
						t.Fatal(err)
					}
					anchors[rel] = headingAnchors(string(doc))
				}
				if !anchors[rel][fragment] {
					t.Errorf("%s: link %s: %s has no heading #%s", at, target, rel, fragment)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked %d relative links: the README and docs/ should link each other", checked)
	}
}

// proseLines returns the document's lines with those inside fenced blocks
// blanked (a link in a code sample is not a link), so indices stay line
// numbers.
func proseLines(doc string) []string {
	lines := strings.Split(doc, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			in = !in
			lines[i] = ""
			continue
		}
		if in {
			lines[i] = ""
		}
	}
	return lines
}

// headingAnchors returns the anchors GitHub gives a document's headings:
// lower-cased, punctuation but - and _ dropped, spaces as -, a repeated
// anchor numbered -1, -2, ... (letters of any script stay; symbols such
// as — and → go)
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, l := range proseLines(doc) {
		trimmed := strings.TrimLeft(l, "#")
		if len(trimmed) == len(l) || !strings.HasPrefix(trimmed, " ") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(trimmed)) {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && unicode.IsLetter(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		for n, try := 0, a; ; n++ {
			if !out[try] {
				out[try] = true
				break
			}
			try = fmt.Sprintf("%s-%d", a, n+1)
		}
	}
	return out
}

func TestHeadingAnchors(t *testing.T) {
	got := headingAnchors("# Tollgate\n## A 60-second tour\n### `POST /purchase/{playerId}` — Stash's purchase\n## Setting the keys\n## Setting the keys\n```\n# not a heading\n```\n")
	for _, want := range []string{"tollgate", "a-60-second-tour", "post-purchaseplayerid--stashs-purchase", "setting-the-keys", "setting-the-keys-1"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block made an anchor")
	}
}
