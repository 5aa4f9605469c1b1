package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratalake/strata/internal/textrow"
	"github.com/stratalake/strata/spec"
	"github.com/stratalake/strata/table"
)

// lookupBatch is how many keys of --input are looked up at once.
const lookupBatch = 1000

func newLookupCmd(e *env) *cobra.Command {
	var input string
	var travel travelFlags
	cmd := &cobra.Command{
		Use:   "lookup DB.TABLE KEY... | lookup DB.TABLE --input -",
		Short: "Look rows up by primary key",
		Long: `Look rows up by primary key in a snapshot and print, for each key in order,
one JSON line: the row, as "strata scan --format jsonl" prints it, or null
when the table has no row with that key. Every answer comes from the same
snapshot.

` + travelHelp + `

A key is a JSON object naming every primary-key column, or, for a one-column
key, the column's value: a bare word is read as the column's type (42, abc,
2024-01-31, as in a CSV cell) and a quoted JSON string ('"abc"') as JSON.
Values take the forms "strata write" reads.

Keys come from the arguments, or with --input from a file ("-": stdin), one
JSON key per line (42, "abc" or {"id": 42}); blank lines are skipped. A bad
key stops the command with an error naming its position, line and column.

Examples:
  strata lookup db.users 42
  strata lookup db.users 42 43 44
  strata lookup db.tags abc
  strata lookup db.events '{"day": "2024-01-31", "id": 7}' --snapshot 3
  strata lookup db.users 42 --tag release-1
  printf '1\n2\n{"id": 3}\n' | strata lookup db.users --input -`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return usagef("lookup: name the table (DB.TABLE)")
			case len(args) == 1 && input == "":
				return usagef("lookup: give keys as arguments or with --input (- for stdin)")
			case len(args) > 1 && input != "":
				return usagef("lookup: give keys as arguments or with --input, not both")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts, err := travel.lookupOptions(cmd)
			if err != nil {
				return err
			}
			t, err := e.table(ctx, args[0])
			if err != nil {
				return err
			}
			l, err := t.NewLookup(ctx, opts...)
			if err != nil {
				return fmt.Errorf("lookup %s: %w", args[0], err)
			}
			defer l.Close()
			p := &lookupPrinter{l: l, w: bufio.NewWriter(e.stdout), enc: textrow.NewJSONEncoder(io.Discard, t.Schema().Fields)}
			if input == "" {
				err = p.args(cmd, args[1:])
			} else {
				err = p.stream(cmd, e.stdin, input)
			}
			if ferr := p.w.Flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "read keys from FILE, one JSON key per line (-: stdin)")
	travel.register(cmd)
	return cmd
}

// lookupPrinter looks keys up and prints their rows as JSON Lines.
type lookupPrinter struct {
	l   *table.Lookup
	w   *bufio.Writer
	enc *textrow.JSONEncoder
	buf []byte
}

// args looks up the keys given as arguments; all are parsed first, so a bad
// one prints nothing.
func (p *lookupPrinter) args(cmd *cobra.Command, args []string) error {
	kp := textrow.NewKeyParser(p.l.KeyFields())
	keys := make([]spec.Row, len(args))
	for i, a := range args {
		k, err := kp.ParseArg(a, i+1)
		if err != nil {
			return usageError{err}
		}
		keys[i] = k
	}
	return p.print(cmd, keys)
}

// stream looks up the keys of a file or stdin, a batch at a time.
func (p *lookupPrinter) stream(cmd *cobra.Command, stdin io.Reader, input string) error {
	r := stdin
	if input != "-" {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	next, stop := decodeKeys(textrow.NewKeyDecoder(r, p.l.KeyFields()))
	defer stop()
	keys := make([]spec.Row, 0, lookupBatch)
	for {
		var it decodedKey
		select {
		case it = <-next:
		case <-cmd.Context().Done():
			return fmt.Errorf("%s: %w", inputName(input), cmd.Context().Err())
		}
		if errors.Is(it.err, io.EOF) {
			return p.print(cmd, keys)
		}
		if it.err != nil {
			return fmt.Errorf("%s: %w", inputName(input), it.err)
		}
		if keys = append(keys, it.key); len(keys) == lookupBatch {
			if err := p.print(cmd, keys); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
}

type decodedKey struct {
	key spec.Row
	err error
}

// decodeKeys runs d in its own goroutine, so that a wait for the next key
// can end with the command's context: the input may be a pipe that stays
// open with nothing to read. The goroutine ends at d's first error, or at
// its next key after stop; one blocked reading an input that never ends
// is left behind.
func decodeKeys(d *textrow.KeyDecoder) (<-chan decodedKey, func()) {
	ch, done := make(chan decodedKey, 64), make(chan struct{})
	go func() {
		for {
			k, err := d.Next()
			select {
			case ch <- decodedKey{k, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, func() { close(done) }
}

func inputName(input string) string {
	if input == "-" {
		return "stdin"
	}
	return input
}

// print looks keys up and writes one line per key: the row or null.
func (p *lookupPrinter) print(cmd *cobra.Command, keys []spec.Row) error {
	if len(keys) == 0 {
		return nil
	}
	res, err := p.l.GetBatch(cmd.Context(), keys)
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		b := p.buf[:0]
		if row == nil {
			b = append(b, "null"...)
		} else if b, err = p.enc.AppendRow(b, row); err != nil {
			return err
		}
		p.buf = append(b, '\n')
		if _, err := p.w.Write(p.buf); err != nil {
			return err
		}
	}
	return nil
}
