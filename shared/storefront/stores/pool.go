package stores

// License-key pools in shards. A product's keys are spread over shards,
// each its own partition key, so the claims of one SKU spread over many
// DynamoDB partitions and no item takes every write of a hot product.
//
// Rows (pk, sk) this file adds to the layout in stores.go:
//
//	("poolshard", slug, sku, i), "shard"   next, end, active: shard i numbers its keys 0..end-1; [next, end) are unclaimed
//	("poolkeys", slug, sku, i, n/100),     licenseKey: key n of shard i
//	  "%012d" n
//	("pooldigest", slug, sku, d), d        number, shard: the pool holds the key of digest d
//	("poolshard", slug, sku, "legacy")     the shard of a pool imported before shards existed: its keys stay
//	                                       where they were, ("pool", slug, sku), numbered as they were
//	product row                            + poolShards (numbered shards that exist), poolShardsSetting (the
//	                                       stores file's pool_shards, 0: by the pool's size), poolLegacy
//	order row                              + claims: JSON [{sku, shard, start, count}], the keys the order owns
//
// A claim takes keys [next, next+q) of one shard with one conditional
// update in the transaction that writes the order (next = expected, end >=
// expected+q, active): the order row records the range, so no pool item
// grows with orders. The expected cursor comes from this container's
// cache; a stale one fails the condition, DynamoDB returns the shard as it
// is (ALL_OLD) and the claim is planned again. Inside one container the
// claims of a shard queue on a local lock, so concurrent requests of one
// process do not fail each other's conditions.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Attributes of the sharded pools.
const (
	attrNext          = "next"
	attrEnd           = "end"
	attrPoolShards    = "poolShards"
	attrShardsSetting = "poolShardsSetting"
	attrPoolLegacy    = "poolLegacy"
	attrShard         = "shard"
	attrClaims        = "claims"
	skShard           = "shard"
)

// Shard counts. A pool gets one shard per KeysPerShard keys, at least one
// and at most MaxPoolShards, unless the stores file sets pool_shards.
const (
	MaxPoolShards = 64
	KeysPerShard  = 1000
	// legacyShard is the shard of keys imported before shards existed.
	legacyShard = -1
)

// ShardsFor is the number of shards of a pool of total keys: setting when
// positive (at most MaxPoolShards), else one per KeysPerShard keys.
func ShardsFor(total int64, setting int) int {
	if setting > 0 {
		return min(setting, MaxPoolShards)
	}
	n := (total + KeysPerShard - 1) / KeysPerShard
	return int(max(1, min(n, MaxPoolShards)))
}

func shardName(shard int) string {
	if shard == legacyShard {
		return "legacy"
	}
	return strconv.Itoa(shard)
}

func shardKey(slug, sku string, shard int) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("poolshard", slug, sku, shardName(shard)), skShard)
}

// keyRowKey is the primary key of key n of a shard: blocks of
// keysPerBlock keys share a partition key, so no partition holds more than
// a block however large the pool (an engine that copies a partition per
// transaction, as the embedded one does, stays fast; DynamoDB does not
// mind either way).
func keyRowKey(slug, sku string, shard int, n int64) dynamo.Key {
	if shard == legacyShard {
		return dynamo.PKSK(poolPK(slug, sku), keyNumberSK(n))
	}
	return dynamo.PKSK(dynamo.Tuple("poolkeys", slug, sku, shardName(shard), strconv.FormatInt(n/keysPerBlock, 10)), keyNumberSK(n))
}

const keysPerBlock = 100

// digestKey is the primary key of the row saying the pool holds the key
// whose digest is d (licenseKeyDigest): a partition of its own, as
// imports look keys up one by one. Pools imported before shards keep
// theirs under ("pooldigest", slug, sku), d.
func digestKey(slug, sku, d string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("pooldigest", slug, sku, d), d)
}

// Claim is a range of keys an order owns: keys [Start, Start+Count) of
// shard Shard of SKU's pool.
type Claim struct {
	SKU   string `json:"sku"`
	Shard int    `json:"shard"`
	Start int64  `json:"start"`
	Count int64  `json:"count"`
}

func claimsAttr(cs []Claim) types.AttributeValue {
	js, _ := json.Marshal(cs) // plain structs: cannot fail
	return dynamo.S(string(js))
}

func claimsFromAttr(v types.AttributeValue) ([]Claim, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	var cs []Claim
	if err := json.Unmarshal([]byte(dynamo.StringAttr(v)), &cs); err != nil {
		return nil, true, fmt.Errorf("claims: %w", err)
	}
	return cs, true, nil
}

// claimOp is the conditional cursor update of claim c, expecting the
// shard's cursor at c.Start.
func claimOp(table, slug string, c Claim) types.TransactWriteItem {
	next := expression.Name(attrNext)
	update := expression.Set(next, expression.Value(c.Start+c.Count))
	cond := next.Equal(expression.Value(c.Start)).
		And(expression.Name(attrEnd).GreaterThanEqual(expression.Value(c.Start + c.Count))).
		And(expression.Name(attrActive).Equal(expression.Value(true)))
	return dynamo.UpdateOp(table, shardKey(slug, c.SKU, c.Shard), update, dynamo.Cond(cond))
}

// Pool is a pool's counts, summed over its shards.
type Pool struct {
	Total, Claimed, Available int64
	Shards                    int // numbered shards (the legacy one not counted)
	Legacy                    bool
}

// shardState is a shard as last seen.
type shardState struct {
	next, end int64
	active    bool
}

func (s shardState) left() int64 {
	if !s.active {
		return 0
	}
	return max(0, s.end-s.next)
}

func shardFromItem(item map[string]types.AttributeValue) (shardState, error) {
	next, err := dynamo.IntAttr(item[attrNext])
	if err != nil {
		return shardState{}, fmt.Errorf("shard next %w", err)
	}
	end, err := dynamo.IntAttr(item[attrEnd])
	if err != nil {
		return shardState{}, fmt.Errorf("shard end %w", err)
	}
	return shardState{next: next, end: end, active: dynamo.BoolAttr(item[attrActive])}, nil
}

// shardIDs lists a product's shards: the legacy one first when it has one.
func shardIDs(p Product) []int {
	ids := make([]int, 0, p.PoolShards+1)
	if p.poolLegacy {
		ids = append(ids, legacyShard)
	}
	for i := range p.PoolShards {
		ids = append(ids, i)
	}
	return ids
}

// readShards reads the shards of products (strongly consistent), by SKU.
// A shard that does not exist is left out.
func readShards(ctx context.Context, db *dynamodb.Client, table, slug string, products []Product) (map[string]map[int]shardState, error) {
	var keys []dynamo.Key
	for _, p := range products {
		for _, id := range shardIDs(p) {
			keys = append(keys, shardKey(slug, p.SKU, id))
		}
	}
	got, err := batchGetKeys(ctx, db, table, keys)
	if err != nil {
		return nil, fmt.Errorf("read pool shards of %s: %w", slug, err)
	}
	out := map[string]map[int]shardState{}
	for _, p := range products {
		out[p.SKU] = map[int]shardState{}
	}
	for _, item := range got {
		parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[dynamo.AttrPK]))
		if err != nil || len(parts) != 4 {
			return nil, fmt.Errorf("pool shard %q: malformed key", dynamo.StringAttr(item[dynamo.AttrPK]))
		}
		id := legacyShard
		if parts[3] != "legacy" {
			if id, err = strconv.Atoi(parts[3]); err != nil {
				return nil, fmt.Errorf("pool shard %q: %w", parts[3], err)
			}
		}
		st, err := shardFromItem(item)
		if err != nil {
			return nil, fmt.Errorf("pool %s/%s shard %s: %w", slug, parts[2], parts[3], err)
		}
		if out[parts[2]] != nil {
			out[parts[2]][id] = st
		}
	}
	return out, nil
}

// ReadPool reads the counts of the pool of slug's product sku (strongly
// consistent): the product row and its shards, two calls.
func ReadPool(ctx context.Context, db *dynamodb.Client, table, slug, sku string) (Pool, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: productKey(slug, sku), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Pool{}, fmt.Errorf("read product %s/%s: %w", slug, sku, err)
	}
	if len(out.Item) == 0 {
		return Pool{}, fmt.Errorf("%w: %s/%s", ErrUnknownSKU, slug, sku)
	}
	p, err := productFromItem(slug, out.Item)
	if err != nil {
		return Pool{}, err
	}
	pool := Pool{Total: p.KeysTotal, Shards: p.PoolShards, Legacy: p.poolLegacy}
	if p.legacyUnmigrated {
		claimed, _ := dynamo.IntAttr(out.Item[attrKeysClaimed])
		pool.Claimed, pool.Available = claimed, p.KeysTotal-claimed
		return pool, nil
	}
	shards, err := readShards(ctx, db, table, slug, []Product{p})
	if err != nil {
		return Pool{}, err
	}
	for _, s := range shards[sku] {
		pool.Claimed += s.next
		pool.Available += max(0, s.end-s.next)
	}
	return pool, nil
}

// MigratePool moves the pool of slug's product sku, imported before pools
// had shards, to the sharded layout: the keys not yet claimed become the
// legacy shard (they stay where they are), and the product row's counters
// stop taking claims (keysAvailable 0, so a fulfilment of code from before
// refuses rather than claims twice). Orders fulfilled before keep their
// claim:<orderId> attribute, which order reads still understand. One
// transaction; migrating again, or a pool that needs none, changes nothing.
func MigratePool(ctx context.Context, st dynamo.Store, slug, sku string) (bool, error) {
	table := st.Tables.Stores
	for attempt := 0; attempt < 5; attempt++ {
		out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: productKey(slug, sku), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, fmt.Errorf("migrate pool %s/%s: %w", slug, sku, err)
		}
		if len(out.Item) == 0 || out.Item[attrKeysClaimed] == nil || out.Item[attrPoolLegacy] != nil {
			return false, nil
		}
		claimed, err := dynamo.IntAttr(out.Item[attrKeysClaimed])
		if err != nil {
			return false, fmt.Errorf("migrate pool %s/%s: keysClaimed %w", slug, sku, err)
		}
		total, err := dynamo.IntAttr(out.Item[attrKeysTotal])
		if err != nil {
			return false, fmt.Errorf("migrate pool %s/%s: keysTotal %w", slug, sku, err)
		}
		product := expression.Set(expression.Name(attrPoolLegacy), expression.Value(true)).
			Set(expression.Name(attrKeysAvailable), expression.Value(0))
		unchanged := expression.Name(attrKeysClaimed).Equal(expression.Value(claimed)).
			And(expression.Name(attrKeysTotal).Equal(expression.Value(total))).
			And(expression.AttributeNotExists(expression.Name(attrPoolLegacy)))
		shard := withKey(shardKey(slug, sku, legacyShard), map[string]types.AttributeValue{
			attrNext: dynamo.N(claimed), attrEnd: dynamo.N(total), attrActive: dynamo.Bool(dynamo.BoolAttr(out.Item[attrActive]))})
		err = st.Transact(ctx, []types.TransactWriteItem{
			dynamo.UpdateOp(table, productKey(slug, sku), product, dynamo.Cond(unchanged)),
			dynamo.PutNewOp(table, shard),
		})
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			continue // claimed or migrated meanwhile: look again
		}
		if err != nil {
			return false, fmt.Errorf("migrate pool %s/%s: %w", slug, sku, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("migrate pool %s/%s: %w", slug, sku, errPoolChangedMeanwhile)
}

// pools is a container's view of the shards it claims from, and the local
// locks that queue its own concurrent claims of one shard.
type pools struct {
	st dynamo.Store
	// products reads a store's products afresh (a shortage is checked
	// against shards an import may have added since the listing was read).
	products func(ctx context.Context, slug string) (map[string]Product, error)
	mu       sync.Mutex
	m        map[string]*poolView // dynamo.Tuple(slug, sku)
	// announced: the low-stock crossings this container enqueued or found
	// enqueued, by dynamo.Tuple(slug, sku, pool size).
	announced map[string]bool
}

type poolView struct {
	shards map[int]*shardSlot
	known  int  // numbered shards loaded
	legacy bool // the legacy shard loaded
	// home is the shard this container claimed from last: its cursor is
	// exact unless another container claimed there since, so claims stay
	// on it until it fails them or runs dry (containers spread over the
	// shards instead of racing for random ones).
	home    int
	hasHome bool
}

type shardSlot struct {
	state shardState // under pools.mu
	lock  chan struct{}
}

func newPools(st dynamo.Store, products func(ctx context.Context, slug string) (map[string]Product, error)) *pools {
	return &pools{st: st, products: products, m: map[string]*poolView{}, announced: map[string]bool{}}
}

// shortage is a line the pool cannot serve, with what is left (read
// afresh, so exact when it was read).
type shortage struct {
	SKU             string
	Requested, Left int64
	Inactive        bool
}

// Reservation is a planned claim of an order's keys: the claims (each at
// its shard's cursor as this container knows it) and the local locks of
// their shards, held until Done.
type Reservation struct {
	Claims []Claim
	p      *pools
	slug   string
	held   []*shardSlot
}

// ops are the claims' conditional cursor updates, in Claims' order.
func (r *Reservation) ops(table string) []types.TransactWriteItem {
	tx := make([]types.TransactWriteItem, len(r.Claims))
	for i, c := range r.Claims {
		tx[i] = claimOp(table, r.slug, c)
	}
	return tx
}

// Done records how the transaction carrying the claims ended (nil:
// committed; a *dynamo.ConditionFailedError: the shards whose condition
// failed, from index at, are learnt as DynamoDB returned them) and
// releases the shards' local locks. It returns whether a claim's
// condition failed: the order may be planned again.
func (r *Reservation) Done(err error, at int) (stale bool) {
	if r == nil {
		return false
	}
	r.p.mu.Lock()
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		for _, c := range r.Claims {
			if s := r.p.slot(r.slug, c.SKU, c.Shard); s != nil && s.state.next < c.Start+c.Count {
				s.state.next = c.Start + c.Count
			}
		}
	case errors.As(err, &failed):
		for i, c := range r.Claims {
			if !failed.Failed(at + i) {
				continue
			}
			stale = true
			if v := r.p.m[dynamo.Tuple(r.slug, c.SKU)]; v != nil && v.home == c.Shard {
				v.hasHome = false // another container claims there: move
			}
			if s := r.p.slot(r.slug, c.SKU, c.Shard); s != nil {
				if st, err := shardFromItem(failed.Items[at+i]); err == nil {
					s.state = st
				} else {
					s.state = shardState{} // gone, or unreadable: claim elsewhere
				}
			}
		}
	}
	r.p.mu.Unlock()
	r.release()
	return stale
}

// release gives back the shards' local locks.
func (r *Reservation) release() {
	for _, s := range r.held {
		<-s.lock
	}
	r.held = nil
}

// slot is shard id of (slug, sku) as known (nil: unknown). Under p.mu.
func (p *pools) slot(slug, sku string, id int) *shardSlot {
	v := p.m[dynamo.Tuple(slug, sku)]
	if v == nil {
		return nil
	}
	return v.shards[id]
}

// load reads the shards of the products this container does not know (or
// knows fewer shards of than the listing says), or of all of them when
// fresh, and migrates pools imported before shards.
func (p *pools) load(ctx context.Context, slug string, products []Product, fresh bool) error {
	var need []Product
	p.mu.Lock()
	for _, pr := range products {
		v := p.m[dynamo.Tuple(slug, pr.SKU)]
		if fresh || v == nil || v.known < pr.PoolShards || v.legacy != (pr.poolLegacy || pr.legacyUnmigrated) {
			need = append(need, pr)
		}
	}
	p.mu.Unlock()
	if len(need) == 0 {
		return nil
	}
	for i, pr := range need {
		if pr.legacyUnmigrated {
			if _, err := MigratePool(ctx, p.st, slug, pr.SKU); err != nil {
				return err
			}
			need[i].poolLegacy, need[i].legacyUnmigrated = true, false
		}
	}
	states, err := readShards(ctx, p.st.DB, p.st.Tables.Stores, slug, need)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range need {
		k := dynamo.Tuple(slug, pr.SKU)
		v := p.m[k]
		if v == nil {
			v = &poolView{shards: map[int]*shardSlot{}}
			p.m[k] = v
		}
		for id, st := range states[pr.SKU] {
			s := v.shards[id]
			if s == nil {
				s = &shardSlot{lock: make(chan struct{}, 1)}
				v.shards[id] = s
			}
			s.state = st
		}
		v.known, v.legacy = pr.PoolShards, pr.poolLegacy
	}
	return nil
}

// reserve plans the claims of lines (SKUs distinct) and takes the local
// locks of their shards. A line the pool cannot serve, as read afresh, is
// a shortage (no reservation).
func (p *pools) reserve(ctx context.Context, slug string, lines []OrderItem, products map[string]Product) (*Reservation, []shortage, error) {
	prods := make([]Product, len(lines))
	for i, l := range lines {
		prods[i] = products[l.SKU]
		prods[i].SKU = l.SKU
	}
	if err := p.load(ctx, slug, prods, false); err != nil {
		return nil, nil, err
	}
	fresh := false
	for {
		claims, short := p.plan(slug, lines)
		if len(short) > 0 {
			if fresh {
				return nil, short, nil
			}
			// The cache may be behind (another container's claims, an
			// import's new shards): read the products and the shards
			// before refusing.
			latest, err := p.products(ctx, slug)
			if err != nil {
				return nil, nil, err
			}
			for i := range prods {
				if pr, ok := latest[prods[i].SKU]; ok {
					prods[i] = pr
				}
			}
			if err := p.load(ctx, slug, prods, true); err != nil {
				return nil, nil, err
			}
			fresh = true
			continue
		}
		r, ok, err := p.lock(ctx, slug, claims)
		if err != nil || ok {
			return r, nil, err
		}
		// A claim of this container moved a chosen shard while waiting:
		// plan again from the cache it updated.
	}
}

// plan chooses, for each line, a shard with enough keys left (one whose
// local lock is free when it can), or several when no one shard has enough.
func (p *pools) plan(slug string, lines []OrderItem) ([]Claim, []shortage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var claims []Claim
	var short []shortage
	for _, l := range lines {
		v := p.m[dynamo.Tuple(slug, l.SKU)]
		var ids []int
		var left int64
		active := false
		if v != nil {
			for id, s := range v.shards {
				ids = append(ids, id)
				left += s.state.left()
				active = active || s.state.active
			}
		}
		if left < l.Quantity {
			short = append(short, shortage{SKU: l.SKU, Requested: l.Quantity, Left: left, Inactive: v != nil && len(ids) > 0 && !active})
			continue
		}
		sort.Ints(ids)
		rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] }) //nolint:gosec // spreads claims over shards; nothing to guess

		if v.hasHome {
			ids = append([]int{v.home}, slices.DeleteFunc(ids, func(id int) bool { return id == v.home })...)
		}
		best := -1
		for _, id := range ids {
			s := v.shards[id]
			if s.state.left() < l.Quantity {
				continue
			}
			if len(s.lock) == 0 { // free now: take it
				best = id
				break
			}
			if best < 0 {
				best = id
			}
		}
		if best >= 0 {
			claims = append(claims, Claim{SKU: l.SKU, Shard: best, Start: v.shards[best].state.next, Count: l.Quantity})
			v.home, v.hasHome = best, true
			continue
		}
		// No one shard has enough: the fullest ones together.
		sort.Slice(ids, func(i, j int) bool { return v.shards[ids[i]].state.left() > v.shards[ids[j]].state.left() })
		need := l.Quantity
		for _, id := range ids {
			if need == 0 {
				break
			}
			s := v.shards[id].state
			if take := min(need, s.left()); take > 0 {
				claims = append(claims, Claim{SKU: l.SKU, Shard: id, Start: s.next, Count: take})
				need -= take
			}
		}
	}
	return claims, short
}

// lock takes the local locks of the claims' shards in one global order (no
// two requests wait on each other), then checks the claims still start at
// the cursors this container knows. ok false: they do not (locks released).
func (p *pools) lock(ctx context.Context, slug string, claims []Claim) (*Reservation, bool, error) {
	type held struct {
		key  string
		slot *shardSlot
	}
	var hs []held
	p.mu.Lock()
	for _, c := range claims {
		hs = append(hs, held{key: dynamo.Tuple(c.SKU, shardName(c.Shard)), slot: p.slot(slug, c.SKU, c.Shard)})
	}
	p.mu.Unlock()
	sort.Slice(hs, func(i, j int) bool { return hs[i].key < hs[j].key })
	r := &Reservation{Claims: claims, p: p, slug: slug}
	for _, h := range hs {
		select {
		case h.slot.lock <- struct{}{}:
			r.held = append(r.held, h.slot)
		case <-ctx.Done():
			r.release()
			return nil, false, ctx.Err()
		}
	}
	p.mu.Lock()
	ok := true
	for _, c := range claims {
		if s := p.slot(slug, c.SKU, c.Shard); s.state.next != c.Start || s.state.left() < c.Count {
			ok = false
		}
	}
	p.mu.Unlock()
	if !ok {
		r.release()
		return nil, false, nil
	}
	return r, true, nil
}

// shortageText is the refusal's account of the lines short of keys.
func shortageText(short []shortage) string {
	parts := make([]string, len(short))
	for i, s := range short {
		parts[i] = fmt.Sprintf("%s: %d requested, %d left", s.SKU, s.Requested, s.Left)
	}
	return strings.Join(parts, "; ")
}

// batchGetKeys reads keys of table (strongly consistent), 100 per call.
func batchGetKeys(ctx context.Context, db *dynamodb.Client, table string, keys []dynamo.Key) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for len(keys) > 0 {
		n := min(len(keys), 100)
		got, err := batchGet(ctx, db, map[string]types.KeysAndAttributes{table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)}})
		if err != nil {
			return nil, err
		}
		out = append(out, got[table]...)
		keys = keys[n:]
	}
	return out, nil
}
