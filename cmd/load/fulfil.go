package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The store the fulfilment load sells from: one SKU whose pool holds
// fulfilKeys keys (spread over its shards as an import spreads them).
const (
	fulfilStore = "launch"
	fulfilSKU   = "GAME-1"
	fulfilKey   = "sk_test_load_fulfil_0001" //nolint:gosec // a test-mode key of the load's own throwaway store
	fulfilFn    = "FulfillFunction"
)

// runFulfil is -fulfil-clients: make run's server with a store of one SKU
// holding keys keys, then clients licensing fulfilments of one key back to
// back for d. It prints fulfilments per second, the DynamoDB calls per
// fulfilment the server logged (beyond the happy path's 2: claims planned
// again after another request moved their shard, and refusals' reads), and
// checks every answered key is distinct.
func runFulfil(ctx context.Context, cfg config, endpoint, backend string) error {
	dir, err := os.MkdirTemp("", "tollgate-load-fulfil-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys := make([]string, cfg.fulfilKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("LOAD-%07d-KEY", i)
	}
	file, _ := json.Marshal(map[string]any{"stores": []map[string]any{{"slug": fulfilStore, "name": "Launch", "apiKeys": []string{fulfilKey},
		"products": []map[string]any{{"sku": fulfilSKU, "name": "The game", "prices": map[string]int64{"GBP": 2999}, "licenseKeys": keys}}}}})
	storesFile := filepath.Join(dir, "stores.json")
	catalogFile := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(storesFile, file, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(catalogFile, loadCatalog, 0o600); err != nil {
		return err
	}
	start := time.Now()
	srv, err := startServerEnv(ctx, dir, catalogFile, endpoint, "", nil, []string{"STORES_FILE=" + storesFile, "FULFIL_RATE_LIMIT=100000000"})
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("load: %s on %s, DynamoDB %s; a pool of %d keys of one SKU (imported at start in %s); %v of %d clients fulfilling one key back to back\n",
		srv.URL, hostInfo(), backend, cfg.fulfilKeys, time.Since(start).Round(time.Second), cfg.duration, cfg.fulfilClients)
	url := srv.URL + "/api/v1/stores/" + fulfilStore + "/licensing/fulfill/"
	client := &http.Client{Timeout: cfg.timeout}
	var n atomic.Int64
	var mu sync.Mutex
	given := map[string]bool{}
	outcomes := map[string]int{}
	loadCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	began := time.Now()
	for range cfg.fulfilClients {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				i := n.Add(1)
				body := fmt.Sprintf(`{"items":[{"sku":%q,"quantity":1}],"external_reference":"load-%d","currency":"GBP","total_minor":2999}`, fulfilSKU, i)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(body))
				req.Header.Set("Authorization", "Bearer "+fulfilKey)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				outcome := "error"
				var answer struct {
					Items []struct {
						LicenseKeys []string `json:"license_keys"`
					} `json:"items"`
				}
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					outcome = fmt.Sprint(resp.StatusCode)
					if resp.StatusCode == http.StatusCreated && json.Unmarshal(b, &answer) == nil && len(answer.Items) == 1 && len(answer.Items[0].LicenseKeys) == 1 {
						mu.Lock()
						if given[answer.Items[0].LicenseKeys[0]] {
							outcome = "a key given twice"
						}
						given[answer.Items[0].LicenseKeys[0]] = true
						mu.Unlock()
					}
				}
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	calls := srv.log.waitFor(fulfilFn, outcomes["201"], 5*time.Second)[fulfilFn]
	var requests, total, extra int
	var counts []int
	for c, k := range calls {
		requests += k
		total += c * k
		extra += max(0, c-2) * k
		counts = append(counts, c)
	}
	sort.Ints(counts)
	var hist []string
	for _, c := range counts {
		hist = append(hist, fmt.Sprintf("%d calls: %d", c, calls[c]))
	}
	fmt.Printf("fulfilments: %d in %s = %.0f/s; answers %v\n", outcomes["201"], elapsed.Round(time.Millisecond),
		float64(outcomes["201"])/elapsed.Seconds(), outcomes)
	if requests > 0 {
		fmt.Printf("DynamoDB calls per fulfilment (server log): %.3f; beyond the 2 of the happy path: %.3f per fulfilment (%s)\n",
			float64(total)/float64(requests), float64(extra)/float64(requests), strings.Join(hist, ", "))
	}
	if outcomes["a key given twice"] > 0 || len(given) != outcomes["201"] {
		return fmt.Errorf("%d keys given for %d fulfilments", len(given), outcomes["201"])
	}
	fmt.Printf("every fulfilment got its own key (%d distinct)\n", len(given))
	return nil
}
