package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// Options tune a Fulfiller.
type Options struct {
	// CacheTTL bounds how long a container trusts a store's listing
	// (names, prices, which SKUs exist). Keys are never cached.
	CacheTTL time.Duration
	// RateLimit, when set, limits fulfilments per API key.
	RateLimit *ratelimit.Policy
	// Logger takes what goes wrong beside a request's answer (a key's last
	// use not recorded); nil: slog.Default().
	Logger *slog.Logger
}

// Fulfiller serves licensing fulfilments and order reads.
type Fulfiller struct {
	st    dynamo.Store
	now   func() time.Time
	cache *listingCache
	rate  *ratelimit.Policy
	pools *pools
	use   *keyUse
}

// NewFulfiller returns a Fulfiller over st.
func NewFulfiller(st dynamo.Store, now func() time.Time, o Options) *Fulfiller {
	if o.CacheTTL <= 0 {
		o.CacheTTL = 5 * time.Second
	}
	f := &Fulfiller{st: st, now: now, cache: &listingCache{ttl: o.CacheTTL, m: map[string]cachedListing{}}, rate: o.RateLimit,
		use: newKeyUse(st, o.Logger)}
	f.pools = newPools(st, func(ctx context.Context, slug string) (map[string]Product, error) {
		l, err := f.cache.reload(ctx, st.DB, st.Tables.Stores, slug, f.now())
		return l.Products, err
	})
	return f
}

// Fulfilment is the outcome of Fulfil.
type Fulfilment struct {
	Order    Order
	Replayed bool              // an earlier request with the same reference and body made the order
	Rate     *ratelimit.Result // the key's count, when limited and counted
	// RateErr is why the request could not be counted (it was served:
	// the limit fails open).
	RateErr error
	// LowStockErr is why a low pool could not be announced (the order was
	// made: the handler logs it; the next fulfilment tries again).
	LowStockErr error
}

// Fulfil allocates the license keys of r exactly once per (store,
// external reference), all or nothing. On the happy path it makes two
// DynamoDB calls (three for a key's first request of a minute: the record
// of its last use, made beside them): the TransactWriteItems that writes the order (with the
// ranges it claims), checks the key, counts the request, claims each
// line's range from a shard of its pool and enqueues the order.created and
// order.fulfilled events; and one BatchGetItem reading the keys and the
// rate counter. A cold container first reads the store's listing (one
// Query) and the shards of the SKUs it sells (one BatchGetItem). A claim
// whose shard another container moved meanwhile fails its condition; the
// shard comes back with the cancellation and the order is planned again
// (one more transaction).
func (f *Fulfiller) Fulfil(ctx context.Context, r FulfilRequest) (Fulfilment, error) {
	if KeyMode(r.APIKey) == "" {
		return Fulfilment{}, refusal.New(ErrUnauthorized, "missing or malformed store API key")
	}
	r.Items = MergeLines(r.Items)
	now := f.now().UTC()
	digest := apikey.Of(r.APIKey)
	listing, err := f.cache.get(ctx, f.st.DB, f.st.Tables.Stores, r.Store, now)
	if err != nil {
		return Fulfilment{}, err
	}
	if !listing.Accepts(r.APIKey) {
		// A key made since the listing was cached is not in it: look once
		// more before refusing. Nothing about the store is told before.
		if listing, err = f.cache.reload(ctx, f.st.DB, f.st.Tables.Stores, r.Store, now); err != nil {
			return Fulfilment{}, err
		}
		if !listing.Accepts(r.APIKey) {
			return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
		}
	}
	// The key's last use is recorded beside the fulfilment (at most once a
	// minute per key: the first request of a minute makes one more call).
	defer f.use.touch(ctx, r.Store, digest, listing.LastUsed(r.APIKey), now)()
	for _, l := range r.Items {
		if p, ok := listing.Products[l.SKU]; !ok || !p.Active {
			return Fulfilment{}, refusal.New(ErrUnknownSKU, "store %q has no product %q", r.Store, l.SKU)
		}
	}
	items, expected, check := priceCheck(listing.Products, r)
	order := Order{ID: OrderID(r.Store, r.ExternalReference), Store: r.Store, ExternalReference: r.ExternalReference,
		Status: StatusFulfilled, CustomerEmail: r.CustomerEmail, Currency: r.Currency, TotalMinor: r.TotalMinor,
		ExpectedTotalMinor: expected, PriceCheck: check, Items: items, Source: SourceAPI, CreatedAt: now, UpdatedAt: now, fingerprint: r.fingerprint()}

	for attempt := 0; ; attempt++ {
		if attempt == maxClaimAttempts {
			return Fulfilment{}, fmt.Errorf("fulfil %s for %s: %w", order.ID, r.Store, errPoolChangedMeanwhile)
		}
		res, short, err := f.pools.reserve(ctx, r.Store, order.Items, listing.Products)
		if err != nil {
			return Fulfilment{}, fmt.Errorf("fulfil %s for %s: %w", order.ID, r.Store, err)
		}
		if len(short) > 0 {
			return f.refusedShort(ctx, r, order, digest, now, short)
		}
		order.claims, order.hasClaims = res.Claims, true
		tx, lineAt, err := f.fulfilItems(order, res, digest, now)
		if err == nil && listing.Store.EmailBuyers { // the store's setting: its own system may mail its buyers
			var mail []types.TransactWriteItem
			mail, err = EmailOps(f.st.Tables.Outbox, order, EmailReceipt, "", now)
			tx = append(tx, mail...) // last: the items refused reads by index keep theirs
		}
		if err != nil {
			res.Done(err, 0)
			return Fulfilment{}, err
		}
		err = f.st.Transact(ctx, tx)
		stale := res.Done(err, lineAt)
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			refused := failed.Failed(0) || failed.Failed(1) || (f.rate != nil && failed.Failed(2))
			if stale && !refused {
				continue // a shard moved: plan again with what DynamoDB returned
			}
			return f.refused(ctx, r, order, digest, now, failed)
		}
		if err != nil {
			return Fulfilment{}, fmt.Errorf("fulfil %s for %s: %w", order.ID, r.Store, err)
		}
		break
	}
	var rateKey dynamo.Key
	if f.rate != nil {
		rateKey = f.rate.Key(string(digest), now)
	}
	keys, rateItem, err := f.licenseKeys(ctx, order, rateKey)
	if err != nil {
		return Fulfilment{}, fmt.Errorf("fulfil %s for %s: written; reading its keys: %w", order.ID, r.Store, err)
	}
	fill(&order, keys)
	metrics.StoreFulfilments.Add(ctx, 1, order.Store, SourceAPI)
	metrics.KeysAllocated.Add(ctx, float64(Units(order.Items)), order.Store)
	out := Fulfilment{Order: order, LowStockErr: f.Claimed(ctx, order.Store, order.Items)}
	if f.rate != nil {
		res := f.rate.FromItem(rateItem, now, false)
		out.Rate = &res
	}
	return out, nil
}

// maxClaimAttempts bounds how often one fulfilment plans its claims again
// after shards moved under it (each attempt learns the shards it missed).
const maxClaimAttempts = 20

// fulfilItems builds the transaction: the order (new), the key's check,
// the rate counter, the reservation's claims, the events. lineAt is the
// index of the first claim.
func (f *Fulfiller) fulfilItems(o Order, res *Reservation, digest apikey.Digest, now time.Time) ([]types.TransactWriteItem, int, error) {
	t := f.st.Tables
	keyOK := dynamo.Exists().And(expression.Name(attrStore).Equal(expression.Value(o.Store))).
		And(expression.AttributeNotExists(expression.Name(attrRevokedAt)))
	tx := []types.TransactWriteItem{
		dynamo.PutNewOp(t.Stores, o.item()),
		dynamo.CheckOp(t.Stores, dynamo.PKSK(apiKeyPK(digest), skAPIKey), keyOK),
	}
	if f.rate != nil {
		tx = append(tx, f.rate.CountOp(t.RateLimit, string(digest), now))
	}
	lineAt := len(tx)
	tx = append(tx, res.ops(t.Stores)...)
	for _, typ := range []string{"order.created", "order.fulfilled"} {
		op, err := outbox.EnqueueOp(t.Outbox, event(o, typ, "", o.CreatedAt))
		if err != nil {
			return nil, 0, err
		}
		tx = append(tx, op)
	}
	return tx, lineAt, nil
}

// Reserve plans the claims of the keys of order o (as stored) from its
// store's pools and holds this container's locks of their shards until
// the transaction carrying them ends (Reservation.Done). A line the pools
// cannot serve, as read afresh, is refused: ErrInsufficientKeys naming the
// SKU and what is left, or ErrUnknownSKU for a product no longer sold.
func (f *Fulfiller) Reserve(ctx context.Context, o Order) (*Reservation, error) {
	listing, err := f.cache.get(ctx, f.st.DB, f.st.Tables.Stores, o.Store, f.now())
	if err != nil {
		return nil, err
	}
	for _, it := range o.Items {
		if _, ok := listing.Products[it.SKU]; !ok {
			return nil, refusal.New(ErrUnknownSKU, "store %q has no product %q", o.Store, it.SKU)
		}
	}
	res, short, err := f.pools.reserve(ctx, o.Store, o.Items, listing.Products)
	if err != nil {
		return nil, fmt.Errorf("claim keys of %s: %w", o.ID, err)
	}
	if len(short) > 0 {
		return nil, shortRefusal(o.Store, short)
	}
	return res, nil
}

func shortRefusal(store string, short []shortage) error {
	for _, s := range short {
		if s.Inactive {
			return refusal.New(ErrUnknownSKU, "store %q has no product %q", store, s.SKU)
		}
	}
	return refusal.New(ErrInsufficientKeys, "not enough license keys (%s); nothing was allocated", shortageText(short))
}

// event is the outbox event of o (the documented webhook payload plus event_id
// and occurred_at, so receivers can de-duplicate). suffix tells apart
// events of one type (a refund's total, a dispute's state). License keys
// are never in an event.
func event(o Order, typ, suffix string, at time.Time) outbox.Event {
	status := o.Status
	switch typ {
	case "order.created":
		status = "created"
	case "order.disputed":
		status = "disputed"
	}
	id := "store:" + o.Store + ":order:" + o.ID + ":" + strings.TrimPrefix(typ, "order.")
	if suffix != "" {
		id += ":" + suffix
	}
	payload := map[string]any{"event": typ, "order_id": o.ID, "external_reference": o.ExternalReference, "status": status,
		"total_minor": o.TotalMinor, "currency": o.Currency, "event_id": id, "occurred_at": at.UTC().Format(time.RFC3339)}
	if o.CustomerEmail != "" {
		payload["customer_email"] = o.CustomerEmail
	}
	if o.Tax != nil {
		// A checkout order's total as the buyer saw it (tax.Compute).
		payload["subtotal_minor"], payload["tax_minor"], payload["tax_included"] = o.Tax.SubtotalMinor, o.Tax.TaxMinor, o.Tax.Included
	}
	if typ == "order.refunded" {
		payload["refunded_minor"] = o.RefundedMinor
	}
	if typ == "order.disputed" {
		payload["dispute_status"] = o.Dispute
	}
	js, _ := json.Marshal(payload) // plain values: cannot fail
	// One ordering key per order: its events reach the store in the order
	// they happened (created before fulfilled: same time, ids compare so).
	return outbox.Event{ID: id, Recipient: dynamo.Tuple(RecipientKind, o.Store), Type: typ, Payload: js, At: at,
		OrderingKey: OrderingKey(o.Store, o.ID)}
}

// refused explains a cancelled fulfilment: nothing was written.
func (f *Fulfiller) refused(ctx context.Context, r FulfilRequest, o Order, digest apikey.Digest, now time.Time, failed *dynamo.ConditionFailedError) (Fulfilment, error) {
	if failed.Failed(1) {
		return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	if f.rate != nil && failed.Failed(2) {
		res := f.rate.FromItem(failed.Items[2], now, true)
		return Fulfilment{Rate: &res}, refusal.New(ErrRateLimited, "more than %d fulfilments in %s with this key; retry after %s",
			f.rate.Limit, f.rate.Window, res.Reset.Format(time.RFC3339))
	}
	out, err := f.countRefusal(ctx, digest, now)
	if err != nil || !failed.Failed(0) {
		if err == nil {
			err = fmt.Errorf("fulfil %s: transaction cancelled: %w", o.ID, failed)
		}
		return out, err
	}
	// The order exists. The key is read again before the order is shown:
	// an emulator (minidyn) reports only the first failed condition, so the
	// key's check may not have run.
	return f.replay(ctx, r, o, digest, out, failed.Items[0])
}

// refusedShort answers a fulfilment whose pools cannot serve it: a retry
// of an order made before is answered as that order; anything else is
// refused naming the SKUs and what is left. It counts against the key.
func (f *Fulfiller) refusedShort(ctx context.Context, r FulfilRequest, o Order, digest apikey.Digest, now time.Time, short []shortage) (Fulfilment, error) {
	out, err := f.countRefusal(ctx, digest, now)
	if err != nil {
		return out, err
	}
	keyRow, item, err := f.keyAndOrder(ctx, digest, o.Store, o.ID)
	if err != nil {
		return out, err
	}
	if !keyValid(keyRow, o.Store, r.APIKey) {
		return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	if item != nil {
		return f.replay(ctx, r, o, digest, out, item)
	}
	return out, shortRefusal(r.Store, short)
}

// countRefusal counts a refused fulfilment against the key's limit (every
// outcome but the key's and the limit's own refusals counts).
func (f *Fulfiller) countRefusal(ctx context.Context, digest apikey.Digest, now time.Time) (Fulfilment, error) {
	out := Fulfilment{}
	if f.rate == nil {
		return out, nil
	}
	res, err := ratelimit.Limiter{DB: f.st.DB, Table: f.st.Tables.RateLimit}.Hit(ctx, *f.rate, string(digest), now)
	if err != nil {
		out.RateErr = err
		return out, nil
	}
	out.Rate = &res
	if !res.Allowed {
		return out, refusal.New(ErrRateLimited, "more than %d fulfilments in %s with this key; retry after %s",
			f.rate.Limit, f.rate.Window, res.Reset.Format(time.RFC3339))
	}
	return out, nil
}

// replay answers a fulfilment whose order exists (item, as the
// cancellation returned it, or nil: read it): the same order with its
// keys, or a conflict when the reference was used for another order.
func (f *Fulfiller) replay(ctx context.Context, r FulfilRequest, o Order, digest apikey.Digest, out Fulfilment, item map[string]types.AttributeValue) (Fulfilment, error) {
	keyRow, read, err := f.keyAndOrder(ctx, digest, o.Store, o.ID)
	if err != nil {
		return out, err
	}
	if !keyValid(keyRow, o.Store, r.APIKey) {
		return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	if item == nil {
		item = read
	}
	stored, err := orderFromItem(item)
	if err != nil {
		return out, err
	}
	if stored.fingerprint != o.fingerprint || stored.ExternalReference != r.ExternalReference {
		return out, refusal.New(ErrReferenceConflict, "external_reference %q was already used for order %s with different %s; nothing was allocated",
			r.ExternalReference, stored.ID, strings.Join(r.differences(stored), ", "))
	}
	keys, _, err := f.licenseKeys(ctx, stored, nil)
	if err != nil {
		return out, fmt.Errorf("replay of %s: %w", stored.ID, err)
	}
	fill(&stored, keys)
	out.Order, out.Replayed = stored, true
	return out, nil
}

func fill(o *Order, keys map[string][]string) {
	for i := range o.Items {
		o.Items[i].LicenseKeys = keys[o.Items[i].SKU]
	}
}

// keyAndOrder reads an API key's row and an order in one BatchGetItem
// (nil for a row that does not exist); the key's row carries the last use
// its store's index row records (lastUsedAt).
func (f *Fulfiller) keyAndOrder(ctx context.Context, digest apikey.Digest, slug, id string) (map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	keys := []dynamo.Key{dynamo.PKSK(apiKeyPK(digest), skAPIKey), dynamo.PKSK(orderPK(slug, id), skOrder),
		dynamo.PKSK(storePK(slug), keyIndexSK(digest.ID()))}
	got, err := batchGet(ctx, f.st.DB, map[string]types.KeysAndAttributes{f.st.Tables.Stores: {Keys: keys, ConsistentRead: aws.Bool(true)}})
	if err != nil {
		return nil, nil, fmt.Errorf("read order %s of %s: %w", id, slug, err)
	}
	var keyRow, orderRow, indexRow map[string]types.AttributeValue
	for _, item := range got[f.st.Tables.Stores] {
		switch dynamo.StringAttr(item[dynamo.AttrSK]) {
		case skAPIKey:
			keyRow = item
		case skOrder:
			orderRow = item
		case keyIndexSK(digest.ID()):
			indexRow = item
		}
	}
	if keyRow != nil && indexRow != nil && indexRow[attrLastUsedAt] != nil {
		keyRow[attrLastUsedAt] = indexRow[attrLastUsedAt]
	}
	return keyRow, orderRow, nil
}

// keyValid reports whether keyRow is key's row, of store slug, not revoked.
func keyValid(keyRow map[string]types.AttributeValue, slug, key string) bool {
	return keyRow != nil && dynamo.StringAttr(keyRow[attrStore]) == slug && keyRow[attrRevokedAt] == nil &&
		apikey.Digest(dynamo.StringAttr(keyRow[attrDigest])).Matches(key)
}

// licenseKeys reads the keys order o owns, from the ranges its row records
// (an order fulfilled before pools had shards: from the claim its product
// rows record, one more call). rateKey, when set, is read in the same call
// (the rate counter's item is returned).
func (f *Fulfiller) licenseKeys(ctx context.Context, o Order, rateKey dynamo.Key) (map[string][]string, map[string]types.AttributeValue, error) {
	table := f.st.Tables.Stores
	claims := o.claims
	if !o.hasClaims {
		var err error
		if claims, err = f.legacyClaims(ctx, o); err != nil {
			return nil, nil, err
		}
	}
	var keys []dynamo.Key
	for _, c := range claims {
		for n := c.Start; n < c.Start+c.Count; n++ {
			keys = append(keys, keyRowKey(o.Store, c.SKU, c.Shard, n))
		}
	}
	rows := map[string]map[string]types.AttributeValue{} // pk+sk -> item
	var rateItem map[string]types.AttributeValue
	for first := true; first || len(keys) > 0; first = false {
		n := min(len(keys), 100)
		req := map[string]types.KeysAndAttributes{}
		if n > 0 {
			req[table] = types.KeysAndAttributes{Keys: keys[:n], ConsistentRead: aws.Bool(true)}
		}
		if first && rateKey != nil {
			req[f.st.Tables.RateLimit] = types.KeysAndAttributes{Keys: []dynamo.Key{rateKey}, ConsistentRead: aws.Bool(true)}
		}
		keys = keys[n:]
		if len(req) == 0 {
			break
		}
		got, err := batchGet(ctx, f.st.DB, req)
		if err != nil {
			return nil, nil, err
		}
		if len(got[f.st.Tables.RateLimit]) > 0 {
			rateItem = got[f.st.Tables.RateLimit][0]
		}
		for _, item := range got[table] {
			rows[dynamo.Tuple(dynamo.StringAttr(item[dynamo.AttrPK]), dynamo.StringAttr(item[dynamo.AttrSK]))] = item
		}
	}
	out := map[string][]string{}
	for _, c := range claims {
		for n := c.Start; n < c.Start+c.Count; n++ {
			k := keyRowKey(o.Store, c.SKU, c.Shard, n)
			row := rows[dynamo.Tuple(dynamo.StringAttr(k[dynamo.AttrPK]), dynamo.StringAttr(k[dynamo.AttrSK]))]
			key := dynamo.StringAttr(row[attrLicenseKey])
			if key == "" {
				return nil, nil, fmt.Errorf("order %s: key %d of shard %s of %s is missing from its pool", o.ID, n, shardName(c.Shard), c.SKU)
			}
			out[c.SKU] = append(out[c.SKU], key)
		}
	}
	return out, rateItem, nil
}

// legacyClaims reads where the ranges of an order fulfilled before pools
// had shards start: claim:<orderId> on its product rows.
func (f *Fulfiller) legacyClaims(ctx context.Context, o Order) ([]Claim, error) {
	var keys []dynamo.Key
	for _, it := range o.Items {
		keys = append(keys, productKey(o.Store, it.SKU))
	}
	proj := expression.NamesList(expression.Name(dynamo.AttrPK), expression.Name(dynamo.AttrSK), expression.Name(claimAttr(o.ID)))
	e := dynamo.Build(expression.NewBuilder().WithProjection(proj))
	got, err := batchGet(ctx, f.st.DB, map[string]types.KeysAndAttributes{f.st.Tables.Stores: {Keys: keys, ConsistentRead: aws.Bool(true),
		ProjectionExpression: e.Projection(), ExpressionAttributeNames: e.Names()}})
	if err != nil {
		return nil, err
	}
	bySK := map[string]map[string]types.AttributeValue{}
	for _, item := range got[f.st.Tables.Stores] {
		bySK[dynamo.StringAttr(item[dynamo.AttrSK])] = item
	}
	claims := make([]Claim, 0, len(o.Items))
	for _, it := range o.Items {
		v := bySK[productSK(it.SKU)][claimAttr(o.ID)]
		if v == nil {
			return nil, fmt.Errorf("order %s: product %s records no claim of it", o.ID, it.SKU)
		}
		start, err := dynamo.IntAttr(v)
		if err != nil {
			return nil, fmt.Errorf("order %s: claim on %s: %w", o.ID, it.SKU, err)
		}
		claims = append(claims, Claim{SKU: it.SKU, Shard: legacyShard, Start: start, Count: it.Quantity})
	}
	return claims, nil
}

// batchGet reads every key of req, following UnprocessedKeys (each retry is
// one more call; DynamoDB returns them only under throttling or for
// answers over 16 MB).
func batchGet(ctx context.Context, db *dynamodb.Client, req map[string]types.KeysAndAttributes) (map[string][]map[string]types.AttributeValue, error) {
	out := map[string][]map[string]types.AttributeValue{}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt == 10 {
			return nil, errors.New("batch get: keys left unprocessed after 10 attempts")
		}
		res, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("batch get: %w", err)
		}
		for t, items := range res.Responses {
			out[t] = append(out[t], items...)
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

// Order reads order id of store slug for the holder of key: one
// BatchGetItem (the key's row and the order), then, once the order is
// fulfilled, its keys (two more). An order never fulfilled (a checkout
// order pending, or refunded, cancelled or disputed before its payment
// succeeded) claimed no keys: it is read without any. An unknown, revoked
// or other store's key is ErrUnauthorized, whether or not the order
// exists.
func (f *Fulfiller) Order(ctx context.Context, slug, key, id string) (Order, error) {
	if KeyMode(key) == "" {
		return Order{}, refusal.New(ErrUnauthorized, "missing or malformed store API key")
	}
	keyRow, orderRow, err := f.keyAndOrder(ctx, apikey.Of(key), slug, id)
	if err != nil {
		return Order{}, err
	}
	if !keyValid(keyRow, slug, key) {
		return Order{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", slug)
	}
	defer f.use.touch(ctx, slug, apikey.Of(key), lastUsedOf(keyRow), f.now().UTC())()
	if orderRow == nil {
		return Order{}, refusal.New(ErrNoOrder, "store %q has no order %s", slug, id)
	}
	o, err := orderFromItem(orderRow)
	if err != nil || !o.Fulfilled {
		return o, err
	}
	keys, _, err := f.licenseKeys(ctx, o, nil)
	if err != nil {
		return Order{}, err
	}
	fill(&o, keys)
	return o, nil
}
