// Package players holds the player rows Stash's lookups read from the players
// table (pk = player id): the profile the game server stores (sk "profile")
// and the per-product purchase counters the purchase flow maintains (sk
// "bought#" + product id, attribute "bought": units the player holds bought
// or reserved, checked against per-player limits).
package players

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/store"
)

// Sort keys and attributes of the player rows.
const (
	// ProfileSK is the sort key of a player's profile row.
	ProfileSK = "profile"
	// BoughtPrefix starts the sort key of a per-product purchase counter;
	// the product id follows. The purchase flow writes these rows.
	BoughtPrefix = "bought#"
	// AttrBought is a counter row's count of units bought or reserved.
	AttrBought = "bought"

	attrName           = "name"
	attrAvatarURL      = "avatarUrl"
	attrLanguage       = "language"
	attrInGameLevel    = "inGameLevel"
	attrInGameCurrency = "inGameCurrency"
	attrUpdatedAt      = "updatedAt"
)

// Bought returns how many units of each product the player holds bought or
// reserved (products without a counter are absent; an unknown player has
// none) in one Query of the player's counter rows (more only beyond 1 MB
// of them).
func Bought(ctx context.Context, db *dynamodb.Client, table, playerID string) (map[string]int64, error) {
	counts := map[string]int64{}
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName:                aws.String(table),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ProjectionExpression:     aws.String("#sk, #b"),
		ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#b": AttrBought},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: playerID},
			":prefix": &types.AttributeValueMemberS{Value: BoughtPrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query purchase counts of %s: %w", playerID, err)
		}
		for _, row := range page.Items {
			sk, _ := row[store.AttrSK].(*types.AttributeValueMemberS)
			if sk == nil || !strings.HasPrefix(sk.Value, BoughtPrefix) {
				continue
			}
			n, err := store.IntAttr(row[AttrBought])
			if err != nil {
				return nil, fmt.Errorf("purchase counts of %s: row %s: %w", playerID, sk.Value, err)
			}
			counts[strings.TrimPrefix(sk.Value, BoughtPrefix)] = n
		}
	}
	return counts, nil
}

// Get reads a player's profile; found is false when the game server never
// stored one.
func Get(ctx context.Context, db *dynamodb.Client, table, playerID string) (p Profile, found bool, err error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            profileKey(playerID),
		ConsistentRead: aws.Bool(true),
		// Only the profile's attributes (the function's IAM policy allows
		// no others).
		ProjectionExpression: aws.String("#n, #a, #l, #lv, #c, #u"),
		ExpressionAttributeNames: map[string]string{"#n": attrName, "#a": attrAvatarURL, "#l": attrLanguage,
			"#lv": attrInGameLevel, "#c": attrInGameCurrency, "#u": attrUpdatedAt},
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
	item := profileKey(p.PlayerID)
	item[attrName] = &types.AttributeValueMemberS{Value: p.Name}
	if p.AvatarURL != "" {
		item[attrAvatarURL] = &types.AttributeValueMemberS{Value: p.AvatarURL}
	}
	if p.Language != "" {
		item[attrLanguage] = &types.AttributeValueMemberS{Value: p.Language}
	}
	item[attrInGameLevel] = &types.AttributeValueMemberN{Value: strconv.FormatInt(p.InGameLevel, 10)}
	item[attrInGameCurrency] = &types.AttributeValueMemberN{Value: strconv.FormatInt(p.InGameCurrency, 10)}
	item[attrUpdatedAt] = &types.AttributeValueMemberS{Value: p.UpdatedAt.UTC().Format(time.RFC3339Nano)}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		return fmt.Errorf("store profile of %s: %w", p.PlayerID, err)
	}
	return nil
}

func profileKey(playerID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		store.AttrPK: &types.AttributeValueMemberS{Value: playerID},
		store.AttrSK: &types.AttributeValueMemberS{Value: ProfileSK},
	}
}

func fromItem(playerID string, item map[string]types.AttributeValue) (Profile, error) {
	p := Profile{PlayerID: playerID, Name: store.StringAttr(item[attrName]), AvatarURL: store.StringAttr(item[attrAvatarURL]), Language: store.StringAttr(item[attrLanguage])}
	var err error
	if p.InGameLevel, err = store.IntAttr(item[attrInGameLevel]); err != nil {
		return Profile{}, fmt.Errorf("%s: %w", attrInGameLevel, err)
	}
	if p.InGameCurrency, err = store.IntAttr(item[attrInGameCurrency]); err != nil {
		return Profile{}, fmt.Errorf("%s: %w", attrInGameCurrency, err)
	}
	if ts := store.StringAttr(item[attrUpdatedAt]); ts != "" {
		if p.UpdatedAt, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return Profile{}, fmt.Errorf("%s: %w", attrUpdatedAt, err)
		}
	}
	return p, nil
}
