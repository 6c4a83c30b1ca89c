// Command sign re-signs Lambda event fixtures the way Stash signs its calls,
// because a v1 signature's timestamp goes stale after a few minutes:
//
//	go run ./cmd/sign [-key KEY] [-shop SHOP] [-legacy] [-at unixMillis] events/authorize.json [more files...]
//
// Each file is an API Gateway HTTP API v2 event. The signature covers the
// body bytes exactly as the event carries them (base64-decoded when
// isBase64Encoded), and the header x-stash-hmac-signature (stash-hmac-signature
// with -legacy, which also drops the v1 header so the legacy one is checked)
// is set in its "headers". The file is written back indented by two spaces;
// keys come out sorted.
//
// With -print, the body is read from stdin and only the header value is
// printed, for curl:
//
//	printf '%s' "$BODY" | go run ./cmd/sign -print
//
// The key is -key, else $STASH_EGRESS_KEY, else the development key; it is
// used as raw bytes and never printed.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, time.Now)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sign:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// signer signs bodies with one key, shop, time and scheme.
type signer struct {
	key    []byte
	shop   string
	at     time.Time
	legacy bool
}

// header returns the name and value of the signature header for body.
func (s signer) header(body []byte) (name, value string) {
	if s.legacy {
		return auth.HeaderStashLegacySignature, auth.SignStashLegacy(s.key, body)
	}
	return auth.HeaderStashSignature, auth.SignStashV1(s.key, s.shop, s.at, body)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, now func() time.Time) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sign [-key KEY] [-shop SHOP] [-legacy] [-at unixMillis] event.json...")
		fmt.Fprintln(fs.Output(), "       sign [-key KEY] [-shop SHOP] [-legacy] [-at unixMillis] -print < body")
		fs.PrintDefaults()
	}
	keyFlag := fs.String("key", "", "HMAC key, used as raw bytes (default $"+secrets.StashEgressKey.EnvVar()+", else the development key)")
	shop := fs.String("shop", "dev-shop", "shop id of the v1 header")
	legacy := fs.Bool("legacy", false, "sign with the deprecated "+auth.HeaderStashLegacySignature+" header (body only, no timestamp)")
	printOnly := fs.Bool("print", false, "read a body from stdin and print only the header value")
	var at *time.Time
	fs.Func("at", "signing time in Unix milliseconds (default now)", func(v string) error {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return errors.New("want a non-negative number of Unix milliseconds")
		}
		t := time.UnixMilli(ms)
		at = &t
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage // the flag package already printed the problem
	}

	s := signer{shop: *shop, legacy: *legacy, at: now()}
	if at != nil {
		s.at = *at
	}
	key, keyFrom := *keyFlag, "-key"
	if key == "" {
		key, keyFrom = getenv(secrets.StashEgressKey.EnvVar()), "$"+secrets.StashEgressKey.EnvVar()
	}
	if key == "" {
		key, keyFrom = localenv.DevKeys[secrets.StashEgressKey], "the development key"
	}
	s.key = []byte(key)

	if *printOnly {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "sign: -print reads the body from stdin and takes no files")
			return errUsage
		}
		body, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("read body from stdin: %w", err)
		}
		_, value := s.header(body)
		_, err = fmt.Fprintln(stdout, value)
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}

	failed := 0
	for _, path := range fs.Args() {
		line, err := signFile(path, s)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s: %s (key from %s)\n", path, line, keyFrom)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files not signed", failed, fs.NArg())
	}
	return nil
}

// signFile signs the event in path in place and describes what it did.
func signFile(path string, s signer) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	out, line, err := signEvent(data, s)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, out); err != nil {
		return "", err
	}
	return line, nil
}

// signEvent returns the event with its signature header set, 2-space
// indented with a trailing newline, and a description of the change. Every
// field but "headers" is carried over as it was (re-indented).
func signEvent(data []byte, s signer) ([]byte, string, error) {
	var event map[string]json.RawMessage
	if err := json.Unmarshal(data, &event); err != nil {
		return nil, "", fmt.Errorf("not an HTTP API event (a JSON object): %w", err)
	}
	if event == nil {
		return nil, "", errors.New("not an HTTP API event: null")
	}
	var body string
	if raw, ok := event["body"]; ok {
		if err := json.Unmarshal(raw, &body); err != nil { // null leaves ""
			return nil, "", fmt.Errorf(`"body" is not a string: %w`, err)
		}
	}
	var isBase64 bool
	if raw, ok := event["isBase64Encoded"]; ok {
		if err := json.Unmarshal(raw, &isBase64); err != nil {
			return nil, "", fmt.Errorf(`"isBase64Encoded" is not a boolean: %w`, err)
		}
	}
	bodyBytes := []byte(body)
	if isBase64 {
		decoded, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, "", fmt.Errorf(`"body" is not base64 although "isBase64Encoded" is true: %w`, err)
		}
		bodyBytes = decoded
	}
	return setSignature(event, bodyBytes, s)
}

// setSignature sets the signature header of body in event and encodes it.
func setSignature(event map[string]json.RawMessage, body []byte, s signer) ([]byte, string, error) {
	var headers map[string]string
	if raw, ok := event["headers"]; ok {
		if err := json.Unmarshal(raw, &headers); err != nil {
			return nil, "", fmt.Errorf(`"headers" is not an object of strings: %w`, err)
		}
	}
	if headers == nil {
		headers = map[string]string{}
	}
	name, value := s.header(body)
	// One header per name, whatever case the fixture used.
	drop := []string{name}
	if s.legacy {
		// A v1 header would be checked instead of the legacy one.
		drop = append(drop, auth.HeaderStashSignature)
	}
	var dropped []string
	for k := range headers {
		for _, d := range drop {
			if strings.EqualFold(k, d) {
				if !strings.EqualFold(k, name) {
					dropped = append(dropped, k)
				}
				delete(headers, k)
			}
		}
	}
	headers[name] = value
	rawHeaders, err := marshal(headers, "")
	if err != nil {
		return nil, "", fmt.Errorf("encode headers: %w", err)
	}
	event["headers"] = rawHeaders
	out, err := marshal(event, "  ")
	if err != nil {
		return nil, "", fmt.Errorf("encode event: %w", err)
	}

	line := fmt.Sprintf("%s v1 shop %q at %d, body %d bytes", name, s.shop, s.at.UnixMilli(), len(body))
	if s.legacy {
		line = fmt.Sprintf("%s (legacy), body %d bytes", name, len(body))
	}
	if len(dropped) > 0 {
		line += ", removed " + strings.Join(dropped, ", ")
	}
	return out, line, nil
}

// marshal encodes v without HTML escaping (fixtures stay readable), indented
// by indent when it is not empty, with a trailing newline when indented.
func marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if indent == "" {
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	return buf.Bytes(), nil
}

// writeFileAtomic replaces path with data, keeping its permissions.
func writeFileAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	return os.Rename(tmp.Name(), path)
}
