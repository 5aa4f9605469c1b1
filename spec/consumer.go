package spec

import "fmt"

// Consumer is a streaming reader's progress, consumer/consumer-<id> in a
// table: the snapshot it reads next. Snapshot expiration keeps that
// snapshot and every later one.
type Consumer struct {
	NextSnapshot int64
}

// DecodeConsumer reads a consumer file ({"nextSnapshot": N}, other members
// ignored, as Java's Consumer.fromJson does).
func DecodeConsumer(data []byte) (*Consumer, error) {
	root, err := parseJSONTree(data)
	if err != nil {
		return nil, corruptErr("consumer", err)
	}
	if root.kind != jsonObject {
		return nil, corruptErr("consumer", fmt.Errorf("want an object, found %s", root.kindName()))
	}
	next, err := root.get("nextSnapshot").asInt64(64)
	if err != nil {
		return nil, corruptErr("consumer nextSnapshot", err)
	}
	c := &Consumer{NextSnapshot: next}
	if c.NextSnapshot < 1 {
		return nil, corruptErr("consumer", fmt.Errorf("nextSnapshot %d: want at least 1", c.NextSnapshot))
	}
	return c, nil
}

// EncodeConsumer writes c as Java does (Jackson's pretty printer).
func EncodeConsumer(c *Consumer) []byte {
	return fmt.Appendf(nil, "{\n  \"nextSnapshot\" : %d\n}", c.NextSnapshot)
}
