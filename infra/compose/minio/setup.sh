#!/bin/sh
# One-shot MinIO setup of the compose stack (service minio-setup, image minio/mc). Idempotent:
# every step creates or overwrites, so it can run again after a change of .env.
#   - the recordings bucket;
#   - one policy per role (policies.sh) and one user per app, each with only its policy;
#   - a lifecycle rule deleting recordings RECORDINGS_EXPIRE_DAYS days after upload.
set -eu

here="$(dirname "$0")"
alias_name=recfleet
: "${RECORDINGS_EXPIRE_DAYS:?RECORDINGS_EXPIRE_DAYS is not set}"

mc alias set "$alias_name" "${MINIO_URL:?MINIO_URL is not set}" \
  "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}" "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}" >/dev/null

mc mb --ignore-existing "$alias_name/${STORAGE_BUCKET:?STORAGE_BUCKET is not set}"

for policy in listener egress-upload reader; do
  sh "$here/policies.sh" "$policy" >"/tmp/recfleet-$policy.json"
  mc admin policy create "$alias_name" "recfleet-$policy" "/tmp/recfleet-$policy.json"
done

# user access key, secret key, policy
add_user() {
  mc admin user add "$alias_name" "$1" "$2"
  # Attaching a policy the user already has is an error in mc: tolerate exactly that one.
  if ! output="$(mc admin policy attach "$alias_name" "$3" --user "$1" 2>&1)"; then
    case "$output" in
      *"already"*) ;;
      *) echo "$output" >&2; exit 1 ;;
    esac
  fi
}
add_user "${MINIO_LISTENER_ACCESS_KEY:?}" "${MINIO_LISTENER_SECRET_KEY:?}" recfleet-listener
add_user "${MINIO_EGRESS_ACCESS_KEY:?}" "${MINIO_EGRESS_SECRET_KEY:?}" recfleet-egress-upload
add_user "${MINIO_RECORDER_ACCESS_KEY:?}" "${MINIO_RECORDER_SECRET_KEY:?}" recfleet-reader
add_user "${MINIO_MAILER_ACCESS_KEY:?}" "${MINIO_MAILER_SECRET_KEY:?}" recfleet-reader

# Recordings are deleted this many days after upload. `ilm import` replaces the bucket's whole
# lifecycle configuration, so re-running never stacks duplicate rules.
cat >/tmp/recfleet-lifecycle.json <<JSON
{
  "Rules": [
    {
      "ID": "recfleet-expire-recordings",
      "Status": "Enabled",
      "Filter": { "Prefix": "${STORAGE_PREFIX:?STORAGE_PREFIX is not set}/" },
      "Expiration": { "Days": ${RECORDINGS_EXPIRE_DAYS} }
    }
  ]
}
JSON
mc ilm import "$alias_name/$STORAGE_BUCKET" </tmp/recfleet-lifecycle.json

echo "minio setup done: bucket $STORAGE_BUCKET, 4 users, recordings expire after $RECORDINGS_EXPIRE_DAYS days"
