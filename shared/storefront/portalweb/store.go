package portalweb

import "net/http"

// Store is the PortalStoreFunction's family: a store's settings,
// products (the marketplace tab included), API keys and license keys.
func (p *Pages) Store() (http.Handler, error) {
	return p.family([]route{
		{Method: "GET", Pattern: "/portal/stores/{store}/{$}", Roles: Everyone, Handle: func(w http.ResponseWriter, r *http.Request, q *Req) {
			seeOther(w, r, "/portal/stores/"+q.Store.Slug+"/overview/")
		}},
	}), nil
}
