package stores

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Admin manages the StoresTable: the import of a stores file, store API
// keys and license keys (cmd/stores, make run).
type Admin struct {
	DB    *dynamodb.Client
	Table string
	Now   func() time.Time
}

func (a Admin) st() dynamo.Store {
	return dynamo.Store{DB: a.DB, Tables: dynamo.Tables{Stores: a.Table}}
}

// ImportResult counts what an import wrote; a re-import of the same file
// counts only "known" rows.
type ImportResult struct {
	Stores, Products, Deactivated      int
	APIKeysAdded, APIKeysKnown         int
	LicenseKeysAdded, LicenseKeysKnown int
	// LocalSecrets maps webhookSecretRef -> secret for the stores whose
	// file gave a plaintext webhookSecret (local runs): the secret itself is
	// never written to DynamoDB.
	LocalSecrets map[string]string
}

func (r ImportResult) String() string {
	return fmt.Sprintf("stores %d, products %d (deactivated %d), api keys added %d (known %d), license keys added %d (known %d)",
		r.Stores, r.Products, r.Deactivated, r.APIKeysAdded, r.APIKeysKnown, r.LicenseKeysAdded, r.LicenseKeysKnown)
}

// LocalSecretRef is the webhookSecretRef of a store whose secret came as
// plaintext in a stores file.
func LocalSecretRef(slug string) string { return "local:" + slug }

// Import writes f: stores (name, webhook URL and secret reference),
// their API keys (digests; a key already there is left as it is, revoked
// or not), products (name, prices, marketplace; active), license keys
// (each key once per pool). Products of an imported store missing from the
// file are deactivated. Importing the same file again writes no new rows.
func (a Admin) Import(ctx context.Context, f File) (ImportResult, error) {
	res := ImportResult{LocalSecrets: map[string]string{}}
	for _, s := range f.Stores {
		ref := s.WebhookSecretRef
		if ref == "" && s.WebhookSecret != "" {
			ref = LocalSecretRef(s.Slug)
			res.LocalSecrets[ref] = s.WebhookSecret
		}
		u := settingsUpdate(Settings{Name: s.Name, SupportEmail: s.SupportEmail, WebhookURL: s.WebhookURL, WebhookSignatureHeader: s.WebhookSignatureHeader,
			PricesIncludeTax: s.PricesIncludeTax, EmailBuyers: s.EmailBuyers, LowStockThreshold: s.LowStockThreshold}).
			Set(expression.Name(attrWebhookSecretRef), expression.Value(ref))
		if err := a.update(ctx, dynamo.PKSK(storePK(s.Slug), skStore), u, nil); err != nil {
			return res, fmt.Errorf("store %s: %w", s.Slug, err)
		}
		res.Stores++
		for _, k := range s.APIKeys {
			added, err := a.addKey(ctx, s.Slug, k, "", NoAudit)
			if err != nil {
				return res, fmt.Errorf("store %s: %w", s.Slug, err)
			}
			if added {
				res.APIKeysAdded++
			} else {
				res.APIKeysKnown++
			}
		}
		inFile := map[string]bool{}
		for _, p := range s.Products {
			inFile[p.SKU] = true
			if err := a.putProduct(ctx, s.Slug, p); err != nil {
				return res, err
			}
			res.Products++
			added, known, err := a.ImportLicenseKeys(ctx, s.Slug, p.SKU, p.LicenseKeys)
			if err != nil {
				return res, err
			}
			res.LicenseKeysAdded += added
			res.LicenseKeysKnown += known
		}
		l, err := ReadListing(ctx, a.DB, a.Table, s.Slug)
		if err != nil {
			return res, err
		}
		for sku, p := range l.Products {
			if !inFile[sku] && p.Active {
				if err := a.update(ctx, productKey(s.Slug, sku), expression.Set(expression.Name(attrActive), expression.Value(false)), nil); err != nil {
					return res, fmt.Errorf("deactivate %s/%s: %w", s.Slug, sku, err)
				}
				if err := a.setShardsActive(ctx, s.Slug, sku, false); err != nil {
					return res, fmt.Errorf("deactivate %s/%s: %w", s.Slug, sku, err)
				}
				res.Deactivated++
			}
		}
	}
	return res, nil
}

func (a Admin) update(ctx context.Context, key dynamo.Key, u expression.UpdateBuilder, cond *expression.ConditionBuilder) error {
	b := expression.NewBuilder().WithUpdate(u)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	e := dynamo.Build(b)
	_, err := a.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.Table), Key: key, UpdateExpression: e.Update(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	return err
}

func (a Admin) putProduct(ctx context.Context, slug string, p FileProduct) error {
	u := productUpdate(slug, p.SKU, p.Name, p.Prices, p.Marketplace, true).
		Set(expression.Name(attrShardsSetting), expression.Value(int64(p.PoolShards)))
	e := dynamo.Build(expression.NewBuilder().WithUpdate(u))
	out, err := a.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(a.Table), Key: productKey(slug, p.SKU), UpdateExpression: e.Update(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return fmt.Errorf("product %s/%s: %w", slug, p.SKU, err)
	}
	if len(out.Attributes) > 0 && !dynamo.BoolAttr(out.Attributes[attrActive]) {
		// Sold again: its shards take claims again.
		return a.setShardsActive(ctx, slug, p.SKU, true)
	}
	return nil
}

// setShardsActive sets whether the shards of slug's product sku take
// claims (a product's activity is checked on its shards, so claiming
// touches no product row).
func (a Admin) setShardsActive(ctx context.Context, slug, sku string, active bool) error {
	item, err := a.get(ctx, productKey(slug, sku))
	if err != nil || item == nil {
		return err
	}
	p, err := productFromItem(slug, item)
	if err != nil {
		return err
	}
	for _, id := range shardIDs(p) {
		err := a.update(ctx, shardKey(slug, sku, id), expression.Set(expression.Name(attrActive), expression.Value(active)), dynamo.Cond(dynamo.Exists()))
		var ccf *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &ccf) {
			return fmt.Errorf("%s/%s shard %s: %w", slug, sku, shardName(id), err)
		}
	}
	return nil
}

// KeyInfo is a store API key as listed (never the key itself).
type KeyInfo struct {
	ID         string // Digest.ID(): what the revoke command takes
	Name       string // what the portal member called it ("" for a key of a stores file)
	Prefix     string // the key's first characters (KeyPrefix), to tell keys apart
	Mode       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used (recorded at most once a minute: KeyUse)
	RevokedAt  time.Time // zero: active
}

// MaxKeyName bounds the name of an API key (bytes).
const MaxKeyName = 64

// ErrKeyName is the reason of an API key name CreateKey refuses.
var ErrKeyName = errors.New("stores: an API key name must be 1-64 bytes of printable characters")

// KeyPrefix is how a key is shown once it is made: its mode prefix and its
// first 4 random characters (enough to tell a store's keys apart, far too
// few to guess the rest).
func KeyPrefix(key string) string {
	mode := KeyMode(key)
	if mode == "" {
		return ""
	}
	n := len("sk_" + mode + "_")
	return key[:min(len(key), n+4)]
}

// CreateKey makes a new API key of store slug (mode "live" or "test")
// named name and stores its digest in one transaction with audit (NoAudit:
// none). The key is returned once: it is not kept anywhere.
func (a Admin) CreateKey(ctx context.Context, slug, mode, name string, audit types.TransactWriteItem) (string, KeyInfo, error) {
	if mode != ModeLive && mode != ModeTest {
		return "", KeyInfo{}, fmt.Errorf("key mode %q: want live or test", mode)
	}
	if name != "" && !validText(name, MaxKeyName) {
		return "", KeyInfo{}, ErrKeyName
	}
	key, err := apikey.New("sk_" + mode + "_")
	if err != nil {
		return "", KeyInfo{}, err
	}
	if _, err := a.addKey(ctx, slug, key, name, audit); err != nil {
		return "", KeyInfo{}, err
	}
	return key, KeyInfo{ID: apikey.Of(key).ID(), Name: name, Prefix: KeyPrefix(key), Mode: mode, CreatedAt: a.Now().UTC()}, nil
}

// addKey stores key's digest for slug (the store must exist), named name,
// with audit in the same transaction. It reports false when the key was
// stored already for slug; a key of another store is an error.
func (a Admin) addKey(ctx context.Context, slug, key, name string, audit types.TransactWriteItem) (bool, error) {
	mode := KeyMode(key)
	if mode == "" {
		return false, errors.New("api key: want an sk_live_ or sk_test_ prefixed key")
	}
	d := apikey.Of(key)
	now := dynamo.Time(a.Now())
	lookup := map[string]types.AttributeValue{dynamo.AttrPK: dynamo.S(apiKeyPK(d)), dynamo.AttrSK: dynamo.S(skAPIKey),
		attrStore: dynamo.S(slug), attrKeyID: dynamo.S(d.ID()), attrDigest: dynamo.S(string(d)), attrMode: dynamo.S(mode), dynamo.AttrCreatedAt: now}
	index := map[string]types.AttributeValue{dynamo.AttrPK: dynamo.S(storePK(slug)), dynamo.AttrSK: dynamo.S(keyIndexSK(d.ID())),
		attrDigest: dynamo.S(string(d)), attrMode: dynamo.S(mode), dynamo.AttrCreatedAt: now, attrKeyPrefix: dynamo.S(KeyPrefix(key))}
	if name != "" {
		index[attrName] = dynamo.S(name)
	}
	err := a.st().Transact(ctx, withAudit([]types.TransactWriteItem{
		dynamo.PutNewOp(a.Table, lookup), dynamo.PutNewOp(a.Table, index),
		dynamo.CheckOp(a.Table, dynamo.PKSK(storePK(slug), skStore), dynamo.Exists()),
	}, audit))
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return true, nil
	case !errors.As(err, &failed):
		return false, fmt.Errorf("api key %s: %w", d.ID(), err)
	case failed.Failed(2):
		return false, fmt.Errorf("%w: api key %s: no store %q", ErrNoStore, d.ID(), slug)
	}
	item, err := a.get(ctx, dynamo.PKSK(apiKeyPK(d), skAPIKey))
	if err != nil {
		return false, err
	}
	if owner := dynamo.StringAttr(item[attrStore]); owner != slug {
		return false, fmt.Errorf("api key %s belongs to another store", d.ID())
	}
	return false, nil
}

func (a Admin) get(ctx context.Context, key dynamo.Key) (map[string]types.AttributeValue, error) {
	out, err := a.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a.Table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dynamo.StringAttr(key[dynamo.AttrPK]), err)
	}
	return out.Item, nil
}

// Keys lists store slug's API keys, oldest first (one Query a page).
func (a Admin) Keys(ctx context.Context, slug string) ([]KeyInfo, error) {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(expression.Value(storePK(slug))).
		And(expression.Key(dynamo.AttrSK).BeginsWith(dynamo.Tuple("apikey")))))
	p := dynamodb.NewQueryPaginator(a.DB, &dynamodb.QueryInput{TableName: aws.String(a.Table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var out []KeyInfo
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list keys of %s: %w", slug, err)
		}
		for _, item := range page.Items {
			k := KeyInfo{ID: apikey.Digest(dynamo.StringAttr(item[attrDigest])).ID(), Mode: dynamo.StringAttr(item[attrMode]),
				Name: dynamo.StringAttr(item[attrName]), Prefix: dynamo.StringAttr(item[attrKeyPrefix]), LastUsedAt: lastUsedOf(item)}
			if k.Prefix == "" {
				k.Prefix = "sk_" + k.Mode + "_"
			}
			k.CreatedAt, _ = dynamo.TimeAttr(item[dynamo.AttrCreatedAt])
			k.RevokedAt, _ = dynamo.TimeAttr(item[attrRevokedAt])
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// ErrNoKey is RevokeKey's answer for an id the store has no key with.
var ErrNoKey = errors.New("stores: no such key")

// RevokeKey revokes store slug's key id (KeyInfo.ID), in one transaction
// with audit (NoAudit: none). It takes effect at once: a fulfilment checks
// the key inside its transaction, a checkout session and an order read
// read the key's row; the listing a container caches only lets a request
// go that far. Revoking twice keeps the first time. A key id of another
// store is ErrNoKey, as an unknown one is.
func (a Admin) RevokeKey(ctx context.Context, slug, id string, audit types.TransactWriteItem) error {
	index, err := a.get(ctx, dynamo.PKSK(storePK(slug), keyIndexSK(id)))
	if err != nil {
		return err
	}
	if index == nil {
		return fmt.Errorf("%w: store %s has no key %s", ErrNoKey, slug, id)
	}
	d := apikey.Digest(dynamo.StringAttr(index[attrDigest]))
	revoked := expression.Set(expression.Name(attrRevokedAt), expression.IfNotExists(expression.Name(attrRevokedAt), expression.Value(dynamo.Timestamp(a.Now()))))
	ours := dynamo.Exists().And(expression.Name(attrStore).Equal(expression.Value(slug)))
	return a.st().Transact(ctx, withAudit([]types.TransactWriteItem{
		dynamo.UpdateOp(a.Table, dynamo.PKSK(apiKeyPK(d), skAPIKey), revoked, dynamo.Cond(ours)),
		dynamo.UpdateOp(a.Table, dynamo.PKSK(storePK(slug), keyIndexSK(id)), revoked, dynamo.Cond(dynamo.Exists())),
	}, audit))
}

// licenseKeyDigest names a license key in the pool's set of known keys.
func licenseKeyDigest(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// importChunk is how many keys one transaction adds (two items each, plus
// the shard and the product row: within DynamoDB's 100 items).
const importChunk = 40

// ImportLicenseKeys adds keys to the pool of slug's product sku (which must
// exist), each key once: keys the pool holds already (or repeated in keys)
// are counted as known. New keys are spread over the pool's shards, the
// emptiest first, and the pool gets more shards as it grows (ShardsFor).
// Its cost grows with len(keys), not with the pool. Keys are never logged
// or returned.
func (a Admin) ImportLicenseKeys(ctx context.Context, slug, sku string, keys []string) (added, known int, err error) {
	for _, k := range keys {
		if why := ValidLicenseKey(k); why != "" {
			return 0, 0, fmt.Errorf("%s/%s: a license key %s", slug, sku, why)
		}
	}
	if _, err := MigratePool(ctx, a.st(), slug, sku); err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	var fresh []string
	for _, k := range keys {
		d := licenseKeyDigest(k)
		if seen[d] {
			known++
			continue
		}
		seen[d] = true
		fresh = append(fresh, k)
	}
	held, err := a.heldKeys(ctx, slug, sku, fresh)
	if err != nil {
		return 0, 0, err
	}
	fresh = slices.DeleteFunc(fresh, func(k string) bool { return held[licenseKeyDigest(k)] })
	known += len(held)
	if len(fresh) == 0 {
		return 0, known, nil
	}
	p, shards, err := a.growShards(ctx, slug, sku, int64(len(fresh)))
	if err != nil {
		return 0, known, err
	}
	counts := spread(p, shards, int64(len(fresh)))
	for id := range p.PoolShards {
		part := fresh[:counts[id]]
		fresh = fresh[counts[id]:]
		for len(part) > 0 {
			n := min(importChunk, len(part))
			in, already, err := a.addLicenseKeys(ctx, slug, sku, id, part[:n])
			added, known = added+in, known+already
			if err != nil {
				return added, known, err
			}
			part = part[n:]
		}
	}
	return added, known, nil
}

// heldKeys reads which of keys the pool of slug's product sku holds
// already, by digest (BatchGetItem, 100 digests a call; a pool imported
// before shards is also looked up where it kept its digests).
func (a Admin) heldKeys(ctx context.Context, slug, sku string, keys []string) (map[string]bool, error) {
	item, err := a.get(ctx, productKey(slug, sku))
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, fmt.Errorf("%s/%s: no such product", slug, sku)
	}
	legacy := item[attrPoolLegacy] != nil
	var look []dynamo.Key
	for _, k := range keys {
		d := licenseKeyDigest(k)
		look = append(look, digestKey(slug, sku, d))
		if legacy {
			look = append(look, dynamo.PKSK(poolDigestPK(slug, sku), d))
		}
	}
	got, err := batchGetKeys(ctx, a.DB, a.Table, look)
	if err != nil {
		return nil, fmt.Errorf("read pool %s/%s: %w", slug, sku, err)
	}
	held := map[string]bool{}
	for _, it := range got {
		held[dynamo.StringAttr(it[dynamo.AttrSK])] = true
	}
	return held, nil
}

// MigratePools migrates every pool of store slug imported before shards
// (MigratePool) and returns the SKUs it moved. Running it again, or after
// an interruption, moves only what is left.
func (a Admin) MigratePools(ctx context.Context, slug string) ([]string, error) {
	l, err := ReadListing(ctx, a.DB, a.Table, slug)
	if err != nil {
		return nil, err
	}
	if !l.Found {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, slug)
	}
	skus := make([]string, 0, len(l.Products))
	for sku := range l.Products {
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	var moved []string
	for _, sku := range skus {
		ok, err := MigratePool(ctx, a.st(), slug, sku)
		if err != nil {
			return moved, err
		}
		if ok {
			moved = append(moved, sku)
		}
	}
	return moved, nil
}

// growShards gives the pool of slug's product sku the shards it needs
// once it holds more keys (new, empty shards), and returns the product and
// its shards as they are.
func (a Admin) growShards(ctx context.Context, slug, sku string, more int64) (Product, map[int]shardState, error) {
	for attempt := 0; attempt < 5; attempt++ {
		item, err := a.get(ctx, productKey(slug, sku))
		if err != nil {
			return Product{}, nil, err
		}
		if item == nil {
			return Product{}, nil, fmt.Errorf("%s/%s: no such product", slug, sku)
		}
		p, err := productFromItem(slug, item)
		if err != nil {
			return Product{}, nil, err
		}
		setting, _ := dynamo.IntAttr(item[attrShardsSetting])
		want := ShardsFor(p.KeysTotal+more, int(setting))
		if want <= p.PoolShards {
			shards, err := readShards(ctx, a.DB, a.Table, slug, []Product{p})
			if err != nil {
				return Product{}, nil, err
			}
			return p, shards[sku], nil
		}
		// The new shards copy the product's activity as read: a change of
		// it meanwhile (UpdateProduct) must not leave them the old way.
		cond := expression.Name(attrPoolShards).Equal(expression.Value(p.PoolShards)).
			And(expression.Name(attrActive).Equal(expression.Value(p.Active)))
		tx := []types.TransactWriteItem{dynamo.UpdateOp(a.Table, productKey(slug, sku),
			expression.Set(expression.Name(attrPoolShards), expression.Value(want)), dynamo.Cond(cond))}
		for id := p.PoolShards; id < want; id++ {
			tx = append(tx, dynamo.PutNewOp(a.Table, withKey(shardKey(slug, sku, id), map[string]types.AttributeValue{
				attrNext: dynamo.N(0), attrEnd: dynamo.N(0), attrActive: dynamo.Bool(p.Active)})))
		}
		err = a.st().Transact(ctx, tx)
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			continue // another import grew it, or its activity changed, meanwhile
		}
		if err != nil {
			return Product{}, nil, fmt.Errorf("%s/%s: add pool shards: %w", slug, sku, err)
		}
	}
	return Product{}, nil, fmt.Errorf("%s/%s: %w", slug, sku, errPoolChangedMeanwhile)
}

// spread says how many of n new keys each numbered shard of p takes: the
// shards with the fewest keys left are filled first, up to the same level,
// so the shards end up as even as the keys allow.
func spread(p Product, shards map[int]shardState, n int64) map[int]int64 {
	ids := make([]int, p.PoolShards)
	for i := range ids {
		ids[i] = i
	}
	left := func(id int) int64 { return max(0, shards[id].end-shards[id].next) }
	sort.Slice(ids, func(i, j int) bool { return left(ids[i]) < left(ids[j]) })
	out := map[int]int64{}
	if len(ids) == 0 {
		return out
	}
	// Raise the k emptiest shards to the level of the next one while the
	// keys last.
	k, level, used := 1, left(ids[0]), int64(0)
	for ; k < len(ids); k++ {
		cost := (left(ids[k]) - level) * int64(k)
		if used+cost > n {
			break
		}
		used += cost
		level = left(ids[k])
	}
	each, extra := (n-used)/int64(k), (n-used)%int64(k)
	for i, id := range ids[:k] {
		out[id] = level - left(id) + each
		if int64(i) < extra {
			out[id]++
		}
	}
	return out
}

// addLicenseKeys numbers keys after shard id's last one in one
// transaction, conditional on the count it read (another import
// meanwhile: read again), and adds them to the product's total. A key
// another import added meanwhile is counted as known and left out.
func (a Admin) addLicenseKeys(ctx context.Context, slug, sku string, id int, keys []string) (added, known int, err error) {
	for attempt := 0; attempt < 5+len(keys); attempt++ {
		if len(keys) == 0 {
			return 0, known, nil
		}
		item, err := a.get(ctx, shardKey(slug, sku, id))
		if err != nil {
			return 0, known, err
		}
		if item == nil {
			return 0, known, fmt.Errorf("%s/%s: no shard %s", slug, sku, shardName(id))
		}
		end, err := dynamo.IntAttr(item[attrEnd])
		if err != nil {
			return 0, known, fmt.Errorf("%s/%s shard %s: end %w", slug, sku, shardName(id), err)
		}
		k := int64(len(keys))
		tx := []types.TransactWriteItem{
			dynamo.UpdateOp(a.Table, shardKey(slug, sku, id), expression.Set(expression.Name(attrEnd), expression.Value(end+k)),
				dynamo.Cond(expression.Name(attrEnd).Equal(expression.Value(end)))),
			dynamo.UpdateOp(a.Table, productKey(slug, sku), expression.Add(expression.Name(attrKeysTotal), expression.Value(k)), dynamo.Cond(dynamo.Exists())),
		}
		for i, key := range keys {
			n := end + int64(i)
			tx = append(tx,
				dynamo.PutNewOp(a.Table, withKey(keyRowKey(slug, sku, id, n), map[string]types.AttributeValue{attrLicenseKey: dynamo.S(key)})),
				dynamo.PutNewOp(a.Table, withKey(digestKey(slug, sku, licenseKeyDigest(key)), map[string]types.AttributeValue{
					attrNumber: dynamo.N(n), attrShard: dynamo.S(shardName(id))})))
		}
		err = a.st().Transact(ctx, tx)
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			// The shard moved, or another import added one of the keys.
			keys = slices.DeleteFunc(slices.Clone(keys), func(key string) bool {
				i := slices.Index(keys, key)
				if failed.Failed(3 + 2*i) {
					known++
					return true
				}
				return false
			})
			continue
		}
		if err != nil {
			return 0, known, fmt.Errorf("%s/%s: add license keys: %w", slug, sku, err)
		}
		return len(keys), known, nil
	}
	return 0, known, fmt.Errorf("%s/%s: %w", slug, sku, errPoolChangedMeanwhile)
}

// ParseLicenseKeys reads a license-key file: one key per line, or CSV lines
// "sku,key" (a first line "sku,key" or "sku,license_key" is a header).
// Blank lines are skipped. With defaultSKU set, plain lines belong to it;
// keys are returned by SKU in file order. The first line that is not a key
// is the error (ParseUpload lists them all).
func ParseLicenseKeys(data, defaultSKU string) (map[string][]string, error) {
	lines, bad := parseKeyLines(data, defaultSKU)
	if len(bad) > 0 {
		return nil, fmt.Errorf("line %d: %s", bad[0].Line, bad[0].Reason)
	}
	return keysBySKU(lines), nil
}

// LineProblem is a line of a license-key upload that holds no key.
type LineProblem struct {
	Line   int // from 1
	Reason string
}

// keyLine is one key of a license-key file and where it was.
type keyLine struct {
	sku, key string
	line     int
}

func keysBySKU(lines []keyLine) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines {
		out[l.sku] = append(out[l.sku], l.key)
	}
	return out
}

// parseKeyLines is the one reader of license-key lines (ParseLicenseKeys,
// ParseUpload): the keys in file order, and every line that is not one.
// Reasons never quote a key.
func parseKeyLines(data, defaultSKU string) ([]keyLine, []LineProblem) {
	var out []keyLine
	var bad []LineProblem
	for i, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sku, key, isCSV := strings.Cut(line, ",")
		if isCSV && i == 0 && strings.EqualFold(strings.TrimSpace(sku), "sku") {
			continue
		}
		if !isCSV {
			if defaultSKU == "" {
				bad = append(bad, LineProblem{i + 1, "no sku (give a SKU for the file, or lines \"sku,key\")"})
				continue
			}
			sku, key = defaultSKU, line
		}
		sku, key = strings.TrimSpace(sku), strings.TrimSpace(key)
		if !ValidSKU(sku) {
			bad = append(bad, LineProblem{i + 1, fmt.Sprintf("sku %q is not a SKU", truncateText(sku, 64))})
			continue
		}
		if why := ValidLicenseKey(key); why != "" {
			bad = append(bad, LineProblem{i + 1, "the key " + why})
			continue
		}
		out = append(out, keyLine{sku: sku, key: key, line: i + 1})
	}
	return out, bad
}
