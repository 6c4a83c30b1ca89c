package dynamo

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordFromItem reads the key first, whatever order the map yields its
// attributes in, refuses an item without one, and keeps attributes it does
// not know (such as the "status" older records carry) for their owner.
func TestRecordFromItem(t *testing.T) {
	item := map[string]types.AttributeValue{
		AttrPK:        &types.AttributeValueMemberS{Value: "authorization#t1"},
		"fingerprint": &types.AttributeValueMemberS{Value: "fp"},
		"status":      &types.AttributeValueMemberN{Value: "200"},
		"response":    &types.AttributeValueMemberB{Value: []byte("{}")},
		"a":           &types.AttributeValueMemberS{Value: "1"},
	}
	for range 50 { // map order is random: try it many times
		r, err := recordFromItem(item)
		if err != nil || r.Key != "authorization#t1" || r.Fingerprint != "fp" || string(r.Response) != "{}" ||
			StringAttr(r.Attributes["a"]) != "1" || r.Attributes["status"] == nil {
			t.Fatalf("recordFromItem = %+v, %v", r, err)
		}
	}
	_, err := recordFromItem(map[string]types.AttributeValue{"status": &types.AttributeValueMemberN{Value: "200"}})
	if err == nil || !strings.HasPrefix(err.Error(), "record without pk") {
		t.Fatalf("recordFromItem without a key = %v, want an error starting %q", err, "record without pk")
	}
}
