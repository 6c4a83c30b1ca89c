// Package apigw stands in for API Gateway's HTTP API in front of the local
// functions: it selects the route of a request over the template's routes
// as AWS documents it for HTTP APIs, builds the payload format 2.0 event API
// Gateway would send, invokes the function's real Lambda entry through
// aws-lambda-go's handler (the event and the answer cross as JSON, as they
// do in Lambda) and turns the answer back into HTTP as API Gateway does. A
// template route API Gateway would refuse or drop makes New fail, so such a
// template fails `make run` and `make test` alike.
package apigw

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Route is one route of the HTTP API: METHOD (or ANY) and a path in API
// Gateway's syntax (/purchase/{playerId}, /market/{slash+}), or the
// $default route; Function is the logical id of its integration.
type Route struct {
	Method, Path, Function string
}

// DefaultRoute is the path of the catch-all route.
const DefaultRoute = "$default"

// Key is the route key API Gateway puts in the event ("GET /market", "$default").
func (r Route) Key() string {
	if r.Path == DefaultRoute {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// segment is one path segment of a route: literal text or a variable.
type segment struct {
	literal string
	param   string // variable name; "" for a literal
	greedy  bool   // {name+}: the rest of the path, the last segment only
}

type compiled struct {
	Route
	segments []segment
}

var (
	paramName = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)
	methods   = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "ANY": true}
)

// compile checks a route as API Gateway (and SAM) would accept it. A path
// ending in "/" is refused: API Gateway refuses such a route ("invalid route
// name"), and SAM silently drops it while keeping the integration
// (aws/serverless-application-model#1949) and strips the slash from its
// invoke permission.
func compile(r Route) (compiled, error) {
	c := compiled{Route: r}
	if r.Path == DefaultRoute {
		return c, nil
	}
	if !methods[r.Method] {
		return c, fmt.Errorf("route %s: method %q is not an HTTP API method", r.Key(), r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return c, fmt.Errorf("route %s: the path must start with /", r.Key())
	}
	if r.Path == "/" {
		return c, nil
	}
	if strings.HasSuffix(r.Path, "/") {
		return c, fmt.Errorf("route %s: a path ending in / is not an API Gateway route (SAM drops it; serve the slash with {%s+})", r.Key(), "slash")
	}
	parts := strings.Split(r.Path[1:], "/")
	seen := map[string]bool{}
	for i, p := range parts {
		switch {
		case p == "":
			return c, fmt.Errorf("route %s: empty path segment", r.Key())
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name := p[1 : len(p)-1]
			s := segment{param: name}
			if n, ok := strings.CutSuffix(name, "+"); ok {
				if i != len(parts)-1 {
					return c, fmt.Errorf("route %s: the greedy variable %s must end the path", r.Key(), p)
				}
				s = segment{param: n, greedy: true}
			}
			if !paramName.MatchString(s.param) || seen[s.param] {
				return c, fmt.Errorf("route %s: bad or repeated path variable %s", r.Key(), p)
			}
			seen[s.param] = true
			c.segments = append(c.segments, s)
		case strings.ContainsAny(p, "{}+"):
			return c, fmt.Errorf("route %s: segment %q mixes text and a variable", r.Key(), p)
		default:
			c.segments = append(c.segments, segment{literal: p})
		}
	}
	return c, nil
}

// shape is the route with its variables' names erased: two routes of one
// method and one shape are the same route to API Gateway.
func (c compiled) shape() string {
	var b strings.Builder
	b.WriteString(c.Method + " ")
	for _, s := range c.segments {
		switch {
		case s.greedy:
			b.WriteString("/{+}")
		case s.param != "":
			b.WriteString("/{}")
		default:
			b.WriteString("/" + s.literal)
		}
	}
	return b.String()
}

// Compile checks every route and that no two collide (same method and
// shape: API Gateway keeps one route key per method and path).
func Compile(routes []Route) ([]compiled, error) {
	out := make([]compiled, 0, len(routes))
	byShape := map[string]Route{}
	var errs []string
	for _, r := range routes {
		c, err := compile(r)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		key := c.shape()
		if r.Path == DefaultRoute {
			key = DefaultRoute
		}
		if prev, dup := byShape[key]; dup {
			errs = append(errs, fmt.Sprintf("routes %s (%s) and %s (%s) collide", prev.Key(), prev.Function, r.Key(), r.Function))
			continue
		}
		byShape[key] = r
		out = append(out, c)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("template routes API Gateway would refuse or drop:\n  %s", strings.Join(errs, "\n  "))
	}
	return out, nil
}

// match reports whether path segments (still URL-encoded) fit c, with the
// variables' raw values.
func (c compiled) match(parts []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range c.segments {
		if s.greedy {
			if i >= len(parts) {
				return nil, false // "/market" is not "/market/"
			}
			// The rest, possibly empty: "/market/" fits /market/{slash+}.
			set(s.param, strings.Join(parts[i:], "/"))
			return params, true
		}
		if i >= len(parts) || parts[i] == "" {
			return nil, false
		}
		if s.param == "" {
			if parts[i] != s.literal {
				return nil, false
			}
			continue
		}
		set(s.param, parts[i])
	}
	return params, len(parts) == len(c.segments)
}

// greedy reports whether the route ends in a greedy variable.
func (c compiled) greedy() bool {
	return len(c.segments) > 0 && c.segments[len(c.segments)-1].greedy
}

// moreSpecific orders two routes that both match one request: a literal
// segment beats a variable at the first place they differ (GET /pets/dog/1
// before GET /pets/dog/{id}), then a longer literal prefix of a greedy
// route, then a named method before ANY.
func moreSpecific(a, b compiled) bool {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		al, bl := a.segments[i].param == "", b.segments[i].param == ""
		if al != bl {
			return al
		}
		if a.segments[i].greedy != b.segments[i].greedy {
			return !a.segments[i].greedy
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}
