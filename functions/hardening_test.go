package functions_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// TestConfirmCannotForgeTheItemsKey: a confirm naming one product whose id
// spells the items of a registration ("bundle*1|gem_pack") must not match
// that registration: it would be granted a junk item, sell a product that
// was never reserved and leave the real reservation to nobody.
func TestConfirmCannotForgeTheItemsKey(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		st := f.register("tx-forge", "mallory", "gem_pack", 199, 1, "bundle", 999, 1)
		for _, s := range st {
			if s.Status != stashapi.RegistrationRegistered {
				t.Fatalf("register: %+v", st)
			}
		}
		code, body := f.confirm("tx-forge", "mallory", "", "bundle*1|gem_pack", 999, 1)
		if code == http.StatusOK {
			t.Fatalf("forged confirm answered 200: %s", body)
		}
		if inv := f.inventory("mallory"); len(inv) != 0 {
			t.Fatalf("forged confirm granted %v", inv)
		}
		f.assertStock("bundle", 9, 1, 0) // still reserved, not sold
		products, err := catalog.Scan(context.Background(), f.stack.DB, f.stack.TableName("CatalogTable"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range products {
			if p.ProductID == "bundle*1|gem_pack" {
				t.Fatalf("forged confirm created a catalog row for the junk id: %+v", p)
			}
		}
		// The real confirm still sells what was registered.
		if code, body := f.confirm("tx-forge", "mallory", "", "gem_pack", 199, 1, "bundle", 999, 1); code != http.StatusOK {
			t.Fatalf("real confirm: %d %s", code, body)
		}
		f.assertStock("bundle", 9, 0, 1)
		if inv := f.inventory("mallory"); inv["bundle"] != 1 || inv["gem_pack"] != 1 || len(inv) != 2 {
			t.Fatalf("inventory after the real confirm: %v", inv)
		}
	})
}

// TestWebhookCannotForgeTheItemsKey: PURCHASE_SUCCEEDED goes through the
// same confirm, so the forged single item is refused there too.
func TestWebhookCannotForgeTheItemsKey(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, nil)
		st := f.register("tx-forge-hook", "mallory", "gem_pack", 199, 1, "bundle", 999, 1)
		if len(st) != 2 || st[0].Status != stashapi.RegistrationRegistered || st[1].Status != stashapi.RegistrationRegistered {
			t.Fatalf("register: %+v", st)
		}
		code, body := f.webhook(succeeded("tx-forge-hook", "mallory", "purchaseSucceeded", "bundle*1|gem_pack", 1))
		if code != http.StatusOK || !strings.Contains(body, "not-granted") {
			t.Fatalf("forged webhook: %d %s, want 200 not-granted (acknowledged, recorded, not granted)", code, body)
		}
		if items, _ := f.holdings("mallory"); len(items) != 0 {
			t.Fatalf("forged webhook granted %v", items)
		}
		if p := f.stock("bundle"); p.Reserved != 1 || p.Sold != 0 {
			t.Fatalf("bundle after the forged webhook: reserved %d, sold %d; want 1 and 0", p.Reserved, p.Sold)
		}
	})
}

// TestRefundKeysCannotCollide: refund "1#2" of order "rk-ord" and refund
// "2" of order "rk-ord#1" are two refunds; pasted together with "#" they
// shared a key, so the second was answered as a duplicate and its player
// kept the refunded item.
func TestRefundKeysCannotCollide(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, nil)
		for _, d := range []struct{ order, player string }{{"rk-ord", "ann"}, {"rk-ord#1", "ben"}} {
			if code, body := f.webhook(succeeded(d.order, d.player, "purchaseSucceeded", "gem_pack", 1)); code != http.StatusOK {
				t.Fatalf("grant %s: %d %s", d.order, code, body)
			}
		}
		for _, r := range []struct{ order, refund string }{{"rk-ord", "1#2"}, {"rk-ord#1", "2"}} {
			code, body := f.webhook(refunded(r.order, r.refund, "gem_pack", 1))
			if code != http.StatusOK || !strings.Contains(body, "refund:revoked") {
				t.Fatalf("refund %s of %s: %d %s, want refund:revoked", r.refund, r.order, code, body)
			}
		}
		for _, player := range []string{"ann", "ben"} {
			if items, _ := f.holdings(player); items["gem_pack"] != 0 {
				t.Fatalf("%s still holds %v after the refund", player, items)
			}
		}
	})
}

// TestSaleNeedsItsReservation: a confirm whose record matches but whose
// product no longer holds the reserved units (a row edited by hand, a bug)
// sells nothing and grants nothing: the sale's stock write is conditional,
// so reserved never goes below zero.
func TestSaleNeedsItsReservation(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		f.register("tx-gone", "vic", "bundle", 999, 2)
		if _, err := f.stack.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: aws.String(f.stack.TableName("CatalogTable")), Key: dynamo.PK("bundle"),
			UpdateExpression:          aws.String("SET #r = :z"),
			ExpressionAttributeNames:  map[string]string{"#r": catalog.AttrReserved},
			ExpressionAttributeValues: map[string]types.AttributeValue{":z": dynamo.N(0)},
		}); err != nil {
			t.Fatal(err)
		}
		if code, body := f.confirm("tx-gone", "vic", "", "bundle", 999, 2); code == http.StatusOK {
			t.Fatalf("confirm without reserved stock answered 200: %s", body)
		}
		if inv := f.inventory("vic"); len(inv) != 0 {
			t.Fatalf("granted %v without reserved stock", inv)
		}
		if p := f.stock("bundle"); p.Reserved != 0 || p.Sold != 0 {
			t.Fatalf("bundle after the refused sale: reserved %d, sold %d; want 0 and 0", p.Reserved, p.Sold)
		}
	})
}

// TestRefundNeverTurnsAnUnreadableHoldingIntoDebt: a refund that finds
// nothing to take records a debt only if the player really holds none; an
// inventory row it cannot read (edited by hand) fails the refund, which
// Stash retries, instead of leaving the units with the player and a debt
// beside them.
func TestRefundNeverTurnsAnUnreadableHoldingIntoDebt(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, nil)
		setQuantity := func(player string, v types.AttributeValue) {
			t.Helper()
			if _, err := f.stack.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
				TableName: aws.String(f.stack.TableName("PlayersTable")), Key: dynamo.PKSK(player, "item#gem_pack"),
				UpdateExpression:          aws.String("SET #q = :v"),
				ExpressionAttributeNames:  map[string]string{"#q": "quantity"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": v},
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{"spender", "broken"} {
			if code, body := f.webhook(succeeded("ord-"+p, p, "purchaseSucceeded", "gem_pack", 2)); code != http.StatusOK {
				t.Fatalf("grant: %d %s", code, body)
			}
		}
		// All spent: the refund is a debt.
		setQuantity("spender", dynamo.N(0))
		if code, body := f.webhook(refunded("ord-spender", "re-1")); code != http.StatusOK || !strings.Contains(body, "refund:revoked") {
			t.Fatalf("refund of spent units: %d %s", code, body)
		}
		if _, debts := f.holdings("spender"); debts["gem_pack"] != 2 {
			t.Fatalf("debts of spender: %v, want gem_pack 2", debts)
		}
		// An unreadable row: refused and retried, never a debt.
		setQuantity("broken", dynamo.S("two"))
		if code, body := f.webhook(refunded("ord-broken", "re-1")); code != http.StatusServiceUnavailable {
			t.Fatalf("refund over an unreadable row: %d %s, want 503 (Stash retries)", code, body)
		}
		if _, debts := f.holdings("broken"); len(debts) != 0 {
			t.Fatalf("debts of broken: %v, want none", debts)
		}
	})
}
