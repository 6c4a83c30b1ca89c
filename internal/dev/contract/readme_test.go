package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// The examples of the README and of every page under docs/ are held to the
// contract: every curl command is a request the contract allows, the answer
// printed after it (a "# {...}" line) is the operation's 200, and every JSON
// block says which request or answer it shows (an HTML comment before it)
// and matches that schema. A failure names the file and line.
func TestDocExamples(t *testing.T) {
	c := MustLoad(t)
	var curls, jsons, tour int
	for _, file := range docFiles(t) {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range fencedBlocks(string(data)) {
			b.file = file
			switch b.lang {
			case "json":
				jsons++
				checkJSONBlock(t, c, b)
			case "sh":
				n := checkShellBlock(t, c, b)
				curls += n
				if file == "README.md" {
					tour += n
				}
			case "go", "text", "":
				// Code to read (a receiver's verification), output and diagrams; not requests.
			case "python", "js":
				// A receiver's verification of a delivery: run against real
				// signed deliveries by shared/platform/delivery's
				// TestDocsSnippetsVerify.
			default:
				t.Errorf("%s:%d: a block of %q: the contract checks json and sh blocks; name another kind here first", file, b.line, b.lang)
			}
			if b.lang != "sh" && curlRE.MatchString(b.body) {
				t.Errorf("%s:%d: a curl command outside an sh block escapes the contract check", file, b.line)
			}
		}
	}
	// The README held 24 curl commands and 7 JSON blocks when it was split
	// into docs/; the tour added 3 commands. Fewer means an example lost
	// its check.
	if curls < 27 || jsons < 7 {
		t.Errorf("checked %d curl commands and %d JSON blocks, want at least 27 and 7: did a page lose its examples, or its fence's sh/json?", curls, jsons)
	}
	// The README's tour shows a call of each product and the contract.
	if tour < 5 {
		t.Errorf("README.md: %d curl commands checked, want the tour's 5 (Stash twice, payments, store platform, contract)", tour)
	}
}

var curlRE = regexp.MustCompile(`(?m)^\s*curl\s`)

// docFiles is the README and every page under docs/, relative to the root.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 2 {
		t.Fatal("no page under docs/")
	}
	return files
}

type block struct {
	lang, body, note string // note: the HTML comment right before the block
	file             string // the document, relative to the root
	line             int
}

var noteRE = regexp.MustCompile(`^<!--\s*contract:\s*(.*?)\s*-->$`)

func fencedBlocks(doc string) []block {
	var out []block
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		b := block{lang: lang, line: i + 1}
		for j := i - 1; j >= 0; j-- {
			if s := strings.TrimSpace(lines[j]); s != "" {
				if m := noteRE.FindStringSubmatch(s); m != nil {
					b.note = m[1]
				}
				break
			}
		}
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		b.body = strings.Join(body, "\n")
		out = append(out, b)
	}
	return out
}

// checkJSONBlock: the note names "request METHOD PATH" or "response STATUS
// METHOD PATH" (PATH as in the document).
func checkJSONBlock(t *testing.T, c *Contract, b block) {
	t.Helper()
	at := fmt.Sprintf("%s:%d", b.file, b.line)
	f := strings.Fields(b.note)
	var v any
	if err := json.Unmarshal([]byte(b.body), &v); err != nil {
		t.Errorf("%s: not JSON: %v", at, err)
		return
	}
	switch {
	case len(f) == 3 && f[0] == "request":
		op := operation(c.Doc, f[1], f[2])
		if op == nil || op.RequestBody == nil {
			t.Errorf("%s: the contract has no request body for %s %s", at, f[1], f[2])
			return
		}
		if err := visit(op.RequestBody.Value.Content["application/json"], v); err != nil {
			t.Errorf("%s: request outside the contract: %v", at, err)
		}
	case len(f) == 4 && f[0] == "response":
		op := operation(c.closed, f[2], f[3])
		if op == nil || op.Responses.Value(f[1]) == nil {
			t.Errorf("%s: the contract has no %s answer for %s %s", at, f[1], f[2], f[3])
			return
		}
		if err := visit(op.Responses.Value(f[1]).Value.Content["application/json"], v); err != nil {
			t.Errorf("%s: answer outside the contract: %v", at, err)
		}
	default:
		t.Errorf("%s: a JSON block needs <!-- contract: request METHOD PATH --> or <!-- contract: response STATUS METHOD PATH --> before it, got %q", at, b.note)
	}
}

func operation(doc *openapi3.T, method, path string) *openapi3.Operation {
	item := doc.Paths.Value(path)
	if item == nil {
		return nil
	}
	return item.GetOperation(method)
}

func visit(mt *openapi3.MediaType, v any) error {
	if mt == nil || mt.Schema == nil {
		return fmt.Errorf("no application/json schema")
	}
	return mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// checkShellBlock checks each curl command of a shell block and the answer
// printed after it; it returns how many it checked.
func checkShellBlock(t *testing.T, c *Contract, b block) int {
	t.Helper()
	vars := map[string]string{}
	var last *curl
	n := 0
	for _, text := range logicalLines(b.body) {
		at := fmt.Sprintf("%s:%d (block): %.60s", b.file, b.line, text)
		if m := assignRE.FindStringSubmatch(text); m != nil {
			words, err := shellWords(m[2], vars)
			if err != nil {
				t.Errorf("%s: cannot read the assignment (%v)", at, err)
				continue
			}
			if len(words) == 1 {
				vars[m[1]] = words[0]
				continue
			}
			// VAR=value command ...: an environment for one command.
			if len(words) < 2 || words[1] != "curl" {
				continue
			}
			text = strings.Join(words[1:], " ")
		}
		if answer, ok := strings.CutPrefix(text, "# "); ok && last != nil && (strings.HasPrefix(answer, "{") || strings.HasPrefix(answer, "[")) {
			if last.in != nil {
				h := http.Header{"Content-Type": {"application/json"}}
				if err := c.ValidateResponse(context.Background(), last.in, successStatus(last.in.Route.Operation), h, []byte(answer)); err != nil {
					// An example may show a refusal: it must then be one of the
					// operation's documented errors.
					if !c.anyError(last.in, h, []byte(answer)) {
						t.Errorf("%s: %v", at, err)
					}
				}
			}
			last = nil
			continue
		}
		if !strings.HasPrefix(text, "curl ") {
			continue
		}
		words, err := shellWords(text, vars)
		if err != nil {
			t.Errorf("%s: %v", at, err)
			continue
		}
		cmd, err := parseCurl(words)
		if err != nil {
			t.Errorf("%s: %v", at, err)
			continue
		}
		n++
		cmd.in, err = c.ValidateRequest(context.Background(), cmd.method, cmd.target, cmd.header, cmd.body)
		if err != nil {
			t.Errorf("%s: %v", at, err)
			cmd.in = nil
		}
		last = cmd
	}
	return n
}

// anyError reports whether answer is one of the operation's documented
// 4xx or 5xx answers.
func (c *Contract) anyError(in *openapi3filter.RequestValidationInput, h http.Header, answer []byte) bool {
	for code := range in.Route.Operation.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err == nil && status >= 400 && c.ValidateResponse(context.Background(), in, status, h, answer) == nil {
			return true
		}
	}
	return false
}

// successStatus is the operation's first documented 2xx with a body: the
// answer a README example prints.
func successStatus(op *openapi3.Operation) int {
	for _, code := range []int{200, 201, 202} {
		if r := op.Responses.Status(code); r != nil && len(r.Value.Content) > 0 {
			return code
		}
	}
	return http.StatusOK
}

var assignRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)

type curl struct {
	method, target string
	header         http.Header
	body           []byte
	in             *openapi3filter.RequestValidationInput
}

// parseCurl reads the curl options the README uses: -X, -H, -d and -s.
// Like curl, -d without -X is a POST, and without a Content-Type header
// it is sent as a form.
func parseCurl(words []string) (*curl, error) {
	c := &curl{method: http.MethodGet, header: http.Header{}}
	var method string
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch w {
		case "-s", "-i", "-v":
		case "-X", "-H", "-d", "-c", "-b", "-o":
			if i+1 == len(words) {
				return nil, fmt.Errorf("%s without a value", w)
			}
			i++
			switch w {
			case "-X":
				method = words[i]
			case "-H":
				k, v, ok := strings.Cut(words[i], ":")
				if !ok {
					return nil, fmt.Errorf("header %q has no colon", words[i])
				}
				c.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			case "-d":
				// Several -d are joined with &, as curl does.
				if c.body != nil {
					c.body = append(c.body, '&')
				}
				c.body = append(c.body, words[i]...)
				c.method = http.MethodPost
			}
			// -c, -b (a cookie jar) and -o (an output file) say nothing
			// about the request the contract sees.
		default:
			if strings.HasPrefix(w, "-") {
				return nil, fmt.Errorf("option %s is not understood here", w)
			}
			u, err := url.Parse(w)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("%q is not a URL", w)
			}
			c.target = u.RequestURI()
		}
	}
	if method != "" {
		c.method = method
	}
	if c.body != nil && c.header.Get("Content-Type") == "" {
		c.header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.target == "" {
		return nil, fmt.Errorf("no URL")
	}
	return c, nil
}

// shellWords splits a command line as sh would for the quoting the README
// uses: '...', "..." with $VAR and $(...) inside, and bare words. A command
// substitution becomes a stand-in credential: the contract checks that a
// signature is present, the handlers' tests that it is right.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var cur bytes.Buffer
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '#' && !inWord {
			break // a comment runs to the end of the line
		}
		switch ch {
		case ' ', '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated '")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				switch {
				case s[j] == '\\' && j+1 < len(s):
					j++
					cur.WriteByte(s[j])
				case s[j] == '$':
					k, err := expand(s, j, vars, &cur)
					if err != nil {
						return nil, err
					}
					j = k
				default:
					cur.WriteByte(s[j])
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf(`unterminated "`)
			}
			i = j
			inWord = true
		case '$':
			k, err := expand(s, i, vars, &cur)
			if err != nil {
				return nil, err
			}
			i = k
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// logicalLines splits a shell block into commands: a backslash-newline
// continues a line, and so does a newline inside quotes.
func logicalLines(body string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(body); i++ {
		ch := body[i]
		switch {
		case quote == 0 && ch == '\\' && i+1 < len(body) && body[i+1] == '\n':
			cur.WriteByte(' ')
			i++
		case quote == 0 && ch == '\n':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			if ch == '\'' || ch == '"' {
				switch quote {
				case 0:
					quote = ch
				case ch:
					quote = 0
				}
			}
			cur.WriteByte(ch)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// standInSignature replaces $(...) in the README's commands.
const standInSignature = "v1;shop;0;c2lnbmF0dXJl"

// expand writes the value of the $VAR or $(...) at s[i] and returns the
// index of its last byte.
func expand(s string, i int, vars map[string]string, out *bytes.Buffer) (int, error) {
	if i+1 < len(s) && s[i+1] == '(' {
		depth := 0
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					out.WriteString(standInSignature)
					return j, nil
				}
			}
		}
		return 0, fmt.Errorf("unterminated $(")
	}
	j := i + 1
	for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	name := s[i+1 : j]
	v, ok := vars[name]
	if !ok {
		return 0, fmt.Errorf("$%s is not set in the example", name)
	}
	out.WriteString(v)
	return j - 1, nil
}
