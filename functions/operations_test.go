package functions_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
)

// TestOperations reads the template as sam deploy expands it: every
// function writes JSON logs to a log group the stack declares with the
// LogRetentionDays retention, is traced by the Tracing parameter and is
// covered by an errors (and throttles) alarm and a duration alarm; every
// table and the keys secret outlive the stack; every alarm says what to do
// (a runbook section that exists) and notifies the alarm topic; the
// custom metrics alarms read are figures the code emits; the saved log
// queries are docs/queries' files.
func TestOperations(t *testing.T) {
	tmpl := expanded(t)
	var doc struct {
		Resources map[string]struct {
			Type                string
			DeletionPolicy      string
			UpdateReplacePolicy string
			Condition           string
			Properties          map[string]any
		}
	}
	if err := json.Unmarshal(tmpl.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	runbook, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(runbook), -1) {
		anchors[anchor(m[1])] = true
	}
	figures := map[string]bool{}
	for _, f := range metrics.All {
		figures[f.Name] = true
	}

	type ref = map[string]any
	isRef := func(v any, name string) bool { m, ok := v.(ref); return ok && m["Ref"] == name }
	errorsAlarm, durationAlarm := map[string]bool{}, map[string]bool{}
	alarms := 0
	for id, r := range doc.Resources {
		switch r.Type {
		case "AWS::Lambda::Function":
			lc, _ := r.Properties["LoggingConfig"].(ref)
			if lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] == nil {
				t.Errorf("%s: LoggingConfig %v, want JSON with an application log level", id, lc)
			}
			group, _ := lc["LogGroup"].(ref)["Ref"].(string)
			lg, ok := doc.Resources[group]
			if !ok || lg.Type != "AWS::Logs::LogGroup" || !isRef(lg.Properties["RetentionInDays"], "LogRetentionDays") {
				t.Errorf("%s: log group %q is not a declared log group kept LogRetentionDays", id, group)
			}
			if tc, _ := r.Properties["TracingConfig"].(ref); !isRef(tc["Mode"], "Tracing") {
				t.Errorf("%s: TracingConfig %v, want the Tracing parameter", id, tc)
			}
		case "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret":
			if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
				t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q, want Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
			}
			if r.Type == "AWS::DynamoDB::Table" {
				if p, _ := json.Marshal(r.Properties["DeletionProtectionEnabled"]); string(p) != `{"Fn::If":["IsProd",true,false]}` {
					t.Errorf("%s: DeletionProtectionEnabled %s, want it in prod", id, p)
				}
			}
		case "AWS::ApiGatewayV2::Stage":
			als, _ := r.Properties["AccessLogSettings"].(ref)
			arn, _ := als["DestinationArn"].(ref)["Fn::GetAtt"].([]any)
			if len(arn) != 2 || doc.Resources[arn[0].(string)].Type != "AWS::Logs::LogGroup" ||
				!isRef(doc.Resources[arn[0].(string)].Properties["RetentionInDays"], "LogRetentionDays") {
				t.Errorf("%s: access log to %v, want a declared log group kept LogRetentionDays", id, als["DestinationArn"])
			}
			var format map[string]string
			if err := json.Unmarshal([]byte(als["Format"].(string)), &format); err != nil {
				t.Errorf("%s: access log format is not JSON: %v", id, err)
			}
			for _, field := range []string{"requestId", "ip", "routeKey", "status", "responseLatency", "integrationError"} {
				if format[field] == "" {
					t.Errorf("%s: access log has no %s", id, field)
				}
			}
		case "AWS::CloudWatch::Alarm":
			alarms++
			desc, _ := r.Properties["AlarmDescription"].(string)
			section, found := "", false
			if _, after, ok := strings.Cut(desc, "docs/operations.md#"); ok {
				section, found = after, true
			}
			if len(desc) < 40 || !found || !anchors[section] {
				t.Errorf("%s: description %q says no runbook section of docs/operations.md (%q)", id, desc, section)
			}
			actions, _ := r.Properties["AlarmActions"].([]any)
			if len(actions) == 0 || !isRef(actions[0], "AlarmTopic") {
				t.Errorf("%s: AlarmActions %v, want the alarm topic", id, actions)
			}
			for _, m := range alarmMetrics(r.Properties) {
				ns, _ := m["Namespace"].(string)
				name, _ := m["MetricName"].(string)
				fn := ""
				for _, d := range asList(m["Dimensions"]) {
					if d["Name"] == "FunctionName" {
						fn, _ = d["Value"].(ref)["Ref"].(string)
					}
				}
				switch {
				case ns == "AWS/Lambda" && name == "Errors":
					errorsAlarm[fn] = true
				case ns == "AWS/Lambda" && name == "Duration":
					durationAlarm[fn] = true
				case ns == "" && !figures[name]: // !Sub Tollgate/${AWS::StackName}
					t.Errorf("%s: metric %q is no figure of shared/platform/metrics", id, name)
				}
			}
		}
	}
	for _, id := range tmpl.OfType("AWS::Lambda::Function") {
		if !errorsAlarm[id] || !durationAlarm[id] {
			t.Errorf("%s: errors alarm %v, duration alarm %v; want both", id, errorsAlarm[id], durationAlarm[id])
		}
	}
	if alarms < 10 {
		t.Errorf("%d alarms", alarms)
	}

	// Saved queries: each docs/queries file, as the template keeps it.
	files, err := filepath.Glob(filepath.Join("..", "docs", "queries", "*.logsinsights"))
	if err != nil || len(files) == 0 {
		t.Fatalf("docs/queries: %v %v", files, err)
	}
	var saved []string
	for _, id := range tmpl.OfType("AWS::Logs::QueryDefinition") {
		saved = append(saved, strings.TrimSpace(doc.Resources[id].Properties["QueryString"].(string)))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(saved, strings.TrimSpace(string(b))) {
			t.Errorf("%s is not a saved query of the template (or differs from it)", f)
		}
	}
	if len(saved) != len(files) {
		t.Errorf("%d saved queries, %d files in docs/queries", len(saved), len(files))
	}

	// The dashboard's body is JSON once CloudFormation has substituted it.
	for _, id := range tmpl.OfType("AWS::CloudWatch::Dashboard") {
		sub, _ := doc.Resources[id].Properties["DashboardBody"].(ref)["Fn::Sub"].(string)
		for _, m := range regexp.MustCompile(`\["Tollgate/\$\{AWS::StackName\}","([^"]+)"`).FindAllStringSubmatch(sub, -1) {
			if !figures[m[1]] {
				t.Errorf("%s: the dashboard charts %q, no figure of shared/platform/metrics", id, m[1])
			}
		}
		body := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(sub, "x")
		var v struct{ Widgets []any }
		if err := json.Unmarshal([]byte(body), &v); err != nil || len(v.Widgets) < 5 {
			t.Errorf("%s: body is not a dashboard: %v (%d widgets)", id, err, len(v.Widgets))
		}
	}
}

// alarmMetrics are the metrics an alarm reads: its own, or its metric
// math's.
func alarmMetrics(p map[string]any) []map[string]any {
	if p["MetricName"] != nil {
		return []map[string]any{p}
	}
	var out []map[string]any
	for _, q := range asList(p["Metrics"]) {
		if ms, ok := q["MetricStat"].(map[string]any); ok {
			if m, ok := ms["Metric"].(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func asList(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// anchor is GitHub's anchor of a heading.
func anchor(heading string) string {
	h := strings.ToLower(strings.TrimSpace(heading))
	h = regexp.MustCompile(`[^a-z0-9 _-]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}
