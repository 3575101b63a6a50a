#!/bin/sh
# Prints the IAM policy (JSON) of one recfleet MinIO user, scoped to STORAGE_BUCKET and
# STORAGE_PREFIX. Used by setup.sh; run it alone to review what a user may do:
#   STORAGE_BUCKET=recordings STORAGE_PREFIX=recordings sh policies.sh listener
set -eu

bucket="${STORAGE_BUCKET:?STORAGE_BUCKET is not set}"
prefix="${STORAGE_PREFIX:?STORAGE_PREFIX is not set}"
bucket_arn="arn:aws:s3:::${bucket}"
objects_arn="arn:aws:s3:::${bucket}/${prefix}/*"

case "${1:-}" in
  # storage-listener: listen for new files, re-scan the prefix, read a file's size and type.
  listener)
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListenBucketNotification", "s3:ListBucket"],
      "Resource": ["${bucket_arn}"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": ["${objects_arn}"]
    }
  ]
}
JSON
    ;;
  # LiveKit Egress: upload files (single PUT, or multipart for large ones); cannot read or list.
  egress-upload)
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["${objects_arn}"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucketMultipartUploads"],
      "Resource": ["${bucket_arn}"]
    }
  ]
}
JSON
    ;;
  # mailer (presigned download links): read files of the prefix. ListBucket makes a missing file answer 404 rather than 403.
  reader)
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucket"],
      "Resource": ["${bucket_arn}"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": ["${objects_arn}"]
    }
  ]
}
JSON
    ;;
  # recorder: checks that a file exists, and removes the files of deleted and expired recordings.
  recorder)
    cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucket"],
      "Resource": ["${bucket_arn}"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:DeleteObject"],
      "Resource": ["${objects_arn}"]
    }
  ]
}
JSON
    ;;
  *)
    echo "usage: policies.sh listener|egress-upload|reader|recorder" >&2
    exit 2
    ;;
esac
