package deps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Duration reads a function setting that is a positive Go duration (such
// as 30m); def when it is unset.
func (d Deps) Duration(name string, def time.Duration) (time.Duration, error) {
	v := d.setting(name)
	if v == "" {
		return def, nil
	}
	dur, err := time.ParseDuration(v)
	if err != nil || dur <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration such as 30m", name, v)
	}
	return dur, nil
}

// PositiveInt reads a function setting that is a positive integer; def
// when it is unset.
func (d Deps) PositiveInt(name string, def int) (int, error) {
	v := d.setting(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// OneOf reads a function setting that must be one of allowed; def when it
// is unset.
func (d Deps) OneOf(name, def string, allowed ...string) (string, error) {
	v := d.setting(name)
	if v == "" {
		return def, nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s=%q: want one of %v", name, v, allowed)
}

// String reads a free-form function setting; def when it is unset.
func (d Deps) String(name, def string) string {
	if v := d.setting(name); v != "" {
		return v
	}
	return def
}

// Bool reads a function setting that is true or false (as strconv.ParseBool
// spells them); def when it is unset.
func (d Deps) Bool(name string, def bool) (bool, error) {
	v := d.setting(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// setting is the value of a setting without the white space a console or
// template may leave around it.
func (d Deps) setting(name string) string {
	getenv := d.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return strings.TrimSpace(getenv(name))
}
