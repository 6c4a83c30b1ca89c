// Package emfcheck validates log lines against the CloudWatch Embedded
// Metric Format specification, as CloudWatch Logs reads them: the _aws
// member with its Timestamp (epoch milliseconds) and CloudWatchMetrics
// directives (Namespace, Dimensions, Metrics), at most 30 keys per dimension
// set and 100 metrics per directive, each dimension a top-level string
// member, each metric a top-level number (or array of at most 100
// numbers), units from CloudWatch's list. It is written from the
// specification, independently of shared/platform/metrics, which the tests
// check with it.
package emfcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// units are the values of CloudWatch's StandardUnit.
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Metric is one value a valid line publishes.
type Metric struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string // one dimension set's values
	Values     []float64
}

// ErrNotEMF: the line has no _aws member (an ordinary log line).
var ErrNotEMF = errors.New("no _aws member")

// Check validates one log line (a JSON object) and returns the metrics it
// publishes, one per metric and dimension set.
func Check(line []byte) ([]Metric, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	raw, ok := root["_aws"]
	if !ok {
		return nil, ErrNotEMF
	}
	var aws struct {
		Timestamp         *json.Number
		CloudWatchMetrics *[]struct {
			Namespace  *string
			Dimensions *[][]string
			Metrics    *[]struct {
				Name              *string
				Unit              *string
				StorageResolution *int
			}
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&aws); err != nil {
		return nil, fmt.Errorf("_aws: %w", err)
	}
	if aws.Timestamp == nil {
		return nil, errors.New("_aws.Timestamp missing")
	}
	ts, err := aws.Timestamp.Int64()
	if err != nil || ts < 1e12 || ts > 1e14 {
		return nil, fmt.Errorf("_aws.Timestamp %v is not epoch milliseconds", aws.Timestamp)
	}
	if aws.CloudWatchMetrics == nil {
		return nil, errors.New("_aws.CloudWatchMetrics missing")
	}
	var out []Metric
	for i, d := range *aws.CloudWatchMetrics {
		where := fmt.Sprintf("CloudWatchMetrics[%d]", i)
		if d.Namespace == nil || strings.TrimSpace(*d.Namespace) == "" || len(*d.Namespace) > 1024 {
			return nil, fmt.Errorf("%s: Namespace missing or invalid", where)
		}
		if d.Dimensions == nil {
			return nil, fmt.Errorf("%s: Dimensions missing", where)
		}
		if d.Metrics == nil || len(*d.Metrics) == 0 || len(*d.Metrics) > 100 {
			return nil, fmt.Errorf("%s: Metrics missing, empty or more than 100", where)
		}
		sets := make([]map[string]string, 0, len(*d.Dimensions))
		for j, set := range *d.Dimensions {
			if len(set) > 30 {
				return nil, fmt.Errorf("%s.Dimensions[%d]: %d keys, at most 30", where, j, len(set))
			}
			values := map[string]string{}
			for _, k := range set {
				var v string
				if err := json.Unmarshal(root[k], &v); err != nil || root[k] == nil {
					return nil, fmt.Errorf("%s.Dimensions[%d]: %q is not a top-level string member", where, j, k)
				}
				if v == "" || len(v) > 1024 {
					return nil, fmt.Errorf("%s: dimension %s value %q empty or too long", where, k, v)
				}
				values[k] = v
			}
			sets = append(sets, values)
		}
		for j, m := range *d.Metrics {
			if m.Name == nil || *m.Name == "" || len(*m.Name) > 1024 {
				return nil, fmt.Errorf("%s.Metrics[%d]: Name missing", where, j)
			}
			unit := "None"
			if m.Unit != nil {
				unit = *m.Unit
				if !slices.Contains(units, unit) {
					return nil, fmt.Errorf("%s.Metrics[%d] %s: unit %q is not a CloudWatch unit", where, j, *m.Name, unit)
				}
			}
			if m.StorageResolution != nil && *m.StorageResolution != 1 && *m.StorageResolution != 60 {
				return nil, fmt.Errorf("%s.Metrics[%d]: StorageResolution %d", where, j, *m.StorageResolution)
			}
			values, err := numbers(root[*m.Name])
			if err != nil {
				return nil, fmt.Errorf("metric %s: %w", *m.Name, err)
			}
			for _, dims := range sets {
				out = append(out, Metric{Namespace: *d.Namespace, Name: *m.Name, Unit: unit, Dimensions: dims, Values: values})
			}
		}
	}
	return out, nil
}

// numbers is a metric's top-level value: a number or an array of at most
// 100 numbers.
func numbers(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("no top-level member holds its value")
	}
	var one float64
	if err := json.Unmarshal(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > 100 {
		return nil, fmt.Errorf("value %s is not a number or an array of 1 to 100 numbers", raw)
	}
	return many, nil
}
