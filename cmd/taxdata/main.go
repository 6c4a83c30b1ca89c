// Command taxdata regenerates shared/storefront/tax/rates.json from the npm package
// sales-tax (MIT), whose res/sales_tax_rates.json holds each country's
// current VAT/GST rate and US state and Canadian province rates:
//
//	npm pack sales-tax@2.23.0 && tar xzf sales-tax-2.23.0.tgz
//	go run ./cmd/taxdata -version 2.23.0 -as-of 2026-05-19 package/res/sales_tax_rates.json
//
// Rates that applied only before a date ("before") are left out; US state
// entries, which the package labels "vat", are sales taxes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

func main() {
	out := flag.String("o", "shared/storefront/tax/rates.json", "output file")
	version := flag.String("version", "", "the sales-tax package version read (required)")
	asOf := flag.String("as-of", "", "the package's release date, YYYY-MM-DD (required)")
	flag.Parse()
	if flag.NArg() != 1 || *version == "" || *asOf == "" {
		fmt.Fprintln(os.Stderr, "usage: taxdata -version X.Y.Z -as-of YYYY-MM-DD [-o shared/storefront/tax/rates.json] sales_tax_rates.json")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *version, *asOf); err != nil {
		fmt.Fprintln(os.Stderr, "taxdata:", err)
		os.Exit(1)
	}
}

type source struct {
	Type     string              `json:"type"`
	Currency string              `json:"currency"`
	Rate     tax.Decimal         `json:"rate"` // the source's digits, never a float
	States   map[string]tax.Rate `json:"states"`
}

func run(in, out, version, asOf string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src map[string]source
	if err := json.Unmarshal(data, &src); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	d := tax.Dataset{Source: "npm sales-tax " + version + " (res/sales_tax_rates.json)", License: "MIT", AsOf: asOf, Countries: map[string]tax.Country{}}
	for code, c := range src {
		if len(code) != 2 {
			return fmt.Errorf("%s: country %q is not an ISO 3166-1 alpha-2 code", in, code)
		}
		tc := tax.Country{Type: c.Type, Rate: c.Rate, Currency: c.Currency}
		for state, r := range c.States {
			if tc.Subdivisions == nil {
				tc.Subdivisions = map[string]tax.Rate{}
			}
			if code == "US" {
				r.Type = "sales_tax"
			}
			tc.Subdivisions[state] = tax.Rate{Type: r.Type, Rate: r.Rate}
		}
		d.Countries[code] = tc
	}
	js, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(js, '\n'), 0o644)
}
