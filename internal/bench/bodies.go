package bench

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// maxPoolBytes bounds the memory of the pre-built request bodies.
const maxPoolBytes = 64 << 20

// body is one pre-built PutRecordBatch request.
type body struct {
	json    []byte
	records int
	bytes   int64 // record data, decoded
}

// buildBodies pre-builds the request bodies the workers cycle through, so
// that the client spends no CPU encoding during the run: n distinct full
// batches, plus (when total is not a multiple of batch) one short batch for
// the last request. Every record is distinct within the pool: it carries a
// counter and pseudo-random filler, ends in a newline, and is exactly size
// bytes long.
func buildBodies(stream string, batch, size int, total int64) (full []body, last *body) {
	one := bodyLen(stream, batch, size)
	n := max(2, min(32, maxPoolBytes/max(one, 1)))
	rng := rand.New(rand.NewPCG(1, 2))
	counter := 0
	full = make([]body, n)
	for i := range full {
		full[i] = makeBody(stream, batch, size, rng, &counter)
	}
	if total > 0 && total%int64(batch) != 0 {
		b := makeBody(stream, int(total%int64(batch)), size, rng, &counter)
		last = &b
	}
	return full, last
}

// bodyLen is the encoded size of a body of records records of size bytes.
func bodyLen(stream string, records, size int) int {
	return len(`{"DeliveryStreamName":"","Records":[]}`) + len(stream) +
		records*(len(`{"Data":""},`)+base64.StdEncoding.EncodedLen(size))
}

func makeBody(stream string, records, size int, rng *rand.Rand, counter *int) body {
	name, _ := json.Marshal(stream)
	out := make([]byte, 0, bodyLen(stream, records, size))
	out = append(out, `{"DeliveryStreamName":`...)
	out = append(out, name...)
	out = append(out, `,"Records":[`...)
	data := make([]byte, size)
	for i := range records {
		if i > 0 {
			out = append(out, ',')
		}
		fillRecord(data, *counter, rng)
		*counter++
		out = append(out, `{"Data":"`...)
		out = base64.StdEncoding.AppendEncode(out, data)
		out = append(out, `"}`...)
	}
	out = append(out, "]}"...)
	return body{json: out, records: records, bytes: int64(records) * int64(size)}
}

// fillRecord writes a JSON-looking line of exactly len(p) bytes:
// {"n":<counter>,"pad":"<random letters>"} and a newline, truncated or
// padded as the size demands.
func fillRecord(p []byte, n int, rng *rand.Rand) {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	head := fmt.Appendf(nil, `{"n":%s,"pad":"`, strconv.Itoa(n))
	i := copy(p, head)
	for ; i < len(p); i++ {
		p[i] = letters[rng.IntN(len(letters))]
	}
	if len(p) >= len(head)+3 {
		copy(p[len(p)-3:], "\"}\n")
	} else if len(p) > 0 {
		p[len(p)-1] = '\n'
	}
}
