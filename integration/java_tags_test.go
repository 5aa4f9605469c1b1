package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/integration/paimonjava"
	"github.com/stratalake/strata/integration/paimonjava/javatest"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
	"github.com/stratalake/strata/table"
)

// TestJavaTags: Java reads the tags Strata writes (with and without a
// retention) and the snapshots they hold; Strata reads a tag Java writes
// and re-encodes its file byte for byte; after Strata rolls back to a tag,
// Java reads the rolled-back table, sees the newer tags gone, and commits
// on top of it.
func TestJavaTags(t *testing.T) {
	d := javatest.ForTest(t)
	ctx := context.Background()
	wh := t.TempDir()
	tb, fields := tagsTable(t, wh)
	kept := javaReadsStrataTags(t, d, wh, tb, fields)
	strataReadsJavaTag(t, d, wh, tb)

	// Strata rolls back to "kept"; Java sees the rolled-back table.
	if _, err := tb.Rollback(ctx, table.ToTag(kept.Name)); err != nil {
		t.Fatal(err)
	}
	latest, err := d.Read(ctx, wh, javaTable, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkJavaRows(t, fields, "Java after rollback", latest, strataRows(t, tb, table.WithSnapshot(2)))
	if tags, err := d.Tags(ctx, wh, javaTable); err != nil || len(tags) != 2 || tags[0].Name != "kept" || tags[1].Name != "plain" {
		t.Errorf("Java's tags after rollback: %v %+v", err, tags)
	}
	c, err := d.Write(ctx, wh, javaTable, "", 0, `{"id": 9, "v": "java"}`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Snapshot == nil || *c.Snapshot != 3 {
		t.Errorf("Java's commit after the rollback: %+v", c)
	}
	got := strataRows(t, tb)
	if !slices.ContainsFunc(got, func(r spec.Row) bool { return r[0] == int64(9) }) || len(got) != 4 {
		t.Errorf("Strata after Java's commit: %v", got)
	}
}

// tagsTable creates db.t in wh with Strata and commits three snapshots;
// snapshot i sets key 0 to "s<i>" and adds key i.
func tagsTable(t *testing.T, wh string) (*table.Table, []spec.DataField) {
	t.Helper()
	ctx := context.Background()
	fs, err := storage.Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	fields := []spec.DataField{
		{ID: 0, Name: "id", Type: spec.BigIntType.NotNull()},
		{ID: 1, Name: "v", Type: spec.StringType},
	}
	schema, err := spec.NewSchema(fields, nil, []string{"id"}, spec.NewStringMap("bucket", "2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := catalog.New(fs).CreateTable(ctx, catalog.Identifier{Database: "db", Table: "t"}, schema)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		strataCommit(t, tb, i, spec.Row{int64(0), fmt.Sprintf("s%d", i)}, spec.Row{i, "x"})
	}
	return tb, fields
}

// javaReadsStrataTags tags snapshot 1 ("plain") and 2 ("kept", with a
// retention) with Strata and checks that Java reads both tag files and the
// snapshots they hold; it returns "kept".
func javaReadsStrataTags(t *testing.T, d *paimonjava.Driver, wh string, tb *table.Table, fields []spec.DataField) *table.TagInfo {
	t.Helper()
	ctx := context.Background()
	if _, err := tb.CreateTag(ctx, "plain", table.TagFromSnapshot(1)); err != nil {
		t.Fatal(err)
	}
	kept, err := tb.CreateTag(ctx, "kept", table.TagFromSnapshot(2), table.TagRetention(36*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := d.Tags(ctx, wh, javaTable)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 2 || tags[0].Name != "kept" || tags[0].Snapshot != 2 || tags[1].Name != "plain" || tags[1].Snapshot != 1 {
		t.Fatalf("Java's tags: %+v", tags)
	}
	if r := tags[0].RetainedMillis; r == nil || *r != (36*time.Hour).Milliseconds() {
		t.Errorf("Java reads retention %v", r)
	}
	created, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", tags[0].CreateTime, time.Local)
	if err != nil || !created.Equal(*kept.CreateTime) {
		t.Errorf("Java reads create time %q (%v), Strata wrote %v", tags[0].CreateTime, err, kept.CreateTime)
	}
	if tags[1].CreateTime != "" || tags[1].RetainedMillis != nil {
		t.Errorf("a tag without retention has tag fields in Java: %+v", tags[1])
	}
	for name, id := range map[string]int64{"plain": 1, "kept": 2} {
		javaTag, err := d.ReadTag(ctx, wh, javaTable, name)
		if err != nil {
			t.Fatal(err)
		}
		checkJavaRows(t, fields, "Java at tag "+name, javaTag, strataRows(t, tb, table.WithSnapshot(id)))
		checkJavaRows(t, fields, "Strata at tag "+name, javaTag, strataRows(t, tb, table.WithTag(name)))
	}
	return kept
}

// strataReadsJavaTag has Java tag snapshot 3 with a retention and checks
// that Strata reads the tag and re-encodes its file byte for byte.
func strataReadsJavaTag(t *testing.T, d *paimonjava.Driver, wh string, tb *table.Table) {
	t.Helper()
	ctx := context.Background()
	if err := d.CreateTag(ctx, wh, javaTable, "java", 3, 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	jt, err := tb.Tag(ctx, "java")
	if err != nil {
		t.Fatal(err)
	}
	if jt.Snapshot.ID != 3 || jt.TimeRetained == nil || *jt.TimeRetained != 90*time.Minute ||
		jt.CreateTime == nil || time.Since(*jt.CreateTime) > time.Hour {
		t.Errorf("Java's tag as Strata reads it: %+v", jt)
	}
	raw, err := os.ReadFile(filepath.Join(wh, "db.db", "t", "tag", "tag-java"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := spec.DecodeTag(raw)
	if err != nil {
		t.Fatal(err)
	}
	if enc := spec.EncodeTag(back); string(enc) != string(raw) {
		t.Errorf("re-encoding Java's tag file differs:\n%s\nJava wrote:\n%s", enc, raw)
	}
}

// strataCommit writes rows in one Strata commit, identifier ident.
func strataCommit(t *testing.T, tb *table.Table, ident int64, rows ...spec.Row) {
	t.Helper()
	ctx := context.Background()
	w, err := tb.NewWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range rows {
		if err := w.WriteRow(ctx, spec.RowKindInsert, r); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := w.PrepareCommit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.NewCommit("strata").Commit(ctx, ident, msgs); err != nil {
		t.Fatal(err)
	}
}

func strataRows(t *testing.T, tb *table.Table, opts ...table.ScanOption) []spec.Row {
	t.Helper()
	var rows []spec.Row
	for r, err := range tb.NewScan(opts...).Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// checkJavaRows compares Java's JSON Lines with Strata's rows, both in
// Strata's canonical form.
func checkJavaRows(t *testing.T, fields []spec.DataField, what string, java []string, strata []spec.Row) {
	t.Helper()
	j, err := canonical(fields, java, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := encodeLines(fields, strata)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s)
	if !slices.Equal(j, s) {
		t.Errorf("%s: Java reads\n%v\nStrata\n%v", what, j, s)
	}
}
