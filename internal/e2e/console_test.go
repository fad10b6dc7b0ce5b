package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// ui is the console's address on s.
func (s *server) ui(page string) string { return s.URL + "/_hydrant/ui/" + page }

func glueClient(s *server) *glue.Client {
	return glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// putRecords sends records to a stream with PutRecordBatch.
func putRecords(t *testing.T, c *fh.Client, stream string, recs ...string) {
	t.Helper()
	var in []types.Record
	for _, r := range recs {
		in = append(in, types.Record{Data: []byte(r)})
	}
	out, err := c.PutRecordBatch(context.Background(), &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: in})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("put to %s: %v %+v", stream, err, out)
	}
}

// consolePipeline sets up what the console shows: a GZIP stream that waits
// 15 minutes to deliver ("clicks", for "flush now"), a stream converting
// to Parquet with a Glue table whose bad record goes to the error output
// ("orders", delivered at once, logging its errors to CloudWatch Logs,
// watched by an alarm), and a python function invoked once ("echo").
func consolePipeline(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	fc := sdkClient(s)
	_, err := glueClient(s).CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("default"), TableInput: &gluetypes.TableInput{
		Name: aws.String("orders"), StorageDescriptor: &gluetypes.StorageDescriptor{Columns: []gluetypes.Column{
			{Name: aws.String("id"), Type: aws.String("int")}, {Name: aws.String("item"), Type: aws.String("string")},
			{Name: aws.String("price"), Type: aws.String("decimal(8,2)")}, {Name: aws.String("at"), Type: aws.String("timestamp")},
			{Name: aws.String("day"), Type: aws.String("date")}}}}})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	createStream(t, fc, "clicks", &types.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::console-clicks"), Prefix: aws.String("clicks/"),
		CompressionFormat: types.CompressionFormatGzip,
		BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)},
	})
	role := aws.String("arn:aws:iam::000000000000:role/firehose")
	// Firehose logs delivery errors to a group and stream that must exist.
	lg := cloudwatchlogs.New(cloudwatchlogs.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/kinesisfirehose/orders")}); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/aws/kinesisfirehose/orders"), LogStreamName: aws.String("DestinationDelivery")}); err != nil {
		t.Fatal(err)
	}
	createStream(t, fc, "orders", &types.ExtendedS3DestinationConfiguration{
		CloudWatchLoggingOptions: &types.CloudWatchLoggingOptions{Enabled: aws.Bool(true),
			LogGroupName: aws.String("/aws/kinesisfirehose/orders"), LogStreamName: aws.String("DestinationDelivery")},
		BucketARN: aws.String("arn:aws:s3:::console-orders"), Prefix: aws.String("orders/"),
		ErrorOutputPrefix: aws.String("errors/!{firehose:error-output-type}/"),
		CompressionFormat: types.CompressionFormatUncompressed,
		BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(0)},
		DataFormatConversionConfiguration: &types.DataFormatConversionConfiguration{Enabled: aws.Bool(true),
			SchemaConfiguration:       &types.SchemaConfiguration{RoleARN: role, DatabaseName: aws.String("default"), TableName: aws.String("orders")},
			InputFormatConfiguration:  &types.InputFormatConfiguration{Deserializer: &types.Deserializer{OpenXJsonSerDe: &types.OpenXJsonSerDe{}}},
			OutputFormatConfiguration: &types.OutputFormatConfiguration{Serializer: &types.Serializer{ParquetSerDe: &types.ParquetSerDe{}}}},
	})
	putRecords(t, fc, "clicks", `{"user":1,"page":"/home"}`+"\n", `{"user":2,"page":"/cart"}`+"\n", `{"user":3,"page":"/pay"}`+"\n")
	putRecords(t, fc, "orders", `{"id":1,"item":"tea","price":3.5,"at":"2026-06-30T12:34:56.789Z","day":"2026-06-30"}`,
		`{"id":2,"item":"cake","price":4.25}`, `not json at all: order #3`, `{"id":4,"item":"jam","price":2}`)
	flushStream(t, s, "orders")

	lc := lambdaClient(s)
	zipBytes, _ := os.ReadFile(fnZip(t, map[string][]byte{"app.py": []byte(
		"def handler(event, context):\n    print('hello from the console test', event)\n    return {'ok': True}\n")}))
	if _, err := lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{
		FunctionName: aws.String("echo"), Runtime: lambdatypes.Runtime("python3.12"), Handler: aws.String("app.handler"),
		Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &lambdatypes.FunctionCode{ZipFile: zipBytes}, Timeout: aws.Int32(10),
	}); err != nil {
		t.Fatalf("create function: %v", err)
	}
	if out, err := lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"n":1}`)}); err != nil || out.FunctionError != nil {
		t.Fatalf("invoke: %v %+v", err, out)
	}

	// An alarm on the orders stream's incoming records.
	cw := cloudwatch.New(cloudwatch.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("orders-incoming"),
		AlarmDescription: aws.String("More than 3 orders a minute"),
		Namespace:        aws.String("AWS/Firehose"), MetricName: aws.String("IncomingRecords"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("DeliveryStreamName"), Value: aws.String("orders")}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(3),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatalf("put alarm: %v", err)
	}
}

// objectKeys lists a local bucket's keys under prefix.
func (s *server) objectKeys(bucket, prefix string) []string {
	var keys []string
	for k := range s.bucketFiles(bucket) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestConsolePages drives every console page in one headless Chromium
// against the real binary: each loads without a browser error and with
// labelled controls; the overview leads from a failing record to its
// decoded rawData; "flush now" makes an object appear, whose records are
// previewed decompressed; a Parquet object is shown as a table; a
// function's log is shown. Screenshots go to the test's artifact
// directory.
func TestConsolePages(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3")
	s := startServer(t)
	consolePipeline(t, s)
	b := newBrowser(t)

	// The overview: every stream live, the failing one with its last error.
	b.open(s.ui(""))
	b.wait("the streams table", `document.querySelectorAll('#streams tbody tr[data-stream]').length === 2`)
	b.wait("the orders stream's last error", `!!document.querySelector('tr[data-stream="orders"] a.last-error')`)
	b.wait("incoming rates", `![...document.querySelectorAll('#streams tbody td')].some((td) => td.textContent === '…')`)
	if got := eval[string](b, `document.querySelector('tr[data-stream="orders"] a.last-error').textContent`); !strings.Contains(got, "format-conversion-failed") {
		t.Errorf("orders' last error reads %q", got)
	}
	if got := eval[string](b, `document.querySelector('tr[data-stream="clicks"]').innerText`); !strings.Contains(got, "3 rec") {
		t.Errorf("clicks' row does not show its 3 waiting records: %q", got)
	}
	b.wait("the alarm", `!!document.querySelector('section[aria-labelledby="al-h"] a[href$="/alarms/orders-incoming"]')`)
	b.accessible("overview")
	b.shot("overview")
	b.checkErrors("overview")

	// From the overview to the failed record, decoded.
	b.click(`tr[data-stream="orders"] a.last-error`)
	b.wait("the decoded rawData", `[...document.querySelectorAll('.rawdata')].some((e) => e.textContent.includes('not json at all: order #3'))`)
	if got := eval[string](b, `document.querySelector('.error-record h4').textContent`); !strings.HasPrefix(got, "DataFormatConversion.") {
		t.Errorf("the failed record's error code is %q", got)
	}
	if loc := eval[string](b, `location.pathname + location.search`); !strings.HasPrefix(loc, "/_hydrant/ui/streams/orders?tab=errors") {
		t.Errorf("the last error led to %s", loc)
	}
	b.accessible("stream errors")
	b.shot("stream-errors")
	b.checkErrors("stream errors")

	// The Parquet object, shown as a table.
	parquet := s.objectKeys("console-orders", "orders/")
	if len(parquet) != 1 {
		t.Fatalf("orders delivered %v", parquet)
	}
	b.open(s.ui("streams/orders?tab=objects"))
	b.click(`#object-list button.object`)
	b.wait("the Parquet preview", `!!document.querySelector('#preview table')`)
	cols := eval[[]string](b, `[...document.querySelectorAll('#preview thead th')].map((th) => th.firstChild.textContent)`)
	if strings.Join(cols, ",") != "id,item,price,at,day" {
		t.Errorf("Parquet columns %v", cols)
	}
	if row := eval[[]string](b, `[...document.querySelectorAll('#preview tbody tr:first-child td')].map((td) => td.textContent)`); strings.Join(row, ",") != "1,tea,3.50,2026-06-30T12:34:56.789Z,2026-06-30" {
		t.Errorf("Parquet first row %v", row)
	}
	if rows := eval[int](b, `document.querySelectorAll('#preview tbody tr').length`); rows != 3 {
		t.Errorf("Parquet preview shows %d rows, want 3", rows)
	}
	b.shot("stream-parquet")
	b.checkErrors("Parquet preview")

	// "Flush now": the waiting records become an object, previewed
	// decompressed.
	b.open(s.ui("streams/clicks?tab=objects"))
	b.wait("the empty bucket", `document.querySelector('#object-list').textContent.includes('does not exist yet')`)
	b.click(`#flush`)
	b.wait("the flushed object", `!!document.querySelector('#object-list button.object')`)
	b.click(`#object-list button.object`)
	b.wait("the records preview", `document.querySelectorAll('#preview ol.records li').length === 3`)
	if got := eval[string](b, `document.querySelector('#preview').textContent`); !strings.Contains(got, `{"user":2,"page":"/cart"}`) || !strings.Contains(got, "GZIP, decompressed") {
		t.Errorf("preview of the flushed object: %q", got)
	}
	if keys := s.objectKeys("console-clicks", "clicks/"); len(keys) != 1 || !strings.HasSuffix(keys[0], ".gz") {
		t.Errorf("flush now delivered %v", keys)
	}
	b.accessible("stream objects")
	b.shot("stream-objects")
	b.checkErrors("stream objects")

	// The configuration, readable, with the raw JSON one click away; the
	// tabs answer the arrow keys.
	b.open(s.ui("streams/orders"))
	b.wait("the configuration", `document.querySelector('dl.config') && document.querySelector('dl.config').textContent.includes('Glue table default.orders')`)
	b.click(`details.panel summary`)
	if got := eval[string](b, `document.querySelector('details.panel pre').textContent`); !strings.Contains(got, `"DeliveryStreamName": "orders"`) {
		t.Errorf("raw JSON: %.200s", got)
	}
	b.do("arrow to the next tab", chromedp.Focus(chromedp.CSS(`#tab-configuration`)), chromedp.KeyEvent(kb.ArrowRight))
	if got := eval[string](b, `document.activeElement.id + ' ' + document.activeElement.getAttribute('aria-selected')`); got != "tab-graphs true" {
		t.Errorf("after ArrowRight on the first tab, focus is on %q", got)
	}
	b.open(s.ui("streams/orders"))
	b.wait("the configuration", `!!document.querySelector('dl.config')`)
	b.accessible("stream configuration")
	b.shot("stream-configuration")
	b.checkErrors("stream configuration")

	// The stream's graphs, from the CloudWatch metric store.
	b.open(s.ui("streams/orders?tab=graphs"))
	b.wait("the graphs", `document.querySelectorAll('figure.chart canvas').length >= 7 && /^[1-9][0-9,]* datapoints/.test(document.querySelector('#tabpanel [role=status]').textContent)`)
	if n := b.plotsDrawn("#tabpanel"); n < 4 {
		t.Errorf("%d stream charts drew a line (incoming records and bytes, delivered, success at least)", n)
	}
	b.click(`#tabpanel input[value="24h"]`)
	b.wait("the 24-hour graphs", `/one every 5 min/.test(document.querySelector('#tabpanel [role=status]').textContent)`)
	b.accessible("stream graphs")
	b.shot("stream-graphs")
	b.checkErrors("stream graphs")

	// The stream's delivery error log, from CloudWatch Logs.
	b.open(s.ui("streams/orders?tab=logs"))
	b.wait("the error log", `document.querySelector('.log') && document.querySelector('.log').textContent.includes('DataFormatConversion.ParseError')`)
	b.accessible("stream logs")
	b.shot("stream-logs")
	b.checkErrors("stream logs")

	// A function: configuration and its log.
	b.open(s.ui("functions/echo"))
	b.wait("the function's log", `document.querySelector('.log') && document.querySelector('.log').textContent.includes('hello from the console test')`)
	if got := eval[string](b, `document.querySelector('.log').textContent`); !strings.Contains(got, "START RequestId") || !strings.Contains(got, "REPORT RequestId") {
		t.Errorf("function log: %.400s", got)
	}
	b.accessible("function")
	b.shot("function")
	b.click("#tab-graphs")
	b.wait("the function's graphs", `document.querySelectorAll('figure.chart canvas').length === 4 && /^[1-9]/.test(document.querySelector('#tabpanel [role=status]').textContent)`)
	if n := b.plotsDrawn("#tabpanel"); n < 3 {
		t.Errorf("%d function charts drew a line (invocations, errors, duration at least)", n)
	}
	b.shot("function-graphs")
	b.checkErrors("function")

	// Alarms: the list, and one with its metric, threshold and history;
	// its state set by hand.
	b.open(s.ui("alarms"))
	b.wait("the alarms", `!!document.querySelector('main table a[href$="/alarms/orders-incoming"]')`)
	b.accessible("alarms")
	b.shot("alarms")
	b.click(`main table a[href$="/alarms/orders-incoming"]`)
	b.wait("the alarm's graph", `document.querySelectorAll('#alarm-chart canvas').length === 1 && document.querySelector('#alarm-chart').textContent.includes('threshold')`)
	if n := b.plotsDrawn("#alarm-chart"); n != 1 {
		t.Errorf("the alarm's metric line did not draw")
	}
	b.do("choose ALARM", chromedp.SetValue(chromedp.CSS("#set-state"), "ALARM"))
	b.click(`form[aria-labelledby="set-h"] button[type=submit]`)
	b.wait("the new state", `document.querySelector('main').textContent.includes('State set to ALARM') && document.querySelector('.head .badge').textContent === 'ALARM'`)
	if got := eval[string](b, `[...document.querySelectorAll('main table tbody tr')].map((tr) => tr.textContent).join(' | ')`); !strings.Contains(got, "to ALARM") {
		t.Errorf("alarm history: %s", got)
	}
	b.accessible("alarm")
	b.shot("alarm")
	b.checkErrors("alarms")

	// A phone-sized screen: nothing wider than the window.
	b.viewport(390, 844, 2)
	b.open(s.ui(""))
	b.wait("the streams table", `document.querySelectorAll('#streams tbody tr[data-stream]').length === 2`)
	b.accessible("overview on a phone")
	b.shot("overview-phone")
	b.open(s.ui("streams/orders?tab=errors"))
	b.wait("the decoded rawData", `!!document.querySelector('.rawdata')`)
	b.accessible("stream errors on a phone")
	b.shot("stream-errors-phone")
	b.checkErrors("phone")
}

// TestConsoleAPIErrors checks that the console's API answers JSON errors
// for what does not exist, that every page path serves the shell, and that
// every answer carries the Content-Security-Policy.
func TestConsoleAPIErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for path, want := range map[string]int{
		"/_hydrant/ui/api/streams/nope":                 http.StatusNotFound,
		"/_hydrant/ui/api/streams/nope/objects":         http.StatusNotFound,
		"/_hydrant/ui/api/functions/nope":               http.StatusNotFound,
		"/_hydrant/ui/api/dashboards/nope":              http.StatusNotFound,
		"/_hydrant/ui/assets/js/nope.js":                http.StatusNotFound,
		"/_hydrant/ui/streams/anything":                 http.StatusOK,
		"/_hydrant/ui/api/streams/nope/graphs?range=1h": http.StatusNotFound,
	} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if strings.HasPrefix(path, "/_hydrant/ui/api/") {
			var e struct{ Error string }
			if json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("GET %s: not a JSON error: %s", path, body)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
	}
}
