package players

// What players own: one row per player and product (sk = "item#" + product
// id, attribute quantity), and what refunds left them owing (sk = "debt#" +
// product id, attribute debt). Grants, takes and debts are transaction items,
// written in the same TransactWriteItems as the record that makes them
// happen once.

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Item is a quantity of one product.
type Item struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

const (
	itemPrefix    = "item#"
	debtPrefix    = "debt#"
	attrProductID = "productId"
	attrQuantity  = "quantity"
	attrDebt      = "debt"
)

// Normalize merges items naming the same product (summing quantities) and
// sorts them by product id, so equal purchases have equal forms and no
// transaction touches one row twice.
func Normalize(items []Item) []Item {
	return MergeByProduct(items, func(it *Item) (string, *int64) { return it.ProductID, &it.Quantity })
}

// MergeByProduct is the one rule for lines that name the same product:
// they become one line whose quantity is their sum (the first line's other
// fields win), and the result is sorted by product id. field returns a
// line's product id and its quantity to add to.
func MergeByProduct[T any](lines []T, field func(*T) (productID string, quantity *int64)) []T {
	at := make(map[string]int, len(lines))
	out := make([]T, 0, len(lines))
	for _, l := range lines {
		id, q := field(&l)
		if i, seen := at[id]; seen {
			_, total := field(&out[i])
			*total += *q
			continue
		}
		at[id] = len(out)
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b T) int {
		idA, _ := field(&a)
		idB, _ := field(&b)
		return cmp.Compare(idA, idB)
	})
	return out
}

// GrantOps returns one transaction item per product adding its quantity to
// the player's inventory. Items must be normalized.
func GrantOps(table, playerID string, items []Item, now time.Time) []types.TransactWriteItem {
	ops := make([]types.TransactWriteItem, 0, len(items))
	at := dynamo.S(dynamo.Timestamp(now))
	for _, it := range items {
		ops = append(ops, grant.UpdateOp(table, dynamo.PKSK(playerID, itemPrefix+it.ProductID), dynamo.S(it.ProductID), at, dynamo.N(it.Quantity)))
	}
	return ops
}

// The expressions of this file, each built once through the expression
// builder and filled per use (dynamo.Shape).
var (
	// grant adds v2 units to an item row, naming its product v0 at v1.
	grant = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(expression.Set(expression.Name(attrProductID), v(0)).
			Set(expression.Name(attrUpdatedAt), v(1)).
			Add(expression.Name(attrQuantity), v(2)))
	})
	// debt adds v2 units to a debt row, naming its product v0 at v1.
	debt = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(expression.Set(expression.Name(attrProductID), v(0)).
			Set(expression.Name(attrUpdatedAt), v(1)).
			Add(expression.Name(attrDebt), v(2)))
	})
	// take adds v0 (negative) units if the row holds v1.
	take = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(expression.Add(expression.Name(attrQuantity), v(0))).
			WithCondition(expression.Name(attrQuantity).Equal(v(1)))
	})
	// notHeld holds when the row has no quantity or none above zero.
	notHeld = dynamo.NewShape(func(func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithCondition(expression.Or(
			expression.AttributeNotExists(expression.Name(attrQuantity)),
			expression.Name(attrQuantity).LessThanEqual(expression.Value(0)),
		))
	})
	// partitionRows reads the rows of partition v0.
	partitionRows = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(v(0)))
	})
)

// Holdings returns, in one paginated Query of the player's partition, the
// items the player holds and the debts refunds left (units refunded after
// the player had spent them), both with positive quantities and sorted by
// product id. A row whose count cannot be read is left out and logged
// (badRow): one corrupted row must not hide the rest of the inventory.
func Holdings(ctx context.Context, db *dynamodb.Client, table, playerID string) (items, debts []Item, err error) {
	items, debts = []Item{}, []Item{}
	e := partitionRows.Fill(dynamo.S(playerID))
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    e.KeyCondition,
		ExpressionAttributeNames:  e.Names,
		ExpressionAttributeValues: e.Values,
		ConsistentRead:            aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("query inventory of %s: %w", playerID, err)
		}
		for _, row := range page.Items {
			sk := dynamo.StringAttr(row[dynamo.AttrSK])
			var dst *[]Item
			var prefix, attr string
			switch {
			case strings.HasPrefix(sk, itemPrefix):
				dst, prefix, attr = &items, itemPrefix, attrQuantity
			case strings.HasPrefix(sk, debtPrefix):
				dst, prefix, attr = &debts, debtPrefix, attrDebt
			default:
				continue
			}
			n, err := dynamo.IntAttr(row[attr])
			if err != nil {
				badRow(ctx, "inventory", playerID, sk, err)
				continue
			}
			if n > 0 {
				*dst = append(*dst, Item{ProductID: sk[len(prefix):], Quantity: n})
			}
		}
	}
	for _, l := range [][]Item{items, debts} {
		slices.SortFunc(l, func(a, b Item) int { return cmp.Compare(a.ProductID, b.ProductID) })
	}
	return items, debts, nil
}

// badRow logs, at ERROR, a row of the player's partition that a read left
// out because its count cannot be read: it needs repair by hand. Only the
// player, the sort key and the parse error are logged. The logger is the
// process default (the read functions take none).
func badRow(ctx context.Context, what, playerID, sk string, err error) {
	slog.ErrorContext(ctx, "unreadable row left out of the answer; repair it", "read", what, "playerId", playerID, "sk", sk, "error", err)
}

// TakeOp removes units units of a product the player was seen holding held
// of; the transaction fails if the holding changed meanwhile.
func TakeOp(table, playerID, productID string, units, held int64) types.TransactWriteItem {
	return take.UpdateOp(table, dynamo.PKSK(playerID, itemPrefix+productID), dynamo.N(-units), dynamo.N(held))
}

// NotHeldCheck fails the transaction unless the player holds none of a
// product: the row is absent or its quantity a number not above zero. A
// refund that found nothing to take asserts it with this, so a unit granted
// meanwhile, or a row it could not read, is not silently turned into debt.
func NotHeldCheck(table, playerID, productID string) types.TransactWriteItem {
	return notHeld.CheckOp(table, dynamo.PKSK(playerID, itemPrefix+productID))
}

// DebtOp records that the player owes units of a product (refunded after
// they were spent).
func DebtOp(table, playerID, productID string, units int64, now time.Time) types.TransactWriteItem {
	return debt.UpdateOp(table, dynamo.PKSK(playerID, debtPrefix+productID), dynamo.S(productID), dynamo.S(dynamo.Timestamp(now)), dynamo.N(units))
}

// CountOp adds delta units to the player's counter of a product (units
// held bought or reserved), refusing to pass limit (nil: no limit) when
// delta is positive, and to go below zero when it is negative.
func CountOp(table, playerID, productID string, delta int64, limit *int64) types.TransactWriteItem {
	key := dynamo.PKSK(playerID, boughtPrefix+productID)
	switch {
	case delta < 0:
		// A release gives back what a reservation counted: the counter
		// never goes below zero (which would let the player past the limit).
		return countAtLeast.UpdateOp(table, key, dynamo.S(productID), dynamo.N(delta), dynamo.N(-delta))
	case limit != nil && delta > 0 && delta <= *limit:
		// A player without a counter row has bought nothing: delta alone
		// must fit. (A comparison with a missing attribute is false, so
		// past the limit only the bound can be tested, and it fails.)
		return countAbsentOrAtMost.UpdateOp(table, key, dynamo.S(productID), dynamo.N(delta), dynamo.N(*limit-delta))
	case limit != nil && delta > 0:
		return countAtMost.UpdateOp(table, key, dynamo.S(productID), dynamo.N(delta), dynamo.N(*limit-delta))
	}
	return count.UpdateOp(table, key, dynamo.S(productID), dynamo.N(delta))
}

// The counter updates: name the product v0, add v1, and with a condition
// on the counter before (v2).
var (
	countUpdate = func(v func(int) expression.ValueBuilder) expression.UpdateBuilder {
		return expression.Set(expression.Name(attrProductID), v(0)).Add(expression.Name(attrBought), v(1))
	}
	count = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(countUpdate(v))
	})
	countAtLeast = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(countUpdate(v)).WithCondition(expression.Name(attrBought).GreaterThanEqual(v(2)))
	})
	countAtMost = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(countUpdate(v)).WithCondition(expression.Name(attrBought).LessThanEqual(v(2)))
	})
	countAbsentOrAtMost = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(countUpdate(v)).WithCondition(expression.Or(
			expression.AttributeNotExists(expression.Name(attrBought)),
			expression.Name(attrBought).LessThanEqual(v(2))))
	})
)
