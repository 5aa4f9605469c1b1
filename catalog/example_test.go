package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/stratalake/strata/catalog"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/storage"
)

// check stops an example at its first error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// A warehouse on local disk: create a table by name, list what the
// warehouse holds, open the table again. storage.Open takes
// s3://bucket/prefix as well.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "warehouse")
	check(err)
	defer os.RemoveAll(dir)
	fs, err := storage.Open(ctx, dir)
	check(err)
	c := catalog.New(fs)

	fields, err := spec.ParseColumns("user_id BIGINT NOT NULL, day DATE NOT NULL, logins INT")
	check(err)
	schema, err := spec.NewSchema(fields, []string{"day"}, []string{"user_id", "day"},
		spec.NewStringMap("bucket", "4", "merge-engine", "aggregation", "fields.logins.aggregate-function", "sum"), nil)
	check(err)
	id, err := catalog.ParseIdentifier("risk.daily_logins")
	check(err)
	_, err = c.CreateTable(ctx, id, schema)
	check(err)
	_, err = c.CreateTable(ctx, id, schema)
	fmt.Println("again:", errors.Is(err, catalog.ErrTableExists))

	dbs, err := c.ListDatabases(ctx)
	check(err)
	tables, err := c.ListTables(ctx, "risk")
	check(err)
	fmt.Println("databases:", dbs, "tables in risk:", tables)

	t, err := c.GetTable(ctx, id)
	check(err)
	fmt.Println("path:", t.Path(), "merge engine:", t.Options().MergeEngine, "buckets:", t.Options().Bucket)

	_, err = c.GetTable(ctx, catalog.Identifier{Database: "risk", Table: "nope"})
	fmt.Println("missing:", errors.Is(err, spec.ErrNotFound))
	// Output:
	// again: true
	// databases: [risk] tables in risk: [daily_logins]
	// path: risk.db/daily_logins merge engine: aggregation buckets: 4
	// missing: true
}

// Names are checked before anything is touched: a table name is one path
// element inside the warehouse.
func ExampleParseIdentifier() {
	for _, s := range []string{"orders", "shop.orders", "../etc.passwd"} {
		id, err := catalog.ParseIdentifier(s)
		if err != nil {
			fmt.Println(s, "->", errors.Is(err, catalog.ErrInvalidName))
			continue
		}
		fmt.Println(s, "->", id.Database, id.Table, catalog.TablePath(id))
	}
	// Output:
	// orders -> default orders default.db/orders
	// shop.orders -> shop orders shop.db/orders
	// ../etc.passwd -> true
}
