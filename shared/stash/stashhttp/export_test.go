package stashhttp

import "sync"

// ResetLegacyWarning lets the next Signatures warn again, as in a new process.
func ResetLegacyWarning() { legacyWarning = sync.Once{} }
