package stores

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Listing is a store, its products and its API keys as one Query of the
// store's partition reads them.
type Listing struct {
	Store    Store
	Found    bool
	Products map[string]Product
	keys     map[apikey.Digest]bool      // digests of the store's unrevoked API keys
	used     map[apikey.Digest]time.Time // their last use as recorded (keyUse)
}

// LastUsed is the last use of key recorded when the listing was read (zero:
// none, or not a key of the store).
func (l Listing) LastUsed(key string) time.Time {
	return l.used[apikey.Of(key)]
}

// Accepts reports whether key is one of the store's unrevoked API keys as
// the listing was read (a cached listing may be seconds old: writes still
// check the key row in their transaction). A caller refuses a key the
// listing does not accept before it looks at anything else of the store,
// so a wrong key learns nothing about its products (or that it exists).
func (l Listing) Accepts(key string) bool {
	return l.Found && key != "" && l.keys[apikey.Of(key)]
}

// ReadListing reads store slug and its products (strongly consistent; all
// pages).
func ReadListing(ctx context.Context, db *dynamodb.Client, table, slug string) (Listing, error) {
	l := Listing{Products: map[string]Product{}, keys: map[apikey.Digest]bool{}, used: map[apikey.Digest]time.Time{}}
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(expression.Value(storePK(slug)))))
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return Listing{}, fmt.Errorf("read store %s: %w", slug, err)
		}
		for _, item := range out.Items {
			sk := dynamo.StringAttr(item[dynamo.AttrSK])
			switch {
			case sk == skStore:
				l.Found = true
				l.Store = storeFromItem(slug, item)
			case strings.HasPrefix(sk, dynamo.Tuple("apikey")):
				if item[attrRevokedAt] == nil {
					d := apikey.Digest(dynamo.StringAttr(item[attrDigest]))
					l.keys[d] = true
					if t := lastUsedOf(item); !t.IsZero() {
						l.used[d] = t
					}
				}
			case strings.HasPrefix(sk, dynamo.Tuple("product")):
				pr, err := productFromItem(slug, item)
				if err != nil {
					return Listing{}, err
				}
				l.Products[pr.SKU] = pr
			}
		}
	}
	return l, nil
}

// storeFromItem is the store of a store row.
func storeFromItem(slug string, item map[string]types.AttributeValue) Store {
	s := Store{Slug: slug, Name: dynamo.StringAttr(item[attrName]), WebhookURL: dynamo.StringAttr(item[attrWebhookURL]),
		WebhookSecretRef: dynamo.StringAttr(item[attrWebhookSecretRef]), WebhookSignatureHeader: dynamo.StringAttr(item[attrWebhookSigHeader]),
		SupportEmail: dynamo.StringAttr(item[attrSupportEmail]), EmailBuyers: dynamo.BoolAttr(item[attrEmailBuyers]),
		WebhookSecretPreviousRef: dynamo.StringAttr(item[attrWebhookSecretPrev]), webhookSecretRotation: dynamo.StringAttr(item[attrWebhookSecretRotation])}
	if v, ok := item[attrPricesIncludeTax].(*types.AttributeValueMemberBOOL); ok {
		s.PricesIncludeTax = &v.Value
	}
	if n, err := dynamo.IntAttr(item[attrLowStock]); err == nil && item[attrLowStock] != nil {
		s.lowStockThreshold = &n
	}
	if ms, err := dynamo.IntAttr(item[attrWebhookSecretPrevUntil]); err == nil && item[attrWebhookSecretPrevUntil] != nil {
		s.WebhookSecretPreviousUntil = time.UnixMilli(ms).UTC()
	}
	return s
}

func productFromItem(slug string, item map[string]types.AttributeValue) (Product, error) {
	parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[dynamo.AttrSK]))
	if err != nil || len(parts) != 2 {
		return Product{}, fmt.Errorf("store %s: product row %q has a malformed sort key", slug, dynamo.StringAttr(item[dynamo.AttrSK]))
	}
	p := Product{Store: slug, SKU: parts[1], Name: dynamo.StringAttr(item[attrName]), Prices: map[string]int64{},
		Marketplace: dynamo.BoolAttr(item[attrMarketplace]), Active: dynamo.BoolAttr(item[attrActive])}
	if m, ok := item[attrPrices].(*types.AttributeValueMemberM); ok {
		for cur, v := range m.Value {
			n, err := dynamo.IntAttr(v)
			if err != nil {
				return Product{}, fmt.Errorf("product %s/%s: price %s %w", slug, p.SKU, cur, err)
			}
			p.Prices[cur] = n
		}
	}

	if p.KeysTotal, err = dynamo.IntAttr(item[attrKeysTotal]); err != nil {
		return Product{}, fmt.Errorf("product %s/%s: %s %w", slug, p.SKU, attrKeysTotal, err)
	}
	if v, ok := item[attrPoolShards]; ok {
		n, err := dynamo.IntAttr(v)
		if err != nil || n < 0 || n > MaxPoolShards {
			return Product{}, fmt.Errorf("product %s/%s: %s %q", slug, p.SKU, attrPoolShards, dynamo.StringAttr(v))
		}
		p.PoolShards = int(n)
	}
	p.poolLegacy = item[attrPoolLegacy] != nil
	p.legacyUnmigrated = !p.poolLegacy && item[attrKeysClaimed] != nil
	return p, nil
}

// listingCache keeps each store's listing for a few seconds: prices,
// names and whether a store or SKU exists. Nothing it holds decides
// anything on its own: the fulfilment's transaction checks the product is
// active and has the keys, and the key is checked there too.
type listingCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedListing
}

type cachedListing struct {
	l  Listing
	at time.Time
}

func (c *listingCache) get(ctx context.Context, db *dynamodb.Client, table, slug string, now time.Time) (Listing, error) {
	c.mu.Lock()
	e, ok := c.m[slug]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && now.Sub(e.at) >= 0 {
		return e.l, nil
	}
	return c.reload(ctx, db, table, slug, now)
}

// reload reads store slug's listing afresh and caches it.
func (c *listingCache) reload(ctx context.Context, db *dynamodb.Client, table, slug string, now time.Time) (Listing, error) {
	l, err := ReadListing(ctx, db, table, slug)
	if err != nil {
		return Listing{}, err
	}
	c.mu.Lock()
	c.m[slug] = cachedListing{l: l, at: now}
	c.mu.Unlock()
	return l, nil
}
