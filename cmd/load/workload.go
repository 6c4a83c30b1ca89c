package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Products of the load catalog (catalog.json) and their USD prices.
const (
	scarceProduct = "load_scarce"
	scarceStock   = 20
)

var (
	prices = map[string]int64{"load_gems": 199, "load_coins": 99, "load_bundle": 999, "load_starter": 99, scarceProduct: 4999}
	// regular are the products of ordinary purchases; the scarce one is
	// bought in bursts.
	regular = []string{"load_gems", "load_coins", "load_bundle", "load_starter"}
)

// auth schemes of the endpoints.
type scheme int

const (
	stashSigned scheme = iota // x-stash-hmac-signature v1 over the body
	apiKey                    // x-api-key (the purchase authorization call)
	gameServer                // Authorization: Bearer (the game server)
	stashGet                  // v1 signature over an empty body (Stash's lookups)
)

type line struct {
	ProductID string `json:"productId"`
	Cents     int64  `json:"cents"`
	Quantity  int64  `json:"quantity"`
}

type bonus struct {
	ID       string `json:"id"`
	Quantity int64  `json:"quantity"`
}

// purchase is one transaction of the flow.
type purchase struct {
	tx, player string
	lines      []line
}

// answer is an HTTP answer; status 0 means no answer (a transport error).
type answer struct {
	status int
	body   []byte
}

// definite reports whether the answer settles the request: a 2xx or a 4xx.
// A 5xx or no answer leaves it open (Stash retries it).
func (a answer) definite() bool { return a.status >= 200 && a.status < 500 }

var errBudget = errors.New("request budget spent")

// runner drives the load and keeps the ledger of what must have happened.
type runner struct {
	cfg    config
	base   string
	client *http.Client
	stats  *stats
	runID  string
	seq    atomic.Int64
	issued atomic.Int64
	sem    chan struct{}
	ops    sync.WaitGroup

	egress  []byte
	apiKey  string
	gameKey string
	catalog bool // GET /api/v1/catalog is routed

	mu         sync.Mutex
	players    []string
	used       map[string]bool
	registered []purchase                // live registrations, waiting for confirm or cancel
	granted    map[string]grant          // tx -> what a 200 granted (once per tx)
	open       map[string]openGrant      // tx -> a grant whose answer was lost
	failures   []string                  // invariant violations
	replays    int                       // replays compared with their first answer
	pairs      int                       // concurrent duplicate pairs compared
	scarceWon  int                       // scarce registrations that succeeded
	outcomes   map[string]map[string]int // per flow step, what it was answered
}

// grant is what one transaction granted.
type grant struct {
	player string
	items  map[string]int64
}

// openGrant is a grant-bearing request (confirm, authorize) to settle by
// sending it again, as Stash would.
type openGrant struct {
	endpoint, method, path string
	body                   []byte
	scheme                 scheme
	grant                  grant
}

func newRunner(cfg config, base string) *runner {
	r := &runner{
		cfg:  cfg,
		base: base,
		client: &http.Client{Timeout: cfg.timeout, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
		}},
		stats:    newStats(),
		runID:    fmt.Sprintf("load%x", time.Now().UnixNano()%0xffffffffff),
		sem:      make(chan struct{}, cfg.concurrency),
		egress:   []byte(localenv.DevKeys[secrets.StashEgressKey]),
		apiKey:   localenv.DevKeys[secrets.StashAPIKey],
		gameKey:  localenv.DevKeys[secrets.GameServerKey],
		used:     map[string]bool{},
		granted:  map[string]grant{},
		open:     map[string]openGrant{},
		outcomes: map[string]map[string]int{},
	}
	for i := range cfg.players {
		r.players = append(r.players, fmt.Sprintf("%s-p%03d", r.runID, i))
	}
	return r
}

func (r *runner) newTx(kind string) string {
	return fmt.Sprintf("%s-%s-%d", r.runID, kind, r.seq.Add(1))
}

func (r *runner) player() string {
	p := r.players[rand.IntN(len(r.players))]
	r.mu.Lock()
	r.used[p] = true
	r.mu.Unlock()
	return p
}

func (r *runner) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failures) < 1000 {
		r.failures = append(r.failures, fmt.Sprintf(format, args...))
	}
}

func (r *runner) note(step, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outcomes[step] == nil {
		r.outcomes[step] = map[string]int{}
	}
	r.outcomes[step][outcome]++
}

// send makes one request and records it under endpoint (unless endpoint is
// ""). The budget of -max-requests bounds every request the load sends.
func (r *runner) send(ctx context.Context, endpoint, method, path string, body []byte, s scheme) (answer, error) {
	if endpoint != "" && r.issued.Add(1) > int64(r.cfg.maxRequests) {
		return answer{}, errBudget
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	switch s {
	case stashSigned:
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1(r.egress, "load-shop", time.Now(), body))
	case stashGet:
		req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1(r.egress, "load-shop", time.Now(), nil))
	case apiKey:
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-key", r.apiKey)
	case gameServer:
		req.Header.Set("Authorization", "Bearer "+r.gameKey)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	var a answer
	if err == nil {
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		a.status = resp.StatusCode
	}
	if endpoint != "" {
		outcome := fmt.Sprint(a.status)
		if err != nil {
			outcome = "error"
		}
		r.stats.record(endpoint, time.Since(start), outcome)
	}
	return a, err
}

// sameAnswer checks that a duplicate of a request was answered as the first:
// a replay is answered from the record, whatever happened since.
func (r *runner) sameAnswer(what, tx string, first, again answer, pair bool) {
	if !first.definite() || !again.definite() {
		return
	}
	r.mu.Lock()
	if pair {
		r.pairs++
	} else {
		r.replays++
	}
	r.mu.Unlock()
	if first.status != again.status || !bytes.Equal(first.body, again.body) {
		r.fail("%s %s: a duplicate was answered %d %s, the first %d %s", what, tx, again.status, again.body, first.status, first.body)
	}
}

// duplicate sends the same request again after a short pause (Stash
// retrying, or delivering twice).
func (r *runner) duplicate(ctx context.Context, endpoint, method, path string, body []byte, s scheme) (answer, bool) {
	time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
	a, err := r.send(ctx, endpoint, method, path, body, s)
	return a, err == nil
}

func (r *runner) granting(tx string, g grant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.open, tx)
	if _, ok := r.granted[tx]; !ok {
		r.granted[tx] = g
	}
}

func (r *runner) leaveOpen(tx string, o openGrant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, done := r.granted[tx]; !done {
		r.open[tx] = o
	}
}

func (r *runner) settledNotGranted(tx string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.open, tx)
}

func (r *runner) pushRegistered(p purchase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registered = append(r.registered, p)
}

func (r *runner) popRegistered() (purchase, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.registered) == 0 {
		return purchase{}, false
	}
	i := rand.IntN(len(r.registered))
	p := r.registered[i]
	r.registered[i] = r.registered[len(r.registered)-1]
	r.registered = r.registered[:len(r.registered)-1]
	return p, true
}

func randomLines() []line {
	n := 1 + rand.IntN(3)
	picked := rand.Perm(len(regular))[:n]
	out := make([]line, 0, n)
	for _, i := range picked {
		id := regular[i]
		q := int64(1 + rand.IntN(2))
		if id == "load_starter" {
			q = 1
		}
		out = append(out, line{ProductID: id, Cents: prices[id], Quantity: q})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ProductID < out[b].ProductID })
	return out
}

type purchaseBody struct {
	PlayerID      string  `json:"playerId"`
	TransactionID string  `json:"transactionId"`
	Currency      string  `json:"currency"`
	DecimalPlaces int     `json:"decimalPlaces"`
	Environment   string  `json:"environment"`
	Registrations []line  `json:"registrations,omitempty"`
	Items         []line  `json:"items,omitempty"`
	BonusItems    []bonus `json:"bonusItems,omitempty"`
	Tax           *int64  `json:"tax,omitempty"`
	Total         *int64  `json:"total,omitempty"`
	TimeMillis    string  `json:"timeMillis,omitempty"`
	Platform      string  `json:"platform,omitempty"`
	Source        string  `json:"source,omitempty"`
}

func body(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs: cannot fail
	}
	return b
}

func registerBody(p purchase) []byte {
	return body(purchaseBody{PlayerID: p.player, TransactionID: p.tx, Currency: "USD", DecimalPlaces: 2,
		Environment: "PAYMENT_ENVIRONMENT_TEST", Registrations: p.lines, Platform: "PURCHASE_PLATFORM_WEBSTORE", Source: "PURCHASE_SOURCE_DIRECT"})
}

func confirmBody(p purchase, bonuses []bonus) []byte {
	total := int64(0)
	for _, l := range p.lines {
		total += l.Cents * l.Quantity
	}
	zero := int64(0)
	return body(purchaseBody{PlayerID: p.player, TransactionID: p.tx, Currency: "USD", DecimalPlaces: 2,
		Environment: "PAYMENT_ENVIRONMENT_TEST", Items: p.lines, BonusItems: bonuses, Tax: &zero, Total: &total,
		TimeMillis: fmt.Sprint(time.Now().UnixMilli()), Platform: "PURCHASE_PLATFORM_WEBSTORE"})
}

func cancelBody(p purchase) []byte {
	return body(purchaseBody{PlayerID: p.player, TransactionID: p.tx, Currency: "USD", DecimalPlaces: 2,
		Environment: "PAYMENT_ENVIRONMENT_TEST", Items: p.lines})
}

func grantOf(p purchase, bonuses []bonus) grant {
	g := grant{player: p.player, items: map[string]int64{}}
	for _, l := range p.lines {
		g.items[l.ProductID] += l.Quantity
	}
	for _, b := range bonuses {
		g.items[b.ID] += b.Quantity
	}
	return g
}

// register reserves a purchase of random products; a successful one waits
// for a confirm or a cancel.
func (r *runner) register(ctx context.Context) {
	p := purchase{tx: r.newTx("reg"), player: r.player(), lines: randomLines()}
	if r.registerPurchase(ctx, p, "register") {
		r.pushRegistered(p)
	}
}

// registerPurchase sends p's register (maybe duplicated) and returns whether
// every line was reserved.
func (r *runner) registerPurchase(ctx context.Context, p purchase, step string) bool {
	b := registerBody(p)
	a, err := r.send(ctx, "register", http.MethodPost, "/api/v1/purchase/register", b, stashSigned)
	if err != nil || a.status != http.StatusOK {
		r.note(step, "no answer")
		return false
	}
	var resp struct {
		Statuses []struct{ Status string } `json:"statuses"`
	}
	if json.Unmarshal(a.body, &resp) != nil || len(resp.Statuses) != len(p.lines) {
		r.fail("register %s: unreadable answer %s", p.tx, a.body)
		return false
	}
	ok := true
	for _, s := range resp.Statuses {
		if s.Status != "PURCHASE_REGISTRATION_STATUS_SUCCESS_REGISTERED" {
			ok = false
			r.note(step, strings.TrimPrefix(s.Status, "PURCHASE_REGISTRATION_STATUS_"))
		}
	}
	if ok {
		r.note(step, "SUCCESS_REGISTERED")
	}
	if rand.Float64() < r.cfg.duplicates {
		if again, sent := r.duplicate(ctx, "register", http.MethodPost, "/api/v1/purchase/register", b, stashSigned); sent {
			r.sameAnswer("register", p.tx, a, again, false)
		}
	}
	return ok
}

// confirm completes a live registration or, when there is none, a purchase
// Stash charged without one (sold from stock when it allows).
func (r *runner) confirm(ctx context.Context) {
	p, ok := r.popRegistered()
	step := "confirm (registered)"
	if !ok {
		p = purchase{tx: r.newTx("direct"), player: r.player(), lines: randomLines()}
		step = "confirm (no registration)"
	}
	var bonuses []bonus
	if rand.IntN(5) == 0 {
		bonuses = []bonus{{ID: "load_bonus_coins", Quantity: 10}}
	}
	r.confirmPurchase(ctx, p, bonuses, step)
}

func (r *runner) confirmPurchase(ctx context.Context, p purchase, bonuses []bonus, step string) {
	b := confirmBody(p, bonuses)
	o := openGrant{endpoint: "confirm", method: http.MethodPost, path: "/api/v1/purchase/confirm", body: b, scheme: stashSigned, grant: grantOf(p, bonuses)}
	dup := rand.Float64() < r.cfg.duplicates
	var a, second answer
	var err, err2 error
	if dup && rand.IntN(2) == 0 {
		// Two identical confirms at once: one grant, two equal answers.
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); a, err = r.send(ctx, o.endpoint, o.method, o.path, b, o.scheme) }()
		go func() { defer wg.Done(); second, err2 = r.send(ctx, o.endpoint, o.method, o.path, b, o.scheme) }()
		wg.Wait()
		if err == nil && err2 == nil {
			r.sameAnswer("confirm (concurrent pair)", p.tx, a, second, true)
		}
		if !a.definite() && second.definite() {
			a, err = second, err2
		}
		dup = false
	} else {
		a, err = r.send(ctx, o.endpoint, o.method, o.path, b, o.scheme)
	}
	if errors.Is(err, errBudget) {
		return
	}
	r.settleConfirm(p.tx, o, a, step)
	if dup && a.definite() {
		if again, sent := r.duplicate(ctx, o.endpoint, o.method, o.path, b, o.scheme); sent {
			r.sameAnswer("confirm", p.tx, a, again, false)
		}
	}
}

// settleConfirm books a confirm's (or an authorization's) answer.
func (r *runner) settleConfirm(tx string, o openGrant, a answer, step string) {
	switch {
	case a.status == http.StatusOK:
		r.granting(tx, o.grant)
		r.note(step, "200 granted")
	case a.status == http.StatusConflict:
		r.settledNotGranted(tx)
		r.note(step, "409 refused")
	case a.definite():
		r.settledNotGranted(tx)
		r.note(step, fmt.Sprint(a.status))
		r.fail("%s %s answered %d %s", o.endpoint, tx, a.status, a.body)
	default:
		r.leaveOpen(tx, o)
		r.note(step, "no answer (settled later)")
	}
}

// cancel releases a live registration (or answers for an unknown one).
func (r *runner) cancel(ctx context.Context) {
	p, ok := r.popRegistered()
	want := "PURCHASE_CANCELLATION_STATUS_SUCCESS_CANCELLED"
	step := "cancel (registered)"
	if !ok {
		p = purchase{tx: r.newTx("nocancel"), player: r.player(), lines: randomLines()}
		want = "PURCHASE_CANCELLATION_STATUS_FAILED_TRANSACTION_NOT_FOUND"
		step = "cancel (unknown)"
	}
	r.cancelPurchase(ctx, p, want, step)
}

func (r *runner) cancelPurchase(ctx context.Context, p purchase, want, step string) {
	b := cancelBody(p)
	a, err := r.send(ctx, "cancel", http.MethodPost, "/api/v1/purchase/cancel", b, stashSigned)
	if err != nil || a.status != http.StatusOK {
		r.note(step, "no answer")
		return
	}
	var resp struct{ Status string }
	_ = json.Unmarshal(a.body, &resp)
	r.note(step, strings.TrimPrefix(resp.Status, "PURCHASE_CANCELLATION_STATUS_"))
	if resp.Status != want {
		r.fail("cancel %s: %s, want %s", p.tx, resp.Status, want)
	}
	if rand.Float64() < r.cfg.duplicates {
		if again, sent := r.duplicate(ctx, "cancel", http.MethodPost, "/api/v1/purchase/cancel", b, stashSigned); sent {
			r.sameAnswer("cancel", p.tx, a, again, false)
		}
	}
}

// authorize is Stash's single-call purchase: granted at once.
func (r *runner) authorize(ctx context.Context) { r.authorizeLines(ctx, randomLines()) }

// twoLines are the lines of every authorization of the saturation mode
// (-clients): two products, as in the measurement of issue 10.
func twoLines() []line {
	return []line{{ProductID: "load_coins", Cents: prices["load_coins"], Quantity: 1}, {ProductID: "load_gems", Cents: prices["load_gems"], Quantity: 2}}
}

// authorizeLines authorizes lines for a random player with a new
// transactionId.
func (r *runner) authorizeLines(ctx context.Context, lines []line) {
	player := r.player()
	tx := r.newTx("auth")
	type item struct {
		ID       string `json:"id"`
		Quantity int64  `json:"quantity"`
	}
	var items []item
	g := grant{player: player, items: map[string]int64{}}
	for _, l := range lines {
		items = append(items, item{ID: l.ProductID, Quantity: l.Quantity})
		g.items[l.ProductID] += l.Quantity
	}
	b := body(struct {
		TransactionID string `json:"transactionId"`
		Items         []item `json:"items"`
	}{tx, items})
	o := openGrant{endpoint: "authorize", method: http.MethodPost, path: "/purchase/" + player, body: b, scheme: apiKey, grant: g}
	a, err := r.send(ctx, o.endpoint, o.method, o.path, b, o.scheme)
	if errors.Is(err, errBudget) {
		return
	}
	r.settleConfirm(tx, o, a, "authorize")
	if rand.Float64() < r.cfg.duplicates && a.definite() {
		if again, sent := r.duplicate(ctx, o.endpoint, o.method, o.path, b, o.scheme); sent {
			r.sameAnswer("authorize", tx, a, again, false)
		}
	}
}

// inventory is the game server reading a player.
func (r *runner) inventory(ctx context.Context) {
	a, err := r.send(ctx, "inventory", http.MethodGet, "/api/v1/players/"+r.player()+"/inventory", nil, gameServer)
	if err == nil && a.status != http.StatusOK && a.definite() {
		r.fail("inventory answered %d %s", a.status, a.body)
	}
}

// catalogLookup is Stash reading the catalog for a player.
func (r *runner) catalogLookup(ctx context.Context) {
	a, err := r.send(ctx, "catalog", http.MethodGet, "/api/v1/catalog?playerId="+r.player(), nil, stashGet)
	if err == nil && a.status != http.StatusOK && a.definite() {
		r.fail("catalog answered %d %s", a.status, a.body)
	}
}

// burst is a drop of the scarce product: many players register it at once;
// most winners confirm, some cancel (their units go back on sale), and a few
// purchases Stash charged without a registration compete for the same stock.
func (r *runner) burst(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := purchase{tx: r.newTx("scarce"), player: r.player(), lines: []line{{ProductID: scarceProduct, Cents: prices[scarceProduct], Quantity: 1}}}
			if !r.registerPurchase(ctx, p, "scarce register") {
				return
			}
			r.mu.Lock()
			r.scarceWon++
			r.mu.Unlock()
			if rand.IntN(5) == 0 {
				r.cancelPurchase(ctx, p, "PURCHASE_CANCELLATION_STATUS_SUCCESS_CANCELLED", "scarce cancel")
				return
			}
			r.confirmPurchase(ctx, p, nil, "scarce confirm")
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := purchase{tx: r.newTx("scarcedirect"), player: r.player(), lines: []line{{ProductID: scarceProduct, Cents: prices[scarceProduct], Quantity: 1}}}
			r.confirmPurchase(ctx, p, nil, "scarce confirm (no registration)")
		}()
	}
	wg.Wait()
}

// every runs op at rate per second until ctx ends, each in its own goroutine
// while fewer than -concurrency ops are in flight (a tick beyond that is
// counted as skipped: the load is open-loop, never queued without bound).
// A reserved op (the scarce drops, few and bounded by their interval) runs
// at every tick regardless.
func (r *runner) every(ctx context.Context, name string, rate float64, reserved bool, op func(context.Context)) {
	if rate <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.issued.Load() >= int64(r.cfg.maxRequests) {
			return
		}
		if !reserved {
			select {
			case r.sem <- struct{}{}:
			default:
				r.stats.skip(name)
				continue
			}
		}
		r.ops.Add(1)
		go func() {
			defer r.ops.Done()
			if !reserved {
				defer func() { <-r.sem }()
			}
			op(context.WithoutCancel(ctx)) // an op started finishes: its answers are booked
		}()
	}
}

// settle re-sends every grant whose answer was lost until it is answered, as
// Stash retries, so the ledger knows exactly what was granted.
func (r *runner) settle(ctx context.Context) {
	for round := range 5 {
		r.mu.Lock()
		open := make(map[string]openGrant, len(r.open))
		for tx, o := range r.open {
			open[tx] = o
		}
		r.mu.Unlock()
		if len(open) == 0 {
			return
		}
		for tx, o := range open {
			a, err := r.send(ctx, "", o.method, o.path, o.body, o.scheme)
			if err == nil {
				r.settleConfirm(tx, o, a, "settled by a retry")
			}
		}
		time.Sleep(time.Duration(round+1) * 200 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for tx := range r.open {
		r.failures = append(r.failures, fmt.Sprintf("%s: still unanswered after 5 retries", tx))
	}
}

// closedLoop sends authorizations one after the other until ctx ends or the
// request budget is spent: one client of the saturation mode.
func (r *runner) closedLoop(ctx context.Context) {
	for ctx.Err() == nil && r.issued.Load() < int64(r.cfg.maxRequests) {
		r.authorizeLines(context.WithoutCancel(ctx), twoLines())
	}
}
