package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// KeyKind says what a merchant key may do: the publishable key is given to
// client apps (aliases), the secret key stays on the merchant's server.
type KeyKind string

// Key kinds and the prefixes of the keys made for them.
const (
	SecretKey      KeyKind = "secret"
	PublishableKey KeyKind = "publishable"

	secretPrefix      = "pay_sk_"
	publishablePrefix = "pay_pk_"
	// maxKeyLength bounds a presented key before it is hashed and looked up.
	maxKeyLength = 256
)

// Attribute names of the PaymentsTable items.
const (
	attrMerchant   = "merchant"
	attrName       = "name"
	attrWebhookURL = "webhookUrl"
	attrKind       = "kind"
	attrCreatedAt  = "createdAt"
	attrRevokedAt  = "revokedAt"
	mainSK         = "#"
)

// Merchant is one merchant of the payments API.
type Merchant struct {
	ID         string
	Name       string
	WebhookURL string // where its notifications go; "" for none
	CreatedAt  time.Time
}

// Merchants keeps merchants and their keys, and recognises presented keys.
type Merchants struct {
	st    dynamo.Store
	table string
	now   func() time.Time
	log   *slog.Logger
	// cache keeps recognised keys for ttl: a revoked key is refused by every
	// container within ttl (KEY_CACHE_TTL, seconds).
	ttl   time.Duration
	mu    sync.Mutex
	cache map[apikey.Digest]cachedKey
}

type cachedKey struct {
	merchant string
	kind     KeyKind
	until    time.Time
}

func merchantKey(id string) dynamo.Key  { return dynamo.PKSK(dynamo.Tuple("merchant", id), mainSK) }
func keyKey(d apikey.Digest) dynamo.Key { return dynamo.PKSK(dynamo.Tuple("key", string(d)), mainSK) }

// CreateMerchant stores a new merchant; an existing id is refused.
func (m *Merchants) CreateMerchant(ctx context.Context, mc Merchant) error {
	if mc.ID == "" || mc.Name == "" {
		return fmt.Errorf("payments: a merchant needs an id and a name")
	}
	item := map[string]types.AttributeValue{
		attrName: dynamo.S(mc.Name), attrCreatedAt: dynamo.Time(m.now()),
	}
	if mc.WebhookURL != "" {
		item[attrWebhookURL] = dynamo.S(mc.WebhookURL)
	}
	for k, v := range merchantKey(mc.ID) {
		item[k] = v
	}
	if err := m.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(m.table, item)}); err != nil {
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			return fmt.Errorf("payments: merchant %s exists", mc.ID)
		}
		return fmt.Errorf("payments: create merchant %s: %w", mc.ID, err)
	}
	return nil
}

// Merchant reads a merchant.
func (m *Merchants) Merchant(ctx context.Context, id string) (Merchant, bool, error) {
	out, err := m.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.table), Key: merchantKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Merchant{}, false, fmt.Errorf("payments: read merchant %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return Merchant{}, false, nil
	}
	created, _ := dynamo.TimeAttr(out.Item[attrCreatedAt])
	return Merchant{ID: id, Name: dynamo.StringAttr(out.Item[attrName]), WebhookURL: dynamo.StringAttr(out.Item[attrWebhookURL]), CreatedAt: created}, true, nil
}

// NewKey makes a key of kind for merchant and stores its digest; the key
// itself is returned once and never stored.
func (m *Merchants) NewKey(ctx context.Context, merchant string, kind KeyKind) (string, error) {
	prefix := secretPrefix
	if kind == PublishableKey {
		prefix = publishablePrefix
	}
	key, err := apikey.New(prefix)
	if err != nil {
		return "", err
	}
	if _, err := m.AddKey(ctx, merchant, kind, key); err != nil {
		return "", err
	}
	return key, nil
}

// AddKey stores the digest of a given key (the development keys of make
// run, keys moved from elsewhere) for merchant. Adding a key the merchant
// already has is a no-op (reported false); a key of another merchant or
// kind is refused.
func (m *Merchants) AddKey(ctx context.Context, merchant string, kind KeyKind, key string) (bool, error) {
	if kind != SecretKey && kind != PublishableKey {
		return false, fmt.Errorf("payments: key kind %q", kind)
	}
	if len(key) < 16 || len(key) > maxKeyLength {
		return false, fmt.Errorf("payments: a key has 16 to %d characters", maxKeyLength)
	}
	d := apikey.Of(key)
	item := map[string]types.AttributeValue{attrMerchant: dynamo.S(merchant), attrKind: dynamo.S(string(kind)), attrCreatedAt: dynamo.Time(m.now())}
	for k, v := range keyKey(d) {
		item[k] = v
	}
	// The merchant's partition lists its keys by digest, so a key can be
	// revoked by its public id without the key itself.
	listed := map[string]types.AttributeValue{attrKind: dynamo.S(string(kind)), attrCreatedAt: dynamo.Time(m.now())}
	for k, v := range merchantKeyListing(merchant, d) {
		listed[k] = v
	}
	err := m.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.CheckOp(m.table, merchantKey(merchant), dynamo.Exists()),
		dynamo.PutNewOp(m.table, item),
		dynamo.PutNewOp(m.table, listed),
	})
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return false, fmt.Errorf("payments: no merchant %s", merchant)
	case errors.As(err, &failed):
		old := failed.Items[1]
		if old == nil {
			if old, err = m.keyItem(ctx, d); err != nil {
				return false, err
			}
		}
		if dynamo.StringAttr(old[attrMerchant]) == merchant && dynamo.StringAttr(old[attrKind]) == string(kind) {
			return false, nil
		}
		return false, fmt.Errorf("payments: key %s belongs to another merchant or kind", d.ID())
	}
	return false, fmt.Errorf("payments: add key %s: %w", d.ID(), err)
}

func merchantKeyListing(merchant string, d apikey.Digest) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("merchant", merchant), dynamo.Tuple("key", string(d)))
}

// KeyInfo is one of a merchant's keys, without the key.
type KeyInfo struct {
	ID        string // apikey.Digest.ID
	Kind      KeyKind
	CreatedAt time.Time
	Revoked   bool
}

// listing returns the digests of merchant's keys.
func (m *Merchants) listing(ctx context.Context, merchant string) ([]apikey.Digest, error) {
	infos, err := m.keyRows(ctx, merchant)
	if err != nil {
		return nil, err
	}
	out := make([]apikey.Digest, 0, len(infos))
	for _, it := range infos {
		if parts, err := dynamo.SplitTuple(dynamo.StringAttr(it[dynamo.AttrSK])); err == nil && len(parts) == 2 {
			out = append(out, apikey.Digest(parts[1]))
		}
	}
	return out, nil
}

// keyRows reads the key listing of merchant's partition.
func (m *Merchants) keyRows(ctx context.Context, merchant string) ([]map[string]types.AttributeValue, error) {
	keyCond := expression.Key(dynamo.AttrPK).Equal(expression.Value(dynamo.Tuple("merchant", merchant))).
		And(expression.Key(dynamo.AttrSK).BeginsWith(dynamo.Tuple("key")))
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(keyCond))
	out, err := m.st.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(m.table), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("payments: list keys of %s: %w", merchant, err)
	}
	return out.Items, nil
}

// Keys lists merchant's keys.
func (m *Merchants) Keys(ctx context.Context, merchant string) ([]KeyInfo, error) {
	rows, err := m.keyRows(ctx, merchant)
	if err != nil {
		return nil, err
	}
	var keys []KeyInfo
	for _, it := range rows {
		parts, err := dynamo.SplitTuple(dynamo.StringAttr(it[dynamo.AttrSK]))
		if err != nil || len(parts) != 2 {
			continue
		}
		created, _ := dynamo.TimeAttr(it[attrCreatedAt])
		keys = append(keys, KeyInfo{ID: apikey.Digest(parts[1]).ID(), Kind: KeyKind(dynamo.StringAttr(it[attrKind])), CreatedAt: created, Revoked: it[attrRevokedAt] != nil})
	}
	return keys, nil
}

// RevokeKey revokes merchant's key whose public id (apikey.Digest.ID) is id.
// Every container refuses it within the key cache's TTL.
func (m *Merchants) RevokeKey(ctx context.Context, merchant, id string) error {
	if len(id) < 8 {
		return fmt.Errorf("payments: give at least 8 characters of a key id")
	}
	keys, err := m.listing(ctx, merchant)
	if err != nil {
		return err
	}
	var match []apikey.Digest
	for _, d := range keys {
		if strings.HasPrefix(string(d), id) {
			match = append(match, d)
		}
	}
	if len(match) != 1 {
		return fmt.Errorf("payments: merchant %s has %d keys with id %q", merchant, len(match), id)
	}
	d := match[0]
	upd := expression.Set(expression.Name(attrRevokedAt), expression.Value(dynamo.Timestamp(m.now())))
	cond := expression.Name(attrMerchant).Equal(expression.Value(merchant))
	if err := m.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.UpdateOp(m.table, keyKey(d), upd, dynamo.Cond(cond)),
		dynamo.UpdateOp(m.table, merchantKeyListing(merchant, d), upd, nil),
	}); err != nil {
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			return fmt.Errorf("payments: merchant %s has no key %s", merchant, d.ID())
		}
		return fmt.Errorf("payments: revoke key %s: %w", d.ID(), err)
	}
	m.mu.Lock()
	delete(m.cache, d)
	m.mu.Unlock()
	return nil
}

func (m *Merchants) keyItem(ctx context.Context, d apikey.Digest) (map[string]types.AttributeValue, error) {
	out, err := m.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.table), Key: keyKey(d), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("payments: read key %s: %w", d.ID(), err)
	}
	return out.Item, nil
}

// Authenticate returns the merchant whose active key of kind presented is.
// An unknown, revoked or other-kind key is refused (ErrSecretKey or
// ErrPublishableKey); an empty one is ErrUnauthorized.
func (m *Merchants) Authenticate(ctx context.Context, kind KeyKind, presented string) (string, error) {
	notFound := ErrSecretKey
	if kind == PublishableKey {
		notFound = ErrPublishableKey
	}
	if presented == "" {
		return "", refusal.New(ErrUnauthorized, "the %s header is missing", headerOf(kind))
	}
	if len(presented) > maxKeyLength {
		return "", refusal.New(notFound, "%s not recognised", headerOf(kind))
	}
	d := apikey.Of(presented)
	now := m.now()
	m.mu.Lock()
	c, ok := m.cache[d]
	m.mu.Unlock()
	if ok && now.Before(c.until) && c.kind == kind {
		return c.merchant, nil
	}
	item, err := m.keyItem(ctx, d)
	if err != nil {
		return "", err
	}
	if len(item) == 0 || dynamo.StringAttr(item[attrKind]) != string(kind) || item[attrRevokedAt] != nil {
		return "", refusal.New(notFound, "%s not recognised", headerOf(kind))
	}
	merchant := dynamo.StringAttr(item[attrMerchant])
	if m.ttl > 0 {
		m.mu.Lock()
		m.cache[d] = cachedKey{merchant: merchant, kind: kind, until: now.Add(m.ttl)}
		m.mu.Unlock()
	}
	return merchant, nil
}

func headerOf(kind KeyKind) string {
	if kind == PublishableKey {
		return "Publishable-Key"
	}
	return "Secret-Key"
}
