package portalweb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Audit actions of the store family (portal.AuditOp's action; details
// never hold a key, a secret or a license key).
const (
	ActionKeyCreate      = "apikey.create"         // detail: the key's id, mode and name
	ActionKeyRevoke      = "apikey.revoke"         // detail: the key's id
	ActionSettings       = "store.settings"        // detail: the webhook URL
	ActionSecretRotate   = "webhook.secret.rotate" // detail: none
	ActionProductCreate  = "product.create"        // detail: the SKU
	ActionProductUpdate  = "product.update"        // detail: the SKU
	ActionLicensesUpload = "licensekeys.upload"    // detail: the chosen SKU and the lines
)

// uploadLimit bounds a license-key upload's request: the keys
// (stores.MaxUploadBytes) and the form around them.
const uploadLimit = stores.MaxUploadBytes + 64<<10

// Store is the PortalStoreFunction's family: a store's settings,
// products (the marketplace tab included), API keys and license keys.
func (p *Pages) Store() (http.Handler, error) {
	sp, err := stores.OpenPortal(context.Background(), p.Deps)
	if err != nil {
		return nil, err
	}
	s := &storePages{Pages: p, sp: sp}
	const base = "/portal/stores/{store}/"
	return p.family([]route{
		{Method: "GET", Pattern: base + "{$}", Roles: Everyone, Handle: func(w http.ResponseWriter, r *http.Request, q *Req) {
			seeOther(w, r, "/portal/stores/"+q.Store.Slug+"/overview/")
		}},
		{Method: "GET", Pattern: base + "settings/{$}", Roles: Everyone, Handle: s.settings},
		{Method: "POST", Pattern: base + "settings/{$}", Roles: Developers, Handle: s.settingsPost},
		{Method: "GET", Pattern: base + "products/{$}", Roles: Everyone, Handle: s.products},
		{Method: "POST", Pattern: base + "products/{$}", Roles: Developers, Handle: s.productCreate},
		{Method: "GET", Pattern: base + "products/{sku}/{$}", Roles: Everyone, Handle: s.product},
		{Method: "POST", Pattern: base + "products/{sku}/{$}", Roles: Developers, Handle: s.productUpdate},
		{Method: "GET", Pattern: base + "apikeys/{$}", Roles: Developers, Handle: s.apiKeys},
		{Method: "POST", Pattern: base + "apikeys/{$}", Roles: Developers, Handle: s.apiKeysPost},
		{Method: "GET", Pattern: base + "licenses/{$}", Roles: Everyone, Handle: s.licenses},
		{Method: "POST", Pattern: base + "licenses/{$}", Roles: Developers, Limit: uploadLimit, Handle: s.licensesPost},
	}), nil
}

type storePages struct {
	*Pages
	sp *stores.Portal
}

// audit is the audit row of a change of q's store.
func (s *storePages) audit(r *http.Request, q *Req, action, detail string) stores.TransactWriteItem {
	return portal.AuditOp(s.Deps.Store.Tables.Portal, q.Store.Slug, q.Actor(r), action, detail, s.now())
}

func (s *storePages) path(q *Req, section string) string {
	return "/portal/stores/" + q.Store.Slug + "/" + section + "/"
}

// canWrite reports whether q's role changes what a section shows.
func canWrite(q *Req) bool {
	return q.Store.Role == portal.RoleOwner || q.Store.Role == portal.RoleDeveloper
}

// ---- Settings ----

type settingsPage struct {
	S          stores.Settings
	Prices     string // "", "true", "false": pricesIncludeTax
	LowStock   string
	HasSecret  bool
	Previous   bool   // a rotated-out secret still signs
	PrevUntil  string // until when
	RotationID string
	NewSecret  string               // the rotation's secret: shown once
	Test       *stores.TestDelivery // the test event's outcome
	TestBody   string
	CanWrite   bool
	Error      string
}

func (s *storePages) settingsView(r *http.Request, q *Req, pg settingsPage) (view, error) {
	st, found, err := s.sp.Admin.ReadStore(r.Context(), q.Store.Slug)
	if err != nil {
		return view{}, err
	}
	if !found {
		return view{}, errNotFound
	}
	if pg.Error == "" {
		pg.S = st.Settings()
	}
	if pg.S.PricesIncludeTax != nil {
		pg.Prices = strconv.FormatBool(*pg.S.PricesIncludeTax)
	}
	if pg.S.LowStockThreshold != nil {
		pg.LowStock = strconv.FormatInt(*pg.S.LowStockThreshold, 10)
	}
	pg.HasSecret = st.WebhookSecretRef != ""
	if st.WebhookSecretPreviousRef != "" && s.now().Before(st.WebhookSecretPreviousUntil) {
		pg.Previous, pg.PrevUntil = true, st.WebhookSecretPreviousUntil.UTC().Format("2006-01-02 15:04 UTC")
	}
	pg.RotationID = stores.NewRotationID()
	pg.CanWrite = canWrite(q)
	return q.View("Settings", "settings", pg), nil
}

func (s *storePages) settings(w http.ResponseWriter, r *http.Request, q *Req) {
	v, err := s.settingsView(r, q, settingsPage{})
	if err != nil {
		s.fail(w, r, q.View("Settings", "settings", nil), "settings", err)
		return
	}
	v.Flash = flash(r)
	s.render(w, r, http.StatusOK, "settings", v)
}

func (s *storePages) settingsPost(w http.ResponseWriter, r *http.Request, q *Req) {
	ctx := r.Context()
	fail := func(err error) { s.fail(w, r, q.View("Settings", "settings", nil), "settings", err) }
	switch r.PostFormValue("action") {
	case "save":
		set, err := settingsFromForm(r)
		if err == nil {
			err = s.sp.UpdateSettings(ctx, q.Store.Slug, set, s.audit(r, q, ActionSettings, set.WebhookURL))
		}
		var invalid *stores.InvalidError
		if errors.As(err, &invalid) {
			v, verr := s.settingsView(r, q, settingsPage{S: set, Error: invalid.Reason + " (" + invalid.Field + ")"})
			if verr != nil {
				fail(verr)
				return
			}
			s.render(w, r, http.StatusBadRequest, "settings", v)
			return
		}
		if err != nil {
			fail(err)
			return
		}
		seeOther(w, r, s.path(q, "settings")+"?done=saved")
	case "rotate":
		if !s.recent(w, r, q) {
			return
		}
		rot, err := s.sp.RotateWebhookSecret(ctx, q.Store.Slug, r.PostFormValue("rotation"), s.audit(r, q, ActionSecretRotate, ""))
		if err != nil {
			fail(err)
			return
		}
		v, err := s.settingsView(r, q, settingsPage{NewSecret: rot.Secret})
		if err != nil {
			fail(err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, "settings", v)
	case "test":
		d, err := s.sp.SendTestEvent(ctx, q.Store.Slug)
		if err != nil {
			fail(err)
			return
		}
		v, err := s.settingsView(r, q, settingsPage{Test: &d, TestBody: string(d.Body)})
		if err != nil {
			fail(err)
			return
		}
		s.render(w, r, http.StatusOK, "settings", v)
	default:
		fail(badInput("Unknown action."))
	}
}

func settingsFromForm(r *http.Request) (stores.Settings, error) {
	set := stores.Settings{Name: strings.TrimSpace(r.PostFormValue("name")), SupportEmail: strings.TrimSpace(r.PostFormValue("supportEmail")),
		WebhookURL: strings.TrimSpace(r.PostFormValue("webhookUrl")), WebhookSignatureHeader: strings.TrimSpace(r.PostFormValue("signatureHeader")),
		EmailBuyers: r.PostFormValue("emailBuyers") == "on"}
	switch r.PostFormValue("pricesIncludeTax") {
	case "true", "false":
		b := r.PostFormValue("pricesIncludeTax") == "true"
		set.PricesIncludeTax = &b
	case "":
	default:
		return set, badInput("Prices include tax: choose yes, no or by currency.")
	}
	if low := strings.TrimSpace(r.PostFormValue("lowStock")); low != "" {
		n, err := strconv.ParseInt(low, 10, 64)
		if err != nil {
			return set, &stores.InvalidError{Field: "lowStockThreshold", Reason: "a whole number of keys"}
		}
		set.LowStockThreshold = &n
	}
	return set, nil
}

// ---- Products ----

type productRow struct {
	stores.Product
	Prices string
}

type productsPage struct {
	Products []productRow
	CanWrite bool
	Form     productForm
	Error    string
}

type productForm struct {
	SKU, Name, Prices   string
	Active, Marketplace bool
}

func (s *storePages) products(w http.ResponseWriter, r *http.Request, q *Req) {
	s.productsRender(w, r, q, http.StatusOK, productForm{Active: true}, "")
}

func (s *storePages) productsRender(w http.ResponseWriter, r *http.Request, q *Req, status int, form productForm, msg string) {
	l, err := stores.ReadListing(r.Context(), s.sp.Admin.DB, s.sp.Admin.Table, q.Store.Slug)
	if err != nil {
		s.fail(w, r, q.View("Products", "products", nil), "products", err)
		return
	}
	pg := productsPage{CanWrite: canWrite(q), Form: form, Error: msg}
	for _, p := range l.Products {
		pg.Products = append(pg.Products, productRow{Product: p, Prices: strings.TrimSpace(strings.ReplaceAll(stores.FormatPrices(p.Prices), "\n", ", "))})
	}
	sort.Slice(pg.Products, func(i, j int) bool { return pg.Products[i].SKU < pg.Products[j].SKU })
	v := q.View("Products", "products", pg)
	v.Flash = flash(r)
	s.render(w, r, status, "products", v)
}

func productFromForm(r *http.Request, sku string) (stores.ProductInput, productForm, error) {
	f := productForm{SKU: sku, Name: strings.TrimSpace(r.PostFormValue("name")), Prices: r.PostFormValue("prices"),
		Active: r.PostFormValue("active") == "on", Marketplace: r.PostFormValue("marketplace") == "on"}
	prices, err := stores.ParsePrices(f.Prices)
	if err != nil {
		return stores.ProductInput{}, f, err
	}
	return stores.ProductInput{SKU: sku, Name: f.Name, Prices: prices, Active: f.Active, Marketplace: f.Marketplace}, f, nil
}

func (s *storePages) productCreate(w http.ResponseWriter, r *http.Request, q *Req) {
	sku := strings.TrimSpace(r.PostFormValue("sku"))
	in, form, err := productFromForm(r, sku)
	if err == nil {
		err = s.sp.Admin.CreateProduct(r.Context(), q.Store.Slug, in, s.audit(r, q, ActionProductCreate, sku))
	}
	var invalid *stores.InvalidError
	switch {
	case errors.As(err, &invalid):
		s.productsRender(w, r, q, http.StatusBadRequest, form, invalid.Reason+" ("+invalid.Field+")")
	case errors.Is(err, stores.ErrProductExists):
		s.productsRender(w, r, q, http.StatusConflict, form, "The store has a product with this SKU already: edit it instead.")
	case err != nil:
		s.fail(w, r, q.View("Products", "products", nil), "products", err)
	default:
		seeOther(w, r, s.path(q, "products")+"?done=saved")
	}
}

type productPage struct {
	Form     productForm
	CanWrite bool
	Error    string
	Pool     stores.Pool
}

func (s *storePages) product(w http.ResponseWriter, r *http.Request, q *Req) {
	sku := r.PathValue("sku")
	l, err := stores.ReadListing(r.Context(), s.sp.Admin.DB, s.sp.Admin.Table, q.Store.Slug)
	if err != nil {
		s.fail(w, r, q.View("Product", "products", nil), "product", err)
		return
	}
	p, ok := l.Products[sku]
	if !ok {
		s.fail(w, r, q.View("Product", "products", nil), "product", errNotFound)
		return
	}
	form := productForm{SKU: sku, Name: p.Name, Prices: stores.FormatPrices(p.Prices), Active: p.Active, Marketplace: p.Marketplace}
	s.productRender(w, r, q, http.StatusOK, form, "")
}

func (s *storePages) productRender(w http.ResponseWriter, r *http.Request, q *Req, status int, form productForm, msg string) {
	pool, err := stores.ReadPool(r.Context(), s.sp.Admin.DB, s.sp.Admin.Table, q.Store.Slug, form.SKU)
	if err != nil {
		s.fail(w, r, q.View("Product", "products", nil), "product", err)
		return
	}
	v := q.View(form.SKU, "products", productPage{Form: form, CanWrite: canWrite(q), Error: msg, Pool: pool})
	v.Flash = flash(r)
	s.render(w, r, status, "product", v)
}

func (s *storePages) productUpdate(w http.ResponseWriter, r *http.Request, q *Req) {
	sku := r.PathValue("sku")
	if !stores.ValidSKU(sku) {
		s.fail(w, r, q.View("Product", "products", nil), "product", errNotFound)
		return
	}
	in, form, err := productFromForm(r, sku)
	if err == nil {
		err = s.sp.Admin.UpdateProduct(r.Context(), q.Store.Slug, in, s.audit(r, q, ActionProductUpdate, sku))
	}
	var invalid *stores.InvalidError
	switch {
	case errors.As(err, &invalid):
		s.productRender(w, r, q, http.StatusBadRequest, form, invalid.Reason+" ("+invalid.Field+")")
	case errors.Is(err, stores.ErrUnknownSKU):
		s.fail(w, r, q.View("Product", "products", nil), "product", errNotFound)
	case err != nil:
		s.fail(w, r, q.View("Product", "products", nil), "product", err)
	default:
		seeOther(w, r, s.path(q, "products")+sku+"/?done=saved")
	}
}

// ---- API keys ----

type apiKeysPage struct {
	Keys    []stores.KeyInfo
	NewKey  string // shown once
	NewInfo stores.KeyInfo
	Confirm *stores.KeyInfo // a revocation to confirm
	Error   string
}

func (s *storePages) apiKeys(w http.ResponseWriter, r *http.Request, q *Req) {
	s.apiKeysRender(w, r, q, http.StatusOK, apiKeysPage{})
}

func (s *storePages) apiKeysRender(w http.ResponseWriter, r *http.Request, q *Req, status int, pg apiKeysPage) {
	keys, err := s.sp.Admin.Keys(r.Context(), q.Store.Slug)
	if err != nil {
		s.fail(w, r, q.View("API keys", "apikeys", nil), "apikeys", err)
		return
	}
	// Newest first.
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	pg.Keys = keys
	v := q.View("API keys", "apikeys", pg)
	v.Flash = flash(r)
	if pg.NewKey != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.render(w, r, status, "apikeys", v)
}

func (s *storePages) apiKeysPost(w http.ResponseWriter, r *http.Request, q *Req) {
	ctx := r.Context()
	fail := func(err error) { s.fail(w, r, q.View("API keys", "apikeys", nil), "apikeys", err) }
	switch r.PostFormValue("action") {
	case "create":
		mode, name := r.PostFormValue("mode"), strings.TrimSpace(r.PostFormValue("name"))
		if mode != stores.ModeLive && mode != stores.ModeTest {
			s.apiKeysRender(w, r, q, http.StatusBadRequest, apiKeysPage{Error: "Choose live or test."})
			return
		}
		if name == "" {
			s.apiKeysRender(w, r, q, http.StatusBadRequest, apiKeysPage{Error: "Give the key a name (what uses it)."})
			return
		}
		if mode == stores.ModeLive && !s.recent(w, r, q) {
			return
		}
		// The audit row names the key by its id: known only once it is
		// made, so the detail says the mode and name; the list shows the id.
		key, info, err := s.sp.Admin.CreateKey(ctx, q.Store.Slug, mode, name, s.audit(r, q, ActionKeyCreate, mode+" "+name))
		if errors.Is(err, stores.ErrKeyName) {
			s.apiKeysRender(w, r, q, http.StatusBadRequest, apiKeysPage{Error: "A key's name is 1 to 64 printable characters."})
			return
		}
		if err != nil {
			fail(err)
			return
		}
		s.apiKeysRender(w, r, q, http.StatusOK, apiKeysPage{NewKey: key, NewInfo: info})
	case "revoke":
		id := r.PostFormValue("id")
		if r.PostFormValue("confirm") != "yes" {
			keys, err := s.sp.Admin.Keys(ctx, q.Store.Slug)
			if err != nil {
				fail(err)
				return
			}
			for _, k := range keys {
				if k.ID == id && k.RevokedAt.IsZero() {
					s.apiKeysRender(w, r, q, http.StatusOK, apiKeysPage{Confirm: &k})
					return
				}
			}
			fail(errNotFound)
			return
		}
		err := s.sp.Admin.RevokeKey(ctx, q.Store.Slug, id, s.audit(r, q, ActionKeyRevoke, id))
		if errors.Is(err, stores.ErrNoKey) {
			fail(errNotFound)
			return
		}
		if err != nil {
			fail(err)
			return
		}
		seeOther(w, r, s.path(q, "apikeys")+"?done=revoked")
	default:
		fail(badInput("Unknown action."))
	}
}

// ---- License keys ----

type licensesPage struct {
	Levels    []levelRow
	SKUs      []string
	Threshold int64
	CanWrite  bool
	Summary   *stores.UploadSummary
	Error     string
	MaxLines  int
}

type levelRow struct {
	SKU  string
	Pool stores.Pool
	Low  bool
}

func (s *storePages) licenses(w http.ResponseWriter, r *http.Request, q *Req) {
	s.licensesRender(w, r, q, http.StatusOK, licensesPage{})
}

func (s *storePages) licensesRender(w http.ResponseWriter, r *http.Request, q *Req, status int, pg licensesPage) {
	levels, err := s.sp.Admin.PoolLevels(r.Context(), q.Store.Slug)
	if err != nil {
		s.fail(w, r, q.View("License keys", "licenses", nil), "licenses", err)
		return
	}
	st, _, err := s.sp.Admin.ReadStore(r.Context(), q.Store.Slug)
	if err != nil {
		s.fail(w, r, q.View("License keys", "licenses", nil), "licenses", err)
		return
	}
	pg.Threshold = st.LowStockThreshold()
	for sku, pool := range levels {
		pg.Levels = append(pg.Levels, levelRow{SKU: sku, Pool: pool, Low: pg.Threshold > 0 && pool.Available <= pg.Threshold})
		pg.SKUs = append(pg.SKUs, sku)
	}
	sort.Slice(pg.Levels, func(i, j int) bool { return pg.Levels[i].SKU < pg.Levels[j].SKU })
	sort.Strings(pg.SKUs)
	pg.CanWrite, pg.MaxLines = canWrite(q), stores.MaxUploadLines
	s.render(w, r, status, "licenses", q.View("License keys", "licenses", pg))
}

func (s *storePages) licensesPost(w http.ResponseWriter, r *http.Request, q *Req) {
	sku := r.PostFormValue("sku")
	data := r.PostFormValue("keys")
	if f, _, err := r.FormFile("file"); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(f, stores.MaxUploadBytes+1))
		_ = f.Close()
		if rerr != nil {
			s.fail(w, r, q.View("License keys", "licenses", nil), "licenses", badInput("The file could not be read."))
			return
		}
		if len(b) > 0 {
			data = string(b)
		}
	}
	if strings.TrimSpace(data) == "" {
		s.licensesRender(w, r, q, http.StatusBadRequest, licensesPage{Error: "Paste keys or choose a file."})
		return
	}
	lines := strings.Count(strings.TrimSuffix(data, "\n"), "\n") + 1
	sum, err := s.sp.Admin.UploadLicenseKeys(r.Context(), q.Store.Slug, sku, data,
		s.audit(r, q, ActionLicensesUpload, fmt.Sprintf("sku %q, %d lines", sku, lines)))
	var tooLarge *stores.UploadTooLargeError
	var invalid *stores.InvalidError
	switch {
	case errors.As(err, &tooLarge):
		s.licensesRender(w, r, q, http.StatusRequestEntityTooLarge, licensesPage{Error: "Not imported: " + tooLarge.Message + "."})
	case errors.As(err, &invalid):
		s.licensesRender(w, r, q, http.StatusBadRequest, licensesPage{Error: invalid.Reason + " (" + invalid.Field + ")"})
	case errors.Is(err, stores.ErrUnknownSKU):
		s.licensesRender(w, r, q, http.StatusBadRequest, licensesPage{Error: "Choose one of the store's products."})
	case err != nil:
		s.fail(w, r, q.View("License keys", "licenses", nil), "licenses", err)
	default:
		s.licensesRender(w, r, q, http.StatusOK, licensesPage{Summary: &sum})
	}
}
