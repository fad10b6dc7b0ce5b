package query

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
)

func ptrs(s string) *string { return &s }

// eventsTable is the recipe's table shape: Parquet, partitioned by
// year/month/day/hour strings.
func eventsTable(name, loc string) catalog.TableInput {
	return catalog.TableInput{Name: name,
		StorageDescriptor: &catalog.StorageDescriptor{Location: ptrs(loc),
			Columns: []catalog.Column{{Name: "timestamp", Type: "timestamp"}, {Name: "event_type", Type: "string"},
				{Name: "user_id", Type: "string"}, {Name: "n", Type: "bigint"}},
			SerdeInfo: &catalog.SerDeInfo{SerializationLibrary: ptrs(parquetSerDe)}},
		PartitionKeys: []catalog.Column{{Name: "year", Type: "string"}, {Name: "month", Type: "string"},
			{Name: "day", Type: "string"}, {Name: "hour", Type: "string"}}}
}

func TestParquetPartitionsPruned(t *testing.T) {
	f := newFixture(t)
	f.table("default", eventsTable("events", "s3://etl/processed-data/"))
	for h := 10; h < 13; h++ {
		hh := string(rune('0'+h/10)) + string(rune('0'+h%10))
		f.parquet("etl", "processed-data/year=2026/month=11/day=25/hour="+hh+"/part-1.parquet",
			"SELECT TIMESTAMPTZ '2026-11-25 "+hh+":30:00+00' AS timestamp, CASE WHEN i % 2 = 0 THEN 'click' ELSE 'view' END AS event_type, "+
				"'u' || (i % 3) AS user_id, i::BIGINT AS n FROM range(100) t(i)")
	}
	// Objects Athena skips: hidden names, and keys outside the partitions.
	f.put("etl", "processed-data/year=2026/month=11/day=25/hour=10/_SUCCESS", []byte("x"))
	f.put("etl", "processed-data/notapartition/x.parquet", []byte("junk"))

	all, outAll := f.run("SELECT count(*), count(DISTINCT hour), min(timestamp), sum(n) FROM events")
	if got := all.text(); got != "300|3|2026-11-25 10:30:00.000|14850" {
		t.Fatalf("full scan %s", got)
	}
	one, outOne := f.run("SELECT event_type, count(*) AS c FROM events WHERE year = '2026' AND hour = '11' GROUP BY event_type ORDER BY c DESC, event_type")
	if got := one.text(); got != "click|50;view|50" {
		t.Fatalf("one hour %s", got)
	}
	if outAll.DataScannedBytes <= 0 || outOne.DataScannedBytes*3 != outAll.DataScannedBytes {
		t.Fatalf("scanned %d of %d: the one-hour query must read one third", outOne.DataScannedBytes, outAll.DataScannedBytes)
	}
	// Predicates the pruner cannot decide leave every partition to DuckDB.
	res, out := f.run("SELECT count(*) FROM events e WHERE e.hour = '10' OR e.n = 5")
	if res.text() != "102" || out.DataScannedBytes != outAll.DataScannedBytes {
		t.Fatalf("OR with a data column: %s, scanned %d", res.text(), out.DataScannedBytes)
	}
	res, out = f.run("SELECT count(*) FROM events AS e WHERE CAST(e.hour AS integer) BETWEEN 11 AND 12 AND e.n < 10")
	if res.text() != "20" || out.DataScannedBytes*3 != outAll.DataScannedBytes*2 {
		t.Fatalf("BETWEEN on a cast key: %s, scanned %d", res.text(), out.DataScannedBytes)
	}
	res, out = f.run("SELECT count(*) FROM events WHERE hour = '99'")
	if res.text() != "0" || out.DataScannedBytes != 0 {
		t.Fatalf("no partition: %s, scanned %d", res.text(), out.DataScannedBytes)
	}
	// A self-join reads the union of what each side needs.
	res, _ = f.run(`SELECT a.hour, count(*) FROM events a JOIN (SELECT DISTINCT user_id FROM events WHERE hour = '12') b ON a.user_id = b.user_id WHERE a.hour = '10' GROUP BY a.hour`)
	if res.text() != "10|100" {
		t.Fatalf("join %s", res.text())
	}
	// Column types are Glue's: the Parquet's timestamptz reads as timestamp.
	if all.cols[2].Type != "timestamp" {
		t.Fatalf("timestamp column type %+v", all.cols[2])
	}
	// Registered partitions win over discovery, as in Athena.
	if _, err := f.cat.CreatePartitions(context.Background(), "", "default", "events", []catalog.PartitionInput{
		{Values: []string{"2026", "11", "25", "10"}, StorageDescriptor: &catalog.StorageDescriptor{Location: ptrs("s3://etl/processed-data/year=2026/month=11/day=25/hour=10/")}}}); err != nil {
		t.Fatal(err)
	}
	if res, _ := f.run("SELECT count(*), min(hour) FROM events"); res.text() != "100|10" {
		t.Fatalf("registered partitions only: %s", res.text())
	}
	f.fails("SELECT nosuchcolumn FROM events", "COLUMN_NOT_FOUND")
	// A key DuckDB would take for a glob pattern is refused by name.
	f.parquet("etl", "processed-data/year=2026/month=11/day=25/hour=10/part-[2].parquet", "SELECT TIMESTAMPTZ '2026-11-25 10:00:00+00' AS timestamp, 'x' AS event_type, 'u' AS user_id, 1::BIGINT AS n")
	f.fails("SELECT count(*) FROM events", "has a glob character")
}

// TestPlainLayout reads partitions registered with Firehose's plain
// yyyy/MM/dd/HH prefixes (what a crawler registers as partition_0...).
func TestPlainLayout(t *testing.T) {
	f := newFixture(t)
	in := eventsTable("plain", "s3://raw/data/")
	in.PartitionKeys = []catalog.Column{{Name: "partition_0", Type: "string"}, {Name: "partition_1", Type: "string"}}
	// A column the files do not have reads as NULL.
	in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, catalog.Column{Name: "added_later", Type: "int"})
	f.table("default", in)
	f.parquet("raw", "data/2026/11/a.parquet", "SELECT TIMESTAMP '2026-11-01 00:00:00' AS timestamp, 'x' AS event_type, 'u1' AS user_id, 1::BIGINT AS n")
	f.parquet("raw", "data/2026/12/a.parquet", "SELECT TIMESTAMP '2026-12-01 00:00:00' AS timestamp, 'y' AS event_type, 'u2' AS user_id, 2::BIGINT AS n")
	var parts []catalog.PartitionInput
	for _, m := range []string{"11", "12"} {
		parts = append(parts, catalog.PartitionInput{Values: []string{"2026", m}, StorageDescriptor: &catalog.StorageDescriptor{Location: ptrs("s3://raw/data/2026/" + m + "/")}})
	}
	if _, err := f.cat.CreatePartitions(context.Background(), "", "default", "plain", parts); err != nil {
		t.Fatal(err)
	}
	res, out := f.run("SELECT event_type, partition_1 FROM plain WHERE partition_1 = '12'")
	if res.text() != "y|12" || out.DataScannedBytes == 0 {
		t.Fatalf("plain layout %s (%d bytes)", res.text(), out.DataScannedBytes)
	}
	res, _ = f.run("SELECT count(*), count(added_later) FROM plain")
	if res.text() != "2|0" {
		t.Fatalf("plain layout all %s", res.text())
	}
}

func TestJSONTables(t *testing.T) {
	f := newFixture(t)
	for _, lib := range []string{"org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe"} {
		name := "j" + string(rune('a'+len(lib)%20))
		f.table("default", catalog.TableInput{Name: name, StorageDescriptor: &catalog.StorageDescriptor{
			Location: ptrs("s3://logs/" + name + "/"),
			Columns: []catalog.Column{{Name: "user", Type: "string"}, {Name: "n", Type: "int"},
				{Name: "tags", Type: "array<string>"}, {Name: "geo", Type: "struct<lat:double>"}},
			SerdeInfo: &catalog.SerDeInfo{SerializationLibrary: ptrs(lib)}}})
		records := []byte(`{"user":"a","n":1,"tags":["x"],"geo":{"lat":1.5}}` + "\n" + `{"user":"b","n":2,"extra":true}` + "\n")
		f.put("logs", name+"/plain", records)
		for i, codec := range []string{compress.GZIP, compress.Snappy, compress.ZIP, compress.HadoopSnappy} {
			var buf bytes.Buffer
			w, err := compress.NewWriter(codec, &buf, compress.Options{EntryName: "e"})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(records)
			w.Close()
			f.put("logs", name+"/obj-"+string(rune('0'+i))+compress.Extension(codec), buf.Bytes())
		}
		res, out := f.run("SELECT user, count(*), sum(n), max(cardinality(tags)), max(geo.lat) FROM " + name + " GROUP BY user ORDER BY user")
		if got := res.text(); got != `a|5|5|1|1.5;b|5|10|\N|\N` {
			t.Fatalf("%s: %s", lib, got)
		}
		if out.DataScannedBytes == 0 {
			t.Fatalf("%s: nothing scanned", lib)
		}
	}
}

func TestCSVTables(t *testing.T) {
	f := newFixture(t)
	f.table("default", catalog.TableInput{Name: "lazy", StorageDescriptor: &catalog.StorageDescriptor{
		Location:  ptrs("s3://csv/lazy/"),
		Columns:   []catalog.Column{{Name: "a", Type: "string"}, {Name: "b", Type: "int"}, {Name: "c", Type: "double"}},
		SerdeInfo: &catalog.SerDeInfo{SerializationLibrary: ptrs(lazySimple), Parameters: map[string]string{"field.delim": ","}}},
		Parameters: map[string]string{"skip.header.line.count": "1"}})
	f.put("csv", "lazy/1.csv", []byte("a,b,c\nx,1,1.5\ny,notanumber,\\N\n"))
	res, _ := f.run("SELECT a, b, c FROM lazy ORDER BY a")
	if got := res.text(); got != `x|1|1.5;y|\N|\N` {
		t.Fatalf("lazy %s", got)
	}
	f.table("default", catalog.TableInput{Name: "open", StorageDescriptor: &catalog.StorageDescriptor{
		Location:  ptrs("s3://csv/open/"),
		Columns:   []catalog.Column{{Name: "a", Type: "string"}, {Name: "b", Type: "string"}},
		SerdeInfo: &catalog.SerDeInfo{SerializationLibrary: ptrs("org.apache.hadoop.hive.serde2.OpenCSVSerde")}}})
	f.put("csv", "open/1.csv", []byte("\"x, y\",\"q\"\"uote\"\n"))
	res, _ = f.run("SELECT a, b FROM open")
	if got := res.text(); got != `x, y|q"uote` {
		t.Fatalf("open %s", got)
	}
}

func TestDDL(t *testing.T) {
	f := newFixture(t)
	ddl, out := f.run(`CREATE EXTERNAL TABLE IF NOT EXISTS clicks (
		event_type string COMMENT 'kind', user_id string, ` + "`n`" + ` bigint, tags array<string>, geo struct<lat:double,lon:double>)
	  PARTITIONED BY (dt string, hour int)
	  ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES ('ignore.malformed.json'='true')
	  STORED AS TEXTFILE
	  LOCATION 's3://web/clicks/'
	  TBLPROPERTIES ('has_encrypted_data'='false')`)
	if out.StatementType != "DDL" || out.SubstatementType != "CREATE_TABLE" || ddl.header || len(ddl.rows) != 0 {
		t.Fatalf("create: %+v %+v", out, ddl)
	}
	tbl, err := f.cat.Table(context.Background(), "", "default", "clicks", "")
	if err != nil {
		t.Fatal(err)
	}
	if *tbl.StorageDescriptor.SerdeInfo.SerializationLibrary != "org.openx.data.jsonserde.JsonSerDe" || *tbl.StorageDescriptor.InputFormat != textInput ||
		tbl.StorageDescriptor.Columns[4].Type != "struct<lat:double,lon:double>" || tbl.PartitionKeys[1].Type != "int" ||
		tbl.Parameters["has_encrypted_data"] != "false" || *tbl.StorageDescriptor.Columns[0].Comment != "kind" {
		t.Fatalf("table %+v", tbl)
	}
	f.fails("CREATE EXTERNAL TABLE clicks (a string) LOCATION 's3://web/x/'", "AlreadyExistsException")
	f.run("CREATE EXTERNAL TABLE IF NOT EXISTS clicks (a string) LOCATION 's3://web/x/'")

	f.put("web", "clicks/dt=2026-11-25/hour=10/a.json", []byte(`{"event_type":"click","user_id":"u1","n":1}`+"\n"+`not json`+"\n"))
	f.put("web", "clicks/dt=2026-11-25/hour=11/a.json", []byte(`{"event_type":"view","user_id":"u2","n":2}`+"\n"))
	f.put("web", "clicks/dt=2026-11-26/hour=0/a.json", []byte(`{"event_type":"view","user_id":"u3","n":3}`+"\n"))
	repair, out := f.run("MSCK REPAIR TABLE clicks")
	if out.SubstatementType != "MSCK_REPAIR_TABLE" || len(repair.rows) != 4 || !strings.Contains(repair.text(), "Repair: Added partition to metastore clicks:dt=2026-11-25/hour=10") {
		t.Fatalf("repair %s", repair.text())
	}
	if again, _ := f.run("MSCK REPAIR TABLE clicks"); len(again.rows) != 0 {
		t.Fatalf("second repair %s", again.text())
	}
	if parts, _ := f.run("SHOW PARTITIONS clicks"); parts.text() != "dt=2026-11-25/hour=10;dt=2026-11-25/hour=11;dt=2026-11-26/hour=0" {
		t.Fatalf("partitions %s", parts.text())
	}
	res, scanAll := f.run("SELECT sum(n), count(*) FROM clicks")
	// OpenX's ignore.malformed.json makes a malformed line a row of NULLs.
	if res.text() != "6|4" {
		t.Fatalf("malformed JSON ignored, as the SerDe property says: %s", res.text())
	}
	res, scan := f.run("SELECT user_id FROM clicks WHERE dt = '2026-11-25' AND hour > 10")
	if res.text() != "u2" || scan.DataScannedBytes >= scanAll.DataScannedBytes/2 {
		t.Fatalf("int partition key pruning: %s, %d of %d", res.text(), scan.DataScannedBytes, scanAll.DataScannedBytes)
	}
	f.run("ALTER TABLE clicks DROP PARTITION (dt='2026-11-26', hour=0)")
	f.fails("ALTER TABLE clicks DROP PARTITION (dt='2026-11-26', hour=0)", "Partition not found")
	f.run("ALTER TABLE clicks DROP IF EXISTS PARTITION (dt='2026-11-26', hour=0)")
	f.run("ALTER TABLE clicks ADD IF NOT EXISTS PARTITION (dt='2026-11-26', hour=0) LOCATION 's3://web/clicks/dt=2026-11-26/hour=0/' PARTITION (dt='2026-11-25', hour=10)")
	f.fails("ALTER TABLE clicks ADD PARTITION (dt='2026-11-25', hour=10)", "AlreadyExistsException")
	f.fails("ALTER TABLE clicks ADD PARTITION (dt='x')", "doesn't contain all (2) partition columns")
	if parts, _ := f.run("SHOW PARTITIONS clicks"); len(parts.rows) != 3 {
		t.Fatalf("partitions after alter %s", parts.text())
	}
	if tables, out := f.run("SHOW TABLES"); tables.text() != "clicks" || out.SubstatementType != "SHOW_TABLES" || tables.cols[0].Name != "tab_name" {
		t.Fatalf("show tables %s %+v", tables.text(), tables.cols)
	}
	if tables, _ := f.run("SHOW TABLES IN default 'cl*'"); tables.text() != "clicks" {
		t.Fatalf("show tables like %s", tables.text())
	}
	desc, _ := f.run("DESCRIBE clicks")
	if len(desc.rows) != 13 || !strings.HasPrefix(*desc.rows[0][0], "event_type          \tstring              \tkind") || *desc.rows[8][0] != "# Partition Information" {
		t.Fatalf("describe %q", desc.text())
	}
	if cols, _ := f.run("SHOW COLUMNS IN clicks"); cols.text() != "event_type;user_id;n;tags;geo;dt;hour" {
		t.Fatalf("show columns %s", cols.text())
	}
	show, _ := f.run("SHOW CREATE TABLE clicks")
	if !strings.Contains(show.text(), "PARTITIONED BY") || !strings.Contains(show.text(), "LOCATION;  's3://web/clicks/'") {
		t.Fatalf("show create %s", show.text())
	}
	f.run("CREATE DATABASE IF NOT EXISTS analytics COMMENT 'a'")
	if dbs, _ := f.run("SHOW DATABASES"); dbs.text() != "analytics;default" {
		t.Fatalf("databases %s", dbs.text())
	}
	f.run("CREATE EXTERNAL TABLE analytics.p (a int) STORED AS PARQUET LOCATION 's3://web/p/'")
	f.fails("DROP DATABASE analytics", "is not empty")
	f.run("DROP TABLE analytics.p")
	f.run("DROP DATABASE analytics")
	f.run("DROP TABLE clicks")
	f.run("DROP TABLE IF EXISTS clicks")
	f.fails("DROP TABLE clicks", "Table clicks not found")
	f.fails("CREATE EXTERNAL TABLE t (a int) CLUSTERED BY (a) INTO 4 BUCKETS LOCATION 's3://b/t/'", "CLUSTERED BY (bucketed tables) is not supported")
	f.fails("CREATE EXTERNAL TABLE t (a nosuchtype) LOCATION 's3://b/t/'", "TYPE_NOT_FOUND")
	f.fails("CREATE TABLE t AS SELECT 1", "CREATE TABLE AS SELECT is not supported")
	f.fails("SHOW FUNCTIONS", "statement SHOW FUNCTIONS is not supported")
}

func TestProjection(t *testing.T) {
	f := newFixture(t)
	in := eventsTable("proj", "s3://etl/p/")
	in.PartitionKeys = []catalog.Column{{Name: "dt", Type: "string"}, {Name: "kind", Type: "string"}}
	in.Parameters = map[string]string{
		"projection.enabled": "true",
		"projection.dt.type": "date", "projection.dt.range": "2026/11/24,2026/11/26", "projection.dt.format": "yyyy/MM/dd",
		"projection.kind.type": "enum", "projection.kind.values": "a,b",
		"storage.location.template": "s3://etl/p/${kind}/${dt}/",
	}
	f.table("default", in)
	f.parquet("etl", "p/a/2026/11/25/x.parquet", "SELECT TIMESTAMP '2026-11-25 00:00:00' AS timestamp, 'e' AS event_type, 'u' AS user_id, 1::BIGINT AS n")
	f.parquet("etl", "p/b/2026/11/26/x.parquet", "SELECT TIMESTAMP '2026-11-26 00:00:00' AS timestamp, 'e' AS event_type, 'u' AS user_id, 2::BIGINT AS n")
	res, all := f.run("SELECT dt, kind, n FROM proj ORDER BY n")
	if res.text() != "2026/11/25|a|1;2026/11/26|b|2" {
		t.Fatalf("projection %s", res.text())
	}
	res, one := f.run("SELECT n FROM proj WHERE kind = 'b'")
	if res.text() != "2" || one.DataScannedBytes*2 != all.DataScannedBytes {
		t.Fatalf("projection pruning %s, %d of %d", res.text(), one.DataScannedBytes, all.DataScannedBytes)
	}
}

// TestColumnMissingFromFiles reads a table whose Glue schema has a column
// none of its files has (added to the table after they were written): the
// column reads as NULL, as in Athena, after the engine probes the files.
func TestColumnMissingFromFiles(t *testing.T) {
	f := newFixture(t)
	in := eventsTable("events", "s3://etl/processed-data/")
	in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, catalog.Column{Name: "added_later", Type: "string"})
	f.table("default", in)
	f.parquet("etl", "processed-data/year=2026/month=11/day=25/hour=10/part-1.parquet",
		"SELECT TIMESTAMPTZ '2026-11-25 10:30:00+00' AS timestamp, 'click' AS event_type, 'u' AS user_id, i::BIGINT AS n FROM range(10) t(i)")
	res, _ := f.run("SELECT count(*), count(added_later), max(n) FROM events WHERE hour = '10'")
	if got := res.text(); got != "10|0|9" {
		t.Fatalf("got %s", got)
	}
	res, _ = f.run("SELECT e.added_later, count(*) FROM events e JOIN events f ON e.n = f.n GROUP BY 1")
	if got := res.text(); got != `\N|10` {
		t.Fatalf("self-join got %s", got)
	}
	// A column neither the table nor the files have is the query's error.
	f.fails("SELECT nosuch FROM events", "COLUMN_NOT_FOUND")
}
