#!/usr/bin/env bash
# Installs the minio server binary that the S3 storage tests run against
# (internal/miniotest), as does the lookup benchmark's S3 scenario
# (internal/minioserver). Does nothing if minio is already in PATH or in
# $(go env GOPATH)/bin or $GOBIN, where the tests also look.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

if found="$(command -v minio 2>/dev/null)"; then
	echo "install-minio: minio already in PATH: $found"
	exit 0
fi

gobin="$(go env GOBIN)"
IFS=: read -r -a gopaths <<<"$(go env GOPATH)"
for dir in "${gopaths[@]/%//bin}" ${gobin:+"$gobin"}; do
	if [ -x "$dir/minio" ]; then
		echo "install-minio: minio already installed: $dir/minio"
		exit 0
	fi
done

echo "install-minio: minio not found; running: go install $MINIO_MODULE"
go install "$MINIO_MODULE"

installed="${gobin:-${gopaths[0]}/bin}/minio"
if [ ! -x "$installed" ]; then
	echo "install-minio: go install succeeded but $installed is missing" >&2
	exit 1
fi
echo "install-minio: installed $installed"
