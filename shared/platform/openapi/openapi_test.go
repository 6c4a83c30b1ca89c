package openapi

import "testing"

func TestToJSON(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"key order kept", "b: 1\na: 2\n", `{"b":1,"a":2}`},
		{"scalars by tag", "s: text\nq: '200'\ni: 42\nf: 1.5\nt: true\nn: null\ne: ~\n", `{"s":"text","q":"200","i":42,"f":1.5,"t":true,"n":null,"e":null}`},
		{"numeric keys are strings", "200: ok\n", `{"200":"ok"}`},
		{"nested and flow", "a: {x: [1, two, {y: false}]}\n", `{"a":{"x":[1,"two",{"y":false}]}}`},
		{"escapes", "m: \"say \\\"hi\\\"\\n\"\n", `{"m":"say \"hi\"\n"}`},
		{"aliases resolved", "a: &v {k: 1}\nb: *v\n", `{"a":{"k":1},"b":{"k":1}}`},
		{"block text", "d: |\n  line one\n  line two\n", `{"d":"line one\nline two\n"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToJSON([]byte(tt.yaml))
			if err != nil || string(got) != tt.want {
				t.Errorf("ToJSON = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := ToJSON([]byte("a: [1\n")); err == nil {
		t.Error("malformed YAML converted without an error")
	}
}

func TestDocumentConverts(t *testing.T) {
	if _, err := JSON(); err != nil {
		t.Fatal(err)
	}
}
