package deliver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// S3 backup (S3BackupMode Enabled): the source records of every batch, as
// they were put and before any processing, go to the backup bucket under
// the backup's own Prefix, CompressionFormat and name rules, before the
// batch's destination object is written. So whatever reaches the
// destination is in the backup too.
//
// Firehose fills a separate backup buffer by the backup's BufferingHints;
// hydrant backs up per batch of the destination: the batch is cut by the
// destination's hints, and its backup is split into objects of at most the
// backup's SizeInMBs. The backup's IntervalInSeconds is not used (a backup
// object appears with its batch). Each backup object's key derives from the
// plan (ObjectID and the piece's index), so a redo overwrites the same keys.

// errPieceFull stops reading the log at the end of one backup object.
var errPieceFull = errors.New("backup object full")

// writeBackup writes the plan's source records to the stream's S3 backup,
// when it has one.
func (d *Deliverer) writeBackup(ctx context.Context, st *streamspec.Stream, p Plan) error {
	b := &st.Backup
	if !b.Enabled {
		return nil
	}
	bucket, tmpl, format, limit := b.Bucket, b.Prefix, b.Compression, b.Buffering.Bytes
	loc := location(st)
	t := p.Time.In(loc)
	meta := objstore.Meta{ContentType: "application/octet-stream", ContentEncoding: compress.ContentEncoding(format)}
	from := p.From
	for piece := 0; from < p.To; piece++ {
		tag := "backup:" + strconv.Itoa(piece)
		id := uuid.NewSHA1(uuid.MustParse(p.ObjectID), []byte(tag)).String()
		seed := sha256.Sum256([]byte(p.ObjectID + "\x00" + tag))
		prefix, err := tmpl.Eval(keys.Env{Time: t, Location: loc, Random: rand.NewChaCha8(seed)})
		if err != nil {
			return err
		}
		key := prefix + keys.ObjectName(st.Name, strconv.Itoa(st.VersionID), t, id, b.Extension)
		next := p.To
		var records int
		var size int64
		err = d.cfg.Store.Put(ctx, bucket, key, meta, func(w io.Writer) error {
			next, records, size = p.To, 0, 0
			cw, err := compress.NewWriter(format, w, compress.Options{EntryName: id, ModTime: p.Time})
			if err != nil {
				return err
			}
			err = d.cfg.Log.Read(ctx, from, p.To, func(r buffer.Record) error {
				if size > 0 && size+int64(len(r.Data)) > limit {
					next = r.Seq
					return errPieceFull
				}
				size += int64(len(r.Data))
				records++
				_, err := cw.Write(r.Data)
				return err
			})
			if err != nil && !errors.Is(err, errPieceFull) {
				_ = cw.Close()
				return err
			}
			return cw.Close()
		})
		if o, ok := d.cfg.Observer.(BackupObserver); ok {
			o.BackedUp(st.Name, records, size, err)
		}
		if err != nil {
			return fmt.Errorf("write S3 backup %s: %w", key, err)
		}
		from = next
	}
	return nil
}
