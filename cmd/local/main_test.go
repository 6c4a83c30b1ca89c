package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// TestStartUp starts make run's server, asks it one request and stops it:
// a person (a terminal, or LOG_FORMAT=text) reads the summary, which names
// each URL, the demo credentials and where each key comes from, and a line
// per request; otherwise (LOG_FORMAT=json, or stdout not a terminal) every
// line is JSON, the start-up's included.
func TestStartUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every function")
	}
	tests := []struct {
		name     string
		format   string
		terminal bool
		text     bool
	}{
		{"terminal", "", true, true},
		{"terminal, LOG_FORMAT=json", "json", true, false},
		{"pipe", "", false, false},
		{"pipe, LOG_FORMAT=text", "text", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"DATA_DIR", "CATALOG_FILE", "STORES_FILE", "DYNAMODB_ENDPOINT", "LOG_LEVEL",
				localenv.EnvPaymentsSecretKey, localenv.EnvPaymentsPublishableKey} {
				t.Setenv(k, "")
			}
			t.Setenv("STASH_API_KEY", "stash-key-from-the-environment")
			t.Setenv(envLogFormat, tt.format)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out logtest.Buffer
			var base string
			err := run(ctx, []string{"-addr", "127.0.0.1:0"}, &out, tt.terminal, func(b string) {
				base = b
				go func() { // served once run's Serve starts
					defer cancel()
					resp, err := http.Get(b + "/openapi.yaml")
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}()
			})
			if err != nil {
				t.Fatal(err)
			}
			log := out.String()
			if strings.Count(log, "legacy Stash signatures are accepted") > 1 {
				t.Errorf("the legacy-signature warning more than once:\n%s", log)
			}
			if !tt.text {
				for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
					if !json.Valid([]byte(line)) {
						t.Errorf("not a JSON line: %q", line)
					}
				}
				for _, want := range []string{`"msg":"tollgate listening","url":"` + base + `"`, `"msg":"route"`, `"msg":"key","name":"STASH_API_KEY","source":"environment"`, `"msg":"request","function":"OpenAPIFunction"`, `"msg":"metrics summary"`} {
					if !strings.Contains(log, want) {
						t.Errorf("no %s in the JSON log:\n%s", want, log)
					}
				}
				return
			}
			for _, want := range []string{
				"Tollgate is running on " + base,
				base + "/s/my-store/cart/?add=WIN-11-PRO&currency=GBP",
				base + "/market/",
				base + "/openapi.yaml",
				"my-store, API key sk_test_local_only_1",
				"demo (payments API): secret key " + localenv.DevPaymentsSecretKey + ", publishable key " + localenv.DevPaymentsPublishableKey,
				"from the environment: STASH_API_KEY\n",
				"development defaults: STASH_EGRESS_KEY, STASH_WEBHOOK_SECRET, GAME_SERVER_KEY, CHECKOUT_SIGNING_KEY, PAYMENTS_SECRET_KEY, PAYMENTS_PUBLISHABLE_KEY\n",
				"unset: CHECKOUT_STRIPE_SECRET_KEY",
				"IAM roles",
				" INFO  request function=OpenAPIFunction method=GET path=/openapi.yaml status=200 ",
				"metrics: none emitted", // the summary on the way out (serving the contract counts nothing)
			} {
				if !strings.Contains(log, want) {
					t.Errorf("no %q in the summary:\n%s", want, log)
				}
			}
			for _, line := range strings.Split(log, "\n") {
				if strings.HasPrefix(line, "{") {
					t.Errorf("a JSON line for a person: %s", line)
				}
			}
			for _, startLine := range []string{"tollgate listening", "route", "catalog loaded"} {
				if strings.Contains(log, " INFO  "+startLine) {
					t.Errorf("start-up line %q besides the summary:\n%s", startLine, log)
				}
			}
		})
	}
}

// The summary of other stores and of a run without IAM roles.
func TestSummary(t *testing.T) {
	tests := []struct {
		name      string
		store     stores.FileStore
		roles     bool
		want, not []string
	}{
		{"a product in several currencies", stores.FileStore{Slug: "shop", APIKeys: []string{"sk_1"}, Products: []stores.FileProduct{{SKU: "A", Prices: map[string]int64{"USD": 1, "EUR": 1}}}}, true,
			[]string{"http://x/s/shop/cart/?add=A&currency=EUR", "shop, API key sk_1", "under its own role"}, nil},
		{"no product, no key", stores.FileStore{Slug: "empty"}, false,
			[]string{"empty, no API key", "NOT enforced"}, []string{"Add to cart"}},
		{"no store", stores.FileStore{}, true, []string{"http://x/market/"}, []string{"Add to cart", "Demo store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			startup{Base: "http://x", DemoStore: tt.store, Roles: tt.roles}.print(&b)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in:\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("%q in:\n%s", n, b.String())
				}
			}
		})
	}
}

func TestTextLog(t *testing.T) {
	for _, tt := range []struct {
		format   string
		terminal bool
		want     string // text, json or error
	}{
		{"", true, "text"}, {"", false, "json"}, {"json", true, "json"}, {"text", false, "text"}, {"yaml", true, "error"},
	} {
		text, err := textLog(tt.format, tt.terminal)
		got := map[bool]string{true: "text", false: "json"}[text]
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("LOG_FORMAT=%q, terminal %v: %s, want %s", tt.format, tt.terminal, got, tt.want)
		}
	}
}
