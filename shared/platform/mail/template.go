package mail

import "strings"

// WithName is the sender address addr shown as name ("Name" <addr>),
// quoted for the header; addr as it is when it names itself already.
func WithName(name, addr string) string {
	if strings.Contains(addr, "<") || name == "" {
		return addr
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `" <` + addr + ">"
}
