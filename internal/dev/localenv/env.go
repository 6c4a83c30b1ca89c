package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Where a stack's function environments come from (Stack.EnvSource).
const (
	// EnvFromTransform: the template expanded by samtranslator, as `sam
	// deploy` has it (Globals merged, intrinsics resolved locally).
	EnvFromTransform = "samtranslator"
	// EnvFromParse: template.yaml's own parse (samtemplate), the fallback
	// outside CI when samtranslator is not installed.
	EnvFromParse = "template.yaml parse (samtranslator unavailable)"
)

// secretSettings name Secrets Manager secrets in AWS. Locally they are
// left unset (unless the environment sets them), so the keys come from
// their variables (DevKeys) and merchants' and stores' credentials from
// the local ones.
var secretSettings = map[string]bool{
	deps.EnvSecretID:                 true,
	payments.EnvMerchantSecretPrefix: true,
	stores.EnvStoreSecretPrefix:      true,
}

// functionEnv is one function's environment for a local run.
type functionEnv struct {
	vars     map[string]string // local values (tables renamed, secrets left out)
	declared map[string]bool   // every variable the template sets, left-out ones included
	tables   map[string]bool   // variables naming a table: never overridden
}

// expanded caches the expanded template's functions by template path and
// content, shared by the stacks of a test binary.
var expanded sync.Map // string -> *expansion

type expansion struct {
	once sync.Once
	tmpl *samtranslate.Template
	fns  map[string]samtranslate.Function
	err  error
}

func expand(ctx context.Context, path string) (*samtranslate.Template, map[string]samtranslate.Function, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
	v, _ := expanded.LoadOrStore(key, &expansion{})
	e := v.(*expansion)
	e.once.Do(func() {
		if e.tmpl, e.err = samtranslate.Load(ctx, path, nil); e.err == nil {
			e.fns, e.err = e.tmpl.Functions()
		}
	})
	return e.tmpl, e.fns, e.err
}

// loadEnv resolves every function's environment: from the expanded
// template, or, when samtranslator is unavailable outside CI, from the
// template's own parse (logged).
func (s *Stack) loadEnv(ctx context.Context) error {
	tmpl, fns, err := expand(ctx, s.cfg.TemplatePath)
	switch {
	case errors.Is(err, samtranslate.ErrUnavailable) && os.Getenv("CI") != "true" && len(s.cfg.Parameters) == 0:
		s.Logger.Warn("function environments from template.yaml's own parse, not as deployed", "reason", err.Error())
		s.EnvSource, s.env = EnvFromParse, parsedEnv(s.Template, s.TableName)
		return nil
	case err != nil:
		return fmt.Errorf("function environments: %w", err)
	}
	local := func(id string) (string, bool) {
		if _, ok := s.Template.Tables[id]; ok {
			return s.TableName(id), true
		}
		return "", false // the secret: keys come from their variables
	}
	env := make(map[string]functionEnv, len(fns))
	for id, fn := range fns {
		vars, leftOut, err := tmpl.Environment(fn, samtranslate.Locals{Parameters: s.cfg.Parameters, Resource: local})
		if err != nil {
			return fmt.Errorf("function environments: %w", err)
		}
		fe := functionEnv{vars: vars, declared: map[string]bool{}, tables: map[string]bool{}}
		for _, k := range leftOut {
			fe.declared[k] = true
		}
		for k, raw := range fn.Variables {
			fe.declared[k] = true
			var ref struct{ Ref string }
			_ = json.Unmarshal(raw, &ref) // a value that is no Ref leaves it empty
			if _, isTable := s.Template.Tables[ref.Ref]; isTable {
				fe.tables[k] = true
			}
			if secretSettings[k] {
				delete(fe.vars, k)
			}
		}
		env[id] = fe
	}
	s.EnvSource, s.env = EnvFromTransform, env
	return nil
}

// parsedEnv is the fallback: samtemplate's environments (Globals merged,
// !Ref resolved, !Sub and !If left out).
func parsedEnv(t *samtemplate.Template, tableName func(string) string) map[string]functionEnv {
	env := make(map[string]functionEnv, len(t.Functions))
	for id, fn := range t.Functions {
		fe := functionEnv{vars: map[string]string{}, declared: map[string]bool{}, tables: map[string]bool{}}
		for k, v := range fn.Env {
			fe.vars[k], fe.declared[k] = v, true
		}
		for k, table := range fn.TableEnv {
			fe.vars[k], fe.declared[k], fe.tables[k] = tableName(table), true, true
		}
		env[id] = fe
	}
	return env
}

// EnvKeys lists the variables the template sets for function id, sorted.
func (s *Stack) EnvKeys(id string) []string {
	fe := s.env[id]
	keys := make([]string, 0, len(fe.declared))
	for k := range fe.declared {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readLog records the variables each function reads.
type readLog struct {
	mu sync.Mutex
	m  map[string]map[string]bool
}

func (l *readLog) add(id, k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]map[string]bool{}
	}
	if l.m[id] == nil {
		l.m[id] = map[string]bool{}
	}
	l.m[id][k] = true
}

// Read is one function's read of a variable its template environment does
// not set.
type Read struct{ Function, Variable string }

func (r Read) String() string { return r.Function + " reads " + r.Variable }

// UndocumentedReads lists the variables functions read (through the
// getenv Env gives them) that the template does not set for them and that
// are neither a documented setting with a default (Settings) nor a
// development key (DevVariables): a setting the deployed function would
// run without, unknowingly. Sorted.
func (s *Stack) UndocumentedReads() []Read {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	var out []Read
	for id, keys := range s.reads.m {
		for k := range keys {
			if !s.env[id].declared[k] && !documented(k) {
				out = append(out, Read{id, k})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Function != out[j].Function {
			return out[i].Function < out[j].Function
		}
		return out[i].Variable < out[j].Variable
	})
	return out
}

// WithParameters returns the stack with its functions' environments
// resolved with the given template parameter values (the others their
// defaults): the same DynamoDB, tables and keys. It needs samtranslator.
func (s *Stack) WithParameters(ctx context.Context, params map[string]string) (*Stack, error) {
	c := *s
	c.cfg.Parameters = params
	c.reads = &readLog{}
	if err := c.loadEnv(ctx); err != nil {
		return nil, err
	}
	if c.EnvSource != EnvFromTransform {
		return nil, errors.New("template parameters need samtranslator")
	}
	return &c, nil
}

// Reads lists the variables function id has read so far, sorted.
func (s *Stack) Reads(id string) []string {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	keys := make([]string, 0, len(s.reads.m[id]))
	for k := range s.reads.m[id] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
