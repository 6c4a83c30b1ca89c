package deployrehearsal

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Deployment is what `sam deploy --config-env <Env>` deploys with.
type Deployment struct {
	Env          string
	StackName    string
	Capabilities []string
	Parameters   map[string]string // parameter_overrides
}

var (
	tomlSection  = regexp.MustCompile(`^\[([A-Za-z0-9_-]+)\.([a-z_]+)\.parameters\]$`)
	tomlKeyValue = regexp.MustCompile(`^([a-z_]+)\s*=\s*(".*")$`)
	override     = regexp.MustCompile(`([A-Za-z0-9]+)=(?:"([^"]*)"|(\S+))`)
)

// Deployments reads samconfig.toml: one Deployment per config env with a
// stack_name, sorted by env. Only the string keys the rehearsal needs are
// read (stack_name, capabilities, parameter_overrides).
func Deployments(samconfig []byte) ([]Deployment, error) {
	byEnv := map[string]*Deployment{}
	var env, command string
	sc := bufio.NewScanner(bytes.NewReader(samconfig))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := tomlSection.FindStringSubmatch(line); m != nil {
			env, command = m[1], m[2]
			continue
		}
		m := tomlKeyValue.FindStringSubmatch(line)
		if m == nil || env == "" {
			continue
		}
		value, err := strconv.Unquote(m[2])
		if err != nil {
			return nil, fmt.Errorf("samconfig.toml [%s.%s.parameters] %s: %w", env, command, m[1], err)
		}
		d := byEnv[env]
		if d == nil {
			d = &Deployment{Env: env, Parameters: map[string]string{}}
			byEnv[env] = d
		}
		switch {
		case m[1] == "stack_name" && (command == "global" || command == "deploy"):
			d.StackName = value
		case m[1] == "capabilities" && command == "deploy":
			d.Capabilities = strings.Fields(value)
		case m[1] == "parameter_overrides" && command == "deploy":
			for _, kv := range override.FindAllStringSubmatch(value, -1) {
				d.Parameters[kv[1]] = kv[2] + kv[3]
			}
		}
	}
	var out []Deployment
	for _, d := range byEnv {
		if d.StackName != "" {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out, sc.Err()
}
