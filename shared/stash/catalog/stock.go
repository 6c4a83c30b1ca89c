package catalog

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// The stock writes purchases compose into their transactions, one
// transaction item each. A row keeps available (= stock − reserved − sold
// for limited products), reserved and sold.

// ReserveOp reserves qty units of p at cents in cur for a registration: the
// product must be active, unlocked, priced at cents in cur, have the units
// (unless unlimited) and still have the per-player limit the caller
// assumed (the player's counter condition was computed from it).
func ReserveOp(table string, p Product, qty, cents int64, cur string) types.TransactWriteItem {
	cond := expression.And(
		expression.Name(AttrActive).Equal(expression.Value(true)),
		expression.Name(AttrLocked).Equal(expression.Value(false)),
		expression.Name(AttrPrices+"."+cur).Equal(expression.Value(cents)),
		hasUnits(qty),
		sameLimit(p),
	)
	update := expression.Add(expression.Name(AttrAvailable), expression.Value(-qty)).
		Add(expression.Name(AttrReserved), expression.Value(qty))
	return dynamo.UpdateOp(table, key(p.ProductID), update, &cond)
}

// ReserveAndSellOp sells qty units of p that were never reserved (a
// confirm without a live registration): the buyer has paid, so price, lock
// and activity are not checked, only that the product exists, has the
// units and has the per-player limit the caller assumed.
func ReserveAndSellOp(table string, p Product, qty int64) types.TransactWriteItem {
	cond := expression.And(dynamo.Exists(), hasUnits(qty), sameLimit(p))
	update := expression.Add(expression.Name(AttrAvailable), expression.Value(-qty)).
		Add(expression.Name(AttrSold), expression.Value(qty))
	return dynamo.UpdateOp(table, key(p.ProductID), update, &cond)
}

// SellOp turns qty reserved units of a product into a sale, only if the
// product exists and holds that many reserved units: a sale never moves
// reserved below zero nor creates a row.
func SellOp(table, productID string, qty int64) types.TransactWriteItem {
	return sell.UpdateOp(table, key(productID), dynamo.N(-qty), dynamo.N(qty))
}

// ReleaseOp gives qty reserved units of a product back, only if the product
// exists and holds that many reserved units.
func ReleaseOp(table, productID string, qty int64) types.TransactWriteItem {
	return release.UpdateOp(table, key(productID), dynamo.N(qty), dynamo.N(-qty))
}

// sell and release move v1 units in (v0 out of) reserved, only if the row
// exists and holds -v0 (v1) reserved units; built once (dynamo.Shape).
var (
	sell = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().
			WithUpdate(expression.Add(expression.Name(AttrReserved), v(0)).Add(expression.Name(AttrSold), v(1))).
			WithCondition(expression.And(dynamo.Exists(), expression.Name(AttrReserved).GreaterThanEqual(v(1))))
	})
	release = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().
			WithUpdate(expression.Add(expression.Name(AttrAvailable), v(0)).Add(expression.Name(AttrReserved), v(1))).
			WithCondition(expression.And(dynamo.Exists(), expression.Name(AttrReserved).GreaterThanEqual(v(0))))
	})
)

func hasUnits(qty int64) expression.ConditionBuilder {
	return expression.Or(
		expression.Name(AttrUnlimited).Equal(expression.Value(true)),
		expression.Name(AttrAvailable).GreaterThanEqual(expression.Value(qty)),
	)
}

// sameLimit fails the transaction when the cached catalog's per-player
// limit is no longer the table's.
func sameLimit(p Product) expression.ConditionBuilder {
	if p.PerPlayerLimit == nil {
		return expression.AttributeNotExists(expression.Name(AttrPerPlayerLimit))
	}
	return expression.Name(AttrPerPlayerLimit).Equal(expression.Value(*p.PerPlayerLimit))
}

// Get reads one product's row with a strongly consistent read; found is
// false when it does not exist.
func Get(ctx context.Context, db *dynamodb.Client, table, productID string) (p Product, found bool, err error) {
	row, err := get(ctx, db, table, productID)
	if err != nil || row == nil {
		return Product{}, false, err
	}
	return *row, true, nil
}

// EqualOptional reports whether two optional quantities (per-player limits,
// stocks; nil: none) are equal.
func EqualOptional(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
