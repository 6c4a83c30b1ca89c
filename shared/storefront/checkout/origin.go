package checkout

import "fmt"

// publicURL is the absolute URL of path (starting with /) on the checkout
// pages: under PUBLIC_BASE_URL when set, else under origin, the origin
// the request came to (httpx.RequestOrigin). The one place the checkout makes a
// URL absolute.
func (s *Service) publicURL(origin, path string) (string, error) {
	base := s.base
	if base == "" {
		base = origin
	}
	if base == "" {
		return "", fmt.Errorf("checkout: no %s and no request origin to build a URL from", EnvPublicBaseURL)
	}
	return base + path, nil
}
