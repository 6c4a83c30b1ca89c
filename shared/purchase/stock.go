package purchase

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/players"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// The stock and limit writes of the flow, one transaction item each. Catalog
// rows keep available (= stock − reserved − sold for limited products),
// reserved and sold; the players table keeps, per player and product, how
// many units the player holds reserved or bought ("bought#<productId>"), which
// per-player limits are checked against.

// opKind says what a transaction item does, to explain a failed condition.
type opKind int

const (
	opRecord  opKind = iota // the purchase record
	opReserve               // catalog: reserve (or reserve and sell) units
	opCounter               // players: count units against the per-player limit
	opOther                 // releases, sales, grants: unconditional
)

type op struct {
	kind    opKind
	product string
	line    Line
}

// assumeLimit is the clause that makes a transaction fail when the cached
// catalog's per-player limit is no longer the table's: the counter condition
// was computed from it.
func assumeLimit(p catalog.Product, values map[string]types.AttributeValue) string {
	if p.PerPlayerLimit == nil {
		return "attribute_not_exists(#lim)"
	}
	values[":lim"] = nv(*p.PerPlayerLimit)
	return "#lim = :lim"
}

var stockNames = map[string]string{
	"#pk": store.AttrPK, "#act": "active", "#lck": "locked", "#pr": "prices", "#cur": "", "#unl": "unlimited",
	"#av": "available", "#res": "reserved", "#sold": "sold", "#lim": "perPlayerLimit",
}

func names(cur string, used ...string) map[string]string {
	m := make(map[string]string, len(used))
	for _, n := range used {
		if n == "#cur" {
			m[n] = cur
			continue
		}
		m[n] = stockNames[n]
	}
	return m
}

// reserveOp reserves l.Quantity units of p for a registration: the product
// must be active, unlocked, priced at l.Cents in cur, have the units (unless
// unlimited) and still have the per-player limit the caller assumed.
func reserveOp(table string, p catalog.Product, l Line, cur string) types.TransactWriteItem {
	values := map[string]types.AttributeValue{
		":q": nv(l.Quantity), ":negq": nv(-l.Quantity), ":cents": nv(l.Cents),
		":t": boolv(true), ":f": boolv(false),
	}
	cond := []string{"#act = :t", "#lck = :f", "#pr.#cur = :cents", "(#unl = :t OR #av >= :q)", assumeLimit(p, values)}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(table),
		Key:                                 productKey(p.ProductID),
		UpdateExpression:                    aws.String("ADD #av :negq, #res :q"),
		ConditionExpression:                 aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:            names(cur, "#act", "#lck", "#pr", "#cur", "#unl", "#av", "#res", "#lim"),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// reserveAndSellOp sells units that were never reserved (a confirm without a
// live registration): Stash has charged, so price, lock and activity are not
// checked, only that the product exists and has the units.
func reserveAndSellOp(table string, p catalog.Product, l Line) types.TransactWriteItem {
	values := map[string]types.AttributeValue{":q": nv(l.Quantity), ":negq": nv(-l.Quantity), ":t": boolv(true)}
	cond := []string{"attribute_exists(#pk)", "(#unl = :t OR #av >= :q)", assumeLimit(p, values)}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(table),
		Key:                                 productKey(p.ProductID),
		UpdateExpression:                    aws.String("ADD #av :negq, #sold :q"),
		ConditionExpression:                 aws.String(strings.Join(cond, " AND ")),
		ExpressionAttributeNames:            names("", "#pk", "#unl", "#av", "#sold", "#lim"),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// sellOp turns a reservation into a sale.
func sellOp(table string, l Line) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       productKey(l.ProductID),
		UpdateExpression:          aws.String("ADD #res :negq, #sold :q"),
		ExpressionAttributeNames:  names("", "#res", "#sold"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": nv(l.Quantity), ":negq": nv(-l.Quantity)},
	}}
}

// releaseOp gives reserved units back.
func releaseOp(table string, l Line) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       productKey(l.ProductID),
		UpdateExpression:          aws.String("ADD #av :q, #res :negq"),
		ExpressionAttributeNames:  names("", "#av", "#res"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": nv(l.Quantity), ":negq": nv(-l.Quantity)},
	}}
}

// countOp adds delta units to the player's count of a product, refusing to
// pass limit (nil: no limit) when delta is positive.
func countOp(table, playerID, productID string, delta int64, limit *int64) types.TransactWriteItem {
	u := &types.Update{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			store.AttrPK: sv(playerID),
			store.AttrSK: sv(players.BoughtPrefix + productID),
		},
		UpdateExpression:          aws.String("SET #p = :p ADD #b :d"),
		ExpressionAttributeNames:  map[string]string{"#p": "productId", "#b": players.AttrBought},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(productID), ":d": nv(delta)},
	}
	if limit != nil && delta > 0 {
		u.ConditionExpression = aws.String("attribute_not_exists(#b) OR #b <= :max")
		u.ExpressionAttributeValues[":max"] = nv(*limit - delta)
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return types.TransactWriteItem{Update: u}
}

func productKey(productID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{store.AttrPK: sv(productID)}
}
