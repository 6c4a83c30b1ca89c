package samtemplate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const sample = `
Parameters:
  Header:
    Type: String
    Default: x-api-key
Globals:
  Function:
    Environment:
      Variables:
        PLAYERS_TABLE: !Ref Players
        SECRET_ID: !Ref Secret
        LOG_LEVEL: info
Resources:
  Players:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: gsi1, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: byGsi1
          KeySchema: [{AttributeName: gsi1, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
  Secret:
    Type: AWS::SecretsManager::Secret
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Environment:
        Variables:
          HEADER: !Ref Header
          LOG_LEVEL: debug
          ARN: !GetAtt Players.Arn
      Events:
        B:
          Type: HttpApi
          Properties: {Path: "/files/{path+}", Method: get}
        A:
          Type: HttpApi
          Properties: {Path: "/purchase/{playerId}", Method: POST}
        Tick:
          Type: Schedule
          Properties: {Schedule: rate(1 minute)}
`

func TestParse(t *testing.T) {
	tmpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	fn := tmpl.Functions["Fn"]
	wantEnv := map[string]string{"PLAYERS_TABLE": "Players", "LOG_LEVEL": "debug", "HEADER": "x-api-key"}
	if !reflect.DeepEqual(fn.Env, wantEnv) {
		t.Errorf("env = %v, want %v", fn.Env, wantEnv)
	}
	if !reflect.DeepEqual(fn.TableEnv, map[string]string{"PLAYERS_TABLE": "Players"}) {
		t.Errorf("table env = %v", fn.TableEnv)
	}
	wantRoutes := []Route{{"POST", "/purchase/{playerId}"}, {"GET", "/files/{path+}"}}
	if !reflect.DeepEqual(fn.Routes, wantRoutes) {
		t.Errorf("routes = %v, want %v", fn.Routes, wantRoutes)
	}
	for path, want := range map[string]string{"/market/{slash+}": "/market/", "/files/{path+}": "/files/{path+}", "/a/{b}": "/a/{b}"} {
		if got := (Route{"GET", path}).ClientPath(); got != want {
			t.Errorf("client path of %s = %q, want %q", path, got, want)
		}
	}
	if !reflect.DeepEqual(fn.Schedules, []string{"rate(1 minute)"}) || fn.BuildMethod != "makefile" || fn.CodeURI != "." {
		t.Errorf("function = %+v", fn)
	}
	tab := tmpl.Tables["Players"]
	if tab.TTLAttribute != "expiresAt" || len(tab.GlobalIndexes) != 1 || tab.GlobalIndexes[0].Name != "byGsi1" || len(tab.AttributeDefinitions) != 2 {
		t.Errorf("table = %+v", tab)
	}
}

func TestProjectTemplateParses(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Functions) == 0 || len(tmpl.Tables) == 0 {
		t.Fatalf("template has %d functions and %d tables", len(tmpl.Functions), len(tmpl.Tables))
	}
	for id, fn := range tmpl.Functions {
		if fn.MemorySize <= 0 {
			t.Errorf("%s: MemorySize %d", id, fn.MemorySize)
		}
	}
	if got := tmpl.Functions["DispatchFunction"].Streams; len(got) != 1 || got[0] != "OutboxTable" {
		t.Errorf("DispatchFunction is fed by the streams of %v, want [OutboxTable]", got)
	}
}

// An event source mapping must name a function of the template and a
// table's stream.
func TestEventSourceMapping(t *testing.T) {
	const base = `
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties: {}
  F:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: .}
  M:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
`
	for props, ok := range map[string]bool{
		"      FunctionName: !Ref F\n      EventSourceArn: !GetAtt T.StreamArn\n":        true,
		"      FunctionName: !GetAtt F.Arn\n      EventSourceArn: !GetAtt T.StreamArn\n": true,
		"      FunctionName: !Ref G\n      EventSourceArn: !GetAtt T.StreamArn\n":        false,
		"      FunctionName: !Ref F\n      EventSourceArn: !GetAtt T.Arn\n":              false,
		"      FunctionName: !Ref F\n      EventSourceArn: !Ref T\n":                     false,
	} {
		tmpl, err := Parse([]byte(base + props))
		if (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%v", props, err, ok)
			continue
		}
		if ok && fmt.Sprint(tmpl.Functions["F"].Streams) != "[T]" {
			t.Errorf("%q: streams %v", props, tmpl.Functions["F"].Streams)
		}
	}
}

func TestMemorySize(t *testing.T) {
	// tmpl is a template with one function Fn; globals and own are YAML
	// lines for Globals.Function and Fn's Properties ("" for none). own is
	// on line 12.
	tmpl := func(globals, own string) string {
		return "Parameters:\n  Mem: {Type: Number, Default: 512}\n" +
			"Globals:\n  Function:\n    Timeout: 10\n    " + globals + "\n" +
			"Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      " + own + "\n"
	}
	tests := []struct {
		name    string
		globals string
		own     string
		want    int
		wantErr string // substring of the error; "" means none
	}{
		{name: "neither: Lambda's default", want: DefaultMemorySize},
		{name: "globals", globals: "MemorySize: 256", want: 256},
		{name: "own", own: "MemorySize: 1024", want: 1024},
		{name: "own over globals", globals: "MemorySize: 256", own: "MemorySize: 2048", want: 2048},
		{name: "quoted number", own: `MemorySize: "384"`, want: 384},
		{name: "parameter default", globals: "MemorySize: !Ref Mem", want: 512},
		{name: "not a number", own: "MemorySize: big", wantErr: `function Fn: MemorySize "big" is not a positive number`},
		{name: "zero", globals: "MemorySize: 0", wantErr: `function Fn: MemorySize "0" is not a positive number`},
		{name: "unknown reference", own: "MemorySize: !Ref Nothing", wantErr: "function Fn: MemorySize at line 12"},
		{name: "intrinsic", own: "MemorySize: !If [IsProd, 1024, 256]", wantErr: "function Fn: MemorySize at line 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tmpl(tt.globals, tt.own)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := got.Functions["Fn"].MemorySize; m != tt.want {
				t.Errorf("MemorySize = %d, want %d", m, tt.want)
			}
		})
	}
}

// PolicyTables names the tables a function's policies name, whatever the
// form (!GetAtt T.Arn, !Sub "${T.Arn}/index/*", !Ref T), and nothing else.
func TestPolicyTables(t *testing.T) {
	tpl, err := Parse([]byte(`
Resources:
  Orders: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}]}}
  Rates: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}]}}
  Unused: {Type: AWS::DynamoDB::Table, Properties: {KeySchema: [{AttributeName: pk, KeyType: HASH}]}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Environment: {Variables: {UNUSED_TABLE: !Ref Unused}}
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource:
                - !GetAtt Orders.Arn
                - !Sub "${Orders.Arn}/index/*"
                - !Sub arn:${AWS::Partition}:secretsmanager:*:*:secret:Unused
        - DynamoDBReadPolicy: {TableName: !Ref Rates}
  Bare:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: .}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.Functions["Fn"].PolicyTables; !reflect.DeepEqual(got, []string{"Orders", "Rates"}) {
		t.Errorf("Fn: PolicyTables %v, want [Orders Rates] (a secret's name that reads like a table is no table)", got)
	}
	if got := tpl.Functions["Bare"].PolicyTables; len(got) != 0 {
		t.Errorf("Bare: PolicyTables %v, want none", got)
	}
}
