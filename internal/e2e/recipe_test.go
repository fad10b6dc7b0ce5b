package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	gluesdk "github.com/aws/aws-sdk-go-v2/service/glue"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// The recipe (seed: "Streaming ETL with Kinesis Data Firehose", recipe
// version 1.3) is testdata/recipe/recipe.md, a copy of the seed file
// (TestRecipeSeedCopy checks its blocks against the seed's where the seed
// is at hand). docs/RECIPE.md lists the changes made to its blocks, each a
// diff after a <!-- recipe-patch: aws --> mark (what AWS refuses too) or a
// <!-- recipe-patch: test --> mark (waiting cut short); the test reads them
// from there, so the page and the test cannot disagree.

const (
	recipeFile    = "testdata/recipe/recipe.md"
	recipeDoc     = "../../docs/RECIPE.md"
	recipeSeedEnv = "HYDRANT_RECIPE_SEED"
	recipeSeed    = "000_ccc74eea6daee59f.txt"
)

// recipePatch is one change to the recipe's blocks: old, a run of whole
// lines that occurs exactly once in them, becomes new.
type recipePatch struct {
	kind     string // "aws": AWS refuses the recipe's text too; "test": only makes the test fast
	line     int    // in docs/RECIPE.md
	old, new string
}

var patchMark = regexp.MustCompile(`^<!-- recipe-patch: (aws|test) -->$`)

// recipePatches reads the patches from docs/RECIPE.md: each a ```diff
// block after a patch mark, whose lines start with " " (kept), "-"
// (removed) or "+" (added); an empty line is an empty kept line.
func recipePatches(t *testing.T) []recipePatch {
	t.Helper()
	var out []recipePatch
	for _, b := range markdownBlocks(t, recipeDoc) {
		m := patchMark.FindStringSubmatch(b.mark)
		if m == nil {
			if strings.HasPrefix(b.mark, "<!-- recipe-patch") {
				t.Fatalf("RECIPE.md:%d: a patch mark reads <!-- recipe-patch: aws --> or <!-- recipe-patch: test -->", b.line-1)
			}
			continue
		}
		if b.lang != "diff" {
			t.Fatalf("RECIPE.md:%d: a recipe patch is a ```diff block", b.line)
		}
		var old, new strings.Builder
		for _, l := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if l == "" {
				l = " "
			}
			switch l[0] {
			case ' ':
				old.WriteString(l[1:] + "\n")
				new.WriteString(l[1:] + "\n")
			case '-':
				old.WriteString(l[1:] + "\n")
			case '+':
				new.WriteString(l[1:] + "\n")
			default:
				t.Fatalf("RECIPE.md:%d: diff line %q starts with neither space, - nor +", b.line, l)
			}
		}
		out = append(out, recipePatch{kind: m[1], line: b.line, old: old.String(), new: new.String()})
	}
	return out
}

// applyPatches applies patches to the blocks, each to the one block that
// holds its old lines (which must occur exactly once in all of them).
func applyPatches(t *testing.T, blocks []mdBlock, patches []recipePatch) []mdBlock {
	t.Helper()
	out := append([]mdBlock(nil), blocks...)
	for _, p := range patches {
		at, n := -1, 0
		for i, b := range out {
			if c := strings.Count("\n"+b.text, "\n"+p.old); c > 0 {
				at, n = i, n+c
			}
		}
		if n != 1 {
			t.Fatalf("RECIPE.md:%d: the patch's old lines occur %d times in the recipe's blocks, want once:\n%s", p.line, n, p.old)
		}
		out[at].text = strings.TrimPrefix(strings.Replace("\n"+out[at].text, "\n"+p.old, "\n"+p.new, 1), "\n")
	}
	return out
}

// blockWith is the index of the one block that contains s.
func blockWith(t *testing.T, blocks []mdBlock, s string) int {
	t.Helper()
	at := -1
	for i, b := range blocks {
		if strings.Contains(b.text, s) {
			if at >= 0 {
				t.Fatalf("blocks %d and %d both contain %q", at+1, i+1, s)
			}
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("no block contains %q", s)
	}
	return at
}

// heredoc is the body of the here-document `cat > name << ...` in text.
func heredoc(t *testing.T, text, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)cat > ` + regexp.QuoteMeta(name) + ` << '?EOF'?\n(.*?\n)EOF\n`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no heredoc for %s in\n%s", name, text)
	}
	return m[1]
}

// TestRecipeSeedCopy checks that testdata/recipe/recipe.md has the seed's
// bash blocks, when the seed is at hand ($HYDRANT_RECIPE_SEED, or the
// shared seed directory next to the checkout).
func TestRecipeSeedCopy(t *testing.T) {
	t.Parallel()
	var seed string
	for _, p := range []string{os.Getenv(recipeSeedEnv), filepath.Join("..", "..", "..", "shared", "seed", recipeSeed),
		filepath.Join("..", "..", "..", "..", "shared", "seed", recipeSeed)} {
		if _, err := os.Stat(p); p != "" && err == nil {
			seed = p
			break
		}
	}
	if seed == "" {
		t.Skipf("the seed recipe %s is not at hand (set %s)", recipeSeed, recipeSeedEnv)
	}
	want, got := recipeBashBlocks(t, seed), recipeBashBlocks(t, recipeFile)
	if len(got) != len(want) {
		t.Fatalf("%s has %d bash blocks, the seed %d", recipeFile, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("block %d (line %d) differs from the seed's:\n%s\nseed:\n%s", i+1, got[i].line, got[i].text, want[i].text)
		}
	}
}

// recipeBashBlocks are the recipe's bash blocks, in order.
func recipeBashBlocks(t *testing.T, path string) []mdBlock {
	t.Helper()
	var out []mdBlock
	for _, b := range markdownBlocks(t, path) {
		if b.lang == "bash" {
			out = append(out, b)
		}
	}
	return out
}

// TestRecipeAsWritten runs the recipe's 21 bash blocks in order, in one
// bash process, with the AWS CLI v2 it was written for (Debian's 2.9,
// configured with a region and keys, as the recipe's prerequisites ask)
// against the real binary. The only change to the environment is the
// endpoint: `aws` on PATH is a wrapper that adds --endpoint-url (2.9 reads
// no AWS_ENDPOINT_URL). The only changes to the text are docs/RECIPE.md's
// patches. Between blocks the test only looks (after validation step 1:
// the description it queries, which shows why the query as written prints
// None; after validation step 4: the bucket's contents, which the cleanup
// deletes, once the buffer is flushed). Then it checks:
//   - every block exits 0; every aws call exits 0 except validation step
//     3's listing of error-data/, empty at that point (as on AWS, where aws
//     s3 ls of nothing exits 1); the calls the recipe depends on were made;
//   - STS and Secrets Manager gave the account and a 6-character suffix;
//   - the Lambda function's newest log stream (validation step 2) shows its
//     output;
//   - validation step 3's aws s3 ls --recursive lists the Parquet object,
//     under processed-data/year=/month=/day=/hour=/; after validation step
//     4, the listing has the malformed record's error object under
//     error-data/; the Parquet rows (read with DuckDB) are the test data,
//     transformed, and the error object holds the malformed record;
//   - after the cleanup, the bucket, roles, policies, stream, function, log
//     groups and Glue table are gone;
//   - the recipe's step 7 configuration is refused as AWS refuses it, one
//     refusal per patch, in AWS's order; the recipe's put loop sends 17
//     fragments, none of them JSON; examples/recipe/firehose-config.json
//     is step 7's configuration, patched, for the suffix abc123.
func TestRecipeAsWritten(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "jq", "zip", "curl", "python3"} {
		requireTool(t, tool)
	}
	awsV2 := "/usr/bin/aws"
	if out, err := exec.Command(awsV2, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "aws-cli/2") {
		if os.Getenv("CI") != "" || os.Getenv("HYDRANT_REQUIRE_TOOLS") != "" {
			t.Fatalf("the AWS CLI v2 is required at %s: %q %v", awsV2, out, err)
		}
		t.Skipf("no AWS CLI v2 at %s", awsV2)
	}
	if exec.Command("python3", "-c", "import boto3").Run() != nil {
		// The recipe's function imports boto3, as Lambda's Python has it.
		if os.Getenv("CI") != "" || os.Getenv("HYDRANT_REQUIRE_TOOLS") != "" {
			t.Fatal("python3 has no boto3, which the recipe's function imports")
		}
		t.Skip("python3 has no boto3, which the recipe's function imports")
	}
	orig := recipeBashBlocks(t, recipeFile)
	if len(orig) != 21 {
		t.Fatalf("%s: %d bash blocks, want the recipe's 21", recipeFile, len(orig))
	}
	patches := recipePatches(t)
	blocks := applyPatches(t, orig, patches)
	val1 := blockWith(t, orig, "ProcessingConfiguration.Enabled")
	val2 := blockWith(t, orig, "get-log-events")
	val3 := blockWith(t, orig, "Checking for processed data")
	val4 := blockWith(t, orig, "aW52YWxpZC1qc29uLWRhdGE=")
	step7 := blockWith(t, orig, "cat > firehose-config.json")
	step9 := blockWith(t, orig, "cat > test-data.json")

	s := startServer(t)
	start := time.Now().UTC()
	check := filepath.Join(t.TempDir(), "check")
	res := shellRun{
		file: "recipe.md", blocks: blocks, cli: awsV2, addr: s.Addr, endpointFlag: true, logCalls: true,
		files: map[string]string{
			".aws/config":      "[default]\nregion = us-east-1\noutput = json\n",
			".aws/credentials": "[default]\naws_access_key_id = test\naws_secret_access_key = test\n",
		},
		after: map[int]string{
			// The description validation step 1 queries: no ProcessingConfiguration
			// in DeliveryStreamDescription, so the query as written prints None.
			val1: `curl -sf -H 'X-Amz-Target: Firehose_20150804.DescribeDeliveryStream' -H 'Content-Type: application/x-amz-json-1.1' \
  -d "{\"DeliveryStreamName\":\"${FIREHOSE_STREAM_NAME}\"}" http://127.0.0.1:4566/ >` + check + `/description`,
			// The bucket, before the cleanup deletes it: the current version of
			// each key is the file <data-dir>/buckets/<bucket>/<key>.
			val4: `curl -sf -X POST "http://127.0.0.1:4566/_hydrant/streams/${FIREHOSE_STREAM_NAME}/flush?wait=30s" >` + check + `/flush.json
HYDRANT_AWS_CALLS= aws s3 ls "s3://${S3_BUCKET_NAME}" --recursive >` + check + `/ls
cp -r "` + filepath.Join(s.DataDir, "buckets") + `/${S3_BUCKET_NAME}" ` + check + `/bucket
printf '%s\n' "$AWS_REGION" "$AWS_ACCOUNT_ID" "$RANDOM_SUFFIX" "$LAMBDA_FUNCTION_ARN" "$FIREHOSE_ROLE_ARN" >` + check + `/vars`,
		},
		timeout: 6 * time.Minute,
	}
	if err := os.MkdirAll(check, 0o755); err != nil {
		t.Fatal(err)
	}
	out := res.run(t)
	t.Logf("the recipe ran in %s", time.Since(start).Round(time.Second))
	end := time.Now().UTC()
	if out.err != nil || len(out.exit) != len(blocks) || !strings.Contains(out.out, ">>> recipe.md done") {
		t.Fatalf("the recipe did not run to its end: %v\n%s", out.err, out.out)
	}
	for i, code := range out.exit {
		if code != 0 {
			t.Errorf("block %d (recipe.md:%d) exited %d:\n%s", i+1, blocks[i].line, code, out.blockOut[i])
		}
	}

	// The shell's variables, as the blocks left them.
	vars := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(check, "vars"))), "\n")
	if len(vars) != 5 {
		t.Fatalf("variables %q", vars)
	}
	region, account, suffix, fnARN := vars[0], vars[1], vars[2], vars[3]
	if region != "us-east-1" || account != "000000000000" || !regexp.MustCompile(`^[a-z0-9]{6}$`).MatchString(suffix) ||
		!strings.ContainsAny(suffix, "0123456789") || !strings.ContainsAny(suffix, "abcdefghijklmnopqrstuvwxyz") ||
		fnARN != "arn:aws:lambda:us-east-1:000000000000:function:firehose-transform-"+suffix {
		t.Errorf("AWS_REGION %q, AWS_ACCOUNT_ID %q, RANDOM_SUFFIX %q, LAMBDA_FUNCTION_ARN %q", region, account, suffix, fnARN)
	}
	stream, bucket := "streaming-etl-"+suffix, "streaming-etl-data-"+suffix

	checkRecipeCalls(t, out.calls, bucket)

	// Validation step 1, patched, and as written.
	if o := out.blockOut[val1]; !strings.Contains(o, "|  ACTIVE ") || !strings.Contains(o, "|  True ") {
		t.Errorf("validation step 1:\n%s", o)
	}
	var desc struct {
		DeliveryStreamDescription struct {
			ProcessingConfiguration json.RawMessage
			Destinations            []struct {
				ExtendedS3DestinationDescription struct {
					ProcessingConfiguration struct{ Enabled bool }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(check, "description"))), &desc); err != nil ||
		desc.DeliveryStreamDescription.ProcessingConfiguration != nil || len(desc.DeliveryStreamDescription.Destinations) != 1 ||
		!desc.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.ProcessingConfiguration.Enabled {
		t.Errorf("the description validation step 1 queries (%v): ProcessingConfiguration belongs to the destination:\n%s",
			err, readFile(t, filepath.Join(check, "description")))
	}
	// Validation step 2: the function's newest log stream.
	if o := out.blockOut[val2]; !strings.Contains(o, `"logStreamName": "`+time.Now().UTC().Format("2006/01/02")) &&
		!strings.Contains(o, `"logStreamName": "`+start.Format("2006/01/02")) ||
		!strings.Contains(o, "Successfully processed 3 out of 3 records") || !strings.Contains(o, "START RequestId: ") {
		t.Errorf("validation step 2 does not show the function's output:\n%s", o)
	}
	// Validation step 3's listing, and the one after validation step 4.
	hours := map[string]bool{start.Format("2006010215"): true, end.Format("2006010215"): true}
	dataKey := regexp.MustCompile(`(?m)^\S+ \S+ +\d+ (processed-data/year=(\d{4})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/` +
		regexp.QuoteMeta(stream) + `-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-` + recipeUUID + `\.parquet)$`)
	listed := dataKey.FindAllStringSubmatch(out.blockOut[val3], -1)
	if len(listed) != 1 || !hours[strings.Join(listed[0][2:6], "")] {
		t.Errorf("validation step 3 lists %q, want one Parquet object under processed-data/year=/month=/day=/hour=/ of the hour of %s or %s:\n%s",
			listed, start, end, out.blockOut[val3])
	}
	if f := readFile(t, filepath.Join(check, "flush.json")); !strings.Contains(f, `"flushed":true`) || !strings.Contains(f, `"delivered":4`) {
		t.Errorf("flush after validation step 4: %s", f)
	}
	files := map[string][]byte{}
	root := filepath.Join(check, "bucket")
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return nil
	})
	ls := readFile(t, filepath.Join(check, "ls"))
	var lsKeys, keys []string
	for _, l := range strings.Split(strings.TrimSpace(ls), "\n") {
		if f := strings.Fields(l); len(f) == 4 {
			lsKeys = append(lsKeys, f[3])
		}
	}
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(lsKeys)
	sort.Strings(keys)
	if !reflect.DeepEqual(lsKeys, keys) || len(keys) != 2 {
		t.Errorf("aws s3 ls --recursive lists\n%s\nthe bucket holds %q; want the Parquet object and the error object", ls, keys)
	}
	var events []map[string]string
	if err := json.Unmarshal([]byte(heredoc(t, orig[step9].text, "test-data.json")), &events); err != nil {
		t.Fatal(err)
	}
	checkRecipeObjects(t, root, files, stream, fnARN, hours, events)

	checkRecipeGone(t, s, suffix)
	checkRecipeRefusals(t, s, orig[step7].text, patches, vars)
	checkRecipeLoop(t, orig[step9].text, blocks[step9].text, events)
	checkRecipeExample(t, orig[step7].text, patches)
}

// checkRecipeCalls checks the aws calls the run made: all succeeded, but
// validation step 3's listing of the empty error-data/, and the recipe's
// calls to each service were made.
func checkRecipeCalls(t *testing.T, calls []awsCall, bucket string) {
	t.Helper()
	made := map[string]int{}
	for _, c := range calls {
		if len(c.args) < 2 {
			t.Errorf("aws %q", c.args)
			continue
		}
		op := c.args[0] + " " + c.args[1]
		made[op]++
		emptyErrors := op == "s3 ls" && len(c.args) > 2 && c.args[2] == "s3://"+bucket+"/error-data/"
		if c.code != 0 && !(emptyErrors && c.code == 1) || emptyErrors && c.code != 1 {
			t.Errorf("aws %s: exit %d", strings.Join(c.args, " "), c.code)
		}
	}
	for op, n := range map[string]int{
		"configure get": 1, "sts get-caller-identity": 1, "secretsmanager get-random-password": 1,
		"s3 mb": 1, "s3api put-bucket-versioning": 1, "s3api put-bucket-encryption": 1,
		"iam create-role": 2, "iam get-role": 2, "iam create-policy": 2, "iam attach-role-policy": 3,
		"lambda create-function": 1, "lambda wait": 1, "lambda get-function": 1, "glue create-table": 1,
		"firehose create-delivery-stream": 1, "firehose put-record": 4,
		"logs create-log-group": 2, "logs put-retention-policy": 2, "logs describe-log-streams": 3, "logs get-log-events": 1,
		"firehose delete-delivery-stream": 1, "glue delete-table": 1, "lambda delete-function": 1, "logs delete-log-group": 2,
		"iam detach-role-policy": 3, "iam delete-policy": 2, "iam delete-role": 2,
		"s3 rm": 1, "s3api list-object-versions": 1, "s3api delete-objects": 1, "s3 rb": 1,
	} {
		if made[op] != n {
			t.Errorf("aws %s: %d calls, want %d", op, made[op], n)
		}
	}
}

// checkRecipeObjects checks what the bucket held after validation step 4:
// the transformed events as Parquet (read with DuckDB), and the malformed
// record in an error object under error-data/processing-failed/.
func checkRecipeObjects(t *testing.T, root string, files map[string][]byte, stream, fnARN string, hours map[string]bool, events []map[string]string) {
	t.Helper()
	name := regexp.QuoteMeta(stream) + `-1-(\d{4})-(\d\d)-(\d\d)-(\d\d)-\d\d-\d\d-` + recipeUUID
	dataKey := regexp.MustCompile(`^processed-data/year=(\d{4})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/` + name + `\.parquet$`)
	// error-data/ has no !{...}: Firehose appends the error output type and
	// the default yyyy/MM/dd/HH/; error objects have no extension.
	errKey := regexp.MustCompile(`^error-data/processing-failed/(\d{4})/(\d\d)/(\d\d)/(\d\d)/` + name + `$`)
	var parquet, failures []string
	for key, body := range files {
		m := dataKey.FindStringSubmatch(key)
		if m != nil {
			parquet = append(parquet, key)
		} else if m = errKey.FindStringSubmatch(key); m != nil {
			failures = append(failures, strings.Split(strings.TrimSpace(string(body)), "\n")...)
		} else {
			t.Errorf("unexpected object %s", key)
			continue
		}
		if prefix, name := strings.Join(m[1:5], ""), strings.Join(m[5:9], ""); prefix != name || !hours[prefix] {
			t.Errorf("object %s: prefix time %s, name time %s, want the same hour, one of %v", key, prefix, name, hours)
		}
	}
	if len(parquet) != 1 {
		t.Fatalf("Parquet objects %q, want one", parquet)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := duckRows(t, db, `SELECT event_type, user_id, session_id, page_url, referrer, user_agent, ip_address,
		processed_by, CAST(abs(epoch("timestamp") - processing_timestamp) < 5 AS VARCHAR), year || month || day || hour
		FROM read_parquet(?, hive_partitioning = true, hive_types_autocast = false) ORDER BY user_id`, filepath.Join(root, parquet[0]))
	if len(rows) != len(events) {
		t.Fatalf("Parquet rows %v, want the %d events", rows, len(events))
	}
	for i, ev := range events { // the test data is in user_id order
		want := []string{ev["event_type"], ev["user_id"], ev["session_id"], ev["page_url"], ev["referrer"],
			ev["user_agent"], ev["ip_address"], "lambda-firehose-transform", "true"}
		if got := rows[i]; strings.Join(got[:9], "|") != strings.Join(want, "|") || !hours[got[9]] {
			t.Errorf("row %d:\n got %q\nwant %q in an hour of %v", i, got, want, hours)
		}
	}
	if len(failures) != 1 {
		t.Fatalf("error records %q, want the malformed record's", failures)
	}
	var f struct {
		RawData, ErrorCode, ErrorMessage, LambdaARN string
		AttemptsMade                                int
	}
	if err := json.Unmarshal([]byte(failures[0]), &f); err != nil || f.RawData != "aW52YWxpZC1qc29uLWRhdGE=" ||
		f.ErrorCode != "Lambda.ProcessingFailedStatus" || f.ErrorMessage != "ProcessingFailed status set for record" ||
		f.AttemptsMade != 1 || f.LambdaARN != fnARN {
		t.Errorf("error record %s (%v)", failures[0], err)
	}
}

// recipeUUID matches the UUID that ends a Firehose object name.
const recipeUUID = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// sdkConfig is an aws-sdk-go-v2 configuration for the server.
func sdkConfig(s *server) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

// checkRecipeGone checks that the cleanup left nothing of the recipe's
// (the Glue table, created by a patch, is deleted by one).
func checkRecipeGone(t *testing.T, s *server, suffix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := sdkConfig(s)
	gone := func(what string, err error, code string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("%s after the cleanup: %v, want %s", what, err, code)
		}
	}
	_, err := s3sdk.NewFromConfig(cfg, func(o *s3sdk.Options) { o.UsePathStyle = true }).
		HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String("streaming-etl-data-" + suffix)})
	gone("bucket", err, "NotFound")
	im := iamsdk.NewFromConfig(cfg)
	for _, role := range []string{"FirehoseDeliveryRole-", "FirehoseLambdaRole-"} {
		_, err := im.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String(role + suffix)})
		gone("role "+role+suffix, err, "NoSuchEntity")
	}
	pols, err := im.ListPolicies(ctx, &iamsdk.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if err != nil || len(pols.Policies) != 0 {
		t.Errorf("customer managed policies after the cleanup: %v %v", pols, err)
	}
	_, err = sdkClient(s).DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("streaming-etl-" + suffix)})
	gone("delivery stream", err, "ResourceNotFoundException")
	_, err = lambdasdk.NewFromConfig(cfg).GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String("firehose-transform-" + suffix)})
	gone("function", err, "ResourceNotFoundException")
	_, err = gluesdk.NewFromConfig(cfg).GetTable(ctx, &gluesdk.GetTableInput{DatabaseName: aws.String("default"), Name: aws.String("streaming_etl_data")})
	gone("Glue table", err, "EntityNotFoundException")
	groups, err := cwlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 0 {
		var names []string
		if groups != nil {
			for _, g := range groups.LogGroups {
				names = append(names, aws.ToString(g.LogGroupName))
			}
		}
		t.Errorf("log groups after the cleanup: %q %v", names, err)
	}
}

// renderConfig runs step 7's heredoc for firehose-config.json with the
// shell variables vars (region, account, suffix, function ARN, role ARN)
// and returns the JSON it writes.
func renderConfig(t *testing.T, block string, vars []string) []byte {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", "cat > firehose-config.json << EOF\n"+heredoc(t, block, "firehose-config.json")+"EOF\n")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FIREHOSE_STREAM_NAME=streaming-etl-"+vars[2], "S3_BUCKET_NAME=streaming-etl-data-"+vars[2],
		"LAMBDA_FUNCTION_ARN="+vars[3], "FIREHOSE_ROLE_ARN="+vars[4])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("step 7's heredoc: %v %s", err, out)
	}
	return []byte(readFile(t, filepath.Join(dir, "firehose-config.json")))
}

// checkRecipeRefusals sends step 7's configuration as written, then with
// each of its patches applied in turn, and checks that each is refused
// with the next of AWS's refusals (reference §10, AWS's order) until all
// are applied.
func checkRecipeRefusals(t *testing.T, s *server, block string, patches []recipePatch, vars []string) {
	t.Helper()
	refusals := []string{
		"CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; the Parquet serializer compresses the file itself (ParquetSerDe.Compression).",
		"BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.",
		"InputFormatConfiguration (Deserializer) is required when data format conversion is enabled.",
	}
	cfg := renderConfig(t, block, vars)
	for _, p := range patches {
		if !strings.Contains(heredoc(t, block, "firehose-config.json"), p.old) {
			continue // not a patch of the configuration
		}
		if len(refusals) == 0 {
			t.Fatalf("RECIPE.md:%d: more patches of step 7's configuration than AWS refusals", p.line)
		}
		code, body := firehoseCall(t, s, "CreateDeliveryStream", cfg)
		var e struct{ Message string }
		_ = json.Unmarshal(body, &e)
		if code != http.StatusBadRequest || !bytes.Contains(body, []byte("InvalidArgumentException")) || e.Message != refusals[0] {
			t.Errorf("step 7's configuration before RECIPE.md:%d's patch: %d %s\nwant InvalidArgumentException: %s", p.line, code, body, refusals[0])
		}
		refusals = refusals[1:]
		block = applyPatches(t, []mdBlock{{text: block}}, []recipePatch{p})[0].text
		cfg = renderConfig(t, block, vars)
	}
	if len(refusals) != 0 {
		t.Errorf("AWS refusals without a patch: %q", refusals)
	}
}

// firehoseCall sends one awsJson request to the server's Firehose API.
func firehoseCall(t *testing.T, s *server, op string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Firehose_20150804."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(t, resp.Body)
}

// checkRecipeLoop runs step 9 as written and patched, with aws a function
// that prints each record's data: as written, the loop splits the records
// at their spaces (17 fragments, none of them JSON); patched, it sends the
// three events.
func checkRecipeLoop(t *testing.T, orig, patched string, events []map[string]string) {
	t.Helper()
	sent := func(block string) []string {
		cmd := exec.Command("bash", "-c", `aws() { while [ $# -gt 0 ]; do [ "$1" = --record ] && printf '%s\n' "$2" >&3; shift; done; }
sleep() { :; }
`+block)
		cmd.Dir = t.TempDir()
		var rec bytes.Buffer
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.ExtraFiles = []*os.File{w}
		done := make(chan struct{})
		go func() { _, _ = rec.ReadFrom(r); close(done) }()
		out, err := cmd.CombinedOutput()
		w.Close()
		<-done
		r.Close()
		if err != nil {
			t.Fatalf("step 9: %v\n%s", err, out)
		}
		var data []string
		for _, l := range strings.Split(strings.TrimSpace(rec.String()), "\n") {
			var r struct{ Data string }
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("--record %q: %v", l, err)
			}
			b, err := base64.StdEncoding.DecodeString(r.Data)
			if err != nil {
				t.Fatalf("--record %q: %v", l, err)
			}
			data = append(data, string(b))
		}
		return data
	}
	frags := sent(orig)
	for _, f := range frags {
		if json.Valid([]byte(f)) {
			t.Errorf("the recipe's loop sent a whole record: %q", f)
		}
	}
	if len(frags) != 17 {
		t.Errorf("the recipe's loop sent %d records, want 17 fragments: %q", len(frags), frags)
	}
	var got []map[string]string
	for _, d := range sent(patched) {
		var ev map[string]string
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Errorf("the patched loop sent %q: %v", d, err)
		}
		got = append(got, ev)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("the patched loop sent %v, want %v", got, events)
	}
}

// checkRecipeExample checks that examples/recipe/firehose-config.json is
// step 7's configuration, patched, for the suffix abc123.
func checkRecipeExample(t *testing.T, block string, patches []recipePatch) {
	t.Helper()
	block = applyPatches(t, []mdBlock{{text: block}}, filterPatches(block, patches))[0].text
	got := renderConfig(t, block, []string{"us-east-1", "000000000000", "abc123",
		"arn:aws:lambda:us-east-1:000000000000:function:firehose-transform-abc123",
		"arn:aws:iam::000000000000:role/FirehoseDeliveryRole-abc123"})
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(readFile(t, "../../examples/recipe/firehose-config.json")), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("examples/recipe/firehose-config.json is not step 7's configuration, patched, for abc123:\n%s", got)
	}
}

// filterPatches are the patches whose old lines are in text.
func filterPatches(text string, patches []recipePatch) []recipePatch {
	var out []recipePatch
	for _, p := range patches {
		if strings.Contains("\n"+text, "\n"+p.old) {
			out = append(out, p)
		}
	}
	return out
}

// readFile is a file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flushStream calls POST /_hydrant/streams/{name}/flush?wait=30s.
func flushStream(t *testing.T, s *server, name string) (res struct {
	Flushed         bool   `json:"flushed"`
	Delivered       uint64 `json:"delivered"`
	BufferedRecords int    `json:"bufferedRecords"`
}) {
	t.Helper()
	resp, err := http.Post(s.URL+"/_hydrant/streams/"+name+"/flush?wait=30s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := readAll(t, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("flush: %s %s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("flush: %v: %s", err, body)
	}
	return res
}
