// Package delivery is the product's one outbound webhook dispatcher: it
// takes due events from the outbox (shared/platform/outbox), resolves each
// recipient to a URL and a signing secret, POSTs the event's payload signed
// with HMAC-SHA256, and records the outcome: delivered on a 2xx,
// undeliverable when the recipient has no target (no URL or secret: no wait
// cures that; replayed once it has one), retried with backoff otherwise,
// dead past the retry window. Delivery is at least once: a receiver
// de-duplicates by the event id header.
//
// Each delivery is signed twice with the recipient's secret: the
// X-Tollgate-Signature header (or a store's own header name), "sha256=" +
// hex HMAC of the body alone, kept for existing integrations; and the
// Standard Webhooks headers webhook-id, webhook-timestamp and
// webhook-signature, whose HMAC covers id, timestamp and body, so a receiver
// can refuse a replay (StandardSignature, SigningKey; docs/webhooks.md).
package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// Headers of a delivery.
const (
	DefaultSignatureHeader = "X-Tollgate-Signature"
	HeaderEventID          = "X-Tollgate-Event-Id"
	HeaderEventType        = "X-Tollgate-Event-Type"
	HeaderTimestamp        = "X-Tollgate-Timestamp"

	// Timeout bounds one attempt.
	Timeout = 10 * time.Second
	// releaseTimeout bounds recording an outcome, or giving a claim back,
	// once the run's context has ended.
	releaseTimeout = 3 * time.Second
)

// Target is where a recipient's events go.
type Target struct {
	URL    string
	Secret string
	Header string // the signature header (per store); "" is DefaultSignatureHeader
	// Previous are secrets still accepted during a secret roll: the
	// signature header and the webhook-signature header carry a signature
	// by each (after Secret's), so a receiver holding any of them verifies
	// the delivery.
	Previous []string
}

// ErrNoTarget is the reason a recipient cannot be sent to (no URL, no
// secret, unknown recipient): the event is recorded undeliverable at once,
// not retried (outbox.StatusUndeliverable); once the recipient has a
// target, cmd/outbox replays it.
var ErrNoTarget = errors.New("delivery: recipient has no webhook target")

// Resolver finds the target of a recipient (an outbox Recipient tuple).
type Resolver interface {
	Resolve(ctx context.Context, recipient string) (Target, error)
}

// Sign is the signature header's value of body under secret:
// "sha256=" + hex(HMAC-SHA256(secret, body)).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SignAll is the signature header's value of body under each of secrets
// (the current one first): their Sign values separated by commas, so
// during a secret roll a receiver holding either secret finds its
// signature. With one secret it is Sign's value, as it always was.
func SignAll(secrets []string, body []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, Sign(s, body))
	}
	return strings.Join(sigs, ",")
}

// ErrURL is the reason of a webhook URL the rules refuse.
var ErrURL = errors.New("delivery: webhook URL refused")

// CheckURL applies the URL rules: https, or http to a loopback host when
// not prod; in prod, no literal private, loopback or link-local address
// (names are checked where they are dialled: Client).
func CheckURL(raw string, prod bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: %q is not an absolute URL without credentials", ErrURL, raw)
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if prod || !loopbackHost(host) {
			return fmt.Errorf("%w: %q: https is required (http only to loopback outside prod)", ErrURL, raw)
		}
	default:
		return fmt.Errorf("%w: %q: scheme must be https", ErrURL, raw)
	}
	if prod {
		if host == "localhost" {
			return fmt.Errorf("%w: %q: loopback in prod", ErrURL, raw)
		}
		if a, err := netip.ParseAddr(host); err == nil && !public(a) {
			return fmt.Errorf("%w: %q: %s is not a public address", ErrURL, raw, a)
		}
	}
	return nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// public reports whether a may be dialled in prod.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a) // carrier-grade NAT, as private as 10/8
}

// Client is the HTTP client of deliveries: the attempt timeout, no
// redirects (a 3xx is not a 2xx), and in prod a dialer that refuses every
// non-public address it is about to connect to, so a name that resolves to
// (or is rebound to) an internal address is refused too.
func Client(prod bool) *http.Client {
	dialer := &net.Dialer{Timeout: Timeout}
	if prod {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return fmt.Errorf("%w: %s is not a public address", ErrURL, address)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil
	return &http.Client{Timeout: Timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Dispatcher delivers due events.
type Dispatcher struct {
	Box      outbox.Box
	Resolver Resolver
	Client   *http.Client // nil: Client(Prod), built once
	Prod     bool
	Policy   outbox.Policy // zero: outbox.DefaultPolicy
	Lease    time.Duration // zero: outbox.DefaultLease
	Now      func() time.Time
	Logger   *slog.Logger
	// Couriers deliver the events of the recipient kinds they name by
	// other means than a signed POST (the store platform's "email"
	// events through SES): see Courier.
	Couriers map[string]Courier

	clientOnce sync.Once
	client     *http.Client
}

// httpClient is Client, or one Client(Prod) for the dispatcher's life:
// its connections are reused across attempts.
func (d *Dispatcher) httpClient() *http.Client {
	d.clientOnce.Do(func() {
		d.client = d.Client
		if d.client == nil {
			d.client = Client(d.Prod)
		}
	})
	return d.client
}

// Stats counts one run's outcomes. Deferred: held back (attempt not
// counted) behind an earlier pending event of the same ordering key.
// Undeliverable: its recipient had no target. Interrupted: a shutdown
// (the context's end) came during its attempt; it is due again at once.
// Resent: a courier's event whose earlier attempt began sending and
// recorded no outcome, sent again (the at-least-once window, Courier).
type Stats struct{ Delivered, Failed, Dead, Skipped, Deferred, Undeliverable, Interrupted, Resent int }

// Idle reports whether the run claimed nothing: no event attempted or
// deferred (a Skipped event was another dispatcher's or no longer due).
func (s Stats) Idle() bool {
	return s.Delivered+s.Failed+s.Dead+s.Deferred+s.Undeliverable+s.Interrupted == 0
}

// Run delivers up to batch due events, one attempt each (and, after an
// event with an ordering key completes, the next one of its key). An error
// is a DynamoDB failure; the events it left are due again after their
// lease.
func (d *Dispatcher) Run(ctx context.Context, batch int32) (Stats, error) {
	var st Stats
	due, err := d.Box.Due(ctx, d.now(), batch)
	if err != nil {
		return st, err
	}
	ids := make([]string, 0, len(due))
	for _, ev := range due {
		ids = append(ids, ev.ID)
	}
	return st, d.attemptAll(ctx, ids, &st)
}

// Attempt makes one delivery attempt of each event of ids that is due
// (the ids of a stream's new items), in the same way as Run.
func (d *Dispatcher) Attempt(ctx context.Context, ids []string, st *Stats) error {
	return d.attemptAll(ctx, ids, st)
}

func (d *Dispatcher) attemptAll(ctx context.Context, ids []string, st *Stats) error {
	var errs []error
	targets := map[string]resolved{} // one lookup per recipient and run
	for _, id := range ids {
		var done []string // the events of this chain whose outcome is recorded
		for id != "" && len(done) < 100 {
			if ctx.Err() != nil {
				return errors.Join(errs...) // shutting down: the rest stay due
			}
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < Timeout+5*time.Second {
				return errors.Join(errs...) // no time for another attempt: the rest stay due
			}
			next, err := d.attempt(ctx, id, done, st, targets)
			if err != nil {
				errs = append(errs, err)
			}
			done = append(done, id)
			id = next
		}
	}
	return errors.Join(errs...)
}

// resolved is a Resolver's answer, kept for one run.
type resolved struct {
	t   Target
	err error
}

// attempt claims event id (after: the events of its ordering key whose
// outcome was just recorded, which id may have been waiting for) and makes
// one delivery attempt. next is the event of the same ordering key to try
// now that this one is delivered or dead.
func (d *Dispatcher) attempt(ctx context.Context, id string, after []string, st *Stats, targets map[string]resolved) (next string, err error) {
	lease := d.Lease
	if lease == 0 {
		lease = outbox.DefaultLease
	}
	var c outbox.Claim
	var ok bool
	if len(after) == 0 {
		c, ok, err = d.Box.Claim(ctx, id, d.now(), lease)
	} else {
		c, ok, err = d.Box.ClaimAfter(ctx, id, after, d.now(), lease)
	}
	if err != nil {
		return "", err
	}
	if !ok {
		if len(after) == 0 {
			st.Skipped++ // another dispatcher has it, or it is no longer due
		}
		return "", nil
	}
	blocker, blocked, err := d.Box.Blocker(ctx, c.Stored)
	if err != nil {
		return "", err // held until its lease ends, no attempt counted
	}
	if blocked {
		if _, err := d.Box.Defer(ctx, c, blocker, d.now()); err != nil {
			return "", err
		}
		st.Deferred++
		d.logger().InfoContext(ctx, "webhook deferred", "event_id", c.ID, "ordering_key", c.OrderingKey, "waits_for", blocker.ID)
		return "", nil
	}
	if courier, ok := d.courier(c.Recipient); ok {
		return d.carry(ctx, c, courier, st)
	}
	r, ok := targets[c.Recipient]
	if !ok {
		r.t, r.err = d.Resolver.Resolve(ctx, c.Recipient)
		targets[c.Recipient] = r
	}
	status, latency, sendErr := d.send(ctx, c.Stored, r)
	if latency > 0 {
		metrics.WebhookLatency.Add(ctx, float64(latency.Microseconds())/1000)
	}
	log := d.logger().With("event_id", c.ID, "event_type", c.Type, "recipient", c.Recipient, "attempt", c.Attempts+1,
		"status", status, "latency_ms", latency.Milliseconds())
	if ctx.Err() != nil && (sendErr != nil || status == 0) {
		// A shutdown interrupted the attempt: no outcome to record. The
		// claim is given back (due now, no attempt counted) with a context
		// that outlives the cancelled one; failing that, the event is due
		// again when its lease ends.
		st.Interrupted++
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if _, err := d.Box.Release(rctx, c, d.now()); err != nil {
			log.InfoContext(ctx, "webhook attempt interrupted by shutdown; due again when its lease ends", "cause", ctx.Err().Error())
			return "", nil
		}
		log.InfoContext(ctx, "webhook attempt interrupted by shutdown; due again now", "cause", ctx.Err().Error())
		return "", nil
	}
	// The outcome is recorded even if a shutdown begins now: the receiver
	// has answered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if errors.Is(sendErr, ErrNoTarget) {
		ok, err := d.Box.Undeliverable(ctx, c, d.now(), sendErr.Error())
		if err != nil {
			log.ErrorContext(ctx, "webhook undeliverable, outcome not recorded", "reason", sendErr.Error(), "error", err)
			return "", err
		}
		st.Undeliverable++
		metrics.WebhookUndeliverable.Add(ctx, 1)
		log.WarnContext(ctx, "webhook undeliverable: the recipient has no webhook target (replay it with cmd/outbox once it has)",
			"reason", sendErr.Error(), "recorded", ok)
		return d.next(ctx, c)
	}
	if sendErr == nil {
		ok, err := d.Box.Delivered(ctx, c, d.now())
		if err != nil {
			// Sent but not recorded: the event is sent again after its lease.
			log.ErrorContext(ctx, "webhook delivered, outcome not recorded", "error", err)
			return "", err
		}
		log.InfoContext(ctx, "webhook delivered", "recorded", ok)
		st.Delivered++
		metrics.WebhookDelivered.Add(ctx, 1)
		return d.next(ctx, c)
	}
	state, err := d.Box.Failed(ctx, c, d.now(), sendErr.Error(), d.policy())
	if err != nil {
		log.ErrorContext(ctx, "webhook attempt failed, outcome not recorded", "reason", sendErr.Error(), "error", err)
		return "", err
	}
	if state == outbox.StatusDead {
		st.Dead++
		metrics.WebhookDead.Add(ctx, 1)
		log.ErrorContext(ctx, "webhook dead after its retry window", "reason", sendErr.Error())
		return d.next(ctx, c)
	}
	st.Failed++
	metrics.WebhookRetried.Add(ctx, 1)
	log.WarnContext(ctx, "webhook attempt failed", "reason", sendErr.Error())
	return "", nil
}

// next is the pending event of c's ordering key after c ("" none).
func (d *Dispatcher) next(ctx context.Context, c outbox.Claim) (string, error) {
	n, ok, err := d.Box.NextInOrder(ctx, c.Stored)
	if err != nil || !ok {
		return "", err
	}
	return n.ID, nil
}

// send POSTs ev to its recipient: the HTTP status (0 if none), the
// latency, and nil only for a 2xx.
func (d *Dispatcher) send(ctx context.Context, ev outbox.Stored, r resolved) (int, time.Duration, error) {
	if r.err != nil {
		return 0, 0, r.err
	}
	if r.t.URL == "" || r.t.Secret == "" {
		return 0, 0, fmt.Errorf("%w: %s", ErrNoTarget, ev.Recipient)
	}
	a, err := Post(ctx, d.httpClient(), d.Prod, r.t, Message{ID: ev.ID, Type: ev.Type, Payload: ev.Payload, At: d.now()})
	return a.Status, a.Latency, err
}

// Message is one delivery's content: the event's id, type and payload,
// signed at At.
type Message struct {
	ID, Type string
	Payload  []byte
	At       time.Time
}

// Answer is what a receiver answered one delivery.
type Answer struct {
	Status  int           // 0: no HTTP answer
	Latency time.Duration // from the request's start to the answer's headers
	Body    []byte        // the answer's first AnswerPrefix bytes
}

// AnswerPrefix bounds how much of an answer Post keeps.
const AnswerPrefix = 512

// Post makes one signed delivery of m to t through client (Client(prod)):
// the URL rules (CheckURL; in prod the client's dialer refuses non-public
// addresses), the signature header (t.Header) and the Standard Webhooks
// headers, each carrying a signature by t.Secret and by every t.Previous.
// The error is nil only for a 2xx. Every delivery is made here: the
// dispatcher's attempts and the portal's test event alike.
func Post(ctx context.Context, client *http.Client, prod bool, t Target, m Message) (Answer, error) {
	if err := CheckURL(t.URL, prod); err != nil {
		return Answer{}, err
	}
	header := t.Header
	if header == "" {
		header = DefaultSignatureHeader
	}
	if why := ValidSignatureHeader(header); why != "" {
		return Answer{}, fmt.Errorf("%w: signature header %q: %s", ErrNoTarget, header, why)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(m.Payload))
	if err != nil {
		return Answer{}, fmt.Errorf("delivery: request: %w", err)
	}
	all := append([]string{t.Secret}, t.Previous...)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tollgate-Webhooks/1")
	req.Header.Set(header, SignAll(all, m.Payload))
	req.Header.Set(HeaderEventID, m.ID)
	req.Header.Set(HeaderEventType, m.Type)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(m.At.Unix(), 10))
	req.Header.Set(HeaderWebhookID, m.ID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(m.At.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, StandardSignature(all, m.ID, m.At, m.Payload))
	start := time.Now()
	resp, err := client.Do(req)
	a := Answer{Latency: time.Since(start)}
	if err != nil {
		return a, fmt.Errorf("delivery: POST: %w", err)
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	a.Body, _ = io.ReadAll(io.LimitReader(resp.Body, AnswerPrefix))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a, fmt.Errorf("delivery: answered %d", resp.StatusCode)
	}
	return a, nil
}

func (d *Dispatcher) policy() outbox.Policy {
	if d.Policy.Backoff == 0 {
		return outbox.DefaultPolicy
	}
	return d.Policy
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ResolverFunc is a Resolver of a function.
type ResolverFunc func(ctx context.Context, recipient string) (Target, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, recipient string) (Target, error) {
	return f(ctx, recipient)
}

// Sender makes signed deliveries with the client and URL rules of one
// environment (Post), for callers that send one now (a test event).
type Sender struct {
	Client *http.Client
	Prod   bool
}

// NewSender is the Sender of an environment: Client(prod).
func NewSender(prod bool) Sender { return Sender{Client: Client(prod), Prod: prod} }

// Post makes one signed delivery of m to t (Post).
func (s Sender) Post(ctx context.Context, t Target, m Message) (Answer, error) {
	c := s.Client
	if c == nil {
		c = Client(s.Prod)
	}
	return Post(ctx, c, s.Prod, t, m)
}
