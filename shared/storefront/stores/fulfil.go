package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
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
}

// Fulfiller serves licensing fulfilments and order reads.
type Fulfiller struct {
	st    dynamo.Store
	now   func() time.Time
	cache *listingCache
	rate  *ratelimit.Policy
}

// NewFulfiller returns a Fulfiller over st.
func NewFulfiller(st dynamo.Store, now func() time.Time, o Options) *Fulfiller {
	if o.CacheTTL <= 0 {
		o.CacheTTL = 5 * time.Second
	}
	return &Fulfiller{st: st, now: now, cache: &listingCache{ttl: o.CacheTTL, m: map[string]cachedListing{}}, rate: o.RateLimit}
}

// Fulfilment is the outcome of Fulfil.
type Fulfilment struct {
	Order    Order
	Replayed bool              // an earlier request with the same reference and body made the order
	Rate     *ratelimit.Result // the key's count, when limited and counted
	// RateErr is why the request could not be counted (it was served:
	// the limit fails open).
	RateErr error
}

// Fulfil allocates the license keys of r exactly once per (store,
// external reference), all or nothing. On the happy path it makes two
// DynamoDB calls: the TransactWriteItems that writes the order, checks the
// key, counts the request, claims each pool's range and enqueues the
// order.created and order.fulfilled events; and one BatchGetItem reading
// the ranges' starts, the keys this container expects there and the rate
// counter. When another container claimed keys meanwhile, the expected
// keys are not the order's and a second BatchGetItem reads the right ones.
// A cold container first reads the store's listing (one Query).
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
	for _, l := range r.Items {
		if p, ok := listing.Products[l.SKU]; !ok || !p.Active {
			return Fulfilment{}, refusal.New(ErrUnknownSKU, "store %q has no product %q", r.Store, l.SKU)
		}
	}
	items, expected, check := priceCheck(listing.Products, r)
	order := Order{ID: OrderID(r.Store, r.ExternalReference), Store: r.Store, ExternalReference: r.ExternalReference,
		Status: StatusFulfilled, CustomerEmail: r.CustomerEmail, Currency: r.Currency, TotalMinor: r.TotalMinor,
		ExpectedTotalMinor: expected, PriceCheck: check, Items: items, Source: SourceAPI, CreatedAt: now, UpdatedAt: now, fingerprint: r.fingerprint()}

	tx, lineAt, err := f.fulfilItems(order, digest, now)
	if err != nil {
		return Fulfilment{}, err
	}
	if listing.Store.EmailBuyers { // the store's setting: its own system may mail its buyers
		mail, err := EmailOps(f.st.Tables.Outbox, order, EmailReceipt, "", now)
		if err != nil {
			return Fulfilment{}, err
		}
		tx = append(tx, mail...) // last: the items refused reads by index keep theirs
	}
	err = f.st.Transact(ctx, tx)
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return f.refused(ctx, r, order, digest, now, failed, lineAt)
	}
	if err != nil {
		return Fulfilment{}, fmt.Errorf("fulfil %s for %s: %w", order.ID, r.Store, err)
	}
	predicted := map[string]int64{}
	for _, l := range r.Items {
		predicted[l.SKU] = listing.Products[l.SKU].KeysClaimed
	}
	var rateKey dynamo.Key
	if f.rate != nil {
		rateKey = f.rate.Key(string(digest), now)
	}
	keys, rateItem, err := f.licenseKeys(ctx, order, predicted, rateKey)
	if err != nil {
		return Fulfilment{}, fmt.Errorf("fulfil %s for %s: written; reading its keys: %w", order.ID, r.Store, err)
	}
	fill(&order, keys)
	out := Fulfilment{Order: order}
	if f.rate != nil {
		res := f.rate.FromItem(rateItem, now, false)
		out.Rate = &res
	}
	return out, nil
}

// fulfilItems builds the transaction: the order (new), the key's check,
// the rate counter, one claim per line, the events. lineAt is the index of
// the first claim.
func (f *Fulfiller) fulfilItems(o Order, digest apikey.Digest, now time.Time) ([]types.TransactWriteItem, int, error) {
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
	tx = append(tx, claimOps(t.Stores, o)...)
	for _, typ := range []string{"order.created", "order.fulfilled"} {
		op, err := outbox.EnqueueOp(t.Outbox, event(o, typ, "", o.CreatedAt))
		if err != nil {
			return nil, 0, err
		}
		tx = append(tx, op)
	}
	return tx, lineAt, nil
}

// claimOps claims each line's range of keys for order o: the one
// allocation of licensing fulfil and of checkout fulfilment.
func claimOps(table string, o Order) []types.TransactWriteItem {
	var tx []types.TransactWriteItem
	for _, it := range o.Items {
		claimed := expression.Name(attrKeysClaimed)
		// claim:<orderId> = keysClaimed reads the value before this update:
		// the range's start. It comes first because minidyn applies SET
		// actions one after the other (DynamoDB reads every operand from
		// the item as it was).
		update := expression.Set(expression.Name(claimAttr(o.ID)), claimed).
			Set(claimed, claimed.Plus(expression.Value(it.Quantity))).
			Set(expression.Name(attrKeysAvailable), expression.Name(attrKeysAvailable).Minus(expression.Value(it.Quantity)))
		cond := dynamo.Exists().And(expression.Name(attrActive).Equal(expression.Value(true))).
			And(expression.Name(attrKeysAvailable).GreaterThanEqual(expression.Value(it.Quantity)))
		tx = append(tx, dynamo.UpdateOp(table, productKey(o.Store, it.SKU), update, dynamo.Cond(cond)))
	}
	return tx
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
func (f *Fulfiller) refused(ctx context.Context, r FulfilRequest, o Order, digest apikey.Digest, now time.Time, failed *dynamo.ConditionFailedError, lineAt int) (Fulfilment, error) {
	if failed.Failed(1) {
		return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
	}
	if f.rate != nil && failed.Failed(2) {
		res := f.rate.FromItem(failed.Items[2], now, true)
		return Fulfilment{Rate: &res}, refusal.New(ErrRateLimited, "more than %d fulfilments in %s with this key; retry after %s",
			f.rate.Limit, f.rate.Window, res.Reset.Format(time.RFC3339))
	}
	// Every other outcome counts against the key's limit.
	out := Fulfilment{}
	if f.rate != nil {
		res, err := ratelimit.Limiter{DB: f.st.DB, Table: f.st.Tables.RateLimit}.Hit(ctx, *f.rate, string(digest), now)
		if err != nil {
			out.RateErr = err
		} else {
			out.Rate = &res
			if !res.Allowed {
				return out, refusal.New(ErrRateLimited, "more than %d fulfilments in %s with this key; retry after %s",
					f.rate.Limit, f.rate.Window, res.Reset.Format(time.RFC3339))
			}
		}
	}
	if failed.Failed(0) {
		// The order exists. The key is read again before the order is
		// shown: an emulator (minidyn) reports only the first failed
		// condition, so the key's check may not have run.
		keyRow, item, err := f.keyAndOrder(ctx, digest, o.Store, o.ID)
		if err != nil {
			return out, err
		}
		if !keyValid(keyRow, o.Store, r.APIKey) {
			return Fulfilment{}, refusal.New(ErrUnauthorized, "the key is not a valid key of store %q", r.Store)
		}
		if failed.Items[0] != nil {
			item = failed.Items[0]
		}
		stored, err := orderFromItem(item)
		if err != nil {
			return out, err
		}
		if stored.fingerprint != o.fingerprint || stored.ExternalReference != r.ExternalReference {
			return out, refusal.New(ErrReferenceConflict, "external_reference %q was already used for order %s with different %s; nothing was allocated",
				r.ExternalReference, stored.ID, strings.Join(r.differences(stored), ", "))
		}
		keys, _, err := f.licenseKeys(ctx, stored, nil, nil)
		if err != nil {
			return out, fmt.Errorf("replay of %s: %w", stored.ID, err)
		}
		fill(&stored, keys)
		out.Order, out.Replayed = stored, true
		return out, nil
	}
	var short []string
	for i, it := range o.Items {
		if !failed.Failed(lineAt + i) {
			continue
		}
		item := failed.Items[lineAt+i]
		if len(item) == 0 || !dynamo.BoolAttr(item[attrActive]) {
			return out, refusal.New(ErrUnknownSKU, "store %q has no product %q", r.Store, it.SKU)
		}
		left, _ := dynamo.IntAttr(item[attrKeysAvailable])
		short = append(short, fmt.Sprintf("%s: %d requested, %d left", it.SKU, it.Quantity, left))
	}
	if len(short) > 0 {
		return out, refusal.New(ErrInsufficientKeys, "not enough license keys (%s); nothing was allocated", strings.Join(short, "; "))
	}
	return out, fmt.Errorf("fulfil %s: transaction cancelled: %w", o.ID, failed)
}

func fill(o *Order, keys map[string][]string) {
	for i := range o.Items {
		o.Items[i].LicenseKeys = keys[o.Items[i].SKU]
	}
}

// keyAndOrder reads an API key's row and an order in one BatchGetItem
// (nil for a row that does not exist).
func (f *Fulfiller) keyAndOrder(ctx context.Context, digest apikey.Digest, slug, id string) (map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	keys := []dynamo.Key{dynamo.PKSK(apiKeyPK(digest), skAPIKey), dynamo.PKSK(orderPK(slug, id), skOrder)}
	got, err := batchGet(ctx, f.st.DB, map[string]types.KeysAndAttributes{f.st.Tables.Stores: {Keys: keys, ConsistentRead: aws.Bool(true)}})
	if err != nil {
		return nil, nil, fmt.Errorf("read order %s of %s: %w", id, slug, err)
	}
	var keyRow, orderRow map[string]types.AttributeValue
	for _, item := range got[f.st.Tables.Stores] {
		switch dynamo.StringAttr(item[dynamo.AttrSK]) {
		case skAPIKey:
			keyRow = item
		case skOrder:
			orderRow = item
		}
	}
	return keyRow, orderRow, nil
}

// keyValid reports whether keyRow is key's row, of store slug, not revoked.
func keyValid(keyRow map[string]types.AttributeValue, slug, key string) bool {
	return keyRow != nil && dynamo.StringAttr(keyRow[attrStore]) == slug && keyRow[attrRevokedAt] == nil &&
		apikey.Digest(dynamo.StringAttr(keyRow[attrDigest])).Matches(key)
}

// licenseKeys reads the keys order o owns: the start of each line's range
// (claims.<orderId> on the product row) and the keys there. predicted
// gives where this container expects each range to start (nil: unknown);
// keys read from a right prediction save a second call. rateKey, when set,
// is read in the same call (the rate counter's item is returned).
func (f *Fulfiller) licenseKeys(ctx context.Context, o Order, predicted map[string]int64, rateKey dynamo.Key) (map[string][]string, map[string]types.AttributeValue, error) {
	table := f.st.Tables.Stores
	var keys []dynamo.Key
	for _, it := range o.Items {
		keys = append(keys, productKey(o.Store, it.SKU))
		if start, ok := predicted[it.SKU]; ok {
			for n := start; n < start+it.Quantity; n++ {
				keys = append(keys, dynamo.PKSK(poolPK(o.Store, it.SKU), keyNumberSK(n)))
			}
		}
	}
	proj := expression.NamesList(expression.Name(dynamo.AttrPK), expression.Name(dynamo.AttrSK),
		expression.Name(claimAttr(o.ID)), expression.Name(attrLicenseKey))
	e := dynamo.Build(expression.NewBuilder().WithProjection(proj))
	req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true),
		ProjectionExpression: e.Projection(), ExpressionAttributeNames: e.Names()}}
	if rateKey != nil {
		req[f.st.Tables.RateLimit] = types.KeysAndAttributes{Keys: []dynamo.Key{rateKey}, ConsistentRead: aws.Bool(true)}
	}
	got, err := batchGet(ctx, f.st.DB, req)
	if err != nil {
		return nil, nil, err
	}
	var rateItem map[string]types.AttributeValue
	if rateKey != nil && len(got[f.st.Tables.RateLimit]) > 0 {
		rateItem = got[f.st.Tables.RateLimit][0]
	}
	rows := map[string]map[string]types.AttributeValue{} // pk+sk -> item
	for _, item := range got[table] {
		rows[dynamo.Tuple(dynamo.StringAttr(item[dynamo.AttrPK]), dynamo.StringAttr(item[dynamo.AttrSK]))] = item
	}
	out := map[string][]string{}
	var missing []dynamo.Key
	starts := map[string]int64{}
	for _, it := range o.Items {
		prod := rows[dynamo.Tuple(storePK(o.Store), productSK(it.SKU))]
		if prod[claimAttr(o.ID)] == nil {
			return nil, nil, fmt.Errorf("order %s: product %s records no claim of it", o.ID, it.SKU)
		}
		start, err := dynamo.IntAttr(prod[claimAttr(o.ID)])
		if err != nil {
			return nil, nil, fmt.Errorf("order %s: claim on %s: %w", o.ID, it.SKU, err)
		}
		starts[it.SKU] = start
		f.cache.advance(o.Store, it.SKU, start+it.Quantity)
		if p, ok := predicted[it.SKU]; ok && p == start {
			continue
		}
		for n := start; n < start+it.Quantity; n++ {
			missing = append(missing, dynamo.PKSK(poolPK(o.Store, it.SKU), keyNumberSK(n)))
		}
	}
	if len(missing) > 0 {
		more, err := batchGet(ctx, f.st.DB, map[string]types.KeysAndAttributes{table: {Keys: missing, ConsistentRead: aws.Bool(true)}})
		if err != nil {
			return nil, nil, err
		}
		for _, item := range more[table] {
			rows[dynamo.Tuple(dynamo.StringAttr(item[dynamo.AttrPK]), dynamo.StringAttr(item[dynamo.AttrSK]))] = item
		}
	}
	for _, it := range o.Items {
		for n := starts[it.SKU]; n < starts[it.SKU]+it.Quantity; n++ {
			row := rows[dynamo.Tuple(poolPK(o.Store, it.SKU), keyNumberSK(n))]
			k := dynamo.StringAttr(row[attrLicenseKey])
			if k == "" {
				return nil, nil, fmt.Errorf("order %s: key %d of %s is missing from its pool", o.ID, n, it.SKU)
			}
			out[it.SKU] = append(out[it.SKU], k)
		}
	}
	return out, rateItem, nil
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
	if orderRow == nil {
		return Order{}, refusal.New(ErrNoOrder, "store %q has no order %s", slug, id)
	}
	o, err := orderFromItem(orderRow)
	if err != nil || !o.Fulfilled {
		return o, err
	}
	keys, _, err := f.licenseKeys(ctx, o, nil, nil)
	if err != nil {
		return Order{}, err
	}
	fill(&o, keys)
	return o, nil
}
