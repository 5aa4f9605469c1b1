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
	// A password holding '/', '?' or '#' (AWS secret keys hold '/'), which
	// url.Parse takes for the end of the host: neither half shows (the
	// first would as the "port" in url.Parse's error).
	const half1, half2 = "PASS-HALF-1", "PASS-HALF-2"
	for _, sep := range []string{"/", "?", "#"} {
		pw := half1 + sep + half2
		for _, loc := range []string{"s3://key:" + pw + "@bucket/wh", "file://u:" + pw + "@localhost/tmp/x"} {
			_, err := Open(context.Background(), loc)
			if err == nil || strings.Contains(err.Error(), half1) || strings.Contains(err.Error(), half2) {
				t.Errorf("Open(%q): %v", loc, err)
			}
		}
		ep := "http://u:" + pw + "@127.0.0.1:9000"
		_, err := NewS3(context.Background(), "bucket", "", WithEndpoint(ep))
		if err == nil || strings.Contains(err.Error(), half1) || strings.Contains(err.Error(), half2) {
			t.Errorf("endpoint %q: %v", ep, err)
		}
	}
}

// RedactURL takes out the user info of a URL's authority, and nothing
// else: an '@' in a path (a key such as a@b), query or fragment stays.
// (It took out everything up to the last '@' before the query, so
// s3://bucket/a@b/c printed as s3://b/c.)
func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"s3://k:p@bucket/wh", "s3://bucket/wh"},
		{"s3://k@bucket/wh", "s3://bucket/wh"},
		{"s3://:p@bucket", "s3://bucket"},
		{"s3://u:p@b@c/wh", "s3://c/wh"}, // '@' in the password
		{"s3://u:p@bucket/a@b/c", "s3://bucket/a@b/c"},
		{"s3://u:p@bucket?x=a@b", "s3://bucket?x=a@b"},
		{"http://u:p@[::1]:9000/x", "http://[::1]:9000/x"},
		// A '/', '?' or '#' in the password (AWS secret keys have '/')
		// ends the authority early; what is left of it is no host:port.
		{"s3://AKID:wJalr/K7MDENG+bPxR@bucket/wh", "s3://bucket/wh"},
		{"s3://AKID:se?cret@bucket/wh", "s3://bucket/wh"},
		{"s3://AKID:se#cret@bucket/wh", "s3://bucket/wh"},
		{"s3://AKID:wJalr/K7MD@bucket/a@b", "s3://bucket/a@b"},
		// No user info: unchanged.
		{"s3://bucket/a@b/c", "s3://bucket/a@b/c"},
		{"s3://bucket/a@b", "s3://bucket/a@b"},
		{"s3a://bucket/wh/x@y@z", "s3a://bucket/wh/x@y@z"},
		{"s3://bucket/wh?a=b@c", "s3://bucket/wh?a=b@c"},
		{"s3://bucket/wh#a@b", "s3://bucket/wh#a@b"},
		{"s3://bucket?a=b@c", "s3://bucket?a=b@c"},
		{"http://127.0.0.1:9000/a@b", "http://127.0.0.1:9000/a@b"},
		{"http://host:/a@b", "http://host:/a@b"},
		{"http://[::1]:9000/a@b", "http://[::1]:9000/a@b"},
		{"http://[fe80::1%25en0]/a@b", "http://[fe80::1%25en0]/a@b"},
		{"file:///tmp/a@b", "file:///tmp/a@b"},
		{"s3://bucket", "s3://bucket"},
		{"s3://AKID:secret", "s3://AKID:secret"}, // no '@': no user info to find
		{"/plain/p@th", "/plain/p@th"},
		{"mailto:a@b", "mailto:a@b"},
		{"", ""},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
