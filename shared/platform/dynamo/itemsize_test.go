package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Known answers from DynamoDB's documented sizing rules.
func TestItemSize(t *testing.T) {
	for _, c := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string", map[string]types.AttributeValue{"pk": S("abc")}, 5},
		{"utf-8 string", map[string]types.AttributeValue{"n": S("é")}, 3},
		{"number 0", map[string]types.AttributeValue{"n": N(0)}, 2},
		{"number 123", map[string]types.AttributeValue{"n": N(123)}, 4},
		{"number 1000000", map[string]types.AttributeValue{"n": N(1000000)}, 3},
		{"number 1234567", map[string]types.AttributeValue{"n": N(1234567)}, 6},
		{"bool", map[string]types.AttributeValue{"active": Bool(true)}, 7},
		{"map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": S("xy")}}}, 1 + 3 + 1 + 1 + 2},
		{"list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{S("xy"), Bool(false)}}}, 1 + 3 + 1 + 2 + 1 + 1},
	} {
		if got := ItemSize(c.item); got != c.want {
			t.Errorf("%s: ItemSize = %d, want %d", c.name, got, c.want)
		}
	}
}
