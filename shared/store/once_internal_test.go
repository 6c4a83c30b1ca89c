package store

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordFromItem names the record's key in its errors whatever order the
// map yields its attributes in.
func TestRecordFromItemErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name    string
		item    map[string]types.AttributeValue
		wantMsg string
	}{
		{"bad status", map[string]types.AttributeValue{
			AttrPK:        &types.AttributeValueMemberS{Value: "authorization#t1"},
			"fingerprint": &types.AttributeValueMemberS{Value: "fp"},
			"status":      &types.AttributeValueMemberS{Value: "200"},
			"response":    &types.AttributeValueMemberB{Value: []byte("{}")},
			"a":           &types.AttributeValueMemberS{Value: "1"},
			"b":           &types.AttributeValueMemberS{Value: "2"},
		}, "record authorization#t1: bad status: "},
		{"no key", map[string]types.AttributeValue{
			"status": &types.AttributeValueMemberN{Value: "200"},
		}, "record without pk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 { // map order is random: try it many times
				_, err := recordFromItem(tt.item)
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantMsg) {
					t.Fatalf("recordFromItem = %v, want an error starting %q", err, tt.wantMsg)
				}
			}
		})
	}
}
