package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	atypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// salesPipeline makes a Glue table with Athena DDL (default.sales,
// Parquet) and a stream converting JSON records to it, and delivers twelve
// orders: four hours of 30 June 2026, three regions an hour.
func salesPipeline(t *testing.T, s *server) {
	t.Helper()
	qe, _ := sdkQuery(t, athenaClient(s), `CREATE EXTERNAL TABLE sales (sold_at timestamp, region string, amount double)
		STORED AS PARQUET LOCATION 's3://console-sales/sales/'`)
	if qe.Status.State != atypes.QueryExecutionStateSucceeded {
		t.Fatalf("CREATE TABLE: %s %s", qe.Status.State, aws.ToString(qe.Status.StateChangeReason))
	}
	fc := sdkClient(s)
	createStream(t, fc, "sales", &types.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::console-sales"), Prefix: aws.String("sales/"),
		CompressionFormat: types.CompressionFormatUncompressed,
		BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
		DataFormatConversionConfiguration: &types.DataFormatConversionConfiguration{Enabled: aws.Bool(true),
			SchemaConfiguration: &types.SchemaConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"),
				DatabaseName: aws.String("default"), TableName: aws.String("sales")},
			InputFormatConfiguration:  &types.InputFormatConfiguration{Deserializer: &types.Deserializer{OpenXJsonSerDe: &types.OpenXJsonSerDe{}}},
			OutputFormatConfiguration: &types.OutputFormatConfiguration{Serializer: &types.Serializer{ParquetSerDe: &types.ParquetSerDe{}}}},
	})
	var recs []string
	for h := 9; h <= 12; h++ {
		for i, region := range []string{"eu", "us", "ap"} {
			// eu sells 10 + h, us 20 + 2h, ap 5 an hour.
			amount := []int{10 + h, 20 + 2*h, 5}[i]
			recs = append(recs, fmt.Sprintf(`{"sold_at":"2026-06-30T%02d:%02d:00Z","region":%q,"amount":%d}`, h, 10*i, region, amount))
		}
	}
	putRecords(t, fc, "sales", recs...)
	flushStream(t, s, "sales")
}

// TestConsoleQueryDashboards goes from a question to a dashboard in the
// console, against the real binary: the query page lists the Glue table
// and its columns, runs typed SQL and shows its rows, draws a line over
// time and bars by region from the results in one step, and saves both
// charts into a dashboard refreshed every minute; the dashboard draws
// them from its own refresh, is exported as a JSON file and imported from
// it under another name, and both are there, drawn, after a restart.
func TestConsoleQueryDashboards(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	salesPipeline(t, s)
	b := newBrowser(t)

	// The Glue table and its columns beside the editor.
	b.open(s.ui("query"))
	b.wait("the catalog", `[...document.querySelectorAll('#catalog details summary')].some((e) => e.textContent === 'sales')`)
	b.click(`#catalog details details summary`)
	cols := eval[[]string](b, `[...document.querySelectorAll('#catalog details details[open] li')].filter((li) => li.querySelector('.type')).map((li) => li.querySelector('button').textContent + ' ' + li.querySelector('.type').textContent)`)
	if got := strings.Join(cols, ", "); got != "sold_at timestamp, region string, amount double" {
		t.Errorf("the sales table's columns beside the editor: %s", got)
	}
	if got := eval[string](b, `document.querySelector('#database').value`); got != "default" {
		t.Errorf("database %q", got)
	}

	// A query typed and run: sales by the hour.
	const hourly = "SELECT date_trunc('hour', sold_at) AS hour, sum(amount) AS total, count(*) AS orders\nFROM sales GROUP BY 1 ORDER BY 1"
	runQuery := func(sql string) {
		t.Helper()
		b.typeInto("#sql", sql)
		if got := eval[string](b, `document.querySelector('#sql').value`); got != sql {
			t.Fatalf("typed %q, the editor holds %q", sql, got)
		}
		b.click("#run")
		b.wait("the results", `document.querySelector('#results table') && document.querySelector('[role=status] .badge').textContent === 'SUCCEEDED'`)
	}
	runQuery(hourly)
	rows := eval[[]string](b, `[...document.querySelectorAll('#results tr')].map((tr) => [...tr.children].map((c) => c.textContent).join(' | '))`)
	want := []string{"hour | total | orders",
		"2026-06-30 09:00:00.000 | 62.0 | 3", "2026-06-30 10:00:00.000 | 65.0 | 3",
		"2026-06-30 11:00:00.000 | 68.0 | 3", "2026-06-30 12:00:00.000 | 71.0 | 3"}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("result rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	// The chart, drawn in one step: a line of both measures over the hour.
	b.wait("the chart", `!!document.querySelector('#query-chart canvas')`)
	if got := eval[string](b, `[document.querySelector('#chart-type').value, document.querySelector('#chart-x').value,
		...[...document.querySelectorAll('#chart-y input:checked')].map((i) => i.value)].join(' ')`); got != "line hour total orders" {
		t.Errorf("the chart suggested: %s", got)
	}
	if n := b.plotsDrawn("#query-chart"); n != 1 {
		t.Errorf("the query's line chart did not draw")
	}
	// Saved into a new dashboard refreshed every minute.
	const dash = "Sales overview"
	// offered is the schedule the page shows once the dashboard is named:
	// a new one's default, or the existing one's.
	addToDashboard := func(title, offered string) {
		t.Helper()
		b.typeInto("#chart-title", title)
		b.typeInto("#dash-name", dash)
		if got := eval[string](b, `document.querySelector('#dash-refresh').value`); got != offered {
			t.Errorf("the refresh offered for %q: %s s, want %s", dash, got, offered)
		}
		b.do("choose the schedule", chromedp.SetValue(chromedp.CSS("#dash-refresh"), "60"))
		b.click("#add-to-dashboard")
		b.wait("the chart added", `/Added to Sales overview, refreshed every minute/.test(document.querySelector('#chart-builder').textContent)`)
	}
	addToDashboard("Sales by the hour", "300")
	b.accessible("query")
	b.checkErrors("query: a line over time")

	// Another, by category: bars of each region's total.
	runQuery("SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY total DESC")
	rows = eval[[]string](b, `[...document.querySelectorAll('#results tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent).join(' '))`)
	if got := strings.Join(rows, ", "); got != "us 164.0, eu 82.0, ap 20.0" {
		t.Errorf("totals by region: %s", got)
	}
	b.wait("the bar chart", `!!document.querySelector('#query-chart canvas')`)
	if got := eval[string](b, `[document.querySelector('#chart-type').value, document.querySelector('#chart-x').value].join(' ')`); got != "bar region" {
		t.Errorf("the chart suggested: %s", got)
	}
	if n := b.plotsDrawn("#query-chart"); n != 1 {
		t.Errorf("the query's bar chart did not draw")
	}
	addToDashboard("Sales by region", "60")
	eval[bool](b, `(document.activeElement.blur(), true)`)
	b.shot("query")
	b.checkErrors("query: bars by category")

	// The dashboard: both charts drawn from its own refresh.
	b.open(s.ui("dashboards"))
	b.wait("the dashboards", `!!document.querySelector('main table a')`)
	if got := eval[string](b, `document.querySelector('main tbody tr').innerText.replace(/\s+/g, ' ')`); !strings.HasPrefix(got, "Sales overview 2 every minute") {
		t.Errorf("the dashboards list: %q", got)
	}
	b.accessible("dashboards")
	b.checkErrors("dashboards")
	b.click(`main table a`)
	checkDashboard := func(name string) {
		t.Helper()
		b.wait("the dashboard's charts", `document.querySelector('main h1').textContent === `+jsString(name)+` && document.querySelectorAll('#dashboard-charts canvas').length === 2`)
		if got := eval[string](b, `[...document.querySelectorAll('#dashboard-charts h3')].map((e) => e.textContent).join(', ')`); got != "Sales by the hour, Sales by region" {
			t.Errorf("%s's charts: %s", name, got)
		}
		if n := b.plotsDrawn("#dashboard-charts"); n != 2 {
			t.Errorf("%s: %d of its 2 charts drew", name, n)
		}
		if got := eval[string](b, `document.querySelector('#refresh').value`); got != "60" {
			t.Errorf("%s refreshes every %s s", name, got)
		}
		b.wait("the refresh time", `/^refreshed /.test(document.querySelector('main .head [role=status]').textContent)`)
	}
	checkDashboard(dash)
	b.accessible("dashboard")
	b.shot("dashboard")
	b.checkErrors("dashboard")

	// Exported as a JSON file, the browser's own download.
	dir := t.TempDir()
	b.do("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	b.click("#export")
	file := filepath.Join(dir, dash+".dashboard.json")
	waitFor(t, 20*time.Second, "the exported file", func() bool {
		_, err := os.Stat(file)
		return err == nil
	})
	var exported struct {
		Name           string
		RefreshSeconds int
		Owner          *string
		Charts         []struct{ Title, SQL, Database, Type, X string }
	}
	if err := json.Unmarshal([]byte(readFile(t, file)), &exported); err != nil {
		t.Fatalf("the exported dashboard: %v", err)
	}
	if exported.Name != dash || exported.RefreshSeconds != 60 || exported.Owner != nil || len(exported.Charts) != 2 ||
		exported.Charts[0].SQL != hourly || exported.Charts[0].Type != "line" || exported.Charts[0].X != "hour" || exported.Charts[0].Database != "default" ||
		exported.Charts[1].Type != "bar" || exported.Charts[1].X != "region" {
		t.Errorf("the exported dashboard: %+v", exported)
	}

	// Imported under its own name it is refused (it exists); as a copy it
	// is a new dashboard.
	b.open(s.ui("dashboards"))
	b.wait("the import form", `!!document.querySelector('#import-file')`)
	b.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file}))
	b.click(`#import button[type=submit]`)
	b.wait("the refusal", `/a dashboard named "Sales overview" exists/.test(document.querySelector('main [role=alert]').textContent)`)
	b.checkErrors("refused import", "409")
	b.typeInto("#import-name", "Sales copy")
	b.click(`#import button[type=submit]`)
	b.wait("the imported dashboard", `document.querySelectorAll('main tbody tr').length === 2`)
	b.click(`main [role=status] a`)
	checkDashboard("Sales copy")
	b.checkErrors("imported dashboard")

	// After a restart both are there, and draw again from a new refresh.
	// (The page is left first: an open one would rightly log its failed
	// polls while the server is down.)
	b.open("about:blank")
	s.Stop()
	s.Restart()
	b.open(s.ui("dashboards"))
	b.wait("the dashboards after the restart", `document.querySelectorAll('main tbody tr').length === 2`)
	if got := eval[string](b, `[...document.querySelectorAll('main tbody tr')].map((tr) => tr.innerText.replace(/\s+/g, ' ')).join(' / ')`); !strings.Contains(got, "Sales copy 2 every minute") || !strings.Contains(got, "Sales overview 2 every minute") {
		t.Errorf("the dashboards after the restart: %s", got)
	}
	b.open(s.ui("dashboards/Sales%20overview"))
	checkDashboard(dash)
	b.checkErrors("dashboard after the restart")
}

// typeInto empties a text field and types text into it, key by key.
func (b *browser) typeInto(sel, text string) {
	b.t.Helper()
	eval[bool](b, `(() => { const e = document.querySelector(`+jsString(sel)+`); e.value = ''; return true; })()`)
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
