package stores

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// The marketplace lists products of every store. A sparse global index
// ("market") holds only the product rows with marketPk set (marketplace
// products), so the listing is one Query however many stores and
// non-listed products exist; a Scan would read the whole table (keys,
// pools, orders) to find them.
const (
	IndexMarket  = "market"
	attrMarketPK = "marketPk"
	attrMarketSK = "marketSk"
	marketPK     = "market"
)

// marketUpdate adds the index's attributes to a product's update when it is
// listed, and removes them when it is not.
func marketUpdate(u expression.UpdateBuilder, slug, sku string, listed bool) expression.UpdateBuilder {
	if listed {
		return u.Set(expression.Name(attrMarketPK), expression.Value(marketPK)).
			Set(expression.Name(attrMarketSK), expression.Value(dynamo.Tuple(slug, sku)))
	}
	return u.Remove(expression.Name(attrMarketPK)).Remove(expression.Name(attrMarketSK))
}

// MarketProduct is a listed product and its store's name.
type MarketProduct struct {
	Product
	StoreName string
}

// Market lists every active marketplace product of every store, by store
// and SKU: one Query of the index (per page) and one BatchGetItem of the
// stores' names.
func Market(ctx context.Context, st dynamo.Store) ([]MarketProduct, error) {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(attrMarketPK).Equal(expression.Value(marketPK))))
	p := dynamodb.NewQueryPaginator(st.DB, &dynamodb.QueryInput{TableName: aws.String(st.Tables.Stores), IndexName: aws.String(IndexMarket),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var out []MarketProduct
	slugs := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the marketplace: %w", err)
		}
		for _, item := range page.Items {
			parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[attrMarketSK]))
			if err != nil || len(parts) != 2 {
				continue
			}
			pr, err := productFromItem(parts[0], item)
			if err != nil {
				return nil, err
			}
			if !pr.Active || !pr.Marketplace {
				continue
			}
			out = append(out, MarketProduct{Product: pr})
			slugs[parts[0]] = true
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	var keys []dynamo.Key
	for slug := range slugs {
		keys = append(keys, dynamo.PKSK(storePK(slug), skStore))
	}
	names := map[string]string{}
	for i := 0; i < len(keys); i += 100 {
		got, err := batchGet(ctx, st.DB, map[string]types.KeysAndAttributes{st.Tables.Stores: {Keys: keys[i:min(i+100, len(keys))]}})
		if err != nil {
			return nil, fmt.Errorf("list the marketplace: stores: %w", err)
		}
		for _, item := range got[st.Tables.Stores] {
			parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[dynamo.AttrPK]))
			if err == nil && len(parts) == 2 {
				names[parts[1]] = dynamo.StringAttr(item[attrName])
			}
		}
	}
	for i := range out {
		out[i].StoreName = names[out[i].Store]
	}
	return out, nil
}
