package stores

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// ProductInput is a product as the portal's Products page saves it.
type ProductInput struct {
	SKU, Name   string
	Prices      map[string]int64 // ISO 4217 code -> minor units (ParsePrices)
	Active      bool             // sold (fulfilments and carts take it)
	Marketplace bool             // listed on /market/
}

// MaxCurrencies bounds how many prices a product has.
const MaxCurrencies = 20

// Check validates p: a SKU (ValidSKU), a name, 1 to MaxCurrencies prices
// in currencies with a minor unit, each 0 to money.MaxMinor.
func (p ProductInput) Check() error {
	if !ValidSKU(p.SKU) {
		return invalid("sku", "letters, digits, '.', '_' or '-' (1-64), starting with a letter or digit")
	}
	if why := validStoreName(p.Name); why != "" {
		return invalid("name", "%s", why)
	}
	if len(p.Prices) == 0 || len(p.Prices) > MaxCurrencies {
		return invalid("prices", "want 1 to %d currencies", MaxCurrencies)
	}
	for cur, amount := range p.Prices {
		if validate.Currency(cur) != nil || !money.Known(cur) {
			return invalid("prices", "%q is not an ISO 4217 currency with a minor unit (such as GBP)", cur)
		}
		if amount < 0 || amount > money.MaxMinor {
			return invalid("prices", "%s: want 0 to %d minor units", cur, int64(money.MaxMinor))
		}
	}
	return nil
}

// MaxPricesText bounds the text ParsePrices reads.
const MaxPricesText = 4096

// ParsePrices reads a product's prices as a member types them, one
// currency a line: "GBP 9.99" (or "GBP=9.99", "gbp: 9.99"), the amount a
// plain decimal in major units with at most the currency's decimal places
// (money.Parse: exact, never through a float). Blank lines are skipped; a
// currency given twice, or any line that is not a price, is an
// *InvalidError naming the line.
func ParsePrices(text string) (map[string]int64, error) {
	if len(text) > MaxPricesText {
		return nil, invalid("prices", "at most %d bytes", MaxPricesText)
	}
	out := map[string]int64{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		cur, amount, err := ParsePrice(line)
		var ie *InvalidError
		if errors.As(err, &ie) {
			return nil, invalid("prices", "line %d: %s", i+1, ie.Reason)
		}
		if _, dup := out[cur]; dup {
			return nil, invalid("prices", "line %d: %s is given twice", i+1, cur)
		}
		out[cur] = amount
	}
	if len(out) == 0 {
		return nil, invalid("prices", "give at least one price, such as GBP 9.99")
	}
	if len(out) > MaxCurrencies {
		return nil, invalid("prices", "at most %d currencies", MaxCurrencies)
	}
	return out, nil
}

// ParsePrice reads one price, "GBP 9.99" (the separator a space, '=' or
// ':'; the code in any case): its currency and minor units.
func ParsePrice(s string) (string, int64, error) {
	cur, amount, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		cur, amount, ok = strings.Cut(s, "=")
	}
	if !ok {
		cur, amount, ok = strings.Cut(s, ":")
	}
	if !ok {
		return "", 0, invalid("price", "want a currency and an amount, such as GBP 9.99")
	}
	code, err := validate.ParseCurrency(strings.TrimSpace(strings.TrimRight(cur, ":=")))
	if err != nil || !money.Known(code) {
		return "", 0, invalid("price", "%q is not an ISO 4217 currency with a minor unit (such as GBP)", truncateText(cur, 16))
	}
	minor, err := money.Parse(strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(amount), ":=")), code)
	if err != nil {
		return "", 0, invalid("price", "%s: %v", code, strings.TrimPrefix(err.Error(), "money: "))
	}
	return code, minor, nil
}

// FormatPrices is prices as ParsePrices reads them, by currency.
func FormatPrices(prices map[string]int64) string {
	codes := make([]string, 0, len(prices))
	for c := range prices {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	for _, c := range codes {
		s, err := money.Format(prices[c], c)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "%s %s\n", c, s)
	}
	return b.String()
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// productUpdate is the update of a product row that sets its name, prices,
// listing and activity, and starts its pool's counters: the one layout of
// a product, for a stores file's import and the portal alike.
func productUpdate(slug, sku, name string, prices map[string]int64, listed, active bool) expression.UpdateBuilder {
	pm := map[string]types.AttributeValue{}
	for cur, amount := range prices {
		pm[cur] = dynamo.N(amount)
	}
	u := dynamo.SetAll(map[string]types.AttributeValue{attrName: dynamo.S(name), attrPrices: &types.AttributeValueMemberM{Value: pm},
		attrMarketplace: dynamo.Bool(listed), attrActive: dynamo.Bool(active)})
	u = marketUpdate(u, slug, sku, listed)
	for _, counter := range []string{attrKeysTotal, attrPoolShards} {
		u = u.Set(expression.Name(counter), expression.IfNotExists(expression.Name(counter), expression.Value(0)))
	}
	return u
}

// ErrProductExists is CreateProduct's answer for a SKU the store has.
var ErrProductExists = errors.New("stores: the store has a product with this SKU")

// CreateProduct adds product p to store slug: one transaction of the
// product row (new), the store's check (it exists) and audit. A SKU the
// store has is ErrProductExists.
func (a Admin) CreateProduct(ctx context.Context, slug string, p ProductInput, audit types.TransactWriteItem) error {
	if err := p.Check(); err != nil {
		return err
	}
	err := a.st().Transact(ctx, withAudit([]types.TransactWriteItem{
		dynamo.UpdateOp(a.Table, productKey(slug, p.SKU), productUpdate(slug, p.SKU, p.Name, p.Prices, p.Marketplace, p.Active),
			dynamo.Cond(expression.AttributeNotExists(expression.Name(dynamo.AttrPK)))),
		dynamo.CheckOp(a.Table, dynamo.PKSK(storePK(slug), skStore), dynamo.Exists()),
	}, audit))
	var failed *dynamo.ConditionFailedError
	switch {
	case errors.As(err, &failed) && failed.Failed(1):
		return fmt.Errorf("%w: %s", ErrNoStore, slug)
	case errors.As(err, &failed) && failed.Failed(0):
		return fmt.Errorf("%w: %s/%s", ErrProductExists, slug, p.SKU)
	case err != nil:
		return fmt.Errorf("create product %s/%s: %w", slug, p.SKU, err)
	}
	return nil
}

// UpdateProduct saves product p of store slug (its SKU names it): one
// transaction of the product row (it exists; its pool's shards as read),
// the shards' activity when it changes (a claim checks a product's
// activity on the shard it claims from) and audit. A SKU the store has
// not is ErrUnknownSKU. Fulfilments, carts and /market/ see the change
// once their container's listing is older than its TTL (STORE_CACHE_TTL,
// 5 s; the checkout and the marketplace read listings uncached).
func (a Admin) UpdateProduct(ctx context.Context, slug string, p ProductInput, audit types.TransactWriteItem) error {
	if err := p.Check(); err != nil {
		return err
	}
	for attempt := 0; attempt < 5; attempt++ {
		item, err := a.get(ctx, productKey(slug, p.SKU))
		if err != nil {
			return err
		}
		if item == nil {
			return fmt.Errorf("%w: %s/%s", ErrUnknownSKU, slug, p.SKU)
		}
		was, err := productFromItem(slug, item)
		if err != nil {
			return err
		}
		cond := dynamo.Exists().And(expression.Name(attrPoolShards).Equal(expression.Value(was.PoolShards)))
		ops := []types.TransactWriteItem{dynamo.UpdateOp(a.Table, productKey(slug, p.SKU),
			productUpdate(slug, p.SKU, p.Name, p.Prices, p.Marketplace, p.Active), dynamo.Cond(cond))}
		if was.Active != p.Active {
			for _, id := range shardIDs(was) {
				ops = append(ops, dynamo.UpdateOp(a.Table, shardKey(slug, p.SKU, id),
					expression.Set(expression.Name(attrActive), expression.Value(p.Active)), dynamo.Cond(dynamo.Exists())))
			}
		}
		err = a.st().Transact(ctx, withAudit(ops, audit))
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			continue // its pool grew a shard meanwhile: read again
		}
		if err != nil {
			return fmt.Errorf("update product %s/%s: %w", slug, p.SKU, err)
		}
		return nil
	}
	return fmt.Errorf("update product %s/%s: %w", slug, p.SKU, errPoolChangedMeanwhile)
}
