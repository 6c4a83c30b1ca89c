package checkoutweb

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/biter777/countries"
	"golang.org/x/text/collate"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// supported are the languages the pages are written in; the first is the
// fallback.
var supported = []language.Tag{language.English, language.German}

var matcher = language.NewMatcher(supported)

// Locale is what a page is rendered in: its language and the printer that
// formats its numbers and money.
type Locale struct {
	Tag     language.Tag
	Lang    string // the <html lang> value: "en", "de"
	printer *message.Printer
	words   map[string]string
}

// newLocale picks the supported language closest to the preferences, in
// order: a session's locale, then the browser's Accept-Language.
func newLocale(prefs ...string) Locale {
	var tags []language.Tag
	for _, p := range prefs {
		if p == "" {
			continue
		}
		if t, _, err := language.ParseAcceptLanguage(p); err == nil {
			tags = append(tags, t...)
		}
	}
	_, i, _ := matcher.Match(tags...)
	tag := supported[i]
	base, _ := tag.Base()
	return Locale{Tag: tag, Lang: base.String(), printer: message.NewPrinter(tag), words: words[base.String()]}
}

func localeFor(r *http.Request, pref string) Locale {
	return newLocale(pref, r.Header.Get("Accept-Language"))
}

// T is the page text for key in the locale's language (the English text
// when the language lacks it; tests require every key in every language).
func (l Locale) T(key string) string {
	if s, ok := l.words[key]; ok {
		return s
	}
	if s, ok := words["en"][key]; ok {
		return s
	}
	return key
}

// Money formats an amount in minor units of an ISO 4217 currency for the
// locale: "£29.99" in English, "29,99 £" in German, "¥1,500", "KWD 1.250".
// The digits come from the integer and the currency's ISO 4217 exponent
// (money.Parts), never from a float.
func (l Locale) Money(minor int64, code string) string {
	sign, whole, frac, err := money.Parts(minor, code)
	if err != nil {
		return l.Number(minor) + "\u00a0" + code
	}
	w, _ := strconv.ParseInt(whole, 10, 64) // at most 19 digits of an int64
	digits := sign + l.Number(w)
	if frac != "" {
		digits += l.decimalSeparator() + frac
	}
	symbol := code
	if unit, err := currency.ParseISO(code); err == nil {
		symbol = l.printer.Sprint(currency.NarrowSymbol(unit))
	}
	switch {
	case l.Lang == "de":
		// CLDR places German symbols after the number.
		return digits + "\u00a0" + symbol
	case symbol == code:
		return symbol + "\u00a0" + digits // a code, not a sign: "KWD 1.250"
	}
	return symbol + digits
}

// decimalSeparator is the locale's: "," in German, "." in English.
func (l Locale) decimalSeparator() string {
	if l.Lang == "de" {
		return ","
	}
	return "."
}

// Number formats a whole number for the locale (1,234 / 1.234).
func (l Locale) Number(n int64) string { return l.printer.Sprint(number.Decimal(n)) }

// Percent formats an exact rate (0.175) as a percentage for the locale
// ("17.5 %" in German, "17.5%" in English), from its decimal digits.
func (l Locale) Percent(rate tax.Decimal) string {
	p := rate.Percent()
	if l.Lang == "de" {
		return strings.Replace(p, ".", ",", 1) + "\u00a0%"
	}
	return p + "%"
}

// Country is one choice of the billing country list.
type Country struct{ Code, Name string }

// Countries lists every ISO 3166-1 country, named and sorted in the
// locale's language.
func (l Locale) Countries() []Country {
	names := display.Regions(l.Tag)
	var out []Country
	for _, c := range countries.All() {
		code := c.Alpha2()
		if len(code) != 2 {
			continue
		}
		name := c.String()
		if r, err := language.ParseRegion(code); err == nil {
			if n := names.Name(r); n != "" {
				name = n
			}
		}
		out = append(out, Country{Code: code, Name: name})
	}
	col := collate.New(l.Tag)
	sort.Slice(out, func(i, j int) bool { return col.CompareString(out[i].Name, out[j].Name) < 0 })
	return out
}

// words are the pages' texts by language.
var words = map[string]map[string]string{
	"en": {
		"cart":                      "Your cart",
		"item":                      "Item",
		"quantity":                  "Quantity",
		"unit_price":                "Unit price",
		"line_total":                "Amount",
		"subtotal":                  "Subtotal",
		"tax":                       "Tax",
		"tax_later":                 "Tax is added once you give your billing country.",
		"tax_included_later":        "Prices include tax; its amount is shown once you give your billing country.",
		"includes":                  "includes",
		"total":                     "Total",
		"empty":                     "Your cart is empty.",
		"email":                     "Email address",
		"email_help":                "Your license keys are shown after payment and sent to this address.",
		"country":                   "Billing country",
		"choose":                    "Choose…",
		"subdivision":               "State, province or region",
		"subdivision_needed":        "The tax of this country depends on the state, province or region: please choose it.",
		"continue":                  "Continue to payment",
		"bad_email":                 "Please give a valid email address.",
		"bad_country":               "Please choose your billing country.",
		"bad_subdivision":           "Please choose your state, province or region from the list.",
		"cancel":                    "Cancel and return to the shop",
		"expires":                   "This cart is kept until",
		"problems":                  "Some items cannot be bought",
		"pay":                       "Payment",
		"pay_now":                   "Pay",
		"test_card":                 "Test card",
		"sandbox_note":              "Test mode: no real card is charged. Choose a test card.",
		"card_ok":                   "4242 4242 4242 4242 (payment succeeds)",
		"card_declined":             "4000 0000 0000 0002 (card declined)",
		"declined":                  "The payment did not go through",
		"other_browser":             "This payment was started in another browser. Please go back to the cart and start again.",
		"order":                     "Your order",
		"order_id":                  "Order",
		"status":                    "Status",
		"status_pending":            "Waiting for the payment to be confirmed…",
		"status_fulfilled":          "Paid: your license keys are below.",
		"status_refunded":           "Refunded: the license keys are revoked.",
		"status_partially_refunded": "Partly refunded.",
		"status_cancelled":          "Cancelled.",
		"update_cart":               "Update cart",
		"remove":                    "Remove",
		"bad_quantity":              "Quantities are whole numbers from 0 to 100. Nothing was changed.",
		"status_duplicate":          "This checkout was already paid by another order, so this second payment is refunded to you in full. Your license keys are on that order.",
		"paid_by":                   "Paid by order",
		"refreshing":                "This page refreshes by itself until your keys are ready.",
		"keys":                      "License keys",
		"market":                    "Marketplace",
		"market_intro":              "Products from every store on Tollgate.",
		"store":                     "Store",
		"product":                   "Product",
		"price":                     "Price",
		"add_to_cart":               "Add to cart",
		"no_products":               "No products are listed yet.",
		"back_market":               "Back to the marketplace",
		"error_404":                 "Not found",
		"error_404_text":            "We could not find this page. The link may be mistyped or no longer valid.",
		"error_410":                 "This checkout has expired",
		"error_410_text":            "The checkout link is no longer valid. Please return to the shop and start again.",
		"error_400":                 "Something is wrong with this request",
		"error_403":                 "This form has expired",
		"error_403_text":            "For your security the form could not be accepted. Please reload the page and try again.",
		"error_409":                 "This cannot be done",
		"error_503":                 "Temporarily unavailable",
		"error_503_text":            "We could not complete this just now. Please try again in a moment.",
		"skip":                      "Skip to content",
		"secure":                    "Secure checkout by Tollgate",
		"mail_receipt_subject":      "receipt for order",
		"mail_refund_subject":       "refund of order",
		"mail_receipt_intro":        "Thank you for your purchase. Your license keys are below: please keep this email.",
		"mail_refund_intro":         "Your order has been refunded.",
		"mail_keys_revoked":         "The license keys of this order are revoked and no longer work.",
		"mail_refunded":             "Refunded",
		"mail_date":                 "Date",
		"mail_view_order":           "View your order",
		"mail_support":              "Questions? Write to",
	},
	"de": {
		"cart":                      "Ihr Warenkorb",
		"item":                      "Artikel",
		"quantity":                  "Menge",
		"unit_price":                "Stückpreis",
		"line_total":                "Betrag",
		"subtotal":                  "Zwischensumme",
		"tax":                       "Steuer",
		"tax_later":                 "Die Steuer wird nach Angabe Ihres Rechnungslandes berechnet.",
		"tax_included_later":        "Die Preise enthalten die Steuer; ihr Betrag erscheint nach Angabe Ihres Rechnungslandes.",
		"includes":                  "enthält",
		"total":                     "Gesamt",
		"empty":                     "Ihr Warenkorb ist leer.",
		"email":                     "E-Mail-Adresse",
		"email_help":                "Ihre Lizenzschlüssel werden nach der Zahlung angezeigt und an diese Adresse gesendet.",
		"country":                   "Rechnungsland",
		"choose":                    "Bitte wählen…",
		"subdivision":               "Bundesland, Provinz oder Region",
		"subdivision_needed":        "Die Steuer dieses Landes hängt von der Region ab: bitte wählen Sie sie aus.",
		"continue":                  "Weiter zur Zahlung",
		"bad_email":                 "Bitte geben Sie eine gültige E-Mail-Adresse an.",
		"bad_country":               "Bitte wählen Sie Ihr Rechnungsland.",
		"bad_subdivision":           "Bitte wählen Sie Ihr Bundesland, Ihre Provinz oder Region aus der Liste.",
		"cancel":                    "Abbrechen und zum Shop zurückkehren",
		"expires":                   "Dieser Warenkorb bleibt erhalten bis",
		"problems":                  "Einige Artikel können nicht gekauft werden",
		"pay":                       "Zahlung",
		"pay_now":                   "Bezahlen",
		"test_card":                 "Testkarte",
		"sandbox_note":              "Testmodus: Es wird keine echte Karte belastet. Wählen Sie eine Testkarte.",
		"card_ok":                   "4242 4242 4242 4242 (Zahlung erfolgreich)",
		"card_declined":             "4000 0000 0000 0002 (Karte abgelehnt)",
		"declined":                  "Die Zahlung wurde nicht ausgeführt",
		"other_browser":             "Diese Zahlung wurde in einem anderen Browser begonnen. Bitte kehren Sie zum Warenkorb zurück.",
		"order":                     "Ihre Bestellung",
		"order_id":                  "Bestellung",
		"status":                    "Status",
		"status_pending":            "Die Zahlung wird bestätigt…",
		"status_fulfilled":          "Bezahlt: Ihre Lizenzschlüssel finden Sie unten.",
		"status_refunded":           "Erstattet: die Lizenzschlüssel sind widerrufen.",
		"status_partially_refunded": "Teilweise erstattet.",
		"status_cancelled":          "Storniert.",
		"update_cart":               "Warenkorb aktualisieren",
		"remove":                    "Entfernen",
		"bad_quantity":              "Mengen sind ganze Zahlen von 0 bis 100. Es wurde nichts geändert.",
		"status_duplicate":          "Dieser Einkauf war schon mit einer anderen Bestellung bezahlt. Diese zweite Zahlung wird Ihnen vollständig erstattet. Ihre Lizenzschlüssel finden Sie bei jener Bestellung.",
		"paid_by":                   "Bezahlt mit Bestellung",
		"refreshing":                "Diese Seite aktualisiert sich, bis Ihre Schlüssel bereitstehen.",
		"keys":                      "Lizenzschlüssel",
		"market":                    "Marktplatz",
		"market_intro":              "Produkte aller Shops auf Tollgate.",
		"store":                     "Shop",
		"product":                   "Produkt",
		"price":                     "Preis",
		"add_to_cart":               "In den Warenkorb",
		"no_products":               "Noch keine Produkte gelistet.",
		"back_market":               "Zurück zum Marktplatz",
		"error_404":                 "Nicht gefunden",
		"error_404_text":            "Diese Seite wurde nicht gefunden. Der Link ist vielleicht falsch oder nicht mehr gültig.",
		"error_410":                 "Dieser Checkout ist abgelaufen",
		"error_410_text":            "Der Checkout-Link ist nicht mehr gültig. Bitte kehren Sie zum Shop zurück und beginnen Sie erneut.",
		"error_400":                 "Mit dieser Anfrage stimmt etwas nicht",
		"error_403":                 "Dieses Formular ist abgelaufen",
		"error_403_text":            "Zu Ihrer Sicherheit wurde das Formular nicht angenommen. Bitte laden Sie die Seite neu.",
		"error_409":                 "Das ist nicht möglich",
		"error_503":                 "Vorübergehend nicht verfügbar",
		"error_503_text":            "Das hat gerade nicht geklappt. Bitte versuchen Sie es gleich noch einmal.",
		"skip":                      "Zum Inhalt springen",
		"secure":                    "Sicherer Checkout von Tollgate",
		"mail_receipt_subject":      "Beleg zur Bestellung",
		"mail_refund_subject":       "Erstattung der Bestellung",
		"mail_receipt_intro":        "Vielen Dank für Ihren Einkauf. Ihre Lizenzschlüssel finden Sie unten: bitte bewahren Sie diese E-Mail auf.",
		"mail_refund_intro":         "Ihre Bestellung wurde erstattet.",
		"mail_keys_revoked":         "Die Lizenzschlüssel dieser Bestellung sind widerrufen und funktionieren nicht mehr.",
		"mail_refunded":             "Erstattet",
		"mail_date":                 "Datum",
		"mail_view_order":           "Ihre Bestellung ansehen",
		"mail_support":              "Fragen? Schreiben Sie an",
	},
}

// LocaleFor is the locale of a page for r's Accept-Language: the partner
// portal formats money and numbers with it, as the checkout does.
func LocaleFor(r *http.Request) Locale { return localeFor(r, "") }
