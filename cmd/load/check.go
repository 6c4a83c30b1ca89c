package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// ledger is what the answers say was granted.
type ledger struct {
	players  []string                    // every player the load used, sorted
	expected map[string]map[string]int64 // player -> product -> units granted
	grants   int                         // transactions answered 200
	units    int64                       // units they granted
}

// holding is one line of an inventory answer.
type holding struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

// inventoryAnswer is a player's inventory as the public endpoint answers it.
type inventoryAnswer struct {
	Items []holding `json:"items"`
	Debts []holding `json:"debts"`
}

// tally adds up what the inventories hold.
type tally struct {
	found      int64 // units in all inventories
	scarce     int64 // units of the scarce product in all inventories
	mismatched int   // players whose inventory differs from the ledger
}

// check reads every player's inventory with the game server key and checks
// the invariants against the ledger.
func (r *runner) check(ctx context.Context, w io.Writer) error {
	l := r.ledger()
	var t tally
	for _, p := range l.players {
		r.checkPlayer(ctx, p, l.expected[p], &t)
	}
	if t.scarce > scarceStock {
		r.fail("%s: %d units in inventories, its stock is %d: sold beyond the stock", scarceProduct, t.scarce, scarceStock)
	}
	return r.printInvariants(w, l, t)
}

// ledger copies, under the lock, what the answers granted.
func (r *runner) ledger() ledger {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := ledger{players: make([]string, 0, len(r.used)), expected: map[string]map[string]int64{}, grants: len(r.granted)}
	for p := range r.used {
		l.players = append(l.players, p)
	}
	sort.Strings(l.players)
	for _, g := range r.granted {
		if l.expected[g.player] == nil {
			l.expected[g.player] = map[string]int64{}
		}
		for id, q := range g.items {
			l.expected[g.player][id] += q
			l.units += q
		}
	}
	return l
}

// checkPlayer compares player p's inventory with want, what the answers
// granted p, records a failure for each difference, and adds the inventory
// to t.
func (r *runner) checkPlayer(ctx context.Context, p string, want map[string]int64, t *tally) {
	inv, err := r.readInventory(ctx, p)
	if err != nil {
		r.fail("inventory of %s: %v", p, err)
		return
	}
	got := map[string]int64{}
	for _, h := range inv.Items {
		got[h.ProductID] = h.Quantity
		t.found += h.Quantity
	}
	t.scarce += got[scarceProduct]
	if diffs := inventoryDiffs(got, want); len(diffs) > 0 {
		t.mismatched++
		r.fail("inventory of %s: %s", p, strings.Join(diffs, "; "))
	}
	if len(inv.Debts) > 0 {
		r.fail("inventory of %s has debts %v (no refund was sent)", p, inv.Debts)
	}
}

// readInventory reads player p's inventory with the game server key.
func (r *runner) readInventory(ctx context.Context, p string) (inventoryAnswer, error) {
	a, err := r.send(ctx, "", http.MethodGet, "/api/v1/players/"+p+"/inventory", nil, gameServer)
	if err != nil || a.status != http.StatusOK {
		return inventoryAnswer{}, fmt.Errorf("%d %v %s", a.status, err, a.body) //nolint:errorlint // err may be nil (a status other than 200)
	}
	var inv inventoryAnswer
	if err := json.Unmarshal(a.body, &inv); err != nil {
		return inventoryAnswer{}, err
	}
	return inv, nil
}

// inventoryDiffs describes each product whose units held (got) differ from
// the units granted (want).
func inventoryDiffs(got, want map[string]int64) []string {
	var diffs []string
	for id := range union(got, want) {
		if got[id] != want[id] {
			kind := "granted twice or without a 200"
			if got[id] < want[id] {
				kind = "a 200 not in the inventory"
			}
			diffs = append(diffs, fmt.Sprintf("%s holds %d, the answers granted %d (%s)", id, got[id], want[id], kind))
		}
	}
	return diffs
}

// printInvariants prints the invariants and the failures recorded, and
// returns errInvariant if there are any.
func (r *runner) printInvariants(w io.Writer, l ledger, t tally) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\ninvariants (through the public inventory endpoint, game server key):\n")
	fmt.Fprintf(w, "  every confirmed or authorized purchase present, none granted twice: %d players read, %d grants (%d units) answered 200, %d units held, %d players differ\n",
		len(l.players), l.grants, l.units, t.found, t.mismatched)
	fmt.Fprintf(w, "  %s (stock %d) not sold beyond its stock: %d units held in all inventories (%d registrations won, some cancelled and sold again)\n",
		scarceProduct, scarceStock, t.scarce, r.scarceWon)
	fmt.Fprintf(w, "  duplicates answered alike: %d replays and %d concurrent pairs compared\n", r.replays, r.pairs)
	if len(r.failures) == 0 {
		fmt.Fprintln(w, "  all invariants hold")
		return nil
	}
	fmt.Fprintf(w, "\nFAILED: %d invariant violations:\n", len(r.failures))
	for i, f := range r.failures {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(r.failures)-20)
			break
		}
		fmt.Fprintf(w, "  %s\n", f)
	}
	return errInvariant
}

func union(a, b map[string]int64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
