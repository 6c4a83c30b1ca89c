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
	"strings"
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

const (
	itemPrefix = "item#"
	debtPrefix = "debt#"
)

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

// List returns the player's items with a positive quantity, sorted by
// product id; an unknown player has none.
func List(ctx context.Context, db *dynamodb.Client, table, playerID string) ([]Item, error) {
	items, _, err := Holdings(ctx, db, table, playerID)
	return items, err
}

// Holdings returns, in one paginated Query of the player's partition, the
// items the player holds and the debts refunds left (units refunded after
// the player had spent them), both with positive quantities and sorted by
// product id.
func Holdings(ctx context.Context, db *dynamodb.Client, table, playerID string) (items, debts []Item, err error) {
	items, debts = []Item{}, []Item{}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": store.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: playerID}},
		ConsistentRead:            aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("query inventory of %s: %w", playerID, err)
		}
		for _, row := range page.Items {
			sk, _ := row[store.AttrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			var dst *[]Item
			var prefix, attr string
			switch {
			case strings.HasPrefix(sk.Value, itemPrefix):
				dst, prefix, attr = &items, itemPrefix, "quantity"
			case strings.HasPrefix(sk.Value, debtPrefix):
				dst, prefix, attr = &debts, debtPrefix, "debt"
			default:
				continue
			}
			n, err := store.IntAttr(row[attr])
			if err != nil {
				return nil, nil, fmt.Errorf("inventory of %s: row %s: %w", playerID, sk.Value, err)
			}
			if n > 0 {
				*dst = append(*dst, Item{ProductID: sk.Value[len(prefix):], Quantity: n})
			}
		}
	}
	for _, l := range [][]Item{items, debts} {
		slices.SortFunc(l, func(a, b Item) int { return cmp.Compare(a.ProductID, b.ProductID) })
	}
	return items, debts, nil
}

// TakeOp removes take units of a product the player was seen holding held
// of; the transaction fails if the holding changed meanwhile.
func TakeOp(table, playerID, productID string, take, held int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: playerID},
			store.AttrSK: &types.AttributeValueMemberS{Value: itemPrefix + productID},
		},
		UpdateExpression:         aws.String("ADD #q :neg"),
		ConditionExpression:      aws.String("#q = :held"),
		ExpressionAttributeNames: map[string]string{"#q": "quantity"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":neg":  &types.AttributeValueMemberN{Value: strconv.FormatInt(-take, 10)},
			":held": &types.AttributeValueMemberN{Value: strconv.FormatInt(held, 10)},
		},
	}}
}

// DebtOp records that the player owes units of a product (refunded after
// they were spent).
func DebtOp(table, playerID, productID string, units int64, now time.Time) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: playerID},
			store.AttrSK: &types.AttributeValueMemberS{Value: debtPrefix + productID},
		},
		UpdateExpression:         aws.String("SET #p = :p, #t = :t ADD #d :d"),
		ExpressionAttributeNames: map[string]string{"#p": "productId", "#t": "updatedAt", "#d": "debt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": &types.AttributeValueMemberS{Value: productID},
			":t": &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
			":d": &types.AttributeValueMemberN{Value: strconv.FormatInt(units, 10)},
		},
	}}
}
