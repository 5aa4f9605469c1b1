package server

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
)

// FuzzLookupRequest decodes a lookup request body as the server does: the
// keys found in place by keysBody, then each key by the table's KeyParser
// (a two-column and a one-column key). Nothing may panic; a body keysBody
// accepts is valid JSON that encoding/json reads to as many keys, each key
// valid JSON; a key that does not parse is a textrow input error.
func FuzzLookupRequest(f *testing.F) {
	for _, b := range []string{
		`{"keys":[{"dt":"a","id":1},{"dt":"b","id":-2}]}`,
		`{"keys":[1,"2",3.0,null]}`,
		` {"Keys" : [ {"id":1e2, "dt":"\u00e9"} ] } `,
		`{"keys":[[1,2],{"dt":"a"},true]}`,
		`{"keys":[]}`,
		`{}`,
	} {
		f.Add([]byte(b))
	}
	two, err := spec.ParseColumns("dt STRING NOT NULL, id BIGINT NOT NULL")
	if err != nil {
		f.Fatal(err)
	}
	parsers := []*textrow.KeyParser{textrow.NewKeyParser(two), textrow.NewKeyParser(two[1:])}
	const maxKeys = 16
	f.Fuzz(func(t *testing.T, body []byte) {
		spans, n, aerr := keysBody(body, maxKeys, nil)
		if aerr != nil {
			if aerr.status != 400 {
				t.Fatalf("status %d: %v", aerr.status, aerr)
			}
			return
		}
		var req struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("keysBody accepted what encoding/json refuses: %v", err)
		}
		if len(req.Keys) != n || len(spans) != min(n, maxKeys) {
			t.Fatalf("%d keys, %d places; encoding/json reads %d", n, len(spans), len(req.Keys))
		}
		for i, sp := range spans {
			key := body[sp.from:sp.to]
			if !json.Valid(key) {
				t.Fatalf("key %d %q is not a JSON value", i, key)
			}
			for _, kp := range parsers {
				row, err := kp.ParseJSON(key, i+1)
				if err != nil {
					if !errors.Is(err, textrow.ErrBadInput) {
						t.Fatalf("key %q: %v does not wrap textrow.ErrBadInput", key, err)
					}
					continue
				}
				if row == nil {
					t.Fatalf("key %q: no row and no error", key)
				}
			}
		}
	})
}
