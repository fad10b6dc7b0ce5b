package query

// The statements that change tables: CREATE EXTERNAL TABLE, ALTER TABLE
// and MSCK REPAIR TABLE, kept in the Glue catalog.

import (
	"context"
	"errors"
	"strings"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
)

// createTable runs CREATE EXTERNAL TABLE.
func (en *Engine) createTable(ctx context.Context, q athena.Query, d *ddl, out athena.Results) error {
	ifNot := d.accept("if", "not", "exists")
	db, name, err := d.name(q.Database)
	if err != nil {
		return err
	}
	if d.accept("as") || d.peek("with") {
		return unsupported(d.at(), "CREATE TABLE AS SELECT is not supported")
	}
	cols, err := d.columns()
	if err != nil {
		return err
	}
	ti := catalog.TableInput{Name: name, TableType: ptr("EXTERNAL_TABLE"), Parameters: map[string]string{"EXTERNAL": "TRUE"}}
	sd := &catalog.StorageDescriptor{Columns: cols, SerdeInfo: &catalog.SerDeInfo{}}
	var stored string
	for d.i < len(d.toks) {
		switch {
		case d.accept("comment"):
			s, err := d.str()
			if err != nil {
				return err
			}
			ti.Description = &s
		case d.accept("partitioned", "by"):
			if ti.PartitionKeys, err = d.columns(); err != nil {
				return err
			}
		case d.peek("clustered"), d.peek("sorted"), d.peek("skewed"):
			return unsupported(d.at(), "%s BY (bucketed tables) is not supported", strings.ToUpper(d.at().text))
		case d.accept("row", "format", "serde"):
			lib, err := d.str()
			if err != nil {
				return err
			}
			sd.SerdeInfo.SerializationLibrary = &lib
			if d.accept("with", "serdeproperties") {
				if sd.SerdeInfo.Parameters, err = d.props(); err != nil {
					return err
				}
			}
		case d.accept("row", "format", "delimited"):
			sd.SerdeInfo.SerializationLibrary = ptr(lazySimple)
			params := map[string]string{}
			for {
				var key string
				switch {
				case d.accept("fields", "terminated", "by"):
					key = "field.delim"
				case d.accept("escaped", "by"):
					key = "escape.delim"
				case d.accept("collection", "items", "terminated", "by"):
					key = "collection.delim"
				case d.accept("map", "keys", "terminated", "by"):
					key = "mapkey.delim"
				case d.accept("lines", "terminated", "by"):
					key = "line.delim"
				case d.accept("null", "defined", "as"):
					key = "serialization.null.format"
				}
				if key == "" {
					break
				}
				v, err := d.str()
				if err != nil {
					return err
				}
				params[key] = v
				if key == "field.delim" {
					params["serialization.format"] = v
				}
			}
			sd.SerdeInfo.Parameters = params
		case d.accept("stored", "as", "inputformat"):
			in, err := d.str()
			if err != nil {
				return err
			}
			if err := d.expect("outputformat"); err != nil {
				return err
			}
			outf, err := d.str()
			if err != nil {
				return err
			}
			sd.InputFormat, sd.OutputFormat = &in, &outf
		case d.accept("stored", "as"):
			if stored, err = d.ident(); err != nil {
				return err
			}
		case d.accept("location"):
			loc, err := d.str()
			if err != nil {
				return err
			}
			if _, _, err := location(loc); err != nil {
				return athena.UserError(athena.ErrDDL, "FAILED: %v", err)
			}
			sd.Location = &loc
		case d.accept("tblproperties"):
			props, err := d.props()
			if err != nil {
				return err
			}
			for k, v := range props {
				ti.Parameters[k] = v
			}
		default:
			t := d.at()
			return syntaxErr(t, "mismatched input '%s'", t.text)
		}
	}
	switch stored {
	case "parquet":
		sd.InputFormat, sd.OutputFormat = ptr(parquetInput), ptr(parquetOutput)
		if sd.SerdeInfo.SerializationLibrary == nil {
			sd.SerdeInfo.SerializationLibrary = ptr(parquetSerDe)
		}
		ti.Parameters["classification"] = "parquet"
	case "textfile", "":
		if stored == "" && sd.InputFormat != nil {
			break
		}
		sd.InputFormat, sd.OutputFormat = ptr(textInput), ptr(textOutput)
		if sd.SerdeInfo.SerializationLibrary == nil {
			sd.SerdeInfo.SerializationLibrary = ptr(lazySimple)
		}
	case "orc":
		sd.InputFormat, sd.OutputFormat = ptr(orcInput), ptr(orcOutput)
		if sd.SerdeInfo.SerializationLibrary == nil {
			sd.SerdeInfo.SerializationLibrary = ptr(orcSerDe)
		}
	default:
		return unsupported(d.at(), "STORED AS %s is not supported (PARQUET, TEXTFILE and ORC are)", strings.ToUpper(stored))
	}
	if sd.SerdeInfo.SerializationLibrary != nil && strings.Contains(strings.ToLower(*sd.SerdeInfo.SerializationLibrary), "json") {
		ti.Parameters["classification"] = "json"
	}
	ti.StorageDescriptor = sd
	if _, err := en.opts.Catalog.GetDatabase(ctx, "", db); err != nil {
		return athena.UserError(athena.ErrDDL, "FAILED: SemanticException [Error 10072]: Database does not exist: %s", db)
	}
	err = en.opts.Catalog.CreateTable(ctx, "", db, ti)
	if errors.Is(err, catalog.ErrExists) {
		if ifNot {
			err = nil
		} else {
			return athena.UserError(athena.ErrDDL, "FAILED: AlreadyExistsException(message:Table %s already exists)", name)
		}
	}
	return noRows(out, err)
}

// alterTable runs ALTER TABLE ... ADD PARTITION, DROP PARTITION and SET
// TBLPROPERTIES.
func (en *Engine) alterTable(ctx context.Context, q athena.Query, d *ddl, out athena.Results) (string, error) {
	cat := en.opts.Catalog
	db, name, err := d.name(q.Database)
	if err != nil {
		return "", err
	}
	t, err := cat.Table(ctx, "", db, name, "")
	if err != nil {
		return "", err
	}
	spec := func() ([]string, error) {
		if err := d.expect("partition"); err != nil {
			return nil, err
		}
		if err := d.expect("("); err != nil {
			return nil, err
		}
		got := map[string]string{}
		for !d.accept(")") {
			k, err := d.ident()
			if err != nil {
				return nil, err
			}
			if err := d.expect("="); err != nil {
				return nil, err
			}
			tk := d.at()
			if tk.kind != tString && tk.kind != tNumber {
				return nil, syntaxErr(tk, "mismatched input '%s'. Expecting: a value", tk.text)
			}
			d.i++
			got[k] = tk.text
			d.accept(",")
		}
		values := make([]string, len(t.PartitionKeys))
		for i, k := range t.PartitionKeys {
			v, ok := got[strings.ToLower(k.Name)]
			if !ok {
				return nil, athena.UserError(athena.ErrDDL, "FAILED: ValidationFailureSemanticException partition spec %v doesn't contain all (%d) partition columns", got, len(t.PartitionKeys))
			}
			values[i] = v
			delete(got, strings.ToLower(k.Name))
		}
		if len(got) > 0 {
			return nil, athena.UserError(athena.ErrDDL, "FAILED: ValidationFailureSemanticException Partition spec %v contains non-partition columns", got)
		}
		return values, nil
	}
	switch {
	case d.accept("add"):
		ifNot := d.accept("if", "not", "exists")
		var inputs []catalog.PartitionInput
		for d.peek("partition") {
			values, err := spec()
			if err != nil {
				return "", err
			}
			loc := ""
			if t.StorageDescriptor != nil && t.StorageDescriptor.Location != nil {
				base := *t.StorageDescriptor.Location
				if !strings.HasSuffix(base, "/") {
					base += "/"
				}
				loc = base + hivePath(t.PartitionKeys, values)
			}
			if d.accept("location") {
				if loc, err = d.str(); err != nil {
					return "", err
				}
			}
			in := catalog.PartitionInput{Values: values}
			if t.StorageDescriptor != nil {
				sd := *t.StorageDescriptor
				sd.Location = &loc
				in.StorageDescriptor = &sd
			}
			inputs = append(inputs, in)
		}
		if err := d.end(); err != nil {
			return "", err
		}
		if len(inputs) == 0 {
			return "", syntaxErr(d.at(), "mismatched input '%s'. Expecting: 'PARTITION'", d.at().text)
		}
		errs, err := cat.CreatePartitions(ctx, "", db, name, inputs)
		if err != nil {
			return "", err
		}
		for _, e := range errs {
			if e.ErrorDetail.ErrorCode == catalog.AlreadyExistsException && ifNot {
				continue
			}
			return "", athena.UserError(athena.ErrDDL, "FAILED: %s: %s %v", e.ErrorDetail.ErrorCode, e.ErrorDetail.ErrorMessage, e.PartitionValues)
		}
		return "ALTER_TABLE_ADD_PARTITION", noRows(out, nil)
	case d.accept("drop"):
		ifExists := d.accept("if", "exists")
		var values [][]string
		for {
			v, err := spec()
			if err != nil {
				return "", err
			}
			values = append(values, v)
			if !d.accept(",") {
				break
			}
		}
		if err := d.end(); err != nil {
			return "", err
		}
		errs, err := cat.DeletePartitions(ctx, "", db, name, values)
		if err != nil {
			return "", err
		}
		if len(errs) > 0 && !ifExists {
			return "", athena.UserError(athena.ErrDDL, "FAILED: SemanticException [Error 10006]: Partition not found %v", errs[0].PartitionValues)
		}
		return "ALTER_TABLE_DROP_PARTITION", noRows(out, nil)
	case d.accept("set", "tblproperties"):
		props, err := d.props()
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		in := t.TableInput
		if in.Parameters == nil {
			in.Parameters = map[string]string{}
		}
		for k, v := range props {
			in.Parameters[k] = v
		}
		return "ALTER_TABLE_SET_TBLPROPERTIES", noRows(out, cat.UpdateTable(ctx, "", db, in, ""))
	}
	return "", unsupported(d.at(), "ALTER TABLE %s is not supported (ADD PARTITION, DROP PARTITION and SET TBLPROPERTIES are)", strings.ToUpper(d.at().text))
}

// repair is MSCK REPAIR TABLE: the Hive-style partitions under the table's
// location that the catalog lacks are added, and reported as Hive does.
func (en *Engine) repair(ctx context.Context, db, name string) ([]string, error) {
	cat := en.opts.Catalog
	t, err := cat.Table(ctx, "", db, name, "")
	if err != nil {
		return nil, err
	}
	if len(t.PartitionKeys) == 0 {
		return nil, nil
	}
	if t.StorageDescriptor == nil || t.StorageDescriptor.Location == nil {
		return nil, athena.UserError(athena.ErrDDL, "FAILED: table %s.%s has no location", db, name)
	}
	bucket, prefix, err := location(*t.StorageDescriptor.Location)
	if err != nil {
		return nil, err
	}
	found, err := en.discover(ctx, t, bucket, prefix)
	if err != nil {
		return nil, err
	}
	existing, err := cat.Partitions(ctx, "", db, name)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, p := range existing {
		have[strings.Join(p.Values, "\x00")] = true
	}
	var missing []string
	var inputs []catalog.PartitionInput
	for _, p := range found {
		if have[strings.Join(p.values, "\x00")] {
			continue
		}
		path := strings.TrimSuffix(hivePath(t.PartitionKeys, p.values), "/")
		missing = append(missing, name+":"+path)
		loc := "s3://" + p.bucket + "/" + p.prefix
		sd := *t.StorageDescriptor
		sd.Location = &loc
		inputs = append(inputs, catalog.PartitionInput{Values: p.values, StorageDescriptor: &sd})
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	for start := 0; start < len(inputs); start += 100 {
		if _, err := cat.CreatePartitions(ctx, "", db, name, inputs[start:min(start+100, len(inputs))]); err != nil {
			return nil, err
		}
	}
	lines := []string{"Partitions not in metastore:\t" + strings.Join(missing, "\t")}
	for _, m := range missing {
		lines = append(lines, "Repair: Added partition to metastore "+m)
	}
	return lines, nil
}

// discover lists the Hive-style partitions under a location, whatever the
// catalog holds.
func (en *Engine) discover(ctx context.Context, t *catalog.Table, bucket, prefix string) ([]partition, error) {
	return en.hiveDiscover(ctx, t, bucket, prefix)
}

func ptr[T any](v T) *T { return &v }
