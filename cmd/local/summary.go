package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// envLogFormat chooses the log's form: "json" (a JSON line per record, the
// start-up included: what machines and make load read) or "text" (a
// summary at start, then a line per record for a person). Default: text
// when stdout is a terminal, else json.
const envLogFormat = "LOG_FORMAT"

// textLog reports whether the log is for a person (LOG_FORMAT, or whether
// stdout is a terminal).
func textLog(format string, terminal bool) (bool, error) {
	switch format {
	case "":
		return terminal, nil
	case "text":
		return true, nil
	case "json":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: want json or text", envLogFormat, format)
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// keySource is where a development key of the run comes from.
type keySource struct {
	Var    string // its environment variable
	Source string // sourceEnv, sourceDefault or sourceUnset
}

const (
	sourceEnv     = "environment"
	sourceDefault = "development default (see docs/local.md)"
	sourceUnset   = "unset (see docs/local.md)"
)

// keySources tells where each key comes from: the keys of secrets.Names,
// then the demo merchant's.
func keySources(getenv func(string) string) []keySource {
	var out []keySource
	add := func(v, def string) {
		source := sourceEnv
		switch {
		case getenv(v) != "":
		case def != "":
			source = sourceDefault
		default:
			source = sourceUnset
		}
		out = append(out, keySource{v, source})
	}
	for _, n := range secrets.Names {
		add(n.EnvVar(), localenv.DevKeys[n])
	}
	add(localenv.EnvPaymentsSecretKey, localenv.DevPaymentsSecretKey)
	add(localenv.EnvPaymentsPublishableKey, localenv.DevPaymentsPublishableKey)
	return out
}

// startup is what the start-up tells: the JSON lines or the summary.
type startup struct {
	Base     string   // the API's URL
	Routes   []string // "METHOD /path -> Function"
	Roles    bool     // functions run under their IAM roles
	DynamoDB string
	Catalog  string // where the catalog comes from
	Stores   string // where the stores come from
	MailDir  string // where the emails are kept (served at /dev/mail/)
	Keys     []keySource
	// DemoStore is the first store of the stores file.
	DemoStore stores.FileStore
	// Portal is the partner portal's URL on localhost (a passkey's relying
	// party is a name, never an IP address) and DemoOwner the address of
	// the demo store's owner.
	Portal, DemoOwner string
	// MerchantSecret and MerchantPublishable are the demo merchant's keys.
	MerchantSecret, MerchantPublishable string
}

// logJSON logs the start-up as JSON lines: a line per key and per route,
// then "tollgate listening" (make load waits for the server on it).
func (s startup) logJSON(logger *slog.Logger) {
	logger.Info("catalog loaded", "source", s.Catalog)
	logger.Info("stores loaded", "source", s.Stores)
	if s.Portal != "" {
		logger.Info("partner portal", "url", s.Portal, "demoOwner", s.DemoOwner)
	}
	for _, k := range s.Keys {
		logger.Info("key", "name", k.Var, "source", k.Source)
	}
	for _, r := range s.Routes {
		logger.Info("route", "route", r)
	}
	logger.Info("mail kept", "mail_dir", s.MailDir, "mailbox", s.Base+"/dev/mail/")
	logger.Info("tollgate listening", "url", s.Base, "contract", s.Base+"/openapi.yaml", "dynamodb", s.DynamoDB)
}

// cartLink is the demo store's cart with its first product added, in the
// first of its currencies ("" without a product).
func (s startup) cartLink() string {
	st := s.DemoStore
	if st.Slug == "" || len(st.Products) == 0 || len(st.Products[0].Prices) == 0 {
		return ""
	}
	p := st.Products[0]
	currencies := make([]string, 0, len(p.Prices))
	for c := range p.Prices {
		currencies = append(currencies, c)
	}
	slices.Sort(currencies)
	return fmt.Sprintf("%s/s/%s/cart/?add=%s&currency=%s", s.Base, st.Slug, p.SKU, currencies[0])
}

// print writes the summary a person reads instead of the start-up's JSON
// lines.
func (s startup) print(w io.Writer) {
	b := &strings.Builder{}
	row := func(label, format string, args ...any) {
		fmt.Fprintf(b, "  %-15s"+format+"\n", append([]any{label}, args...)...)
	}
	fmt.Fprintf(b, "\nTollgate is running on %s (%d routes, each through API Gateway's path).\n\n", s.Base, len(s.Routes))
	if link := s.cartLink(); link != "" {
		row("Add to cart", "%s", link)
	}
	row("Marketplace", "%s/market/", s.Base)
	if s.Portal != "" {
		row("Partner portal", "%s (sign in as %s; the link arrives in the mail below)", s.Portal, s.DemoOwner)
	}
	row("API contract", "%s/openapi.yaml", s.Base)
	if s.MailDir != "" {
		row("Mail", "%s/dev/mail/ (the buyers' emails, kept as .eml files in %s)", s.Base, s.MailDir)
	}
	b.WriteString("\n")
	if st := s.DemoStore; st.Slug != "" {
		key := "no API key"
		if len(st.APIKeys) > 0 {
			key = "API key " + st.APIKeys[0]
		}
		row("Demo store", "%s, %s (Authorization: Bearer)", st.Slug, key)
	}
	row("Demo merchant", "%s (payments API): secret key %s, publishable key %s", localenv.DemoMerchant, s.MerchantSecret, s.MerchantPublishable)
	label := "Keys"
	for _, source := range []struct{ source, says string }{
		{sourceEnv, "from the environment"}, {sourceDefault, "development defaults"}, {sourceUnset, "unset"},
	} {
		var vars []string
		for _, k := range s.Keys {
			if k.Source == source.source {
				vars = append(vars, k.Var)
			}
		}
		if len(vars) > 0 {
			row(label, "%s: %s", source.says, strings.Join(vars, ", "))
			label = ""
		}
	}
	row("", "(docs/local.md lists the defaults; a tour by curl: README \"A 60-second tour\")")
	row("Catalog", "%s", s.Catalog)
	row("Stores", "%s", s.Stores)
	row("DynamoDB", "%s", s.DynamoDB)
	if s.Roles {
		row("IAM roles", "each function runs under its own role, as deployed")
	} else {
		row("IAM roles", "NOT enforced: every call allowed (samtranslator missing)")
	}
	b.WriteString("\nRequests are logged below, a line each (LOG_FORMAT=json: JSON lines). Ctrl-C stops it.\n\n")
	_, _ = io.WriteString(w, b.String()) // the banner on the terminal: nothing to do if it fails
}
