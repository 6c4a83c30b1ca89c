package portalweb

import "net/http"

// Team is the PortalTeamFunction's family: a store's members and roles,
// invitations, and its audit log (owners only).
func (p *Pages) Team() (http.Handler, error) {
	return p.family([]route{}), nil
}
