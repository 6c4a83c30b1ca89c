// Package inventory holds what players own: one row per player and product in
// the players table (pk = player id, sk = "item#" + product id, quantity).
// Grants are expressed as transaction items so that they are written in the
// same TransactWriteItems as the idempotency record that makes them happen
// once.
package inventory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/store"
)

// Item is a quantity of one product.
type Item struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

const itemPrefix = "item#"

// Normalize merges items naming the same product (summing quantities) and
// sorts them by product id, so equal purchases have equal forms and no
// transaction touches one row twice.
func Normalize(items []Item) []Item {
	merged := make(map[string]int64, len(items))
	for _, it := range items {
		merged[it.ProductID] += it.Quantity
	}
	out := make([]Item, 0, len(merged))
	for id, q := range merged {
		out = append(out, Item{ProductID: id, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Item) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return out
}

// GrantOps returns one transaction item per product adding its quantity to
// the player's inventory. Items must be normalized.
func GrantOps(table, playerID string, items []Item, now time.Time) []types.TransactWriteItem {
	ops := make([]types.TransactWriteItem, 0, len(items))
	ts := now.UTC().Format(time.RFC3339Nano)
	for _, it := range items {
		ops = append(ops, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(table),
			Key: map[string]types.AttributeValue{
				store.AttrPK: &types.AttributeValueMemberS{Value: playerID},
				store.AttrSK: &types.AttributeValueMemberS{Value: itemPrefix + it.ProductID},
			},
			UpdateExpression:         aws.String("SET #p = :p, #t = :t ADD #q :q"),
			ExpressionAttributeNames: map[string]string{"#p": "productId", "#t": "updatedAt", "#q": "quantity"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":p": &types.AttributeValueMemberS{Value: it.ProductID},
				":t": &types.AttributeValueMemberS{Value: ts},
				":q": &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Quantity, 10)},
			},
		}})
	}
	return ops
}

// List returns the player's items with a positive quantity, sorted by product
// id; an unknown player has none. It pages through the whole partition.
func List(ctx context.Context, db *dynamodb.Client, table, playerID string) ([]Item, error) {
	items := []Item{}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": store.AttrPK,
			"#sk": store.AttrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: playerID},
			":prefix": &types.AttributeValueMemberS{Value: itemPrefix},
		},
		ConsistentRead: aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query inventory of %s: %w", playerID, err)
		}
		for _, row := range page.Items {
			it, err := itemFromRow(row)
			if err != nil {
				return nil, fmt.Errorf("inventory of %s: %w", playerID, err)
			}
			if it.Quantity > 0 {
				items = append(items, it)
			}
		}
	}
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return items, nil
}

func itemFromRow(row map[string]types.AttributeValue) (Item, error) {
	sk, _ := row[store.AttrSK].(*types.AttributeValueMemberS)
	q, _ := row["quantity"].(*types.AttributeValueMemberN)
	if sk == nil || q == nil {
		return Item{}, fmt.Errorf("malformed inventory row")
	}
	n, err := strconv.ParseInt(q.Value, 10, 64)
	if err != nil {
		return Item{}, fmt.Errorf("inventory row %s: quantity %q: %w", sk.Value, q.Value, err)
	}
	return Item{ProductID: sk.Value[len(itemPrefix):], Quantity: n}, nil
}
