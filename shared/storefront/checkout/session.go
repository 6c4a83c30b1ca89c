package checkout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/text/language"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// SessionRequest is a checkout session asked for through the API.
type SessionRequest struct {
	Store, APIKey                                        string
	Cart                                                 map[string]int64 // sku -> quantity (1..100)
	Currency, Locale                                     string           // Locale: BCP 47 tag, default "en"
	ExternalReference, ReturnURLSuccess, ReturnURLCancel string
	ExpiresAt                                            time.Time // zero: 24 h; else 30 min..24 h from now
	// Origin is the origin the request came to (httpx.RequestOrigin): the
	// checkout_url's when PUBLIC_BASE_URL is unset.
	Origin string
}

// Session is a created session.
type Session struct {
	Token, CheckoutURL string
	ExpiresAt          time.Time
	Rate               *ratelimit.Result // the key's count, when counted
	RateErr            error             // why it could not be counted (served: the limit fails open)
}

// Line is one SKU of a cart: the stores' own line, so a cart's lines are
// an order's lines without a copy.
type Line = stores.Line

// session is a stored session.
type session struct {
	ID, Store, Currency, Locale string
	Lines                       []Line
	ExternalReference           string
	ReturnURLSuccess            string
	ReturnURLCancel             string
	ExpiresAt                   time.Time
	PaidOrder                   string // the order whose payment succeeded, once one did
}

type storedLine struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// CreateSession validates r and stores a session for it. Calls: the rate
// counter (UpdateItem), the store's listing (Query), the key and the
// reference (BatchGetItem), the session (PutItem); and, for a key's first
// request of a minute, the record of its last use (UpdateItem, made beside
// the others).
func (s *Service) CreateSession(ctx context.Context, r SessionRequest) (Session, error) {
	if stores.KeyMode(r.APIKey) == "" {
		return Session{}, refusal.New(ErrUnauthorized, "missing or malformed store API key")
	}
	now := s.now().UTC()
	lines, expires, locale, err := validateSession(&r, now)
	if err != nil {
		return Session{}, err
	}
	cart, err := s.publicURL(r.Origin, "/s/"+url.PathEscape(r.Store)+"/cart/")
	if err != nil {
		return Session{}, err
	}
	var out Session
	res, err := ratelimit.Limiter{DB: s.st.DB, Table: s.st.Tables.RateLimit}.Hit(ctx, s.rate, string(apikey.Of(r.APIKey)), now)
	if err != nil {
		out.RateErr = err
	} else {
		out.Rate = &res
		if !res.Allowed {
			return out, refusal.New(ErrRateLimited, "more than %d checkout sessions in %s with this key; retry after %s",
				s.rate.Limit, s.rate.Window, res.Reset.UTC().Format(time.RFC3339))
		}
	}
	listing, err := stores.ReadListing(ctx, s.st.DB, s.st.Tables.Stores, r.Store)
	if err != nil {
		return out, err
	}
	if !listing.Accepts(r.APIKey) {
		// Before anything about the store is told (that it exists, its
		// products): a wrong key learns nothing.
		return out, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	// The key's last use is recorded beside the rest (at most once a
	// minute per key: the first session of a minute makes one more call).
	defer s.ful.TouchKey(ctx, r.Store, r.APIKey, listing.LastUsed(r.APIKey), now)()
	keyOK, paid, err := stores.KeyAndReference(ctx, s.st, r.Store, r.APIKey, r.ExternalReference)
	if err != nil {
		return out, err
	}
	if !keyOK {
		return out, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	if paid {
		return out, refusal.New(ErrReferencePaid, "external_reference %q is already paid; a new session for it would charge twice", r.ExternalReference)
	}
	for _, l := range lines {
		p, ok := listing.Products[l.SKU]
		if !ok || !p.Active {
			return out, refusal.New(ErrUnknownSKU, "store %q has no product %q", r.Store, l.SKU)
		}
		if _, ok := p.Prices[r.Currency]; !ok {
			return out, decode.Errorf("product %q has no price in %s", l.SKU, r.Currency)
		}
	}
	if chosen, _, err := s.pspFor(ctx); err == nil {
		// A currency the PSP cannot charge is refused now, not at the pay
		// step. (No PSP at all is the pay step's 503, as before.)
		if why := chosen.TakesCurrency(r.Currency); why != nil {
			return out, decode.Errorf("field %q: %v", "currency", why)
		}
	} else if !errors.Is(err, ErrNoPSP) {
		return out, err
	}
	id, err := newID()
	if err != nil {
		return out, err
	}
	sess := session{ID: id, Store: r.Store, Currency: r.Currency, Locale: locale, Lines: lines, ExternalReference: r.ExternalReference,
		ReturnURLSuccess: r.ReturnURLSuccess, ReturnURLCancel: r.ReturnURLCancel, ExpiresAt: expires}
	sig, err := s.signer.Sign(ctx, purposeSession, []byte(dynamo.Tuple(r.Store, id)))
	if err != nil {
		return out, err
	}
	// The id is random; the condition only refuses to overwrite.
	_, err = s.st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.st.Tables.Checkout), Item: sess.item(now),
		ConditionExpression: newItem.Condition(), ExpressionAttributeNames: newItem.Names()})
	if err != nil {
		return out, fmt.Errorf("checkout: store session of %s: %w", r.Store, err)
	}
	metrics.CheckoutSessions.Add(ctx, 1, r.Store)
	out.Token = id + "." + sig
	out.CheckoutURL = cart + "?token=" + url.QueryEscape(out.Token)
	out.ExpiresAt = expires
	return out, nil
}

// validateSession checks r's values; the lines come back sorted by SKU.
func validateSession(r *SessionRequest, now time.Time) ([]Line, time.Time, string, error) {
	if err := stores.CheckSlugParam(r.Store); err != nil {
		return nil, time.Time{}, "", err
	}
	if len(r.Cart) == 0 {
		return nil, time.Time{}, "", decode.Errorf("field %q must name at least one SKU", "cart")
	}
	if len(r.Cart) > MaxLines {
		return nil, time.Time{}, "", decode.Errorf("field %q has %d SKUs; at most %d", "cart", len(r.Cart), MaxLines)
	}
	lines := make([]Line, 0, len(r.Cart))
	for sku, q := range r.Cart {
		lines = append(lines, Line{SKU: sku, Quantity: q})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].SKU < lines[j].SKU })
	for _, l := range lines {
		if !stores.ValidSKU(l.SKU) {
			return nil, time.Time{}, "", decode.Errorf("cart key %q is not a SKU (letters, digits, '.', '_' and '-', 1-64 characters)", decode.Truncate(l.SKU, 64))
		}
		if !ValidQuantity(l.Quantity) {
			return nil, time.Time{}, "", decode.Errorf("quantity of %q must be an integer from 1 to %d, got %d", l.SKU, MaxQuantity, l.Quantity)
		}
	}
	cur, err := validate.ParseCurrency(r.Currency)
	if err != nil || !money.Known(cur) {
		return nil, time.Time{}, "", decode.Errorf("field %q must be an ISO 4217 currency code such as GBP", "currency")
	}
	r.Currency = cur
	locale := "en"
	if r.Locale != "" {
		tag, err := language.Parse(r.Locale)
		if err != nil || len(r.Locale) > 35 {
			return nil, time.Time{}, "", decode.Errorf("field %q must be a BCP 47 language tag such as en or en-GB, got %q", "locale", decode.Truncate(r.Locale, 35))
		}
		locale = tag.String()
	}
	if r.ExternalReference != "" {
		if err := decode.ID("metadata.external_reference", r.ExternalReference); err != nil {
			return nil, time.Time{}, "", err
		}
	}
	// Return URLs are kept re-serialized (validate.HTTPURL): what reaches a
	// redirect or the pay page's Content-Security-Policy is never the text
	// the client sent.
	for _, f := range []struct {
		name string
		v    *string
	}{{"metadata.return_url_success", &r.ReturnURLSuccess}, {"metadata.return_url_cancel", &r.ReturnURLCancel}} {
		if *f.v == "" {
			continue
		}
		clean, err := validate.HTTPURL(*f.v)
		if err != nil {
			return nil, time.Time{}, "", decode.Errorf("field %q %v", f.name, err)
		}
		*f.v = clean
	}
	expires := now.Add(MaxSessionTTL)
	if !r.ExpiresAt.IsZero() {
		d := r.ExpiresAt.Sub(now)
		if d < MinSessionTTL || d > MaxSessionTTL {
			return nil, time.Time{}, "", decode.Errorf("field %q must be between 30 minutes and 24 hours from now", "expires_at")
		}
		expires = r.ExpiresAt.UTC().Truncate(time.Second)
	}
	return lines, expires, locale, nil
}

// newID is a session id: 256 random bits, unpadded base64url.
func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("checkout: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (ss session) item(now time.Time) map[string]types.AttributeValue {
	lines := make([]storedLine, len(ss.Lines))
	for i, l := range ss.Lines {
		lines[i] = storedLine(l)
	}
	js, _ := json.Marshal(lines) // plain structs: cannot fail
	item := map[string]types.AttributeValue{
		"store": dynamo.S(ss.Store), "currency": dynamo.S(ss.Currency), "locale": dynamo.S(ss.Locale), "lines": dynamo.S(string(js)),
		dynamo.AttrExpiresAt: dynamo.N(ss.ExpiresAt.Unix()), dynamo.AttrCreatedAt: dynamo.Time(now),
	}
	for k, v := range map[string]string{"externalReference": ss.ExternalReference, "returnUrlSuccess": ss.ReturnURLSuccess, "returnUrlCancel": ss.ReturnURLCancel} {
		if v != "" {
			item[k] = dynamo.S(v)
		}
	}
	for k, v := range sessionKey(ss.ID) {
		item[k] = v
	}
	return item
}

// newItem is the condition that the written item is new.
var newItem = dynamo.Build(expression.NewBuilder().WithCondition(dynamo.NotExists()))

// attrPaidOrder on a session row names the order that paid it.
const attrPaidOrder = "paidOrder"

// sessionPaidOp marks session id paid by order, in the transaction that
// fulfils the order, on condition that no other order paid it: a second
// order's payment fails the transaction and is refunded (refundDuplicate).
// The session may be gone (TTL) by then: the row is written anyway, with
// an expiry so it does not stay.
func sessionPaidOp(table, id, order string, now time.Time) types.TransactWriteItem {
	upd := expression.Set(expression.Name(attrPaidOrder), expression.Value(order)).
		Set(expression.Name(dynamo.AttrExpiresAt), expression.IfNotExists(expression.Name(dynamo.AttrExpiresAt),
			expression.Value(now.Add(MaxSessionTTL).Unix())))
	cond := expression.AttributeNotExists(expression.Name(attrPaidOrder)).
		Or(expression.Name(attrPaidOrder).Equal(expression.Value(order)))
	return dynamo.UpdateOp(table, sessionKey(id), upd, dynamo.Cond(cond))
}

// session reads and checks a session token of store slug.
func (s *Service) session(ctx context.Context, slug, token string) (session, error) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || len(id) != 43 || len(token) > 200 {
		return session{}, refusal.New(ErrNoSession, "no such checkout session")
	}
	valid, err := s.signer.Verify(ctx, purposeSession, []byte(dynamo.Tuple(slug, id)), sig)
	if err != nil {
		return session{}, err
	}
	if !valid {
		return session{}, refusal.New(ErrNoSession, "no such checkout session")
	}
	out, err := s.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.st.Tables.Checkout), Key: sessionKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return session{}, fmt.Errorf("checkout: read session: %w", err)
	}
	item := out.Item
	exp, _ := dynamo.IntAttr(item[dynamo.AttrExpiresAt])
	if len(item) == 0 {
		// TTL removes an expired session within days: a valid signature of a
		// session no longer stored is an expired one.
		return session{}, refusal.New(ErrSessionExpired, "this checkout session has expired")
	}
	ss := session{ID: id, Store: dynamo.StringAttr(item["store"]), Currency: dynamo.StringAttr(item["currency"]), Locale: dynamo.StringAttr(item["locale"]),
		ExternalReference: dynamo.StringAttr(item["externalReference"]), ReturnURLSuccess: dynamo.StringAttr(item["returnUrlSuccess"]),
		ReturnURLCancel: dynamo.StringAttr(item["returnUrlCancel"]), ExpiresAt: time.Unix(exp, 0).UTC(), PaidOrder: dynamo.StringAttr(item[attrPaidOrder])}
	if ss.Store != slug {
		return session{}, refusal.New(ErrNoSession, "no such checkout session")
	}
	if !s.now().Before(ss.ExpiresAt) {
		return session{}, refusal.New(ErrSessionExpired, "this checkout session expired at %s", ss.ExpiresAt.Format(time.RFC3339))
	}
	var lines []storedLine
	if err := json.Unmarshal([]byte(dynamo.StringAttr(item["lines"])), &lines); err != nil {
		return session{}, fmt.Errorf("checkout: session lines: %w", err)
	}
	for _, l := range lines {
		ss.Lines = append(ss.Lines, Line(l))
	}
	return ss, nil
}
