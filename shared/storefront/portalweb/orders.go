package portalweb

import "net/http"

// Orders is the PortalOrdersFunction's family: a store's overview, its
// orders (detail and refund) and its webhook deliveries.
func (p *Pages) Orders() (http.Handler, error) {
	return p.family([]route{}), nil
}
