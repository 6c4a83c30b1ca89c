package deployrehearsal_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tollgate-dev/tollgate/internal/dev/deployrehearsal"
	"github.com/tollgate-dev/tollgate/internal/dev/motoserver"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// asserted are the properties the rehearsal compares, per type, with what
// moto created; droppedByMoto those moto 5.2.1's CloudFormation does not
// apply (its create_from_cloudformation_json ignores them), checked in the
// template only. A property on neither list fails the rehearsal.
var (
	asserted = map[string][]string{
		"AWS::DynamoDB::Table":            {"AttributeDefinitions", "BillingMode", "DeletionProtectionEnabled", "GlobalSecondaryIndexes", "KeySchema", "StreamSpecification", "Tags"},
		"AWS::IAM::Role":                  {"AssumeRolePolicyDocument", "Policies", "Tags"},
		"AWS::Lambda::Function":           {"Code", "Description", "Environment", "Handler", "MemorySize", "Role", "Runtime", "Timeout"},
		"AWS::Lambda::Permission":         {"Action", "FunctionName", "Principal", "SourceArn"},
		"AWS::Lambda::EventSourceMapping": {"BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "EventSourceArn", "FilterCriteria", "FunctionName", "MaximumBatchingWindowInSeconds", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "StartingPosition"},
		"AWS::SQS::Queue":                 {"MessageRetentionPeriod", "SqsManagedSseEnabled", "Tags"},
		"AWS::Logs::LogGroup":             {"LogGroupName", "RetentionInDays", "Tags"},
		"AWS::SNS::Topic":                 {"DisplayName"},
		"AWS::CloudWatch::Dashboard":      {"DashboardName", "DashboardBody"},
	}
	droppedByMoto = map[string]map[string]string{
		"AWS::DynamoDB::Table": {
			"TimeToLiveSpecification":          "moto's table from CloudFormation has no TTL",
			"PointInTimeRecoverySpecification": "moto's table from CloudFormation has no PITR",
			"SSESpecification":                 "moto reads SSESpecification.Enabled, CloudFormation's key is SSEEnabled",
		},
		"AWS::Lambda::Function": {
			"Architectures": "moto's function from CloudFormation is x86_64 (the zip's bootstrap is checked to be arm64 instead)",
			"LoggingConfig": "not read by moto's function from CloudFormation",
			"TracingConfig": "not read by moto's function from CloudFormation",
			"Tags":          "not read by moto's function from CloudFormation",
		},
		"AWS::IAM::Role": {
			"ManagedPolicyArns": "not read by moto's role from CloudFormation",
		},
		"AWS::SNS::Topic": {
			"Tags": "moto's topic from CloudFormation takes its properties, not its tags",
		},
	}
)

// The deploy rehearsal: the template as `sam deploy` expands it, with the
// function code `make build` builds, created by moto_server's CloudFormation
// as every stack of samconfig.toml (tollgate-dev and tollgate-prod, one
// account and region), each reaching CREATE_COMPLETE with its resources as
// the template says.
func TestRehearsal(t *testing.T) {
	samtranslate.Require(t)
	began := time.Now()
	ctx := context.Background()
	_, root := load(t, nil)
	deployments := deployments(t, root)
	if len(deployments) < 2 {
		t.Fatalf("samconfig.toml has %d deployments, the rehearsal wants two stacks in one account", len(deployments))
	}
	checkMotoModels(t)

	moto, err := motoserver.Start(ctx)
	if err != nil {
		if os.Getenv("CI") == "true" || !errors.Is(err, motoserver.ErrNotInstalled) {
			t.Fatalf("moto_server: %v", err)
		}
		t.Skipf("SKIPPING the deploy rehearsal: %v", err)
	}
	t.Cleanup(moto.Stop)
	c := newClients(moto.URL)

	// The code: every function's bootstrap, built as `sam build` does.
	tmpl, _ := load(t, deployments[0].Parameters)
	fns := tmpl.OfType("AWS::Lambda::Function")
	targets, err := deployrehearsal.Targets(ctx, root, fns)
	if err != nil {
		t.Fatal(err)
	}
	step := time.Now()
	zips, err := deployrehearsal.Build(ctx, root, t.TempDir(), targets)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d bootstraps (linux/arm64, the Makefile's build-<Function> commands) in %s", len(zips), since(step))
	for id, z := range zips {
		checkArm64(t, id, z)
	}
	step = time.Now()
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(samtranslate.Bucket)}); err != nil {
		t.Fatal(err)
	}
	for id, z := range zips {
		if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(samtranslate.Bucket), Key: aws.String(id + ".zip"), Body: bytes.NewReader(z)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("uploaded %d zips to s3://%s in %s", len(zips), samtranslate.Bucket, since(step))

	for _, d := range deployments {
		t.Run(d.StackName, func(t *testing.T) {
			rehearse(t, ctx, c, d, zips)
		})
	}
	t.Logf("the rehearsal took %s", since(began))
}

func rehearse(t *testing.T, ctx context.Context, c clients, d deployrehearsal.Deployment, zips map[string][]byte) {
	tmpl, _ := load(t, d.Parameters)
	p, err := deployrehearsal.Prepare(tmpl.Raw, d.StackName)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Removed {
		t.Logf("NOT CREATED (moto cannot): %s %s: %s", r.ID, r.Type, r.Reason)
	}
	for _, r := range p.Replaced {
		t.Logf("reference to a resource not created: %s", r)
	}
	resources := p.Template["Resources"].(map[string]any)
	for _, id := range sortedKeys(resources) {
		r := resources[id].(map[string]any)
		typ := r["Type"].(string)
		props, _ := r["Properties"].(map[string]any)
		for prop := range props {
			if !slices.Contains(asserted[typ], prop) && droppedByMoto[typ][prop] == "" {
				t.Errorf("%s (%s): property %s is neither compared nor listed as dropped by moto", id, typ, prop)
			}
		}
	}

	// As sam deploy: the template to S3, then the stack from its URL.
	step := time.Now()
	key := "templates/" + d.StackName + ".json"
	if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(samtranslate.Bucket), Key: aws.String(key), Body: bytes.NewReader(p.Body)}); err != nil {
		t.Fatal(err)
	}
	var params []cftypes.Parameter
	for _, k := range sortedKeys(d.Parameters) {
		params = append(params, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(d.Parameters[k])})
	}
	var caps []cftypes.Capability
	for _, cp := range d.Capabilities {
		caps = append(caps, cftypes.Capability(cp))
	}
	if _, err := c.cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(d.StackName),
		TemplateURL:  aws.String(fmt.Sprintf("https://%s.s3.amazonaws.com/%s", samtranslate.Bucket, key)),
		Parameters:   params,
		Capabilities: caps,
	}); err != nil {
		t.Fatalf("create-stack %s: %v", d.StackName, err)
	}
	status := waitStack(t, ctx, c, d.StackName)
	t.Logf("create-stack %s: %s in %s (capabilities %v, parameters %v)", d.StackName, status, since(step), d.Capabilities, d.Parameters)
	if status != cftypes.StackStatusCreateComplete {
		logEvents(t, ctx, c, d.StackName)
		t.Fatalf("%s: %s, want CREATE_COMPLETE", d.StackName, status)
	}

	// Every resource given to moto was created.
	out, err := c.cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(d.StackName)})
	if err != nil {
		t.Fatal(err)
	}
	physical := map[string]string{}
	for _, r := range out.StackResources {
		physical[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		if r.ResourceStatus != cftypes.ResourceStatusCreateComplete {
			t.Errorf("%s: %s", aws.ToString(r.LogicalResourceId), r.ResourceStatus)
		}
	}
	if got, want := sortedKeys(physical), sortedKeys(resources); !slices.Equal(got, want) {
		t.Fatalf("created %v\nwant    %v", got, want)
	}

	a := &checker{t: t, ctx: ctx, c: c, resources: resources, outputsTmpl: asMap(p.Template["Outputs"]), zips: zips, attrs: map[string]string{}, removed: map[string]string{}}
	for _, r := range p.Removed {
		a.removed[r.ID] = r.Type
	}
	a.Resolver = &deployrehearsal.Resolver{
		Stack:      d.StackName,
		Params:     deployrehearsal.ParamValues(p.Template["Parameters"].(map[string]any), d.Parameters),
		Physical:   physical,
		Attr:       a.attr,
		Conditions: asMap(p.Template["Conditions"]),
	}
	step = time.Now()
	counts := map[string]int{}
	for _, id := range sortedKeys(resources) {
		typ := resources[id].(map[string]any)["Type"].(string)
		counts[typ]++
		a.check(id, typ)
	}
	a.outputs(d.StackName)
	for _, r := range p.Removed {
		a.standIn(r)
	}
	alarms := 0
	for _, r := range p.Removed {
		if r.Type == "AWS::CloudWatch::Alarm" {
			alarms++
		}
	}
	if a.alarms != alarms || alarms < 70 {
		t.Errorf("%d of the template's %d alarms created through moto's CloudWatch API", a.alarms, alarms)
	}
	t.Logf("%d alarms created through moto's CloudWatch API with the template's properties (not by CloudFormation)", a.alarms)
	var summary []string
	for _, typ := range sortedKeys(counts) {
		summary = append(summary, fmt.Sprintf("%d %s", counts[typ], typ))
	}
	t.Logf("%s created and compared with the template (%s): %s", d.StackName, since(step), strings.Join(summary, ", "))
	if counts["AWS::DynamoDB::Table"] != 9 || counts["AWS::Lambda::Function"] < 32 || counts["AWS::Lambda::EventSourceMapping"] != 1 || counts["AWS::SQS::Queue"] != 1 {
		t.Errorf("want 9 tables, 32+ functions, the outbox stream's mapping and its queue: %v", counts)
	}
	if counts["AWS::Logs::LogGroup"] != counts["AWS::Lambda::Function"]+1 || counts["AWS::SNS::Topic"] != 1 || counts["AWS::CloudWatch::Dashboard"] != 1 {
		t.Errorf("want a log group per function and the API's, the alarm topic and the dashboard: %v", counts)
	}
}

type clients struct {
	endpoint string
	creds    aws.CredentialsProvider
	cfn      *cloudformation.Client
	s3       *s3.Client
	ddb      *dynamodb.Client
	lam      *lambda.Client
	iam      *iam.Client
	sqs      *sqs.Client
}

func newClients(endpoint string) clients {
	cfg := aws.Config{
		Region:       deployrehearsal.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return clients{
		endpoint: endpoint,
		creds:    cfg.Credentials,
		cfn:      cloudformation.NewFromConfig(cfg),
		s3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ddb:      dynamodb.NewFromConfig(cfg),
		lam:      lambda.NewFromConfig(cfg),
		iam:      iam.NewFromConfig(cfg),
		sqs:      sqs.NewFromConfig(cfg),
	}
}

// checkMotoModels: the types the rehearsal gives moto are the ones moto's
// CloudFormation has models for, and the ones it removes are not (a moto
// that learns one fails here, to move it to the created ones).
func checkMotoModels(t *testing.T) {
	out, err := exec.Command("python3", "-c", "import moto.cloudformation.parsing as p; print('\\n'.join(sorted(p.get_model_map())))").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with moto: %v", err)
		}
		t.Skipf("SKIPPING the deploy rehearsal: python3 with moto: %v", err)
	}
	models := strings.Fields(string(out))
	for typ, kind := range deployrehearsal.Types {
		if has := slices.Contains(models, typ); has != kind.Moto {
			t.Errorf("%s: moto's CloudFormation has a model: %v, deployrehearsal.Types says %v", typ, has, kind.Moto)
		}
	}
}

func waitStack(t *testing.T, ctx context.Context, c clients, name string) cftypes.StackStatus {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		out, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		status := out.Stacks[0].StackStatus
		if !strings.HasSuffix(string(status), "_IN_PROGRESS") || time.Now().After(deadline) {
			return status
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func logEvents(t *testing.T, ctx context.Context, c clients, name string) {
	out, err := c.cfn.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(name)})
	if err != nil {
		t.Log(err)
		return
	}
	for _, e := range out.StackEvents {
		t.Logf("event %s %s %s %s", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), e.ResourceStatus, aws.ToString(e.ResourceStatusReason))
	}
}

// checkArm64: the zip holds one executable bootstrap built for arm64.
func checkArm64(t *testing.T, id string, z []byte) {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		t.Fatalf("%s: the zip is not one executable bootstrap (%v)", id, err)
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	exe, err := elf.NewFile(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%s: bootstrap: %v", id, err)
	}
	if exe.Machine != elf.EM_AARCH64 || exe.OSABI != elf.ELFOSABI_NONE && exe.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("%s: bootstrap is %v %v, want a linux arm64 executable", id, exe.Machine, exe.OSABI)
	}
}

// checker compares one stack's created resources with the template.
type checker struct {
	*deployrehearsal.Resolver
	t           *testing.T
	ctx         context.Context
	c           clients
	resources   map[string]any
	outputsTmpl map[string]any
	zips        map[string][]byte
	attrs       map[string]string
	alarms      int               // alarms created through moto's CloudWatch API
	removed     map[string]string // type of each resource moto did not create
}

func (a *checker) typeOf(id string) string {
	r, _ := a.resources[id].(map[string]any)
	typ, _ := r["Type"].(string)
	return typ
}

// attr is Fn::GetAtt, read from the created resource.
func (a *checker) attr(id, attr string) (string, error) {
	key := id + "." + attr
	if v, ok := a.attrs[key]; ok {
		return v, nil
	}
	name := a.Physical[id]
	var v string
	switch typ := a.typeOf(id); {
	case typ == "AWS::DynamoDB::Table" && (attr == "Arn" || attr == "StreamArn"):
		out, err := a.c.ddb.DescribeTable(a.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return "", err
		}
		v = aws.ToString(out.Table.TableArn)
		if attr == "StreamArn" {
			v = aws.ToString(out.Table.LatestStreamArn)
		}
	case typ == "AWS::IAM::Role" && attr == "Arn":
		out, err := a.c.iam.GetRole(a.ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return "", err
		}
		v = aws.ToString(out.Role.Arn)
	case typ == "AWS::Lambda::Function" && attr == "Arn":
		v, _ = a.function(name)["FunctionArn"].(string)
	case typ == "AWS::SQS::Queue" && attr == "QueueName":
		v = name[strings.LastIndex(name, "/")+1:] // the physical id is the queue's URL
	case typ == "AWS::Logs::LogGroup" && attr == "Arn":
		v = "arn:aws:logs:" + deployrehearsal.Region + ":" + deployrehearsal.Account + ":log-group:" + name
	case typ == "AWS::SQS::Queue" && attr == "Arn":
		out, err := a.c.sqs.GetQueueAttributes(a.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(name), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return "", err
		}
		v = out.Attributes["QueueArn"]
	default:
		return "", fmt.Errorf("Fn::GetAtt %s (%s) not known to the rehearsal", key, typ)
	}
	if v == "" {
		return "", fmt.Errorf("Fn::GetAtt %s: empty", key)
	}
	a.attrs[key] = v
	return v, nil
}

// function is the configuration of a Lambda function, read by a signed
// GET of its own: moto gives the value of a variable set from a Number
// parameter as a JSON number, which the SDK refuses to decode.
func (a *checker) function(name string) map[string]any {
	a.t.Helper()
	var out struct{ Configuration map[string]any }
	if err := a.call(http.MethodGet, "lambda", "/2015-03-31/functions/"+url.PathEscape(name), nil, "", &out); err != nil || out.Configuration == nil {
		a.t.Fatalf("get-function %s: %v", name, err)
	}
	return out.Configuration
}

// call sends a request signed for service to moto and decodes its JSON
// answer into out.
func (a *checker) call(method, service, path string, body any, target string, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(a.ctx, method, a.c.endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	creds, err := a.c.creds.Retrieve(a.ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(a.ctx, creds, req, hex.EncodeToString(sum[:]), service, deployrehearsal.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, strings.TrimSpace(raw.String()))
	}
	return json.Unmarshal(raw.Bytes(), out)
}

// standIn creates a resource moto's CloudFormation cannot through moto's
// own API, with the properties the template gives it: a name two stacks
// share fails here (ConflictException, ResourceExistsException) as the
// second stack's create-stack would in AWS.
func (a *checker) standIn(r deployrehearsal.Removed) {
	switch r.Type {
	case "AWS::Scheduler::Schedule", "AWS::SecretsManager::Secret", "AWS::CloudWatch::Alarm":
	default:
		return // the HTTP API and its stage, the alarm e-mail, saved log queries: nothing moto's API can stand in for
	}
	v, err := a.Eval(a.placeholders(r.Properties))
	if err != nil {
		a.t.Fatalf("%s: %v", r.ID, err)
	}
	p := v.(map[string]any)
	name, _ := p["Name"].(string)
	var out map[string]any
	switch r.Type {
	case "AWS::CloudWatch::Alarm":
		name, _ = p["AlarmName"].(string)
		a.alarm(r.ID, name, p)
		return
	case "AWS::Scheduler::Schedule":
		body := map[string]any{}
		for k, v := range p {
			if k != "Name" {
				body[k] = v
			}
		}
		err = a.call(http.MethodPost, "scheduler", "/schedules/"+url.PathEscape(name), body, "", &out)
		if err == nil {
			var got map[string]any
			if err = a.call(http.MethodGet, "scheduler", "/schedules/"+url.PathEscape(name), nil, "", &got); err == nil {
				a.contains(r.ID, "schedule", got, p)
			}
		}
	case "AWS::SecretsManager::Secret":
		err = a.call(http.MethodPost, "secretsmanager", "/", map[string]any{"Name": name, "Description": p["Description"], "Tags": p["Tags"]}, "secretsmanager.CreateSecret", &out)
	}
	if err != nil {
		a.t.Errorf("%s (%s) %q could not be created in the account the other stacks share: %v", r.ID, r.Type, name, err)
		return
	}
	a.t.Logf("stand-in %s (%s) %q created through moto's API (not by CloudFormation)", r.ID, r.Type, name)
}

// alarm creates an alarm the template declares through moto's CloudWatch
// API (PutMetricAlarm with the template's properties) and reads it back:
// its name, description and actions (the stack's alarm topic).
func (a *checker) alarm(id, name string, p map[string]any) {
	a.t.Helper()
	form := url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}}
	for k, v := range p {
		queryFlatten(form, k, v)
	}
	if _, err := a.query("monitoring", form); err != nil {
		a.t.Errorf("%s (AWS::CloudWatch::Alarm) %q: put-metric-alarm: %v", id, name, err)
		return
	}
	body, err := a.query("monitoring", url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}, "AlarmNames.member.1": {name}})
	var got struct {
		Alarms []struct {
			AlarmName, AlarmDescription string
			AlarmActions                []string `xml:"AlarmActions>member"`
			Metrics                     []string `xml:"Metrics>member>Id"`
		} `xml:"DescribeAlarmsResult>MetricAlarms>member"`
	}
	if err == nil {
		err = xml.Unmarshal(body, &got)
	}
	if err != nil || len(got.Alarms) != 1 {
		a.t.Errorf("%s: describe-alarms %q: %v (%d alarms)", id, name, err, len(got.Alarms))
		return
	}
	al := got.Alarms[0]
	a.same(id, "alarm", map[string]any{"AlarmName": al.AlarmName, "AlarmDescription": al.AlarmDescription, "AlarmActions": al.AlarmActions},
		map[string]any{"AlarmName": p["AlarmName"], "AlarmDescription": p["AlarmDescription"], "AlarmActions": p["AlarmActions"]})
	a.alarms++
}

// placeholders is v with every Ref to a resource moto did not create
// replaced by the name Prepare gives such references (an alarm on the
// HTTP API's metrics names the API).
func (a *checker) placeholders(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 && a.removed[ref] != "" {
			return deployrehearsal.Placeholder(a.Stack, ref, a.removed[ref], "")
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = a.placeholders(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = a.placeholders(e)
		}
		return out
	}
	return v
}

// queryFlatten adds v under key to form as the AWS query protocol
// spells it (lists as key.member.N, structures as key.Field).
func queryFlatten(form url.Values, key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			queryFlatten(form, key+"."+k, e)
		}
	case []any:
		for i, e := range x {
			queryFlatten(form, key+".member."+strconv.Itoa(i+1), e)
		}
	case float64:
		form.Set(key, strconv.FormatFloat(x, 'f', -1, 64))
	default:
		form.Set(key, fmt.Sprint(x))
	}
}

// query sends an AWS query-protocol request (SNS, CloudWatch) signed for
// service to moto and returns its XML answer.
func (a *checker) query(service string, form url.Values) ([]byte, error) {
	payload := []byte(form.Encode())
	req, err := http.NewRequestWithContext(a.ctx, http.MethodPost, a.c.endpoint+"/", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds, err := a.c.creds.Retrieve(a.ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(a.ctx, creds, req, hex.EncodeToString(sum[:]), service, deployrehearsal.Region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s %s", service, form.Get("Action"), resp.Status, strings.TrimSpace(raw.String()))
	}
	return raw.Bytes(), nil
}

// props is the resource's properties resolved for this stack.
func (a *checker) props(id string) map[string]any {
	r := a.resources[id].(map[string]any)
	v, err := a.Eval(r["Properties"])
	if err != nil {
		a.t.Fatalf("%s: %v", id, err)
	}
	m, _ := v.(map[string]any)
	return m
}

func (a *checker) check(id, typ string) {
	t, ctx, c, p, name := a.t, a.ctx, a.c, a.props(id), a.Physical[id]
	switch typ {
	case "AWS::DynamoDB::Table":
		out, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		d := out.Table
		a.same(id, "KeySchema", d.KeySchema, p["KeySchema"])
		a.same(id, "DeletionProtectionEnabled", aws.ToBool(d.DeletionProtectionEnabled), p["DeletionProtectionEnabled"] == true)
		a.same(id, "AttributeDefinitions", sortedBy(d.AttributeDefinitions, "AttributeName"), sortedBy(p["AttributeDefinitions"], "AttributeName"))
		if want, ok := p["GlobalSecondaryIndexes"]; ok || len(d.GlobalSecondaryIndexes) > 0 {
			a.contains(id, "GlobalSecondaryIndexes", sortedBy(d.GlobalSecondaryIndexes, "IndexName"), sortedBy(want, "IndexName"))
		}
		if d.BillingModeSummary == nil || string(d.BillingModeSummary.BillingMode) != p["BillingMode"] {
			t.Errorf("%s: billing mode %+v, want %v", id, d.BillingModeSummary, p["BillingMode"])
		}
		if want, ok := p["StreamSpecification"]; ok {
			a.contains(id, "StreamSpecification", d.StreamSpecification, want)
			if d.StreamSpecification == nil || !aws.ToBool(d.StreamSpecification.StreamEnabled) || d.LatestStreamArn == nil {
				t.Errorf("%s: stream not enabled: %+v", id, d.StreamSpecification)
			}
		} else if d.StreamSpecification != nil && aws.ToBool(d.StreamSpecification.StreamEnabled) {
			t.Errorf("%s: a stream the template does not ask for", id)
		}
		tags, err := c.ddb.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: d.TableArn})
		if err != nil {
			t.Fatal(err)
		}
		a.same(id, "Tags", tagMap(tags.Tags), tagMap(p["Tags"]))
		t.Logf("table %s: %s (GSIs %d, stream %v)", id, name, len(d.GlobalSecondaryIndexes), d.LatestStreamArn != nil)
		for prop, why := range droppedByMoto[typ] {
			if v, ok := p[prop]; ok {
				t.Logf("table %s: %s %s in the template, not in moto (%s)", id, prop, jsonOf(v), why)
			}
		}
	case "AWS::Lambda::Function":
		cfg := a.function(name)
		a.contains(id, "configuration", cfg, map[string]any{
			"Runtime": p["Runtime"], "Handler": p["Handler"], "MemorySize": p["MemorySize"], "Timeout": p["Timeout"],
			"Role": p["Role"], "Description": p["Description"],
		})
		env := asMap(asMap(cfg["Environment"])["Variables"])
		for k, v := range env {
			if _, ok := v.(string); !ok {
				t.Logf("%s: moto gives %s as %s, a %T (AWS gives a string): compared as text", id, k, jsonOf(v), v)
			}
		}
		a.contains(id, "Environment", env, asMap(p["Environment"])["Variables"])
		if len(env) != len(asMap(asMap(p["Environment"])["Variables"])) {
			a.same(id, "Environment", env, asMap(p["Environment"])["Variables"])
		}
		code := asMap(p["Code"])
		z := a.zips[strings.TrimSuffix(fmt.Sprint(code["S3Key"]), ".zip")]
		sum := sha256.Sum256(z)
		if code["S3Bucket"] != samtranslate.Bucket || z == nil || cfg["CodeSha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: code %v (sha256 %v) is not the zip built for it", id, code, cfg["CodeSha256"])
		}
		if arch := jsonOf(p["Architectures"]); arch != `["arm64"]` {
			t.Errorf("%s: the template's Architectures %s, want arm64 (the bootstrap is built for it)", id, arch)
		}
	case "AWS::IAM::Role":
		out, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		a.same(id, "AssumeRolePolicyDocument", policyDoc(t, aws.ToString(out.Role.AssumeRolePolicyDocument)), p["AssumeRolePolicyDocument"])
		want := map[string]any{}
		for _, pol := range asList(p["Policies"]) {
			want[fmt.Sprint(asMap(pol)["PolicyName"])] = asMap(pol)["PolicyDocument"]
		}
		got := map[string]any{}
		names, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		for _, pn := range names.PolicyNames {
			doc, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				t.Fatal(err)
			}
			got[pn] = policyDoc(t, aws.ToString(doc.PolicyDocument))
		}
		a.same(id, "Policies", got, want)
		tags, err := c.iam.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		a.same(id, "Tags", tagMap(tags.Tags), tagMap(p["Tags"]))
	case "AWS::Lambda::Permission":
		out, err := c.lam.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fmt.Sprint(p["FunctionName"]))})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var pol struct{ Statement []map[string]any }
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &pol); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range pol.Statement {
			arn := asMap(asMap(s["Condition"])["ArnLike"])["AWS:SourceArn"]
			found = found || s["Action"] == p["Action"] && asMap(s["Principal"])["Service"] == p["Principal"] && arn == p["SourceArn"]
		}
		if !found {
			t.Errorf("%s: no statement %s %s %s in the policy of %s: %s", id, p["Action"], p["Principal"], p["SourceArn"], p["FunctionName"], aws.ToString(out.Policy))
		}
	case "AWS::Lambda::EventSourceMapping":
		fn := fmt.Sprint(p["FunctionName"])
		out, err := c.lam.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.EventSourceMappings) != 1 {
			t.Fatalf("%s: %d mappings of %s, want 1", id, len(out.EventSourceMappings), fn)
		}
		m := out.EventSourceMappings[0]
		want := map[string]any{}
		for k, v := range p {
			if k != "FunctionName" {
				want[k] = v
			}
		}
		a.contains(id, "mapping", m, want)
		if fnArn, err := a.attr(logicalOf(a.Physical, fn), "Arn"); err != nil || aws.ToString(m.FunctionArn) != fnArn {
			t.Errorf("%s: function %s, want %s (%v)", id, aws.ToString(m.FunctionArn), fnArn, err)
		}
		t.Logf("mapping %s: %s -> %s, on failure -> %s", id, aws.ToString(m.EventSourceArn), fn, jsonOf(m.DestinationConfig.OnFailure.Destination))
	case "AWS::SQS::Queue":
		out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(name), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, k := range []string{"MessageRetentionPeriod", "SqsManagedSseEnabled"} {
			if want, ok := p[k]; ok && out.Attributes[k] != normalScalar(want) {
				t.Errorf("%s: %s = %q, want %v", id, k, out.Attributes[k], want)
			}
		}
		tags, err := c.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		a.same(id, "Tags", tags.Tags, tagMap(p["Tags"]))
		t.Logf("queue %s: %s", id, name)
	case "AWS::Logs::LogGroup":
		var out struct {
			LogGroups []struct {
				LogGroupName    string
				RetentionInDays any
			}
		}
		if err := a.call(http.MethodPost, "logs", "/", map[string]any{"logGroupNamePrefix": name}, "Logs_20140328.DescribeLogGroups", &out); err != nil || len(out.LogGroups) != 1 {
			t.Fatalf("%s: describe-log-groups %s: %v (%d groups)", id, name, err, len(out.LogGroups))
		}
		// The retention as text: a Number parameter resolves to a string here.
		a.same(id, "log group", map[string]any{"LogGroupName": out.LogGroups[0].LogGroupName, "RetentionInDays": fmt.Sprint(out.LogGroups[0].RetentionInDays)},
			map[string]any{"LogGroupName": p["LogGroupName"], "RetentionInDays": fmt.Sprint(p["RetentionInDays"])})
		var tags struct{ Tags map[string]string }
		if err := a.call(http.MethodPost, "logs", "/", map[string]any{"logGroupName": name}, "Logs_20140328.ListTagsLogGroup", &tags); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		a.same(id, "Tags", tags.Tags, tagMap(p["Tags"]))
	case "AWS::SNS::Topic":
		body, err := a.query("sns", url.Values{"Action": {"GetTopicAttributes"}, "TopicArn": {name}})
		var got struct {
			Entries []struct {
				Key   string `xml:"key"`
				Value string `xml:"value"`
			} `xml:"GetTopicAttributesResult>Attributes>entry"`
		}
		if err == nil {
			err = xml.Unmarshal(body, &got)
		}
		if err != nil {
			t.Fatalf("%s: get-topic-attributes %s: %v", id, name, err)
		}
		attrs := map[string]string{}
		for _, e := range got.Entries {
			attrs[e.Key] = e.Value
		}
		a.same(id, "DisplayName", attrs["DisplayName"], p["DisplayName"])
		t.Logf("topic %s: %s", id, name)
	case "AWS::CloudWatch::Dashboard":
		body, err := a.query("monitoring", url.Values{"Action": {"GetDashboard"}, "Version": {"2010-08-01"}, "DashboardName": {name}})
		var got struct {
			Name string `xml:"GetDashboardResult>DashboardName"`
			Body string `xml:"GetDashboardResult>DashboardBody"`
		}
		if err == nil {
			err = xml.Unmarshal(body, &got)
		}
		if err != nil {
			t.Fatalf("%s: get-dashboard %s: %v", id, name, err)
		}
		var gotBody, wantBody any
		if err := json.Unmarshal([]byte(got.Body), &gotBody); err != nil {
			t.Fatalf("%s: the dashboard's body is not JSON: %v", id, err)
		}
		if err := json.Unmarshal([]byte(fmt.Sprint(p["DashboardBody"])), &wantBody); err != nil {
			t.Fatalf("%s: the template's dashboard body is not JSON once resolved: %v", id, err)
		}
		a.same(id, "dashboard", map[string]any{"DashboardName": got.Name, "DashboardBody": gotBody}, map[string]any{"DashboardName": p["DashboardName"], "DashboardBody": wantBody})
		t.Logf("dashboard %s: %s (%d bytes)", id, name, len(got.Body))
	default:
		t.Errorf("%s: no check for %s", id, typ)
	}
}

// outputs: the stack's outputs are the template's.
func (a *checker) outputs(stack string) {
	out, err := a.c.cfn.DescribeStacks(a.ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		a.t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		got[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	want := map[string]any{}
	for k, o := range a.outputsTmpl {
		v, err := a.Eval(asMap(o)["Value"])
		if err != nil {
			a.t.Fatalf("output %s: %v", k, err)
		}
		want[k] = v
	}
	a.same(stack, "Outputs", got, want)
	a.t.Logf("%s outputs: %v", stack, got)
}

func (a *checker) same(id, what string, got, want any) {
	a.t.Helper()
	if g, w := normal(got), normal(want); !reflect.DeepEqual(g, w) {
		a.t.Errorf("%s %s:\n got %s\nwant %s", id, what, jsonOf(g), jsonOf(w))
	}
}

// contains: every field of want is in got, equal (got may have more).
func (a *checker) contains(id, what string, got, want any) {
	a.t.Helper()
	if g, w := normal(got), normal(want); !subset(g, w) {
		a.t.Errorf("%s %s:\n got %s\nwant %s", id, what, jsonOf(g), jsonOf(w))
	}
}

func subset(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if !subset(g[k], wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(normalScalar(got), normalScalar(want))
}

// normal is v as JSON values, nulls left out.
func normal(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return dropNulls(out)
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i := range v {
			v[i] = dropNulls(v[i])
		}
	}
	return v
}

// normalScalar compares numbers and booleans with their string forms
// (CloudFormation passes "10" and 10 alike).
func normalScalar(v any) any {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return v
}

// policyDoc decodes a policy document as IAM returns it (URL-encoded
// JSON). moto 5.2.1 stores the inline policies of a role created by
// CloudFormation as Python's repr of the document: that is read too.
func policyDoc(t *testing.T, s string) any {
	if u, err := url.QueryUnescape(s); err == nil && strings.HasPrefix(u, "{") {
		s = u
	}
	if strings.HasPrefix(s, "{'") {
		s = pythonLiteralToJSON(s)
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("policy document %q: %v", s, err)
	}
	return v
}

func tagMap(v any) map[string]string {
	out := map[string]string{}
	for _, e := range asList(normal(v)) {
		m := asMap(e)
		out[fmt.Sprint(m["Key"])] = fmt.Sprint(m["Value"])
	}
	return out
}

func sortedBy(v any, key string) []any {
	list := asList(normal(v))
	sort.Slice(list, func(i, j int) bool { return fmt.Sprint(asMap(list[i])[key]) < fmt.Sprint(asMap(list[j])[key]) })
	return list
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func logicalOf(physical map[string]string, name string) string {
	for id, p := range physical {
		if p == name {
			return id
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

// pythonLiteralToJSON turns Python's repr of a dict of lists and strings
// into JSON.
func pythonLiteralToJSON(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'' || ch == '"':
			var str strings.Builder
			for i++; i < len(s) && s[i] != ch; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						str.WriteByte('\n')
					case 't':
						str.WriteByte('\t')
					default:
						str.WriteByte(s[i])
					}
					continue
				}
				str.WriteByte(s[i])
			}
			b, _ := json.Marshal(str.String())
			out.Write(b)
		case strings.HasPrefix(s[i:], "True"):
			out.WriteString("true")
			i += 3
		case strings.HasPrefix(s[i:], "False"):
			out.WriteString("false")
			i += 4
		case strings.HasPrefix(s[i:], "None"):
			out.WriteString("null")
			i += 3
		default:
			out.WriteByte(ch)
		}
	}
	return out.String()
}
