package localenv_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// A client that sends the headers and half the body of a call, then stalls,
// must not hold its connection open: the server closes it once the read
// timeout has passed (shortened here; the bound checked is generous).
func TestServerClosesStalledBody(t *testing.T) {
	stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	router, err := stack.Router(functions.Constructors)
	if err != nil {
		t.Fatal(err)
	}
	timeouts := localenv.DefaultServerTimeouts
	timeouts.Read = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := localenv.NewServer(router, timeouts)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	cases := []struct{ name, head, body string }{
		// The key is right, so the handler is reading the body when it stalls.
		{"authorize", "POST /purchase/p1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-api-key: " +
			localenv.DevKeys[secrets.StashAPIKey] + "\r\nContent-Length: 200\r\n\r\n", `{"transactionId":"t1","items":[`},
		{"unknown route", "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n", `{"a":`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, c.head+c.body); err != nil {
				t.Fatal(err)
			}
			// Whatever the server answers, it must then close: reading ends in
			// EOF (or a reset), not in our own deadline.
			if err := conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(io.Discard, bufio.NewReader(conn))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after 15s with a read timeout of %v", timeouts.Read)
			}
			if err != nil && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("read: %v", err)
			}
		})
	}
}

// The local server's timeouts are all set: none may be left at zero
// (no limit), which is how a stalled client held a connection forever.
func TestDefaultServerTimeouts(t *testing.T) {
	srv := localenv.NewServer(nil, localenv.DefaultServerTimeouts)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %v, want a limit", name, d)
		}
	}
}
