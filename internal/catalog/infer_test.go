package catalog

import (
	"strings"
	"testing"
)

func TestInferMerges(t *testing.T) {
	in := NewInferrer()
	recs := `{"a":1,"b":1,"c":1,"d":"2024-01-02","e":[],"f":{"x":1},"g":null,"h":{"k-1":1,"k-2":2.5},"I":true}
{"a":5000000000,"b":1.5,"c":"x","d":"2024-01-02T03:04:05Z","e":[{"p":1},{"q":"s"}],"f":{"y":[1]},"h":{"k-3":3}}
{"a":2}{"b":null,"j":[[1,2.5]]}`
	if err := in.Add(strings.NewReader(recs)); err != nil {
		t.Fatal(err)
	}
	if in.Records() != 4 {
		t.Fatalf("%d records", in.Records())
	}
	var got []string
	for _, c := range in.Columns() {
		got = append(got, c.Name+" "+c.Type)
	}
	want := []string{"a bigint", "b double", "c string", "d timestamp", "e array<struct<p:int,q:string>>",
		"f struct<x:int,y:array<int>>", "g string", "h map<string,double>", "i boolean", "j array<array<double>>"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if err := NewInferrer().Add(strings.NewReader(`[1,2]`)); err == nil {
		t.Error("an array record was accepted")
	}
	if err := NewInferrer().Add(strings.NewReader(`{"a":`)); err == nil {
		t.Error("truncated JSON was accepted")
	}
}
