// Package functions lists every Lambda function's handler constructor by the
// function's logical id in template.yaml. The local runner, the invoke tool
// and the tests build handlers from it; each Lambda binary imports only its
// own handler.
package functions

import (
	authorize "github.com/tollgate-dev/tollgate/functions/authorize/handler"
	inventory "github.com/tollgate-dev/tollgate/functions/inventory/handler"
	"github.com/tollgate-dev/tollgate/shared/platform"
)

// Constructors maps logical id to handler constructor.
var Constructors = map[string]platform.Constructor{
	"AuthorizeFunction": authorize.New,
	"InventoryFunction": inventory.New,
}
