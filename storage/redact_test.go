package storage

import (
	"context"
	"strings"
	"testing"
)

// A password in a location or an S3 endpoint never shows in an error:
// user info is refused, and messages leave it out. (Open printed the
// whole location, and accepted file:// URLs with user info, which the CLI
// then printed.)
func TestOpenNeverShowsUserInfo(t *testing.T) {
	const pw = "PASSW0RD-secret"
	for _, loc := range []string{
		"s3://key:" + pw + "@bucket/wh", "s3a://key:" + pw + "@bucket", "s3://:" + pw + "@bucket", "s3://u:" + pw + "@/wh",
		"s3://u:" + pw + "@bucket/wh?x=1", "s3://u:" + pw + "@bucket:99999999/wh", "s3://u:" + pw + "@bu cket/wh",
		"file://u:" + pw + "@localhost/tmp/x", "file://u:" + pw + "@host/x", "gs://u:" + pw + "@bucket",
		"mem://u:" + pw + "@x", "s3://u:" + pw + "@b@c/wh",
	} {
		_, err := Open(context.Background(), loc)
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q): %v", loc, err)
		}
	}
	for _, ep := range []string{"http://u:" + pw + "@127.0.0.1:9000", "ftp://u:" + pw + "@h", "http://u:" + pw + "@h:port"} {
		_, err := NewS3(context.Background(), "bucket", "", WithEndpoint(ep))
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("endpoint %q: %v", ep, err)
		}
	}
	for in, want := range map[string]string{
		"s3://k:p@bucket/wh": "s3://bucket/wh", "s3://bucket/a@b": "s3://b", "s3://bucket/wh?a=b@c": "s3://bucket/wh?a=b@c",
		"/plain/p@th": "/plain/p@th", "s3://bucket": "s3://bucket",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
