// Package players owns the players table (pk = player id): the profile the
// game server stores (sk "profile"); per product, the units the player
// holds bought or reserved, checked against per-player limits (sk "bought#"
// + product id; CountOp); what the player owns (sk "item#" + product id;
// GrantOps, TakeOp, Holdings) and what refunds left them owing (sk "debt#" +
// product id; DebtOp). Writes that must happen once are transaction items
// the purchase flow composes with its record.
package players

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Sort keys and attributes of the player rows.
const (
	// profileSK is the sort key of a player's profile row.
	profileSK = "profile"
	// boughtPrefix starts the sort key of a per-product purchase counter;
	// the product id follows (CountOp writes them).
	boughtPrefix = "bought#"
	// attrBought is a counter row's count of units bought or reserved.
	attrBought = "bought"

	attrName           = "name"
	attrAvatarURL      = "avatarUrl"
	attrLanguage       = "language"
	attrInGameLevel    = "inGameLevel"
	attrInGameCurrency = "inGameCurrency"
	attrUpdatedAt      = "updatedAt"
)

// counters reads the sort keys and counts of player v0's counter rows.
var counters = dynamo.NewShape(func(v func(int) expression.ValueBuilder) expression.Builder {
	return expression.NewBuilder().
		WithKeyCondition(expression.KeyAnd(
			expression.Key(dynamo.AttrPK).Equal(v(0)),
			expression.KeyBeginsWith(expression.Key(dynamo.AttrSK), boughtPrefix))).
		WithProjection(expression.NamesList(expression.Name(dynamo.AttrSK), expression.Name(attrBought)))
})

// Bought returns how many units of each product the player holds bought or
// reserved (products without a counter are absent; an unknown player has
// none) in one Query of the player's counter rows (more only beyond 1 MB
// of them).
func Bought(ctx context.Context, db *dynamodb.Client, table, playerID string) (map[string]int64, error) {
	counts := map[string]int64{}
	e := counters.Fill(dynamo.S(playerID))
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    e.KeyCondition,
		ProjectionExpression:      e.Projection,
		ExpressionAttributeNames:  e.Names,
		ExpressionAttributeValues: e.Values,
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query purchase counts of %s: %w", playerID, err)
		}
		for _, row := range page.Items {
			sk := dynamo.StringAttr(row[dynamo.AttrSK])
			if !strings.HasPrefix(sk, boughtPrefix) {
				continue
			}
			n, err := dynamo.IntAttr(row[attrBought])
			if err != nil {
				// Left out: the other counts still answer (registration
				// enforces limits inside its transaction anyway).
				badRow(ctx, "purchase counts", playerID, sk, err)
				continue
			}
			counts[strings.TrimPrefix(sk, boughtPrefix)] = n
		}
	}
	return counts, nil
}

// Get reads a player's profile; found is false when the game server never
// stored one.
func Get(ctx context.Context, db *dynamodb.Client, table, playerID string) (p Profile, found bool, err error) {
	// Only the profile's attributes (the function's IAM policy allows no
	// others).
	e := dynamo.Build(expression.NewBuilder().WithProjection(expression.NamesList(
		expression.Name(attrName), expression.Name(attrAvatarURL), expression.Name(attrLanguage),
		expression.Name(attrInGameLevel), expression.Name(attrInGameCurrency), expression.Name(attrUpdatedAt))))
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(table),
		Key:                      dynamo.PKSK(playerID, profileSK),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     e.Projection(),
		ExpressionAttributeNames: e.Names(),
	})
	if err != nil {
		return Profile{}, false, fmt.Errorf("read profile of %s: %w", playerID, err)
	}
	if len(out.Item) == 0 {
		return Profile{}, false, nil
	}
	p, err = fromItem(playerID, out.Item)
	if err != nil {
		return Profile{}, false, fmt.Errorf("profile of %s: %w", playerID, err)
	}
	return p, true, nil
}

// Put stores p as the player's profile, replacing the whole previous one,
// in one PutItem.
func Put(ctx context.Context, db *dynamodb.Client, table string, p Profile) error {
	item := dynamo.PKSK(p.PlayerID, profileSK)
	item[attrName] = dynamo.S(p.Name)
	if p.AvatarURL != "" {
		item[attrAvatarURL] = dynamo.S(p.AvatarURL)
	}
	if p.Language != "" {
		item[attrLanguage] = dynamo.S(p.Language)
	}
	item[attrInGameLevel] = dynamo.N(p.InGameLevel)
	item[attrInGameCurrency] = dynamo.N(p.InGameCurrency)
	item[attrUpdatedAt] = dynamo.Time(p.UpdatedAt)
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return fmt.Errorf("store profile of %s: %w", p.PlayerID, err)
	}
	return nil
}

func fromItem(playerID string, item map[string]types.AttributeValue) (Profile, error) {
	p := Profile{PlayerID: playerID, Name: dynamo.StringAttr(item[attrName]), AvatarURL: dynamo.StringAttr(item[attrAvatarURL]), Language: dynamo.StringAttr(item[attrLanguage])}
	var err error
	if p.InGameLevel, err = dynamo.IntAttr(item[attrInGameLevel]); err != nil {
		return Profile{}, fmt.Errorf("%s: %w", attrInGameLevel, err)
	}
	if p.InGameCurrency, err = dynamo.IntAttr(item[attrInGameCurrency]); err != nil {
		return Profile{}, fmt.Errorf("%s: %w", attrInGameCurrency, err)
	}
	if p.UpdatedAt, err = dynamo.TimeAttr(item[attrUpdatedAt]); err != nil {
		return Profile{}, fmt.Errorf("%s: %w", attrUpdatedAt, err)
	}
	return p, nil
}

// ErrNoProfile is the refusal reason of Profiles.Find: the game server never stored
// the player's profile.
var ErrNoProfile = errors.New("no player profile")
