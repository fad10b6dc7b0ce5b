package main

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

func TestResultPrinter(t *testing.T) {
	cols := []types.ColumnInfo{{Name: aws.String("name"), Type: aws.String("varchar")}, {Name: aws.String("n"), Type: aws.String("bigint")},
		{Name: aws.String("ok"), Type: aws.String("boolean")}, {Name: aws.String("x"), Type: aws.String("double")}}
	rows := [][]*string{
		{aws.String("héllo"), aws.String("12"), aws.String("true"), aws.String("1.5E-4")},
		{aws.String("a,\"b\"\nc"), nil, aws.String("false"), aws.String("NaN")},
	}
	for format, want := range map[string]string{
		"csv":   "name,n,ok,x\nhéllo,12,true,1.5E-4\n\"a,\"\"b\"\"\nc\",,false,NaN\n",
		"json":  `{"name":"héllo","n":12,"ok":true,"x":0.00015}` + "\n" + `{"name":"a,\"b\"\nc","n":null,"ok":false,"x":"NaN"}` + "\n",
		"table": "name     | n    | ok    | x\n---------+------+-------+-------\nhéllo    | 12   | true  | 1.5E-4\na,\"b\"\\nc | NULL | false | NaN\n",
	} {
		var b bytes.Buffer
		p := newResultPrinter(format, &b)
		if err := p.columns(cols); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := p.row(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.flush(); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s:\n%q\nwant\n%q", format, b.String(), want)
		}
	}
}
