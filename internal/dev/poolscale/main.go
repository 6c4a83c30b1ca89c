// Command poolscale measures a license-key pool at launch-day scale: it
// imports -keys keys for one SKU (spread over the pool's shards as
// cmd/stores would), then fulfils -orders orders of one key each from
// -containers Fulfillers at once (each a Lambda container with its own
// cache of the pool's shards), through the real aws-sdk-go-v2 client and
// the embedded DynamoDB (or moto_server with -dynamodb moto). It prints
// the cost per order at checkpoints (wall time, DynamoDB calls, extra
// transactions from shards another container moved), checks that every
// order got a distinct key and that the pool's counts add up, and prints
// the measured sizes of the items a fulfilment writes.
//
//	go run ./internal/dev/poolscale [-keys 1000000] [-orders 200000] [-containers 4] [-dynamodb embedded|moto]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/motoserver"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

const (
	slug   = "launch"
	sku    = "GAME-1"
	apiKey = "sk_test_poolscale_0001" //nolint:gosec // a test-mode key of the run's own throwaway store
)

func main() {
	keys := flag.Int("keys", 1_000_000, "license keys imported for the SKU")
	orders := flag.Int("orders", 200_000, "orders fulfilled (one key each)")
	containers := flag.Int("containers", 4, "Fulfillers claiming at once (Lambda containers)")
	backend := flag.String("dynamodb", "embedded", "embedded or moto")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "poolscale:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), os.Stdout, *keys, *orders, *containers, *backend); err != nil {
		fmt.Fprintln(os.Stderr, "poolscale:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, nKeys, nOrders, nContainers int, backend string) error {
	if nOrders > nKeys {
		return fmt.Errorf("-orders %d is more than -keys %d", nOrders, nKeys)
	}
	cfg := localenv.Config{Getenv: func(string) string { return "" }, Logger: deps.NewLogger(io.Discard, "error")}
	if backend == "moto" {
		moto, err := motoserver.Start(ctx)
		if err != nil {
			return err
		}
		defer moto.Stop()
		cfg.Endpoint = moto.URL
	}
	stack, err := localenv.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer stack.Close()
	table := stack.TableName("StoresTable")
	st := dynamo.Store{DB: stack.DB, Tables: dynamo.Tables{Stores: table, Outbox: stack.TableName("OutboxTable"),
		RateLimit: stack.TableName("RateLimitTable")}}
	admin := stores.Admin{DB: stack.DB, Table: table, Now: time.Now}
	fmt.Fprintf(w, "pool at scale: %d keys of one SKU, %d orders of one key from %d containers, DynamoDB %s, %s\n",
		nKeys, nOrders, nContainers, backend, runtime.Version())

	start := time.Now()
	f := stores.File{Stores: []stores.FileStore{{Slug: slug, Name: "Launch", APIKeys: []string{apiKey},
		Products: []stores.FileProduct{{SKU: sku, Name: "The game", Prices: map[string]int64{"GBP": 2999}}}}}}
	if _, err := admin.Import(ctx, f); err != nil {
		return err
	}
	const batch = 20_000
	for i := 0; i < nKeys; i += batch {
		chunk := make([]string, 0, batch)
		for n := i; n < min(i+batch, nKeys); n++ {
			chunk = append(chunk, fmt.Sprintf("LAUNCH-%07d-KEY", n))
		}
		if _, _, err := admin.ImportLicenseKeys(ctx, slug, sku, chunk); err != nil {
			return err
		}
	}
	pool, err := stores.ReadPool(ctx, stack.DB, table, slug, sku)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "imported in %s: %d keys over %d shards\n\n", time.Since(start).Round(time.Second), pool.Total, pool.Shards)

	fulfillers := make([]*stores.Fulfiller, nContainers)
	for i := range fulfillers {
		fulfillers[i] = stores.NewFulfiller(st, time.Now, stores.Options{CacheTTL: time.Hour})
	}
	checkpoints := []int{1_000, 10_000, 100_000, 200_000, nOrders}
	sort.Ints(checkpoints)
	var next atomic.Int64
	var mu sync.Mutex
	given := make(map[string]bool, nOrders)
	type window struct {
		orders, calls, extra int64
		took                 time.Duration
	}
	var cur window
	var firstErr error
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "orders\tµs per order\tDynamoDB calls per order\textra transactions per order\t")
	windowStart, printed := time.Now(), 0
	var wg sync.WaitGroup
	for c := range nContainers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(nOrders) {
					return
				}
				cc := &ddbcalls.Counter{}
				got, err := fulfillers[c].Fulfil(ddbcalls.WithCounter(ctx, cc), stores.FulfilRequest{Store: slug, APIKey: apiKey,
					ExternalReference: fmt.Sprintf("order-%07d", i), Currency: "GBP", TotalMinor: 2999, Items: []stores.Line{{SKU: sku, Quantity: 1}}})
				mu.Lock()
				if err == nil && len(got.Order.Items[0].LicenseKeys) == 1 && !given[got.Order.Items[0].LicenseKeys[0]] {
					given[got.Order.Items[0].LicenseKeys[0]] = true
				} else if firstErr == nil {
					firstErr = fmt.Errorf("order %d (keys %v): %w", i, got.Order.Items, cmp.Or(err, errors.New("no key of its own")))
				}
				cur.orders++
				cur.calls += int64(cc.Total())
				cur.extra += int64(max(0, cc.Total()-2))
				if done := len(given); printed < len(checkpoints) && done >= checkpoints[printed] {
					cur.took = time.Since(windowStart)
					fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.3f\t\n", done, float64(cur.took.Microseconds())/float64(cur.orders),
						float64(cur.calls)/float64(cur.orders), float64(cur.extra)/float64(cur.orders))
					for printed < len(checkpoints) && done >= checkpoints[printed] {
						printed++
					}
					cur, windowStart = window{}, time.Now()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	tw.Flush()
	if firstErr != nil {
		return firstErr
	}
	pool, err = stores.ReadPool(ctx, stack.DB, table, slug, sku)
	if err != nil {
		return err
	}
	if pool.Claimed != int64(nOrders) || pool.Available != int64(nKeys-nOrders) || len(given) != nOrders {
		return fmt.Errorf("pool %+v after %d orders (%d distinct keys given)", pool, nOrders, len(given))
	}
	fmt.Fprintf(w, "\nevery order got its own key; the pool counts %d claimed and %d left\n", pool.Claimed, pool.Available)
	return printSizes(ctx, w, stack.DB, table, stack.TableName("OutboxTable"))
}

// printSizes prints the sizes (DynamoDB's item size: attribute names and
// values) of the items one fulfilment writes or reads.
func printSizes(ctx context.Context, w io.Writer, db *dynamodb.Client, table, outboxTable string) error {
	read := func(pk, sk string) (map[string]types.AttributeValue, error) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: dynamo.PKSK(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		if len(out.Item) == 0 {
			return nil, errors.New("no item " + pk)
		}
		return out.Item, nil
	}
	order, err := read(dynamo.Tuple("order", slug, stores.OrderID(slug, "order-0000001")), "order")
	if err != nil {
		return err
	}
	shard, err := read(dynamo.Tuple("poolshard", slug, sku, "0"), "shard")
	if err != nil {
		return err
	}
	key, err := read(dynamo.Tuple("poolkeys", slug, sku, "0", "0"), fmt.Sprintf("%012d", 0))
	if err != nil {
		return err
	}
	product, err := read(dynamo.Tuple("store", slug), dynamo.Tuple("product", sku))
	if err != nil {
		return err
	}
	id := stores.OrderID(slug, "order-0000001")
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(outboxTable),
		Key: dynamo.PK(outbox.Key("store:" + slug + ":order:" + id + ":fulfilled")), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "item sizes (bytes): order row %d, shard %d, key row %d, outbox event %d, product row %d (not written by a fulfilment)\n",
		dynamo.ItemSize(order), dynamo.ItemSize(shard), dynamo.ItemSize(key), dynamo.ItemSize(out.Item), dynamo.ItemSize(product))
	return nil
}
