package stores_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// A pool that falls to the store's threshold (10 by default) is announced
// once with product.low_stock: at the crossing by a container that made
// every claim, and by the first container that sees it low when several
// sell (each knows the others' claims only when it reads the shards);
// keys imported afterwards make a new pool size, whose next crossing is
// announced again.
func TestLowStockAnnouncedOncePerCrossing(t *testing.T) {
	e := newEnv(t, ddbtest.Backends(t)[0])
	ctx := context.Background()
	const key = "sk_test_lowstock_1"
	e.importShardedLow(t, "shop", "SKU-1", 15, 2, key, nil)
	box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
	id := "store:shop:product:SKU-1:low_stock:15"
	one := e.fulfiller()
	for i := range 8 {
		if _, err := one.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: fmt.Sprintf("low-%d", i),
			Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		ev, found, err := box.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Keys left after order i: 14 - i; the threshold is 10.
		if want := 14-i <= 10; found != want {
			t.Fatalf("after %d orders (%d left): announced %v, want %v", i+1, 14-i, found, want)
		}
		if found {
			var p struct {
				Event     string `json:"event"`
				SKU       string `json:"sku"`
				Left      int64  `json:"keys_left"`
				Threshold int64  `json:"threshold"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Event != "product.low_stock" || p.SKU != "SKU-1" || p.Left != 10 || p.Threshold != 10 {
				t.Fatalf("event %s: %+v %v", ev.Payload, p, err)
			}
		}
	}
	if _, _, err := e.admin.ImportLicenseKeys(ctx, "shop", "SKU-1", []string{"MORE-1", "MORE-2", "MORE-3", "MORE-4", "MORE-5"}); err != nil {
		t.Fatal(err)
	}
	// 7 + 5 = 12 left: above the threshold again. Two containers sell
	// the rest; the crossing is announced once, with what was left then.
	containers := []*stores.Fulfiller{e.fulfiller(), e.fulfiller()}
	for i := range 12 {
		if _, err := containers[i%2].Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: fmt.Sprintf("again-%d", i),
			Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	ev, found, err := box.Get(ctx, "store:shop:product:SKU-1:low_stock:20")
	var p struct {
		Left int64 `json:"keys_left"`
	}
	if err != nil || !found || json.Unmarshal(ev.Payload, &p) != nil || p.Left > 10 {
		t.Fatalf("the restocked pool's crossing: found %v (%s), %v", found, ev.Payload, err)
	}
	all, err := box.List(ctx, dynamo.Tuple(stores.RecipientKind, "shop"), "", 1000)
	lows := 0
	for _, ev := range all {
		if ev.Type == "product.low_stock" {
			lows++
		}
	}
	if err != nil || lows != 2 {
		t.Fatalf("%d product.low_stock events, want 2 (one per crossing): %v", lows, err)
	}
}
